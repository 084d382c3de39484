/*
 * Which scheduler a VMM runs, and with what parameters: the description's
 * choice for this level (manifest: the header's sched), turned into a
 * scheduler instance.  One row per policy in sched_policy.c; a new
 * scheduler in sched/ is one row here.
 */
#ifndef NESTLAB_POLICY_SCHED_POLICY_H
#define NESTLAB_POLICY_SCHED_POLICY_H

#include <stdint.h>
#include "nestlab/manifest.h"
#include "sched.h"

/*
 * Set s up as the scheduler choice c asks for, over count entities, on a
 * clock of tsc_khz ticks per millisecond.  Returns 0, or -1 with *why set
 * when the choice names no scheduler this VMM has.
 */
int policy_sched_setup(struct sched *s, const struct nl_sched_choice *c, unsigned count, uint64_t tsc_khz,
		       const char **why);

/* The policy's name as descriptions spell it ("rr"), NULL for an unknown one. */
const char *policy_sched_name(uint32_t policy);

#endif
