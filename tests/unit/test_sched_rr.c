/* Round-robin choice. */
#include <CUnit/CUnit.h>
#include "rr.h"

static int runnable_mask;

static int is_runnable(unsigned idx, void *ctx)
{
	(void)ctx;
	return (runnable_mask >> idx) & 1;
}

static void test_rotation(void)
{
	struct rr_sched s;
	rr_init(&s, 3);
	runnable_mask = 7;
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 0);
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 1);
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 2);
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 0);
	CU_ASSERT_EQUAL(s.decisions, 4);
	CU_ASSERT_EQUAL(s.switches, 4);
}

static void test_skips_stopped_and_none_left(void)
{
	struct rr_sched s;
	rr_init(&s, 3);
	runnable_mask = 4;
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 2);
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), 2);
	CU_ASSERT_EQUAL(s.switches, 1);
	runnable_mask = 0;
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), -1);
	rr_init(&s, 0);
	CU_ASSERT_EQUAL(rr_next(&s, is_runnable, 0), -1);
}

void register_suite_sched_rr(void)
{
	CU_pSuite s = CU_add_suite("sched_rr", NULL, NULL);
	CU_add_test(s, "rotates over runnable entities", test_rotation);
	CU_add_test(s, "skips stopped ones, -1 when none", test_skips_stopped_and_none_left);
}
