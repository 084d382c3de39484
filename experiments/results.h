/*
 * The results folder of one run, and summary.json.
 *
 * The decision (what status a run has) and the summary are pure functions
 * of the record stream, the experiment model and a few facts the host saw
 * (how the backend ended, how long it took), so unit tests build them from
 * synthetic records.  The file writing around them is kept thin.
 */
#ifndef NESTLAB_RESULTS_H
#define NESTLAB_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "model.h"
#include "records.h"

/* summary.json "status" values. */
#define NL_STATUS_OK               "ok"               /* L0's end record said ok */
#define NL_STATUS_FAILED           "failed"           /* L0's end record said failed */
#define NL_STATUS_VMX_UNAVAILABLE  "vmx_unavailable"  /* L0 found no usable VMX */
#define NL_STATUS_MANIFEST_REFUSED "manifest_refused" /* L0 refused the boot manifest */
#define NL_STATUS_CRASHED          "crashed"          /* the backend ended without an end record */
#define NL_STATUS_TIMEOUT          "timeout"          /* the wall-clock limit ran out first */
#define NL_STATUS_INTERRUPTED      "interrupted"      /* the user stopped nestlab */
#define NL_STATUS_NOT_STARTED      "not_started"      /* images, ISO or backend missing: nothing ran */

/* How the backend process ended, as far as the run's status is concerned. */
enum nl_backend_end {
	NL_BACKEND_EXITED,      /* on its own (or stopped by us after the end record) */
	NL_BACKEND_TIMEOUT,     /* killed at the wall-clock limit */
	NL_BACKEND_INTERRUPTED, /* killed because nestlab was interrupted */
	NL_BACKEND_NOT_STARTED, /* never ran: detail says why */
};

/* What the host saw of a run, besides the records. */
struct nl_run_facts {
	const char *description;  /* the description's file name */
	const char *backend;      /* "bochs" or "qemu" */
	const char *accel;        /* QEMU's accelerator ("kvm", "tcg"); NULL for Bochs */
	enum nl_backend_end end;
	char detail[512];         /* "exited with status 1", or why it did not start */
	double wall_seconds;
	unsigned timeout_s;
};

struct nl_outcome {
	const char *status;       /* one of NL_STATUS_* */
	char reason[512];
};

/* The run's status and reason; the records win over the backend's exit status. */
void nl_outcome_decide(const struct nl_records *rs, const struct nl_run_facts *facts,
		       struct nl_outcome *out);

/*
 * L0's verdict (ok or failed) judged against what the description expects
 * of every VM (its expect: exit, the default, or fault or timeout), as the
 * VM's own VMM reported its end (outcome.c):
 * - a VM that did not end as expected (a child VMM that exits 0 regardless,
 *   a VM no one reported on, a fault where an exit was expected) makes the
 *   run "failed", its reason naming the root cause: the deepest VM that
 *   faulted or timed out unexpectedly, before any VMM that only exited
 *   with failure because of it;
 * - a "failed" from L0 becomes "ok" when every VM ended as expected and
 *   some were expected not to exit (a VMM whose VMs do not all exit 0
 *   exits with status 1: that is then what it is expected to do).
 */
void nl_outcome_check_vms(const struct nl_experiment *exp, const struct nl_records *rs, struct nl_outcome *o);

/* "exit", "fault" or "timeout": an expectation (enum nl_expect) as descriptions write it. */
const char *nl_outcome_expect_name(uint32_t expect);

/*
 * The last record of a type (vm_stop, exits, ...) about the VM at vm_path
 * from the VM's own VMM (the record's path is vm_path's parent), or NULL.
 * No other producer is believed: a guest cannot write its sibling's fate.
 */
const json_t *nl_records_about_vm(const struct nl_records *rs, const char *type, const char *vm_path);

/* NL_EXIT_SUCCESS, NL_EXIT_EXPERIMENT or NL_EXIT_BACKEND (commands.h). */
int nl_outcome_exit_code(const struct nl_outcome *o);

/* summary.json as an object (new reference), or NULL if memory ran out. */
json_t *nl_summary_build(const struct nl_experiment *exp, const struct nl_records *rs,
			 const struct nl_run_facts *facts, const struct nl_outcome *o);

/*
 * How summary.json is written.  Reals get 15 significant digits (DBL_DIG):
 * every decimal of up to 15 digits, such as a wall time rounded to the
 * millisecond, comes out as written instead of as its nearest double
 * (3.006, not 3.0059999999999998).
 */
#define NL_SUMMARY_JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The few lines a person reads at the end of `nestlab run`. */
void nl_summary_print(FILE *out, const json_t *summary, const char *results_dir);

/* --- the folder --- */

/* mkdir -p.  Returns 0 or -1 with err[cap] filled. */
int nl_results_mkdirs(const char *path, char *err, size_t cap);

/*
 * Remove what an earlier run left in dir (summary.json first), so a folder
 * reused with --out can never show an old success next to a new failure.
 */
void nl_results_clear(const char *dir);

/* Is name one of the files a run writes (so a description copy must not take it)? */
int nl_results_is_output(const char *name);

/* Whole files.  Each returns 0 or -1 with err[cap] filled. */
int nl_results_read(const char *path, char **buf, size_t *len, char *err, size_t cap);
int nl_results_write(const char *path, const void *buf, size_t len, char *err, size_t cap);
int nl_results_copy(const char *from, const char *to, char *err, size_t cap);

/* records.jsonl, console.txt and summary.json into dir. */
int nl_results_write_records(const char *dir, const struct nl_records *rs, char *err, size_t cap);
int nl_results_write_summary(const char *dir, const json_t *summary, char *err, size_t cap);

/* dir/name into buf; -1 if it does not fit. */
int nl_results_path(char *buf, size_t cap, const char *dir, const char *name);

/* A formatted path into buf; -1 if it does not fit (a cut path names another file). */
int nl_pathf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A formatted message into buf, cut short if it must be: a message that
 * quotes a long path is still worth reading truncated.
 */
void nl_msgf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));/* (nl_msgf() applies nl_defang(), model.h, to what it formats.) */

#endif
