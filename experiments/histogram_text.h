/*
 * Latency accumulators (lib/latency.h) as cyclictest's -h histogram text,
 * one column per accumulator as cyclictest prints one per thread, so that
 * scripts written for cyclictest read nestlab's wake-up histograms.
 *
 * The layout is print_hist() of rt-tests v2.6 (src/cyclictest/cyclictest.c,
 * unchanged from v2.3 to v2.6), the last release that prints every bucket
 * row and the "# Total:" line; v2.7 dropped "# Total:" and later releases
 * omit empty rows, which readers of the older layout may not expect:
 *
 *   # Histogram
 *   000000 000012\t000000          one row per bucket: "%06d " then "%06lu" per column,
 *   ...                            tab-separated (and "\t%06llu", the row's sum, with -H)
 *   # Total: 000000012 000000003   " %09llu" per column: the samples in buckets
 *   # Min Latencies: 00005 00007   " %05lu" per column, here and in the lines below
 *   # Avg Latencies: 00006 00009
 *   # Max Latencies: 01200 00020   (and the largest max, with -H)
 *   # Histogram Overflows: 00001 00000   (and their sum, with -H)
 *   # Histogram Overflow at cycle number:
 *   # Thread 0: 00017              " %05lu" per kept sample number, then
 *   # Thread 1:                    " # %05lu others" if more overflowed than were kept
 *   (an empty line)
 *
 * -H's extra column (sum_column) is printed, as by cyclictest, only with
 * more than one accumulator, and only in the rows and the Total, Max and
 * Overflows lines.  Widths are minimums: larger numbers print wider.
 * Where nestlab differs: an accumulator without samples prints min 0
 * (cyclictest prints its initial 1000000); up to LATENCY_MAX_OUTLIERS
 * overflowed sample numbers are kept where cyclictest keeps as many as it
 * has buckets (the same when nbuckets <= LATENCY_MAX_OUTLIERS).
 *
 * The unit: cyclictest's is the microsecond with 1 us buckets, nestlab's
 * samples are TSC ticks.  With tsc_khz = 0 every number is printed as it is,
 * in ticks, and a row's label is its bucket's lowest value in ticks
 * (i * width; with width 1 the bucket number, as in cyclictest).  With
 * tsc_khz > 0 (the manifest's ticks per millisecond) min and max are
 * converted to floor(ticks * 1000 / tsc_khz) us, the average is the floored
 * exact mean in us (latency_avg_us()), and a row's label is its bucket's
 * lowest value in us; the bucket width must then be a whole number of
 * microseconds (width * 1000 divisible by tsc_khz: width = tsc_khz / 1000
 * gives cyclictest's 1 us rows).  Counts and sample numbers have no unit.
 * Everything stays integer.
 */
#ifndef NESTLAB_HISTOGRAM_TEXT_H
#define NESTLAB_HISTOGRAM_TEXT_H

#include <stdint.h>
#include <stdio.h>

#include "latency.h"

struct hist_text_opts {
	uint64_t tsc_khz; /* 0: print ticks; otherwise convert to microseconds */
	int sum_column;   /* cyclictest -H: a column over all accumulators */
};

/*
 * Writes the text for n >= 1 accumulators (column j is acc[j], "# Thread j").
 * Returns 0, or -1 with nothing written when n is 0, the accumulators'
 * widths or bucket counts differ, or in microseconds the width is not a
 * whole number of them; -1 too when the stream reports an error.
 * opts may be NULL: ticks, no sum column.
 */
int hist_text_write(FILE *f, const struct latency *const *acc, unsigned n, const struct hist_text_opts *opts);

#endif
