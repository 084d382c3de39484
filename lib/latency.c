/*
 * The latency accumulator (see latency.h).  Integer-only and without
 * libgcc: the 128-bit sum is two 64-bit words, and the few divisions of it
 * are done bit by bit here rather than with unsigned __int128, whose
 * division would call __udivti3, which bare-metal images do not link.
 */
#include <stddef.h>

#include "latency.h"

struct u128 {
	uint64_t hi, lo;
};

static struct u128 add64(struct u128 a, uint64_t b)
{
	a.lo += b;
	a.hi += a.lo < b;
	return a;
}

/* a * m for m < 2^32, from 32-bit halves so that no partial product wraps. */
static struct u128 mul_small(uint64_t a, uint32_t m)
{
	uint64_t low = (a & 0xffffffffu) * m; /* < 2^64 */
	uint64_t high = (a >> 32) * m;        /* < 2^64, weighs 2^32 */
	struct u128 r = { high >> 32, high << 32 };
	return add64(r, low);
}

/*
 * (hi:lo) / d for hi < d, so the quotient fits 64 bits: restoring division,
 * one bit of lo at a time into the running remainder.
 */
static uint64_t div_small_hi(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t carry = hi >> 63;
		hi = hi << 1 | lo >> 63;
		lo <<= 1;
		q <<= 1;
		/* The true remainder is carry:hi < 2d; wrapping subtraction is right either way. */
		if (carry || hi >= d) {
			hi -= d;
			q |= 1;
		}
	}
	if (rem)
		*rem = hi;
	return q;
}

/* floor(a / d), saturated at UINT64_MAX; d >= 1. */
static uint64_t div_sat(struct u128 a, uint64_t d)
{
	if (a.hi >= d)
		return UINT64_MAX;
	if (a.hi == 0)
		return a.lo / d;
	return div_small_hi(a.hi, a.lo, d, NULL);
}

int latency_init(struct latency *l, uint64_t width, unsigned nbuckets)
{
	if (width == 0 || nbuckets == 0 || nbuckets > LATENCY_MAX_BUCKETS)
		return -1;
	l->width = width;
	l->nbuckets = nbuckets;
	l->noutliers = 0;
	l->count = 0;
	l->min = l->max = 0;
	l->sum_lo = l->sum_hi = 0;
	l->overflow = 0;
	for (unsigned i = 0; i < LATENCY_MAX_OUTLIERS; i++)
		l->outlier[i] = 0;
	for (unsigned i = 0; i < LATENCY_MAX_BUCKETS; i++)
		l->bucket[i] = 0;
	return 0;
}

static unsigned outlier_room(const struct latency *l)
{
	return l->nbuckets < LATENCY_MAX_OUTLIERS ? l->nbuckets : LATENCY_MAX_OUTLIERS;
}

void latency_add(struct latency *l, uint64_t sample)
{
	if (l->count == 0 || sample < l->min)
		l->min = sample;
	if (l->count == 0 || sample > l->max)
		l->max = sample;
	struct u128 sum = add64((struct u128){ l->sum_hi, l->sum_lo }, sample);
	l->sum_hi = sum.hi;
	l->sum_lo = sum.lo;

	uint64_t i = sample / l->width;
	if (i < l->nbuckets) {
		l->bucket[i]++;
	} else {
		if (l->noutliers < outlier_room(l))
			l->outlier[l->noutliers++] = l->count;
		l->overflow++;
	}
	l->count++;
}

int latency_merge(struct latency *into, const struct latency *from)
{
	if (into->width != from->width || into->nbuckets != from->nbuckets)
		return -1;
	if (from->count == 0)
		return 0;
	if (into->count == 0 || from->min < into->min)
		into->min = from->min;
	if (into->count == 0 || from->max > into->max)
		into->max = from->max;
	struct u128 sum = add64((struct u128){ into->sum_hi, into->sum_lo }, from->sum_lo);
	into->sum_hi = sum.hi + from->sum_hi;
	into->sum_lo = sum.lo;
	for (unsigned i = 0; i < into->nbuckets; i++)
		into->bucket[i] += from->bucket[i];
	for (unsigned i = 0; i < from->noutliers && into->noutliers < outlier_room(into); i++)
		into->outlier[into->noutliers++] = into->count + from->outlier[i];
	into->overflow += from->overflow;
	into->count += from->count;
	return 0;
}

uint64_t latency_avg(const struct latency *l)
{
	if (l->count == 0)
		return 0;
	return div_sat((struct u128){ l->sum_hi, l->sum_lo }, l->count);
}

uint64_t latency_ticks_to_us(uint64_t ticks, uint64_t tsc_khz)
{
	if (tsc_khz == 0)
		return 0;
	return div_sat(mul_small(ticks, 1000), tsc_khz);
}

uint64_t latency_avg_us(const struct latency *l, uint64_t tsc_khz)
{
	if (l->count == 0 || tsc_khz == 0)
		return 0;
	/*
	 * sum * 1000 / count = q * 1000 + r * 1000 / count with sum = q * count + r;
	 * flooring the second term first does not change floor(... / tsc_khz).
	 */
	uint64_t r;
	uint64_t q = div_small_hi(l->sum_hi, l->sum_lo, l->count, &r); /* sum_hi < count: the mean fits */
	struct u128 r1000 = mul_small(r, 1000);
	uint64_t frac = div_small_hi(r1000.hi, r1000.lo, l->count, NULL); /* < 1000 */
	return div_sat(add64(mul_small(q, 1000), frac), tsc_khz);
}

uint64_t latency_bucket_low(const struct latency *l, unsigned i)
{
	if (i && l->width > UINT64_MAX / i)
		return UINT64_MAX;
	return (uint64_t)i * l->width;
}

uint64_t latency_bucket_high(const struct latency *l, unsigned i)
{
	uint64_t n = (uint64_t)i + 1;
	if (n > UINT64_MAX / l->width)
		return UINT64_MAX;
	return n * l->width - 1;
}

int latency_permille(const struct latency *l, unsigned permille, uint64_t *out)
{
	*out = 0;
	if (l->count == 0 || permille > 1000)
		return -1;
	/* ceil(permille * count / 1000) without forming permille * count. */
	uint64_t rank = l->count / 1000 * permille + ((l->count % 1000) * permille + 999) / 1000;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < l->nbuckets; i++) {
		seen += l->bucket[i];
		if (seen >= rank) {
			uint64_t high = latency_bucket_high(l, i);
			*out = high < l->max ? high : l->max;
			return 0;
		}
	}
	*out = l->max;
	return LATENCY_IN_OVERFLOW;
}

uint64_t latency_p50(const struct latency *l)
{
	uint64_t v;
	latency_permille(l, 500, &v);
	return v;
}

uint64_t latency_p99(const struct latency *l)
{
	uint64_t v;
	latency_permille(l, 990, &v);
	return v;
}
