/*
 * Running an external program (grub-mkrescue, bochs, qemu) the way the
 * runner needs: stdin from /dev/null, stdout and stderr into one file, in a
 * process group of its own so that a timeout or Ctrl-C can stop the child
 * together with anything it started, and a wall-clock limit.
 */
#ifndef NESTLAB_PROC_H
#define NESTLAB_PROC_H

#include <stddef.h>

#define NL_ARGV_MAX     64
#define NL_ARGV_STORAGE 16384

/* An argument vector built piece by piece; owns its strings. */
struct nl_argv {
	char *argv[NL_ARGV_MAX + 1]; /* NULL-terminated */
	unsigned argc;
	char storage[NL_ARGV_STORAGE];
	size_t used;
	int overflow; /* sticky: an argument did not fit, the vector is unusable */
};

void nl_argv_init(struct nl_argv *a);
/* Append one argument, printf-formatted.  Returns 0, or -1 (sticky) when full. */
int nl_argv_add(struct nl_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How a child ended. */
enum nl_proc_end {
	NL_PROC_EXITED,        /* it exited on its own: status is its exit status */
	NL_PROC_SIGNALED,      /* a signal killed it: status is the signal number */
	NL_PROC_TIMEOUT,       /* the wall-clock limit ran out and we killed it */
	NL_PROC_STOPPED,       /* the tick callback asked us to stop it */
	NL_PROC_INTERRUPTED,   /* we got SIGINT/SIGTERM/SIGHUP and stopped it */
	NL_PROC_START_FAILED,  /* it could not be started: error says why */
};

struct nl_proc_result {
	enum nl_proc_end end;
	int status;
	double wall_seconds;
	unsigned timeout_s;  /* the limit it ran under */
	char error[256];
};

/*
 * Called about five times a second while the child runs, with the seconds
 * elapsed since it started.  A non-zero return stops the child.
 */
typedef int (*nl_proc_tick_fn)(void *ctx, double elapsed);

/*
 * Run argv[0] (looked up in PATH) with stdout and stderr appended to
 * output_path (created or truncated), for at most timeout_s seconds
 * (0: no limit).  tick may be NULL.  Always fills *res; returns 0 when the
 * child exited on its own with status 0, -1 otherwise.
 */
int nl_proc_run(char *const argv[], const char *output_path, unsigned timeout_s,
		nl_proc_tick_fn tick, void *ctx, struct nl_proc_result *res);

/* "exited with status 1", "killed by signal 9", "timed out after 30 s", ... */
void nl_proc_describe(const struct nl_proc_result *res, char *buf, size_t cap);

#endif
