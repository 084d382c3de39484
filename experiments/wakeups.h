/*
 * A leaf's timer wake-ups as the host gives them back: the latency
 * accumulator rebuilt from the leaf's "wakeup_hist" and "wakeup" records
 * (guests/leaf/wakeup.c), summary.json's vms[].wakeup, and one
 * cyclictest -h histogram file per VM, wakeup-<path>.hist with the path's
 * '/' written '.' (VM names never hold one): wakeup-L0.hv1.rt.hist.
 */
#ifndef NESTLAB_WAKEUPS_H
#define NESTLAB_WAKEUPS_H

#include <jansson.h>
#include <stddef.h>

#include "latency.h"
#include "model.h"
#include "records.h"

#define NL_WAKEUP_HIST_PREFIX "wakeup-"
#define NL_WAKEUP_HIST_SUFFIX ".hist"

/*
 * The VM's accumulator from its records: 1 when it reported wake-ups, 0
 * when it has no "wakeup" record, -1 when the records disagree with
 * themselves (buckets past nbuckets, counts that do not add up), with why.
 */
int nl_wakeup_latency(const struct nl_records *rs, const char *path, struct latency *out, const char **why);

/* summary.json's vms[].wakeup: the leaf's figures plus its histogram's non-empty buckets; null without any. */
json_t *nl_wakeup_summary(const struct nl_records *rs, const char *path);

/* The histogram file's name for a VM path. */
int nl_wakeup_hist_name(char *buf, size_t cap, const char *path);

/* Every VM's histogram file in dir (microseconds, as cyclictest prints them); 0, or -1 with err. */
int nl_wakeup_write_histograms(const char *dir, const struct nl_experiment *exp, const struct nl_records *rs,
			       char *err, size_t cap);

#endif
