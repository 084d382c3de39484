/*
 * A latency accumulator, the numbers cyclictest reports for one thread: how
 * many samples, min, max, average, a histogram with an overflow count, and
 * percentiles read from the histogram.  Freestanding and integer-only, with
 * fixed storage (no allocation), so a leaf guest can keep one per task and
 * the host can merge and print them (experiments/histogram_text.h writes
 * cyclictest's -h text layout).
 *
 * Samples are unsigned integers in whatever unit the caller feeds: nestlab
 * feeds TSC ticks (wake-up TSC minus programmed deadline; a caller clamps an
 * early wake-up to 0 itself).  A caller that wants cyclictest's microseconds
 * in the accumulator itself feeds latency_ticks_to_us() of each sample.
 *
 * Histogram: nbuckets buckets of `width` units each; bucket i holds the
 * samples s with i*width <= s <= (i+1)*width - 1, and a sample at or above
 * width*nbuckets is counted in `overflow` instead (it still counts in count,
 * min, max and the sum).  With width 1 in microseconds this is cyclictest's
 * histogram exactly: bucket i is "i us", overflow is "diff >= histogram".
 * The sample numbers (0-based, in the order added) of the first overflowed
 * samples are kept in outlier[], at most min(nbuckets, LATENCY_MAX_OUTLIERS)
 * of them, as cyclictest keeps at most `histogram` of them.
 *
 * Percentiles (nearest rank over the histogram): for permille p of n samples
 * the rank is r = ceil(p * n / 1000), at least 1.  The answer is the
 * inclusive upper bound, (i+1)*width - 1, of the first bucket i at which the
 * cumulative count from bucket 0 reaches r, clamped to max.  With width 1
 * that is exactly the r-th smallest sample; with a wider bucket it is at most
 * width - 1 above it and never below it.  Overflowed samples count in n and
 * lie above every bucket, so when the buckets together hold fewer than r
 * samples the rank falls among the overflowed ones, whose values the
 * histogram does not have: the answer is then max (exact for p = 1000, an
 * upper bound otherwise) and latency_permille() says so.
 */
#ifndef NESTLAB_LIB_LATENCY_H
#define NESTLAB_LIB_LATENCY_H

#include <stdint.h>

#define LATENCY_MAX_BUCKETS 1000 /* cyclictest's usual -h1000 */
#define LATENCY_MAX_OUTLIERS 100 /* overflowed sample numbers kept */

struct latency {
	uint64_t width;        /* units per bucket, >= 1 */
	uint32_t nbuckets;     /* buckets in use, 1..LATENCY_MAX_BUCKETS */
	uint32_t noutliers;    /* entries used in outlier[] */
	uint64_t count;        /* samples, the overflowed ones included */
	uint64_t min, max;     /* 0 and 0 while count is 0 */
	uint64_t sum_lo, sum_hi; /* the sum of all samples, 128 bits: never wraps */
	uint64_t overflow;     /* samples >= width * nbuckets */
	uint64_t outlier[LATENCY_MAX_OUTLIERS]; /* sample numbers of the first overflowed samples */
	uint64_t bucket[LATENCY_MAX_BUCKETS];
};

/* Empties l and sets its histogram; -1 (l untouched) unless width >= 1 and 1 <= nbuckets <= MAX. */
int latency_init(struct latency *l, uint64_t width, unsigned nbuckets);
void latency_add(struct latency *l, uint64_t sample);
/*
 * Adds from's samples to into as if they had been added to into after its
 * own: counts, buckets and sum add, min/max combine, from's outlier sample
 * numbers are shifted by into's count and appended while there is room.
 * -1 (into untouched) unless both have the same width and nbuckets; into != from.
 */
int latency_merge(struct latency *into, const struct latency *from);

/* floor(sum / count); 0 without samples. */
uint64_t latency_avg(const struct latency *l);
/* floor(sum * 1000 / (count * tsc_khz)), the exact mean in microseconds, floored; saturates. */
uint64_t latency_avg_us(const struct latency *l, uint64_t tsc_khz);
/* The smallest and the largest sample bucket i holds: i*width and (i+1)*width - 1, saturated. */
uint64_t latency_bucket_low(const struct latency *l, unsigned i);
uint64_t latency_bucket_high(const struct latency *l, unsigned i);

#define LATENCY_IN_OVERFLOW 1
/*
 * The permille-th percentile (0..1000) as defined above, in *out.  Returns 0
 * when read from a bucket, LATENCY_IN_OVERFLOW when the rank falls among the
 * overflowed samples (*out = max), -1 without samples or for permille > 1000
 * (*out = 0).
 */
int latency_permille(const struct latency *l, unsigned permille, uint64_t *out);
/* latency_permille()'s value alone: 0 without samples. */
uint64_t latency_p50(const struct latency *l);
uint64_t latency_p99(const struct latency *l);

/* floor(ticks * 1000 / tsc_khz), exact for any ticks (saturates at UINT64_MAX); tsc_khz >= 1. */
uint64_t latency_ticks_to_us(uint64_t ticks, uint64_t tsc_khz);

#endif
