#include "rr.h"

void rr_init(struct rr_sched *s, unsigned count)
{
	s->count = count;
	s->last = -1;
	s->decisions = 0;
	s->switches = 0;
}

int rr_next(struct rr_sched *s, int (*runnable)(unsigned idx, void *ctx), void *ctx)
{
	for (unsigned step = 1; step <= s->count; step++) {
		unsigned idx = (unsigned)(s->last + (int)step) % s->count;
		if (runnable(idx, ctx)) {
			s->decisions++;
			if ((int)idx != s->last)
				s->switches++;
			s->last = (int)idx;
			return (int)idx;
		}
	}
	return -1;
}

static int entity_runnable(unsigned idx, void *ctx)
{
	const struct sched *s = ctx;
	return s->state[idx] == SCHED_RUNNABLE;
}

static int rr_pick(struct sched *s, uint64_t now, uint64_t *until)
{
	struct rr_sched rot = { .count = s->count, .last = s->policy.rr.last };
	int next = rr_next(&rot, entity_runnable, s);
	if (next < 0)
		return -1;
	s->policy.rr.last = next;
	/* Alone on the CPU, an entity is preempted by nothing but an event: a slice would buy nothing. */
	*until = sched_runnable_count(s) > 1 ? now + s->policy.rr.quantum : SCHED_NEVER;
	return next;
}

const struct sched_ops sched_rr_ops = {
	.name = "rr",
	.pick = rr_pick,
};

void sched_rr_init(struct sched *s, unsigned count, uint64_t quantum_ticks)
{
	sched_init(s, &sched_rr_ops, count);
	s->policy.rr.last = -1;
	s->policy.rr.quantum = quantum_ticks ? quantum_ticks : 1;
}
