/*
 * A backend runs the boot ISO on an emulator or hypervisor.  Each one says
 * how to start it (config files it writes into the results folder and an
 * argument vector), and what to show when a run goes wrong; the runner
 * (cmd_run.c) does the running, the watching and the collecting, the same
 * way for all of them.  Whatever the backend, COM1 ends up in
 * <results>/com1.txt.
 */
#ifndef NESTLAB_BACKEND_H
#define NESTLAB_BACKEND_H

#include <stdio.h>

#include "model.h"
#include "proc.h"

struct nl_backend_ctx {
	const struct nl_experiment *exp;
	const char *out_dir;   /* the results folder */
	const char *iso_path;
};

/* How to start a run. */
struct nl_backend_plan {
	struct nl_argv argv;
	char output_name[32];  /* file in out_dir that gets the backend's stdout and stderr */
	char accel[16];        /* the accelerator used, "" when the backend has no choice */
};

struct nl_backend {
	const char *name;
	/*
	 * Write the backend's config files into out_dir and fill *plan.
	 * Returns 0, or -1 with err[cap] filled.  May print notices on stderr.
	 */
	int (*plan)(const struct nl_backend_ctx *ctx, struct nl_backend_plan *plan, char *err,
		    size_t cap);
	/*
	 * After a run that did not end ok: the backend's own evidence on out —
	 * its log lines about the failure, and when it crashed or hung
	 * (backend_trouble) the end of its output too.
	 */
	void (*explain)(const struct nl_backend_ctx *ctx, int backend_trouble, FILE *out);
	/* What the backend's own exit status means, as " (...)" to append, or "". */
	void (*describe_exit)(int status, char *buf, size_t cap);
};

extern const struct nl_backend nl_backend_bochs;
extern const struct nl_backend nl_backend_qemu;

/* The backend called name, or NULL. */
const struct nl_backend *nl_backend_find(const char *name);

/*
 * A path the backends' configuration syntax can carry?  Bochs's bochsrc
 * and QEMU's option parser both split on commas; bochsrc's quotes carry
 * spaces but not a quote, and '#' starts a comment there.  Returns 0, or -1
 * with err saying which character is in the way.
 */
int nl_backend_path_ok(const char *path, char *err, size_t cap);

/*
 * Print, indented, the lines of file that contain any of needles and none
 * of ignore (NULL-terminated lists, case ignored), at most max of them.
 * Returns how many it printed (out NULL: would print).
 */
unsigned nl_backend_grep(const char *file, const char *const needles[], const char *const ignore[],
			 unsigned max, FILE *out);

/* Print, indented, the last n lines of file (nothing if it is missing or empty). */
void nl_backend_tail(const char *file, unsigned n, FILE *out);

#endif
