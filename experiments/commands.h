/* The subcommands of the `nestlab` host tool; each returns the process exit code. */
#ifndef NESTLAB_COMMANDS_H
#define NESTLAB_COMMANDS_H

/* Exit codes shared by every subcommand. */
#define NL_EXIT_SUCCESS      0 /* the experiment ran and every level reported success */
#define NL_EXIT_EXPERIMENT   1 /* the experiment ran but failed (a VM faulted, L0 refused, VMX unavailable) */
#define NL_EXIT_USAGE        2 /* bad command line */
#define NL_EXIT_DESCRIPTION  3 /* the description is invalid */
#define NL_EXIT_BACKEND      4 /* the backend could not run, crashed or hung */

extern const char *nl_prog;

int nl_cmd_validate(int argc, char **argv);  /* nestlab validate FILE... */
int nl_cmd_manifest(int argc, char **argv);  /* nestlab manifest FILE -o OUT [--backend B] */
int nl_cmd_run(int argc, char **argv);       /* nestlab run FILE [--backend B] [--out DIR] ... */

#endif
