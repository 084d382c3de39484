/*
 * cyclictest's -h histogram text from latency accumulators (see
 * histogram_text.h for the layout, the rt-tests version it follows and the
 * unit).  Written for nestlab from the layout; no rt-tests code.
 */
#include "histogram_text.h"

/* A value in the chosen unit: ticks as they are, or floored microseconds. */
static unsigned long long in_unit(uint64_t ticks, const struct hist_text_opts *o)
{
	return o->tsc_khz ? latency_ticks_to_us(ticks, o->tsc_khz) : ticks;
}

static int geometry_ok(const struct latency *const *acc, unsigned n, const struct hist_text_opts *o)
{
	if (n == 0)
		return 0;
	for (unsigned j = 1; j < n; j++)
		if (acc[j]->width != acc[0]->width || acc[j]->nbuckets != acc[0]->nbuckets)
			return 0;
	/* In microseconds every bucket must span whole ones, so rows stay evenly labelled. */
	return !o->tsc_khz || (unsigned __int128)acc[0]->width * 1000 % o->tsc_khz == 0;
}

static void write_rows(FILE *f, const struct latency *const *acc, unsigned n, const struct hist_text_opts *o,
		       int sum)
{
	const struct latency *g = acc[0];
	for (unsigned i = 0; i < g->nbuckets; i++) {
		fprintf(f, "%06llu ", in_unit(latency_bucket_low(g, i), o));
		unsigned long long all = 0;
		for (unsigned j = 0; j < n; j++) {
			fprintf(f, j ? "\t%06llu" : "%06llu", (unsigned long long)acc[j]->bucket[i]);
			all += acc[j]->bucket[i];
		}
		if (sum)
			fprintf(f, "\t%06llu", all);
		fputc('\n', f);
	}
}

int hist_text_write(FILE *f, const struct latency *const *acc, unsigned n, const struct hist_text_opts *opts)
{
	static const struct hist_text_opts plain = { 0, 0 };
	const struct hist_text_opts *o = opts ? opts : &plain;
	if (!geometry_ok(acc, n, o))
		return -1;
	int sum = o->sum_column && n > 1;

	fputs("# Histogram\n", f);
	write_rows(f, acc, n, o, sum);

	unsigned long long in_buckets_all = 0, max_all = 0, overflow_all = 0;
	fputs("# Total:", f);
	for (unsigned j = 0; j < n; j++) {
		unsigned long long in_buckets = acc[j]->count - acc[j]->overflow;
		fprintf(f, " %09llu", in_buckets);
		in_buckets_all += in_buckets;
	}
	if (sum)
		fprintf(f, " %09llu", in_buckets_all);
	fputs("\n# Min Latencies:", f);
	for (unsigned j = 0; j < n; j++)
		fprintf(f, " %05llu", in_unit(acc[j]->min, o));
	fputs("\n# Avg Latencies:", f);
	for (unsigned j = 0; j < n; j++)
		fprintf(f, " %05llu", (unsigned long long)(o->tsc_khz ? latency_avg_us(acc[j], o->tsc_khz)
								       : latency_avg(acc[j])));
	fputs("\n# Max Latencies:", f);
	for (unsigned j = 0; j < n; j++) {
		unsigned long long max = in_unit(acc[j]->max, o);
		fprintf(f, " %05llu", max);
		if (max > max_all)
			max_all = max;
	}
	if (sum)
		fprintf(f, " %05llu", max_all);
	fputs("\n# Histogram Overflows:", f);
	for (unsigned j = 0; j < n; j++) {
		fprintf(f, " %05llu", (unsigned long long)acc[j]->overflow);
		overflow_all += acc[j]->overflow;
	}
	if (sum)
		fprintf(f, " %05llu", overflow_all);
	fputs("\n# Histogram Overflow at cycle number:\n", f);
	for (unsigned j = 0; j < n; j++) {
		fprintf(f, "# Thread %u:", j);
		for (unsigned k = 0; k < acc[j]->noutliers; k++)
			fprintf(f, " %05llu", (unsigned long long)acc[j]->outlier[k]);
		if (acc[j]->noutliers < acc[j]->overflow)
			fprintf(f, " # %05llu others", (unsigned long long)(acc[j]->overflow - acc[j]->noutliers));
		fputc('\n', f);
	}
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
