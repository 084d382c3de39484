/* Spawn a child under a wall-clock limit; see proc.h. */
#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_INTERVAL_NS  (200 * 1000 * 1000L)
#define TERM_GRACE_S      3.0 /* between SIGTERM and SIGKILL */

void nl_argv_init(struct nl_argv *a)
{
	memset(a, 0, sizeof *a);
}

int nl_argv_add(struct nl_argv *a, const char *fmt, ...)
{
	if (a->overflow)
		return -1;
	if (a->argc >= NL_ARGV_MAX) {
		a->overflow = 1;
		return -1;
	}
	va_list ap;
	va_start(ap, fmt);
	size_t room = sizeof a->storage - a->used;
	int n = vsnprintf(a->storage + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		a->overflow = 1;
		return -1;
	}
	a->argv[a->argc++] = a->storage + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The child runs in its own process group, so the terminal's Ctrl-C reaches
 * only us: we must pass the news on, or Ctrl-C would leave an orphaned
 * emulator running.  The handler only sets a flag; the wait loop acts on it.
 */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_FORWARDED (sizeof forwarded_signals / sizeof forwarded_signals[0])

static void catch_interrupts(struct sigaction old[N_FORWARDED])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded_signals[i], &sa, &old[i]);
}

static void restore_interrupts(const struct sigaction old[N_FORWARDED])
{
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded_signals[i], &old[i], NULL);
}

/* In the child, between fork and exec: report errno through err_fd on failure. */
static void exec_child(char *const argv[], const char *output_path, int err_fd)
{
	setpgid(0, 0);
	int in = open("/dev/null", O_RDONLY);
	int out = open(output_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		goto fail;
	close(in);
	close(out);
	execvp(argv[0], argv);
fail:;
	int e = errno;
	ssize_t w = write(err_fd, &e, sizeof e);
	(void)w;
	_exit(127);
}

/* Wait up to `seconds` for the child to go; returns 1 and fills *wstatus if it did. */
static int reap_within(pid_t pid, double seconds, int *wstatus)
{
	double until = now_seconds() + seconds;
	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* nothing left to wait for */
		if (now_seconds() >= until)
			return 0;
		struct timespec ts = { 0, 50 * 1000 * 1000L };
		nanosleep(&ts, NULL);
	}
}

/* Stop the child and everything in its group: politely first, then for sure. */
static void stop_group(pid_t pid, int *wstatus)
{
	kill(-pid, SIGTERM);
	if (reap_within(pid, TERM_GRACE_S, wstatus))
		return;
	kill(-pid, SIGKILL);
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
}

int nl_proc_run(char *const argv[], const char *output_path, unsigned timeout_s,
		nl_proc_tick_fn tick, void *ctx, struct nl_proc_result *res)
{
	memset(res, 0, sizeof *res);
	res->timeout_s = timeout_s;
	res->end = NL_PROC_START_FAILED;

	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		snprintf(res->error, sizeof res->error, "pipe: %s", strerror(errno));
		return -1;
	}
	struct sigaction old[N_FORWARDED];
	catch_interrupts(old);
	double start = now_seconds();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(res->error, sizeof res->error, "fork: %s", strerror(errno));
		close(errpipe[0]);
		close(errpipe[1]);
		restore_interrupts(old);
		return -1;
	}
	if (pid == 0)
		exec_child(argv, output_path, errpipe[1]);

	/* Also here, so that a kill(-pid) right after fork cannot miss the group. */
	setpgid(pid, pid);
	close(errpipe[1]);
	int child_errno = 0;
	ssize_t got;
	while ((got = read(errpipe[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
		;
	close(errpipe[0]);

	int wstatus = 0;
	if (got == (ssize_t)sizeof child_errno) {
		/* The exec (or the redirection before it) failed: nothing ran. */
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
			;
		snprintf(res->error, sizeof res->error, "cannot run %s: %s", argv[0],
			 strerror(child_errno));
		restore_interrupts(old);
		res->wall_seconds = now_seconds() - start;
		return -1;
	}

	enum nl_proc_end forced = NL_PROC_EXITED;
	for (;;) {
		pid_t r = waitpid(pid, &wstatus, WNOHANG);
		if (r == pid)
			break;
		double elapsed = now_seconds() - start;
		if (interrupted)
			forced = NL_PROC_INTERRUPTED;
		else if (timeout_s && elapsed >= (double)timeout_s)
			forced = NL_PROC_TIMEOUT;
		else if (tick && tick(ctx, elapsed))
			forced = NL_PROC_STOPPED;
		if (forced != NL_PROC_EXITED) {
			stop_group(pid, &wstatus);
			break;
		}
		struct timespec ts = { 0, POLL_INTERVAL_NS };
		nanosleep(&ts, NULL);
	}
	res->wall_seconds = now_seconds() - start;
	restore_interrupts(old);

	if (forced != NL_PROC_EXITED) {
		res->end = forced;
		res->status = -1;
		return -1;
	}
	if (WIFSIGNALED(wstatus)) {
		res->end = NL_PROC_SIGNALED;
		res->status = WTERMSIG(wstatus);
		return -1;
	}
	res->end = NL_PROC_EXITED;
	res->status = WEXITSTATUS(wstatus);
	return res->status == 0 ? 0 : -1;
}

void nl_proc_describe(const struct nl_proc_result *res, char *buf, size_t cap)
{
	switch (res->end) {
	case NL_PROC_EXITED:
		snprintf(buf, cap, "exited with status %d", res->status);
		break;
	case NL_PROC_SIGNALED:
		snprintf(buf, cap, "killed by signal %d (%s)", res->status, strsignal(res->status));
		break;
	case NL_PROC_TIMEOUT:
		snprintf(buf, cap, "still running after the %u s wall-clock limit; stopped", res->timeout_s);
		break;
	case NL_PROC_STOPPED:
		snprintf(buf, cap, "stopped after %.1f s", res->wall_seconds);
		break;
	case NL_PROC_INTERRUPTED:
		snprintf(buf, cap, "interrupted by a signal to nestlab; stopped");
		break;
	case NL_PROC_START_FAILED:
		snprintf(buf, cap, "%s", res->error[0] ? res->error : "could not be started");
		break;
	}
}
