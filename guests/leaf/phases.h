/*
 * The leaf guest's workload phases (struct nl_workload), run in order.
 * Each phase that is not skipped (a zero parameter skips it) is timed with
 * the TSC, emits one "phase" record and leaves its figures in
 * struct leaf_results for the final report.
 */
#ifndef NESTLAB_LEAF_PHASES_H
#define NESTLAB_LEAF_PHASES_H

#include <stdint.h>

#include "nestlab/guest_boot.h"

/* Room kept free below the top of memory for the stack (RSP starts there). */
#define LEAF_STACK_RESERVE (64u * 1024u)
#define LEAF_PAGE_SIZE     4096u

struct leaf_results {
	uint64_t compute_checksum;
	uint64_t compute_ticks;

	uint64_t hypercalls;        /* NL_HC_NOP round trips made */
	uint64_t hypercall_ticks;
	uint64_t hypercall_errors;  /* NOPs that did not return NL_HC_OK */

	uint64_t pages_requested;
	uint64_t pages_touched;
	uint64_t touch_first;       /* guest-physical address of the first page */
	uint64_t touch_ticks;
	uint64_t mismatches;        /* 8-byte words that did not read back as written */
	int touch_clamped;          /* fewer pages than requested fit in memory */

	int touch_addr_survived;    /* the hostile write came back */
	int touch_addr_breach;      /* ... although it was outside this VM's memory */
};

void phase_compute(const struct nl_guest_boot *boot, struct leaf_results *res);
void phase_hypercalls(const struct nl_guest_boot *boot, struct leaf_results *res);
void phase_touch(const struct nl_guest_boot *boot, struct leaf_results *res);
void phase_touch_addr(const struct nl_guest_boot *boot, const char *name, struct leaf_results *res);

#endif
