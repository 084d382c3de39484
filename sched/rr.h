/* Round robin: the first scheduling policy behind struct sched_ops (sched.h). */
#ifndef NESTLAB_SCHED_RR_H
#define NESTLAB_SCHED_RR_H

#include <stdint.h>
#include "sched.h"

/* The rotation itself, pure and policy-free: the next runnable entity after the last one chosen. */
struct rr_sched {
	unsigned count; /* entities 0..count-1 */
	int last;       /* the one chosen last, -1 before the first choice */
	unsigned long long decisions;
	unsigned long long switches; /* decisions that changed the entity */
};

void rr_init(struct rr_sched *s, unsigned count);
/* The next runnable entity after the last one chosen, wrapping; -1 if none is runnable. */
int rr_next(struct rr_sched *s, int (*runnable)(unsigned idx, void *ctx), void *ctx);

/*
 * Round robin as a scheduler: every runnable entity in turn for one quantum;
 * an entity alone on the CPU keeps it with no end of slice (a slice would
 * only cost exits), until another one becomes runnable.
 */
extern const struct sched_ops sched_rr_ops;
void sched_rr_init(struct sched *s, unsigned count, uint64_t quantum_ticks);

#endif
