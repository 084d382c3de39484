/*
 * vmm/irq_source.c: periodic and burst sources against a brute-force list
 * of their times; the Poisson source's gaps against the exponential
 * distribution (mean, variance, the median at ln 2) and its determinism.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>

#include "irq_source.h"

/* Assertions at or before now, from a list of every time the source should assert at. */
static uint64_t brute_count(const uint64_t *times, unsigned n, uint64_t now)
{
	uint64_t c = 0;
	for (unsigned i = 0; i < n && times[i] <= now; i++)
		c++;
	return c;
}

static void check_against(struct irq_source *s, const uint64_t *times, unsigned n, uint64_t end)
{
	uint64_t seen = 0, x = 12345;
	for (uint64_t now = 0; now < end;) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		now += (x >> 33) % 700; /* looks at irregular times, sometimes several assertions late */
		uint64_t first = 0, got = irq_source_advance(s, now, &first);
		uint64_t want = brute_count(times, n, now) - seen;
		CU_ASSERT_EQUAL(got, want);
		if (got && want)
			CU_ASSERT_EQUAL(first, times[seen]);
		seen += got;
		CU_ASSERT(irq_source_next(s) > now);
	}
	CU_ASSERT_EQUAL(s->asserted, seen);
}

static void test_periodic(void)
{
	static uint64_t times[4000];
	struct irq_source s;
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_PERIODIC, 97, 0, 0, 1, 1000), 0);
	for (unsigned i = 0; i < 4000; i++)
		times[i] = 1000 + 97ull * i;
	check_against(&s, times, 4000, 1000 + 97ull * 3990);
}

static void test_bursts(void)
{
	static uint64_t times[4000];
	struct irq_source s;
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_BURST, 1000, 5, 30, 1, 500), 0);
	unsigned n = 0;
	for (unsigned b = 0; n < 4000; b++)
		for (unsigned k = 0; k < 5 && n < 4000; k++)
			times[n++] = 500 + 1000ull * b + 30ull * k;
	check_against(&s, times, 4000, 500 + 1000ull * 790);
}

static void test_refused(void)
{
	struct irq_source s = { .period = 7 };
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_PERIODIC, 0, 0, 0, 1, 0), -1);
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_PERIODIC, 1ull << 40, 0, 0, 1, 0), -1);
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_BURST, 100, 0, 10, 1, 0), -1);  /* no assertion a burst */
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_BURST, 100, 11, 10, 1, 0), -1); /* bursts would overlap */
	CU_ASSERT_EQUAL(irq_source_init(&s, IRQ_SOURCE_BURST, 101, 11, 10, 1, 0), 0);
	CU_ASSERT_EQUAL(irq_source_init(&s, (enum irq_source_kind)7, 100, 0, 0, 1, 0), -1);
}

static void test_exponential_gap(void)
{
	/* u = 2^31 of 2^32: -ln(1/2) = ln 2; u = 2^30: 2 ln 2; u at the top: ~0, never 0. */
	CU_ASSERT(llabs((long long)irq_exponential_gap(1000000, 1ull << 63) - 693147) <= 2);
	CU_ASSERT(llabs((long long)irq_exponential_gap(1000000, 1ull << 62) - 1386294) <= 3);
	CU_ASSERT(irq_exponential_gap(1000000, ~0ull) <= 2); /* -ln(1 - 2^-32): a fraction of a tick, at least 1 */
	CU_ASSERT(irq_exponential_gap(1000000, ~0ull) >= 1);
	CU_ASSERT(irq_exponential_gap(1000, 0) > 20000); /* u = 0 is taken as the smallest u: ln 2^32 ~ 22.2 */
	/* A smaller u, a longer gap: monotonic over a sweep. */
	uint64_t prev = ~0ull;
	for (uint64_t u = 1; u < (1ull << 32); u = u * 3 + 1) {
		uint64_t g = irq_exponential_gap(100000, u << 32);
		CU_ASSERT(g <= prev);
		prev = g;
	}
}

static void test_poisson(void)
{
	struct irq_source a, b;
	const uint64_t mean = 10000;
	CU_ASSERT_EQUAL(irq_source_init(&a, IRQ_SOURCE_POISSON, mean, 0, 0, 42, 0), 0);
	CU_ASSERT_EQUAL(irq_source_init(&b, IRQ_SOURCE_POISSON, mean, 0, 0, 42, 0), 0);
	const unsigned n = 200000;
	double sum = 0, sum2 = 0;
	unsigned below_median = 0;
	uint64_t last = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = irq_source_next(&a);
		CU_ASSERT_EQUAL_FATAL(irq_source_next(&b), t); /* the same seed, the same times */
		CU_ASSERT_FATAL(t > last);                     /* never two at one tick */
		double gap = (double)(t - last);
		sum += gap;
		sum2 += gap * gap;
		below_median += gap <= mean * 0.6931471805599453;
		last = t;
		CU_ASSERT_EQUAL(irq_source_advance(&a, t, NULL), 1);
		CU_ASSERT_EQUAL(irq_source_advance(&b, t, NULL), 1);
	}
	double m = sum / n, var = sum2 / n - m * m;
	/* Exponential: mean = variance^(1/2) = the mean gap; half the gaps below mean x ln 2. */
	CU_ASSERT(fabs(m - mean) < 0.01 * mean);
	CU_ASSERT(fabs(sqrt(var) - mean) < 0.02 * mean);
	CU_ASSERT(abs((int)below_median - (int)(n / 2)) < (int)(n / 100));
	/* Another seed, other times. */
	CU_ASSERT_EQUAL(irq_source_init(&b, IRQ_SOURCE_POISSON, mean, 0, 0, 43, 0), 0);
	CU_ASSERT_EQUAL(irq_source_init(&a, IRQ_SOURCE_POISSON, mean, 0, 0, 42, 0), 0);
	CU_ASSERT_NOT_EQUAL(irq_source_next(&a), irq_source_next(&b));
}

void register_suite_irq_source(void)
{
	CU_pSuite s = CU_add_suite("irq_source", NULL, NULL);
	CU_add_test(s, "periodic: every assertion, against a list", test_periodic);
	CU_add_test(s, "bursts: every assertion, against a list", test_bursts);
	CU_add_test(s, "shapes that cannot be kept refused", test_refused);
	CU_add_test(s, "exponential gaps: ln 2 at the median, monotonic", test_exponential_gap);
	CU_add_test(s, "Poisson: mean, deviation, median, the seed", test_poisson);
}
