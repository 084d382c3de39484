/*
 * A seeded interrupt generator: the software source of a VMM's interrupt
 * line (issue #10, part 5), for experiments and storms.  Assertions come
 *   - periodically, every period TSC ticks from start;
 *   - as a Poisson process of mean gap period (exponential gaps, from a
 *     xorshift64* stream seeded by the experiment: the same seed, the same
 *     times, on every machine);
 *   - in bursts: burst assertions spacing ticks apart, a burst every period.
 * Plain integer C (no floating point in a VMM), host-tested; the VMM puts
 * irq_source_next() on its timer multiplexer and calls irq_source_advance()
 * when that time has come.  Not wired to lines yet.
 */
#ifndef NESTLAB_VMM_IRQ_SOURCE_H
#define NESTLAB_VMM_IRQ_SOURCE_H

#include <stdint.h>

enum irq_source_kind { IRQ_SOURCE_PERIODIC, IRQ_SOURCE_POISSON, IRQ_SOURCE_BURST };

struct irq_source {
	enum irq_source_kind kind;
	uint64_t period;   /* ticks: the period, the Poisson mean gap, or the time from burst to burst */
	uint64_t spacing;  /* ticks between the assertions of one burst */
	uint32_t burst;    /* assertions per burst (>= 1) */
	uint32_t in_burst; /* the next assertion's place in its burst */
	uint64_t burst_at; /* when the current burst began */
	uint64_t next;     /* TSC of the next assertion */
	uint64_t rng;      /* xorshift64* state, never 0 */
	uint64_t asserted; /* assertions so far */
};

/*
 * A source whose first assertion comes at start (a Poisson one: one gap
 * after start).  -1 (s untouched) unless period >= 1, and for bursts
 * burst >= 1 and (burst - 1) x spacing < period, so bursts do not overlap.
 */
int irq_source_init(struct irq_source *s, enum irq_source_kind kind, uint64_t period, uint32_t burst,
		    uint64_t spacing, uint64_t seed, uint64_t start);

static inline uint64_t irq_source_next(const struct irq_source *s) { return s->next; }

/*
 * Every assertion due by now, counted and moved past: returns how many came
 * (more than one when the VMM looked late: the line's multiplexer decides
 * what becomes of them), with the time of the first in *first_at.
 */
uint64_t irq_source_advance(struct irq_source *s, uint64_t now, uint64_t *first_at);

/* An exponential gap of mean `mean` ticks from the 64 random bits r (exposed for the tests). */
uint64_t irq_exponential_gap(uint64_t mean, uint64_t r);

#endif
