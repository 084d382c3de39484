/* VPID02 for (L1, VPID12) and L1's INVVPID translated per type (nested/vpid_map.c). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nested.h"

static void test_allocation(void)
{
	struct vpid_map m;
	vpid_map_init(&m, 100, 199);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 7), 100);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 3), 101);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 7), 100); /* stable */
	CU_ASSERT_EQUAL(vpid_map_get(&m, 0xffff), 102);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 3), 101);
	CU_ASSERT_EQUAL(m.used, 3);
	/* VPID12 0 never reaches a VM entry with VPID on: no VPID02 for it. */
	CU_ASSERT_EQUAL(vpid_map_get(&m, 0), 0);
	CU_ASSERT_EQUAL(m.used, 3);
}

static void test_range_exhausted(void)
{
	struct vpid_map m;
	vpid_map_init(&m, 10, 12);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 1), 10);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 2), 11);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 3), 12);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 4), 0); /* the runtime then flushes on every entry */
	CU_ASSERT_EQUAL(vpid_map_get(&m, 2), 11); /* the ones it has stay */
	/* The slots run out before a wide range does. */
	vpid_map_init(&m, 1, 1000);
	for (unsigned i = 0; i < VPID_MAP_SLOTS; i++)
		CU_ASSERT_EQUAL(vpid_map_get(&m, (uint16_t)(50 + i)), 1 + i);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 999), 0);
	/* The top of the VPID space does not wrap to 0, the host's VPID. */
	vpid_map_init(&m, 0xfffe, 0xffff);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 1), 0xfffe);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 2), 0xffff);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 3), 0);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 4), 0);
	/* A range that starts at 0 starts at 1: VPID 0 is VMX root operation's. */
	vpid_map_init(&m, 0, 5);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 9), 1);
	/* An empty range. */
	vpid_map_init(&m, 20, 19);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 9), 0);
}

static void test_one_vpid_types(void)
{
	struct vpid_map m;
	struct invvpid_plan p;
	vpid_map_init(&m, 40, 50);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 5), 40);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 6), 41);

	vpid_map_translate_invvpid(&m, INVVPID_INDIVIDUAL_ADDR, 6, 0x7fff12345000ull, &p);
	CU_ASSERT_EQUAL(p.type, INVVPID_INDIVIDUAL_ADDR);
	CU_ASSERT_EQUAL(p.count, 1);
	CU_ASSERT_EQUAL(p.vpid02[0], 41);
	CU_ASSERT_EQUAL(p.gla, 0x7fff12345000ull);

	vpid_map_translate_invvpid(&m, INVVPID_SINGLE_CONTEXT, 5, 0, &p);
	CU_ASSERT_EQUAL(p.type, INVVPID_SINGLE_CONTEXT);
	CU_ASSERT_EQUAL(p.count, 1);
	CU_ASSERT_EQUAL(p.vpid02[0], 40);

	vpid_map_translate_invvpid(&m, INVVPID_SINGLE_NOGLOBALS, 6, 0, &p);
	CU_ASSERT_EQUAL(p.type, INVVPID_SINGLE_NOGLOBALS);
	CU_ASSERT_EQUAL(p.count, 1);
	CU_ASSERT_EQUAL(p.vpid02[0], 41);
}

/* A VPID12 that L2 never ran with has nothing cached: nothing to do. So for VPID 0. */
static void test_nothing_to_do(void)
{
	struct vpid_map m;
	struct invvpid_plan p;
	vpid_map_init(&m, 40, 50);
	CU_ASSERT_EQUAL(vpid_map_get(&m, 5), 40);
	for (uint64_t type = 0; type <= 3; type++) {
		if (type == INVVPID_ALL_CONTEXT)
			continue;
		vpid_map_translate_invvpid(&m, type, 9, 0x1000, &p);
		CU_ASSERT_EQUAL(p.type, -1);
		CU_ASSERT_EQUAL(p.count, 0);
		vpid_map_translate_invvpid(&m, type, 0, 0x1000, &p);
		CU_ASSERT_EQUAL(p.type, -1);
		CU_ASSERT_EQUAL(p.count, 0);
	}
	/* Types the SDM does not define. */
	vpid_map_translate_invvpid(&m, 4, 5, 0, &p);
	CU_ASSERT_EQUAL(p.type, -1);
	vpid_map_translate_invvpid(&m, ~0ull, 5, 0, &p);
	CU_ASSERT_EQUAL(p.type, -1);
	/* All contexts before any L2 ran. */
	vpid_map_init(&m, 40, 50);
	vpid_map_translate_invvpid(&m, INVVPID_ALL_CONTEXT, 0, 0, &p);
	CU_ASSERT_EQUAL(p.type, -1);
	CU_ASSERT_EQUAL(p.count, 0);
}

/* All contexts is single-context on each VPID02 of this child, never the processor's all-contexts. */
static void test_all_contexts_stay_in_the_child(void)
{
	struct vpid_map a, b;
	struct invvpid_plan p;
	vpid_map_init(&a, 16, 31);
	vpid_map_init(&b, 32, 47);
	vpid_map_get(&a, 1);
	vpid_map_get(&a, 2);
	vpid_map_get(&a, 3);
	vpid_map_get(&b, 1);
	vpid_map_get(&b, 2);
	vpid_map_translate_invvpid(&a, INVVPID_ALL_CONTEXT, 0, 0, &p);
	CU_ASSERT_EQUAL(p.type, INVVPID_SINGLE_CONTEXT);
	CU_ASSERT_EQUAL(p.count, 3);
	CU_ASSERT_EQUAL(p.vpid02[0], 16);
	CU_ASSERT_EQUAL(p.vpid02[1], 17);
	CU_ASSERT_EQUAL(p.vpid02[2], 18);
	/* Its descriptor's VPID is ignored for this type. */
	vpid_map_translate_invvpid(&a, INVVPID_ALL_CONTEXT, 77, 0, &p);
	CU_ASSERT_EQUAL(p.count, 3);
	/* Child b's L1 flushes only b's. */
	vpid_map_translate_invvpid(&b, INVVPID_ALL_CONTEXT, 0, 0, &p);
	CU_ASSERT_EQUAL(p.count, 2);
	for (unsigned i = 0; i < p.count; i++)
		CU_ASSERT(p.vpid02[i] >= 32 && p.vpid02[i] <= 47);
	/* A full map: every slot is in the plan. */
	vpid_map_init(&a, 1, 100);
	for (unsigned i = 0; i < VPID_MAP_SLOTS; i++)
		vpid_map_get(&a, (uint16_t)(i + 1));
	vpid_map_translate_invvpid(&a, INVVPID_ALL_CONTEXT, 0, 0, &p);
	CU_ASSERT_EQUAL(p.count, VPID_MAP_SLOTS);
	CU_ASSERT_EQUAL(p.type, INVVPID_SINGLE_CONTEXT);
}

void register_suite_nested_vpid(void)
{
	CU_pSuite s = CU_add_suite("nested_vpid", NULL, NULL);
	CU_add_test(s, "VPID02 allocated on first use, stable after", test_allocation);
	CU_add_test(s, "range and slots exhausted; VPID 0 never given", test_range_exhausted);
	CU_add_test(s, "individual, single-context and retaining-globals on the VPID02", test_one_vpid_types);
	CU_add_test(s, "unmapped VPID12, VPID 0 and unknown types: nothing", test_nothing_to_do);
	CU_add_test(s, "all contexts: single-context on this child's VPID02s only", test_all_contexts_stay_in_the_child);
}
