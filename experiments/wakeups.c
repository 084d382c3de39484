/* A leaf's timer wake-ups on the host (wakeups.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram_text.h"
#include "nestlab/records.h"
#include "results.h"
#include "wakeups.h"

static uint64_t u64_of(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* The wakeup_hist records' buckets and outliers into l (already sized); -1 on nonsense. */
static int add_hist_records(const struct nl_records *rs, const char *path, struct latency *l, const char **why)
{
	for (size_t i = 0; i < rs->count; i++) {
		const json_t *rec = rs->items[i];
		if (nl_record_is_bad_line(rec) || !nl_record_is(rec, path, NL_REC_WAKEUP_HIST))
			continue;
		size_t k;
		const json_t *pair, *n;
		json_array_foreach(json_object_get(rec, NL_KEY_BUCKETS), k, pair) {
			const json_t *idx = json_array_get(pair, 0), *cnt = json_array_get(pair, 1);
			if (!json_is_integer(idx) || !json_is_integer(cnt) || json_integer_value(idx) < 0 ||
			    json_integer_value(idx) >= (json_int_t)l->nbuckets || json_integer_value(cnt) < 0) {
				*why = "a histogram bucket outside the histogram";
				return -1;
			}
			l->bucket[json_integer_value(idx)] += (uint64_t)json_integer_value(cnt);
		}
		json_array_foreach(json_object_get(rec, "outliers"), k, n) {
			if (json_is_integer(n) && l->noutliers < LATENCY_MAX_OUTLIERS)
				l->outlier[l->noutliers++] = (uint64_t)json_integer_value(n);
		}
	}
	return 0;
}

int nl_wakeup_latency(const struct nl_records *rs, const char *path, struct latency *out, const char **why)
{
	const json_t *w = nl_records_last(rs, path, NL_REC_WAKEUP);
	if (!w)
		return 0;
	uint64_t width = u64_of(w, "bucket_ticks"), nb = u64_of(w, "nbuckets");
	if (latency_init(out, width, (unsigned)(nb > LATENCY_MAX_BUCKETS ? 0 : nb))) {
		*why = "the wakeup record's histogram shape is not one nestlab writes";
		return -1;
	}
	if (add_hist_records(rs, path, out, why))
		return -1;
	out->count = u64_of(w, "count");
	out->min = u64_of(w, "min");
	out->max = u64_of(w, "max");
	out->sum_lo = u64_of(w, "sum");
	out->sum_hi = u64_of(w, "sum_hi");
	out->overflow = u64_of(w, "overflow");
	uint64_t in_buckets = 0;
	for (unsigned i = 0; i < out->nbuckets; i++)
		in_buckets += out->bucket[i];
	if (in_buckets + out->overflow != out->count) {
		*why = "the histogram's buckets and overflow do not add up to the wake-up count";
		return -1;
	}
	return 1;
}

json_t *nl_wakeup_summary(const struct nl_records *rs, const char *path)
{
	const json_t *w = nl_records_last(rs, path, NL_REC_WAKEUP);
	if (!w)
		return json_null();
	json_t *s = nl_record_body(w);
	struct latency *l = malloc(sizeof *l);
	const char *why = 0;
	json_t *hist = json_object();
	if (l && nl_wakeup_latency(rs, path, l, &why) == 1) {
		json_t *buckets = json_array();
		for (unsigned i = 0; i < l->nbuckets; i++)
			if (l->bucket[i])
				json_array_append_new(buckets, json_pack("[II]", (json_int_t)i, (json_int_t)l->bucket[i]));
		json_object_set_new(hist, "bucket_ticks", json_integer((json_int_t)l->width));
		json_object_set_new(hist, NL_KEY_BUCKETS, buckets);
		json_object_set_new(hist, "overflow", json_integer((json_int_t)l->overflow));
	} else {
		json_object_set_new(hist, "error", json_string(why ? why : "out of memory"));
	}
	json_object_set_new(s, "histogram", hist);
	free(l);
	return s;
}

int nl_wakeup_hist_name(char *buf, size_t cap, const char *path)
{
	int n = snprintf(buf, cap, "%s%s%s", NL_WAKEUP_HIST_PREFIX, path, NL_WAKEUP_HIST_SUFFIX);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	for (char *c = buf + strlen(NL_WAKEUP_HIST_PREFIX); *c; c++)
		if (*c == '/')
			*c = '.';
	return 0;
}

static int write_one(const char *dir, const char *path, const struct latency *l, uint64_t tsc_khz, char *err,
		     size_t cap)
{
	char name[256], file[4096];
	if (nl_wakeup_hist_name(name, sizeof name, path) || nl_results_path(file, sizeof file, dir, name)) {
		snprintf(err, cap, "the histogram file name for %s is too long", path);
		return -1;
	}
	FILE *f = fopen(file, "w");
	if (!f) {
		snprintf(err, cap, "%s: %s", file, strerror(errno));
		return -1;
	}
	/* Microseconds as cyclictest prints them where the bucket is a whole number of them, else ticks. */
	struct hist_text_opts opts = { .tsc_khz = tsc_khz && (l->width * 1000) % tsc_khz == 0 ? tsc_khz : 0 };
	const struct latency *one[1] = { l };
	int rc = hist_text_write(f, one, 1, &opts);
	if (fclose(f) || rc) {
		snprintf(err, cap, "%s: cannot write the histogram", file);
		return -1;
	}
	return 0;
}

int nl_wakeup_write_histograms(const char *dir, const struct nl_experiment *exp, const struct nl_records *rs,
			       char *err, size_t cap)
{
	struct latency *l = malloc(sizeof *l);
	if (!l) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	int rc = 0;
	for (unsigned i = 0; i < exp->vm_count && !rc; i++) {
		char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
		const char *why = 0;
		nl_experiment_vm_path(exp, i, path, sizeof path);
		int got = nl_wakeup_latency(rs, path, l, &why);
		if (got < 0) {
			snprintf(err, cap, "%s: %s", path, why);
			rc = -1;
		} else if (got > 0) {
			rc = write_one(dir, path, l, nl_experiment_tsc_khz(exp), err, cap);
		}
	}
	free(l);
	return rc;
}
