/* A seeded interrupt generator (irq_source.h). */
#include "irq_source.h"

/* xorshift64* (Marsaglia; Vigna's multiplier): 64 bits of a stream that never reaches 0. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/*
 * -ln(u / 2^32) in 32.32 fixed point for u in [1, 2^32): the integer part of
 * log2 from the top bit, 24 fraction bits by repeated squaring of the
 * normalised mantissa (each squaring yields the next bit), times ln 2.  The
 * result is low by at most ln 2 x 2^-24 (the gap by mean x 4.2e-8 ticks).
 */
static uint64_t neg_ln_fixed(uint32_t u)
{
	unsigned top = 31;
	while (!(u >> top))
		top--;
	/* u = 2^top x m, m in [1, 2): m in 1.31 fixed point. */
	uint64_t m = (uint64_t)u << (31 - top);
	uint64_t frac = 0; /* log2(m) in 0.24 */
	for (int bit = 23; bit >= 0; bit--) {
		m = (m * m) >> 31; /* m^2 in 1.31, or 2.31 when it reached 2 */
		if (m >= (2ull << 31)) {
			m >>= 1;
			frac |= 1ull << bit;
		}
	}
	/* log2(u / 2^32) = top - 32 + frac: its negation, in 8.24, is (32 - top) - frac. */
	uint64_t neg_log2 = ((uint64_t)(32 - top) << 24) - frac; /* 8.24, at most 2^29 */
	return (neg_log2 * 2977044472ull) >> 24;                /* x ln 2 (0.693147... in 0.32): 32.32 */
}

uint64_t irq_exponential_gap(uint64_t mean, uint64_t r)
{
	uint32_t u = (uint32_t)(r >> 32);
	if (!u)
		u = 1; /* (0, 1], never ln 0 */
	uint64_t x = neg_ln_fixed(u); /* 32.32, at most ln 2^32 ~ 22.2 */
	uint64_t gap = (uint64_t)(((unsigned __int128)mean * x) >> 32); /* mean < 2^40, x < 2^37: no overflow */
	return gap ? gap : 1; /* two assertions never share a tick */
}

int irq_source_init(struct irq_source *s, enum irq_source_kind kind, uint64_t period, uint32_t burst,
		    uint64_t spacing, uint64_t seed, uint64_t start)
{
	if (period < 1 || period >= (1ull << 40))
		return -1;
	if (kind == IRQ_SOURCE_BURST && (burst < 1 || (uint64_t)(burst - 1) * spacing >= period))
		return -1;
	if (kind != IRQ_SOURCE_PERIODIC && kind != IRQ_SOURCE_POISSON && kind != IRQ_SOURCE_BURST)
		return -1;
	*s = (struct irq_source){ .kind = kind, .period = period, .spacing = spacing,
				  .burst = kind == IRQ_SOURCE_BURST ? burst : 1, .burst_at = start, .next = start,
				  .rng = seed ? seed : 0x9e3779b97f4a7c15ull };
	if (kind == IRQ_SOURCE_POISSON)
		s->next = start + irq_exponential_gap(period, rng_next(&s->rng));
	return 0;
}

/* The time after the assertion at s->next. */
static void step(struct irq_source *s)
{
	switch (s->kind) {
	case IRQ_SOURCE_PERIODIC:
		s->next += s->period;
		break;
	case IRQ_SOURCE_POISSON:
		s->next += irq_exponential_gap(s->period, rng_next(&s->rng));
		break;
	case IRQ_SOURCE_BURST:
		if (++s->in_burst < s->burst) {
			s->next += s->spacing;
		} else {
			s->in_burst = 0;
			s->burst_at += s->period;
			s->next = s->burst_at;
		}
		break;
	}
}

uint64_t irq_source_advance(struct irq_source *s, uint64_t now, uint64_t *first_at)
{
	uint64_t n = 0;
	while (s->next <= now) {
		if (!n && first_at)
			*first_at = s->next;
		n++;
		step(s);
	}
	s->asserted += n;
	return n;
}
