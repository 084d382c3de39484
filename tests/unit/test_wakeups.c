/*
 * experiments/wakeups.c: a leaf's wake-up records back into a latency
 * accumulator, summary.json's vms[].wakeup, the histogram file's name, and
 * records that contradict themselves refused rather than half-believed.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "wakeups.h"

#define HIST(b) "{\"path\":\"L0/rt\",\"type\":\"wakeup_hist\",\"buckets\":" b "}\n"
#define WAKEUP(nbuckets)                                                                              \
	"{\"path\":\"L0/rt\",\"type\":\"wakeup\",\"wanted\":5,\"count\":5,\"min\":120,\"avg\":180,"   \
	"\"p50\":149,\"p99\":399,\"max\":399,\"sum\":900,\"overflow\":0,\"bucket_ticks\":50,"          \
	"\"nbuckets\":" nbuckets "}\n"

static void load(struct nl_records *rs, const char *text)
{
	nl_records_init(rs);
	CU_ASSERT_EQUAL(nl_records_parse(rs, text, strlen(text)), 0);
}

static void test_rebuilt_from_records(void)
{
	struct nl_records rs;
	static struct latency l;
	const char *why = 0;
	/* Buckets in two records, as a leaf splits them; another VM's records are not its. */
	load(&rs, HIST("[[2,2],[3,1]]") HIST("[[7,2]]")
		  "{\"path\":\"L0/other\",\"type\":\"wakeup_hist\",\"buckets\":[[2,9]]}\n" WAKEUP("1000"));
	CU_ASSERT_EQUAL(nl_wakeup_latency(&rs, "L0/rt", &l, &why), 1);
	CU_ASSERT_EQUAL(l.count, 5);
	CU_ASSERT_EQUAL(l.bucket[2], 2);
	CU_ASSERT_EQUAL(l.bucket[3], 1);
	CU_ASSERT_EQUAL(l.bucket[7], 2);
	CU_ASSERT_EQUAL(latency_avg(&l), 180);
	CU_ASSERT_EQUAL(latency_p50(&l), 199); /* the 3rd of 5 samples lies in bucket 3, 150..199 */
	CU_ASSERT_EQUAL(latency_p99(&l), 399);
	CU_ASSERT_EQUAL(nl_wakeup_latency(&rs, "L0/other", &l, &why), 0); /* no wakeup record: none */

	json_t *s = nl_wakeup_summary(&rs, "L0/rt");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "p99")), 399);
	CU_ASSERT_PTR_NULL(json_object_get(s, "path"));
	json_t *h = json_object_get(s, "histogram");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(h, "bucket_ticks")), 50);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(h, "buckets")), 3);
	json_decref(s);
	s = nl_wakeup_summary(&rs, "L0/nobody");
	CU_ASSERT_TRUE(json_is_null(s));
	json_decref(s);
	nl_records_free(&rs);
}

static void test_contradictions_refused(void)
{
	struct nl_records rs;
	static struct latency l;
	const char *why = 0;
	/* Buckets that hold 4 samples for a count of 5. */
	load(&rs, HIST("[[2,2],[3,2]]") WAKEUP("1000"));
	CU_ASSERT_EQUAL(nl_wakeup_latency(&rs, "L0/rt", &l, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(why && strstr(why, "add up"));
	json_t *s = nl_wakeup_summary(&rs, "L0/rt");
	CU_ASSERT_PTR_NOT_NULL(json_object_get(json_object_get(s, "histogram"), "error"));
	json_decref(s);
	nl_records_free(&rs);
	/* A bucket past the histogram's end. */
	load(&rs, HIST("[[1000,5]]") WAKEUP("1000"));
	CU_ASSERT_EQUAL(nl_wakeup_latency(&rs, "L0/rt", &l, &why), -1);
	nl_records_free(&rs);
	/* A histogram shape nestlab never writes. */
	load(&rs, HIST("[[2,5]]") WAKEUP("0"));
	CU_ASSERT_EQUAL(nl_wakeup_latency(&rs, "L0/rt", &l, &why), -1);
	nl_records_free(&rs);
}

static void test_file_name(void)
{
	char buf[64];
	CU_ASSERT_EQUAL(nl_wakeup_hist_name(buf, sizeof buf, "L0/hv1/hv2/rt3"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "wakeup-L0.hv1.hv2.rt3.hist");
	CU_ASSERT_EQUAL(nl_wakeup_hist_name(buf, 12, "L0/hv1/hv2/rt3"), -1);
}

void register_suite_wakeups(void)
{
	CU_pSuite s = CU_add_suite("wakeups", NULL, NULL);
	CU_add_test(s, "accumulator rebuilt from a leaf's records", test_rebuilt_from_records);
	CU_add_test(s, "records that contradict themselves refused", test_contradictions_refused);
	CU_add_test(s, "histogram file name from the VM path", test_file_name);
}
