/* Round-robin choice among runnable entities: the simplest scheduler, pure logic. */
#ifndef NESTLAB_SCHED_RR_H
#define NESTLAB_SCHED_RR_H

struct rr_sched {
	unsigned count; /* entities 0..count-1 */
	int last;       /* the one chosen last, -1 before the first choice */
	unsigned long long decisions;
	unsigned long long switches; /* decisions that changed the entity */
};

void rr_init(struct rr_sched *s, unsigned count);
/* The next runnable entity after the last one chosen, wrapping; -1 if none is runnable. */
int rr_next(struct rr_sched *s, int (*runnable)(unsigned idx, void *ctx), void *ctx);

#endif
