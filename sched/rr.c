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
