/*
 * The latency accumulator (lib/latency.c) against a brute-force reference
 * over random samples, and cyclictest's -h text (experiments/histogram_text.c)
 * against hand-written expected text.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram_text.h"
#include "latency.h"

typedef unsigned __int128 u128;

/* Accumulators are 10 KiB: static, not on the stack. */
static struct latency a, b, all;

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: reproducible samples for a given seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
	return p < q ? -1 : p > q;
}

/* Samples mostly inside the histogram, with a tail beyond it. */
static uint64_t sample_for(uint64_t span)
{
	uint64_t r = rng();
	switch (r % 8) {
	case 0:
		return span + rng() % (4 * span + 1); /* overflow */
	case 1:
		return rng() % 4; /* a cluster at the bottom, for ties */
	default:
		return rng() % span;
	}
}

/* What latency.h promises, computed from the sorted samples. */
static void check_against_sorted(const struct latency *l, const uint64_t *s, size_t n)
{
	uint64_t span = l->width * l->nbuckets;
	uint64_t *sorted = malloc(n * sizeof(*sorted));
	CU_ASSERT_FATAL(sorted != NULL);
	memcpy(sorted, s, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);

	u128 sum = 0;
	uint64_t overflow = 0;
	unsigned outliers = 0;
	unsigned room = l->nbuckets < LATENCY_MAX_OUTLIERS ? l->nbuckets : LATENCY_MAX_OUTLIERS;
	int outliers_ok = 1;
	for (size_t k = 0; k < n; k++) {
		sum += s[k];
		if (s[k] >= span) {
			if (outliers < room && l->outlier[outliers++] != k)
				outliers_ok = 0;
			overflow++;
		}
	}
	CU_ASSERT_EQUAL(l->count, n);
	CU_ASSERT_EQUAL(l->min, sorted[0]);
	CU_ASSERT_EQUAL(l->max, sorted[n - 1]);
	CU_ASSERT(((u128)l->sum_hi << 64 | l->sum_lo) == sum);
	CU_ASSERT_EQUAL(latency_avg(l), (uint64_t)(sum / n));
	CU_ASSERT_EQUAL(l->overflow, overflow);
	CU_ASSERT_EQUAL(l->noutliers, outliers);
	CU_ASSERT(outliers_ok);

	uint64_t in_buckets = 0;
	int buckets_ok = 1;
	for (unsigned i = 0; i < l->nbuckets; i++) {
		uint64_t want = 0;
		for (size_t k = 0; k < n; k++)
			want += sorted[k] / l->width == i;
		buckets_ok &= l->bucket[i] == want;
		in_buckets += l->bucket[i];
	}
	CU_ASSERT(buckets_ok);
	CU_ASSERT_EQUAL(in_buckets + l->overflow, l->count);

	/* Every permille: nearest rank, the bucket's upper bound clamped to max, or max in overflow. */
	int pct_ok = 1, bound_ok = 1;
	for (unsigned p = 0; p <= 1000; p++) {
		uint64_t rank = ((uint64_t)p * n + 999) / 1000;
		if (rank == 0)
			rank = 1;
		uint64_t exact = sorted[rank - 1];
		uint64_t got;
		int rc = latency_permille(l, p, &got);
		if (exact >= span) {
			pct_ok &= rc == LATENCY_IN_OVERFLOW && got == l->max;
		} else {
			uint64_t high = (exact / l->width + 1) * l->width - 1;
			pct_ok &= rc == 0 && got == (high < l->max ? high : l->max);
			bound_ok &= exact <= got && got - exact < l->width;
		}
	}
	CU_ASSERT(pct_ok);
	CU_ASSERT(bound_ok);
	uint64_t p50, p99;
	latency_permille(l, 500, &p50);
	latency_permille(l, 990, &p99);
	CU_ASSERT_EQUAL(latency_p50(l), p50);
	CU_ASSERT_EQUAL(latency_p99(l), p99);
	free(sorted);
}

static void test_init_refuses_bad_geometry(void)
{
	CU_ASSERT_EQUAL(latency_init(&a, 0, 10), -1);
	CU_ASSERT_EQUAL(latency_init(&a, 1, 0), -1);
	CU_ASSERT_EQUAL(latency_init(&a, 1, LATENCY_MAX_BUCKETS + 1), -1);
	CU_ASSERT_EQUAL(latency_init(&a, 7, LATENCY_MAX_BUCKETS), 0);
	CU_ASSERT_EQUAL(a.width, 7);
	CU_ASSERT_EQUAL(a.nbuckets, LATENCY_MAX_BUCKETS);
	/* A refused init leaves the accumulator as it was. */
	latency_add(&a, 3);
	CU_ASSERT_EQUAL(latency_init(&a, 0, 10), -1);
	CU_ASSERT_EQUAL(a.count, 1);
	CU_ASSERT_EQUAL(a.bucket[0], 1);
}

static void test_empty(void)
{
	uint64_t v = 99;
	CU_ASSERT_EQUAL(latency_init(&a, 1, 10), 0);
	CU_ASSERT_EQUAL(a.count, 0);
	CU_ASSERT_EQUAL(a.min, 0);
	CU_ASSERT_EQUAL(a.max, 0);
	CU_ASSERT_EQUAL(latency_avg(&a), 0);
	CU_ASSERT_EQUAL(latency_avg_us(&a, 1000), 0);
	CU_ASSERT_EQUAL(latency_permille(&a, 500, &v), -1);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(latency_p50(&a), 0);
	CU_ASSERT_EQUAL(latency_p99(&a), 0);
	latency_add(&a, 4);
	CU_ASSERT_EQUAL(latency_permille(&a, 1001, &v), -1);
	CU_ASSERT_EQUAL(latency_permille(&a, 0, &v), 0);
	CU_ASSERT_EQUAL(v, 4);
}

static void test_bucket_edges(void)
{
	uint64_t v;
	CU_ASSERT_EQUAL(latency_init(&a, 10, 5), 0); /* [0,9] [10,19] ... [40,49], overflow from 50 */
	CU_ASSERT_EQUAL(latency_bucket_low(&a, 0), 0);
	CU_ASSERT_EQUAL(latency_bucket_high(&a, 0), 9);
	CU_ASSERT_EQUAL(latency_bucket_low(&a, 4), 40);
	CU_ASSERT_EQUAL(latency_bucket_high(&a, 4), 49);
	latency_add(&a, 0);
	latency_add(&a, 9);
	latency_add(&a, 10);
	latency_add(&a, 49);
	latency_add(&a, 50); /* sample number 4: the first outside */
	CU_ASSERT_EQUAL(a.bucket[0], 2);
	CU_ASSERT_EQUAL(a.bucket[1], 1);
	CU_ASSERT_EQUAL(a.bucket[4], 1);
	CU_ASSERT_EQUAL(a.overflow, 1);
	CU_ASSERT_EQUAL(a.noutliers, 1);
	CU_ASSERT_EQUAL(a.outlier[0], 4);
	CU_ASSERT_EQUAL(a.count, 5);

	/* Ranks over 5: p20 -> 1st (0, bucket 0: bound 9), p40 -> 2nd (9), p60 -> 3rd (10: bound 19). */
	CU_ASSERT_EQUAL(latency_permille(&a, 200, &v), 0);
	CU_ASSERT_EQUAL(v, 9);
	CU_ASSERT_EQUAL(latency_permille(&a, 201, &v), 0); /* rank 2 */
	CU_ASSERT_EQUAL(v, 9);
	CU_ASSERT_EQUAL(latency_permille(&a, 600, &v), 0);
	CU_ASSERT_EQUAL(v, 19);
	CU_ASSERT_EQUAL(latency_permille(&a, 800, &v), 0); /* 49: bound 49 */
	CU_ASSERT_EQUAL(v, 49);
	/* The 5th is the overflowed one: max, flagged. */
	CU_ASSERT_EQUAL(latency_permille(&a, 801, &v), LATENCY_IN_OVERFLOW);
	CU_ASSERT_EQUAL(v, 50);
	CU_ASSERT_EQUAL(latency_permille(&a, 1000, &v), LATENCY_IN_OVERFLOW);
	CU_ASSERT_EQUAL(v, 50);

	/* The bound is clamped to max: one sample of 12 in [10,19] gives 12, not 19. */
	CU_ASSERT_EQUAL(latency_init(&a, 10, 5), 0);
	latency_add(&a, 12);
	CU_ASSERT_EQUAL(latency_p99(&a), 12);
	/* Bounds saturate instead of wrapping. */
	CU_ASSERT_EQUAL(latency_init(&a, UINT64_MAX / 2, 3), 0);
	CU_ASSERT_EQUAL(latency_bucket_high(&a, 1), UINT64_MAX - 2);
	CU_ASSERT_EQUAL(latency_bucket_low(&a, 2), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(latency_bucket_high(&a, 2), UINT64_MAX);
	latency_add(&a, UINT64_MAX);
	CU_ASSERT_EQUAL(a.bucket[2], 1);
	CU_ASSERT_EQUAL(a.overflow, 0);
}

static void test_random_against_brute_force(void)
{
	static const struct {
		uint64_t width;
		unsigned nbuckets;
		size_t n;
	} cases[] = {
		{ 1, LATENCY_MAX_BUCKETS, 5000 }, { 1, 50, 1 }, { 1, 50, 2 }, { 3, 7, 999 },
		{ 16, 100, 3001 }, { 1000, 1, 257 }, { 5, LATENCY_MAX_BUCKETS, 20000 },
	};
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			rng_state = seed * 0x9e3779b97f4a7c15ull + c;
			size_t n = cases[c].n;
			uint64_t *s = malloc(n * sizeof(*s));
			CU_ASSERT_FATAL(s != NULL);
			CU_ASSERT_EQUAL(latency_init(&a, cases[c].width, cases[c].nbuckets), 0);
			for (size_t k = 0; k < n; k++) {
				s[k] = sample_for(cases[c].width * cases[c].nbuckets);
				latency_add(&a, s[k]);
			}
			check_against_sorted(&a, s, n);
			free(s);
		}
	}
}

static void test_sum_never_wraps(void)
{
	CU_ASSERT_EQUAL(latency_init(&a, 1, 10), 0);
	for (int k = 0; k < 3; k++)
		latency_add(&a, UINT64_MAX);
	CU_ASSERT_EQUAL(a.sum_hi, 2);
	CU_ASSERT_EQUAL(a.sum_lo, UINT64_MAX - 2);
	CU_ASSERT_EQUAL(latency_avg(&a), UINT64_MAX);
	CU_ASSERT_EQUAL(latency_avg_us(&a, 1000), UINT64_MAX);
	CU_ASSERT_EQUAL(latency_avg_us(&a, 1), UINT64_MAX); /* saturates */
	CU_ASSERT_EQUAL(latency_avg_us(&a, 4000), UINT64_MAX / 4);
	latency_add(&a, 1);
	CU_ASSERT_EQUAL(latency_avg(&a), (uint64_t)(((u128)3 * UINT64_MAX + 1) / 4));
	CU_ASSERT_EQUAL(a.overflow, 3); /* the 1 lands in bucket 1 */
}

static void test_unit_conversion_exact(void)
{
	static const uint64_t khz[] = { 1, 3, 999, 1000, 4000, 2999999, 1000000, 4294967311ull, UINT64_MAX };
	rng_state = 77;
	int ok = 1;
	for (unsigned k = 0; k < sizeof(khz) / sizeof(khz[0]); k++) {
		for (int i = 0; i < 2000; i++) {
			uint64_t t = rng() >> (rng() % 64);
			u128 want = (u128)t * 1000 / khz[k];
			ok &= latency_ticks_to_us(t, khz[k]) == (want > UINT64_MAX ? UINT64_MAX : (uint64_t)want);
		}
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(latency_ticks_to_us(UINT64_MAX, 4000), UINT64_MAX / 4);
	CU_ASSERT_EQUAL(latency_ticks_to_us(5, 0), 0);

	/* The mean in microseconds: floor(sum * 1000 / (count * tsc_khz)), over random sets. */
	ok = 1;
	for (int set = 0; set < 200; set++) {
		CU_ASSERT_EQUAL(latency_init(&a, 1, 10), 0);
		uint64_t k = 1 + rng() % 5000000;
		unsigned n = 1 + rng() % 50;
		u128 sum = 0;
		for (unsigned i = 0; i < n; i++) {
			uint64_t t = rng() >> (rng() % 64);
			latency_add(&a, t);
			sum += t;
		}
		u128 q = sum / n, r = sum % n;
		u128 want = (q * 1000 + r * 1000 / n) / k; /* no wrap: q < 2^64 */
		ok &= latency_avg_us(&a, k) == (want > UINT64_MAX ? UINT64_MAX : (uint64_t)want);
		ok &= want == sum * 1000 / ((u128)n * k); /* the decomposition is exact: sum < 2^70 here */
	}
	CU_ASSERT(ok);
}

static void test_outliers_kept_up_to_room(void)
{
	CU_ASSERT_EQUAL(latency_init(&a, 1, LATENCY_MAX_BUCKETS), 0);
	for (unsigned k = 0; k < LATENCY_MAX_OUTLIERS + 50; k++) {
		latency_add(&a, 5);
		latency_add(&a, LATENCY_MAX_BUCKETS + k);
	}
	CU_ASSERT_EQUAL(a.overflow, LATENCY_MAX_OUTLIERS + 50);
	CU_ASSERT_EQUAL(a.noutliers, LATENCY_MAX_OUTLIERS);
	CU_ASSERT_EQUAL(a.outlier[0], 1);
	CU_ASSERT_EQUAL(a.outlier[LATENCY_MAX_OUTLIERS - 1], 2 * LATENCY_MAX_OUTLIERS - 1);
	/* Fewer buckets than that: as many as there are buckets, like cyclictest. */
	CU_ASSERT_EQUAL(latency_init(&a, 1, 3), 0);
	for (unsigned k = 0; k < 10; k++)
		latency_add(&a, 3);
	CU_ASSERT_EQUAL(a.noutliers, 3);
	CU_ASSERT_EQUAL(a.overflow, 10);
}

/* merge(first part, second part) is the accumulator of the whole sequence, byte for byte. */
static void check_merge_split(uint64_t width, unsigned nbuckets, size_t n, size_t split)
{
	CU_ASSERT_EQUAL(latency_init(&a, width, nbuckets), 0);
	CU_ASSERT_EQUAL(latency_init(&b, width, nbuckets), 0);
	CU_ASSERT_EQUAL(latency_init(&all, width, nbuckets), 0);
	for (size_t k = 0; k < n; k++) {
		uint64_t s = sample_for(width * nbuckets);
		latency_add(k < split ? &a : &b, s);
		latency_add(&all, s);
	}
	CU_ASSERT_EQUAL(latency_merge(&a, &b), 0);
	CU_ASSERT(memcmp(&a, &all, sizeof(a)) == 0);
}

static void test_merge(void)
{
	rng_state = 12345;
	check_merge_split(1, LATENCY_MAX_BUCKETS, 4000, 1700);
	check_merge_split(3, 7, 300, 2);   /* the first part's outliers leave room for the second's */
	check_merge_split(3, 7, 300, 200); /* the first part fills the outlier room */
	check_merge_split(2, 20, 50, 0);   /* into an empty one */
	check_merge_split(2, 20, 50, 50);  /* an empty one in */
	check_merge_split(2, 20, 0, 0);    /* both empty */

	/* Sums carry across the 64-bit boundary. */
	CU_ASSERT_EQUAL(latency_init(&a, 1, 10), 0);
	CU_ASSERT_EQUAL(latency_init(&b, 1, 10), 0);
	latency_add(&a, UINT64_MAX);
	latency_add(&b, UINT64_MAX);
	latency_add(&b, UINT64_MAX);
	CU_ASSERT_EQUAL(latency_merge(&a, &b), 0);
	CU_ASSERT_EQUAL(a.sum_hi, 2);
	CU_ASSERT_EQUAL(a.sum_lo, UINT64_MAX - 2);

	/* Different histograms are refused and nothing changes. */
	CU_ASSERT_EQUAL(latency_init(&a, 1, 10), 0);
	CU_ASSERT_EQUAL(latency_init(&b, 2, 10), 0);
	latency_add(&a, 1);
	latency_add(&b, 1);
	memcpy(&all, &a, sizeof(a));
	CU_ASSERT_EQUAL(latency_merge(&a, &b), -1);
	CU_ASSERT_EQUAL(latency_init(&b, 1, 11), 0);
	latency_add(&b, 1);
	CU_ASSERT_EQUAL(latency_merge(&a, &b), -1);
	CU_ASSERT(memcmp(&a, &all, sizeof(a)) == 0);
}

#define ADD_SAMPLES(l, ...)                                                                 \
	add_samples(l, (const uint64_t[]){ __VA_ARGS__ }, sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

static void add_samples(struct latency *l, const uint64_t *s, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		latency_add(l, s[k]);
}

/* The writer's output as a string (malloc'd), or NULL when it refused. */
static char *text_of(const struct latency *const *acc, unsigned n, const struct hist_text_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_FATAL(f != NULL);
	int rc = hist_text_write(f, acc, n, o);
	fclose(f);
	if (rc != 0) {
		CU_ASSERT_EQUAL(len, 0); /* refusals write nothing */
		free(buf);
		return NULL;
	}
	return buf;
}

static void check_text(const struct latency *const *acc, unsigned n, const struct hist_text_opts *o,
		       const char *want)
{
	char *got = text_of(acc, n, o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got, want);
	if (strcmp(got, want))
		fprintf(stderr, "\n--- want\n%s--- got\n%s---\n", want, got);
	free(got);
}

static void test_text_two_columns_in_ticks(void)
{
	const struct latency *acc[] = { &a, &b };
	CU_ASSERT_EQUAL(latency_init(&a, 1, 4), 0);
	CU_ASSERT_EQUAL(latency_init(&b, 1, 4), 0);
	ADD_SAMPLES(&a, 1, 5, 1, 2); /* sample 1 overflows */
	ADD_SAMPLES(&b, 0, 3, 3);
	check_text(acc, 2, NULL,
		   "# Histogram\n"
		   "000000 000000\t000001\n"
		   "000001 000002\t000000\n"
		   "000002 000001\t000000\n"
		   "000003 000000\t000002\n"
		   "# Total: 000000003 000000003\n"
		   "# Min Latencies: 00001 00000\n"
		   "# Avg Latencies: 00002 00002\n"
		   "# Max Latencies: 00005 00003\n"
		   "# Histogram Overflows: 00001 00000\n"
		   "# Histogram Overflow at cycle number:\n"
		   "# Thread 0: 00001\n"
		   "# Thread 1:\n"
		   "\n");

	/* -H: a sum column in the rows, Total, Max (the largest) and Overflows; none in Min and Avg. */
	struct hist_text_opts h = { .tsc_khz = 0, .sum_column = 1 };
	check_text(acc, 2, &h,
		   "# Histogram\n"
		   "000000 000000\t000001\t000001\n"
		   "000001 000002\t000000\t000002\n"
		   "000002 000001\t000000\t000001\n"
		   "000003 000000\t000002\t000002\n"
		   "# Total: 000000003 000000003 000000006\n"
		   "# Min Latencies: 00001 00000\n"
		   "# Avg Latencies: 00002 00002\n"
		   "# Max Latencies: 00005 00003 00005\n"
		   "# Histogram Overflows: 00001 00000 00001\n"
		   "# Histogram Overflow at cycle number:\n"
		   "# Thread 0: 00001\n"
		   "# Thread 1:\n"
		   "\n");
}

static void test_text_microseconds_and_others(void)
{
	const struct latency *acc[] = { &a };
	/* 2 ticks per microsecond; 2-tick buckets are cyclictest's 1 us rows. */
	struct hist_text_opts us = { .tsc_khz = 2000, .sum_column = 1 /* ignored: one column */ };
	CU_ASSERT_EQUAL(latency_init(&a, 2, 3), 0); /* 0..5 ticks in buckets: room for 3 outliers */
	ADD_SAMPLES(&a, 1, 3, 3, 20, 7, 100, 9);
	/* Mean 143 ticks / 7 = 10.2 us; min 1 tick = 0 us; max 100 ticks = 50 us. */
	check_text(acc, 1, &us,
		   "# Histogram\n"
		   "000000 000001\n"
		   "000001 000002\n"
		   "000002 000000\n"
		   "# Total: 000000003\n"
		   "# Min Latencies: 00000\n"
		   "# Avg Latencies: 00010\n"
		   "# Max Latencies: 00050\n"
		   "# Histogram Overflows: 00004\n"
		   "# Histogram Overflow at cycle number:\n"
		   "# Thread 0: 00003 00004 00005 # 00001 others\n"
		   "\n");

	/* Rows are labelled with their bucket's lowest value; widths are minimums. */
	CU_ASSERT_EQUAL(latency_init(&a, 250, 2), 0);
	ADD_SAMPLES(&a, 260, 12345678);
	check_text(acc, 1, NULL,
		   "# Histogram\n"
		   "000000 000000\n"
		   "000250 000001\n"
		   "# Total: 000000001\n"
		   "# Min Latencies: 00260\n"
		   "# Avg Latencies: 6172969\n"
		   "# Max Latencies: 12345678\n"
		   "# Histogram Overflows: 00001\n"
		   "# Histogram Overflow at cycle number:\n"
		   "# Thread 0: 00001\n"
		   "\n");
}

static void test_text_refusals(void)
{
	const struct latency *acc[] = { &a, &b };
	CU_ASSERT_EQUAL(latency_init(&a, 3, 4), 0);
	CU_ASSERT_EQUAL(latency_init(&b, 3, 4), 0);
	CU_ASSERT_PTR_NULL(text_of(acc, 0, NULL));
	/* 3 ticks at 2000 kHz is 1.5 us: rows would not be whole microseconds. */
	struct hist_text_opts us = { .tsc_khz = 2000 };
	CU_ASSERT_PTR_NULL(text_of(acc, 2, &us));
	us.tsc_khz = 3000;
	char *ok = text_of(acc, 2, &us);
	CU_ASSERT_PTR_NOT_NULL(ok);
	free(ok);
	CU_ASSERT_EQUAL(latency_init(&b, 3, 5), 0);
	CU_ASSERT_PTR_NULL(text_of(acc, 2, NULL));
	CU_ASSERT_EQUAL(latency_init(&b, 1, 4), 0);
	CU_ASSERT_PTR_NULL(text_of(acc, 2, NULL));
}

void register_suite_latency(void)
{
	CU_pSuite s = CU_add_suite("latency", NULL, NULL);
	CU_add_test(s, "init refuses a bad histogram", test_init_refuses_bad_geometry);
	CU_add_test(s, "no samples", test_empty);
	CU_add_test(s, "bucket edges, overflow, percentiles", test_bucket_edges);
	CU_add_test(s, "random samples against brute force", test_random_against_brute_force);
	CU_add_test(s, "the sum never wraps", test_sum_never_wraps);
	CU_add_test(s, "ticks to microseconds, exactly", test_unit_conversion_exact);
	CU_add_test(s, "overflowed sample numbers kept up to room", test_outliers_kept_up_to_room);
	CU_add_test(s, "merge is concatenation", test_merge);
	CU_add_test(s, "cyclictest -h text, two columns, ticks", test_text_two_columns_in_ticks);
	CU_add_test(s, "cyclictest -h text, microseconds, others", test_text_microseconds_and_others);
	CU_add_test(s, "cyclictest -h text refusals", test_text_refusals);
}
