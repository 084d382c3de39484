/* EPT builder and walker over a fake physical memory pool. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "ept.h"
#include "nestlab/vmx.h"

#define POOL_PAGES 64
#define POOL_BASE 0x40000000ull /* fake host-physical address of the pool */

struct pool {
	uint8_t *mem;
	unsigned used;
	unsigned limit; /* fail allocations past this many pages */
};

static uint64_t pool_alloc(void *ctx)
{
	struct pool *p = ctx;
	if (p->used >= p->limit)
		return 0;
	memset(p->mem + p->used * 4096ull, 0, 4096);
	return POOL_BASE + 4096ull * p->used++;
}

static void *pool_ptr(void *ctx, uint64_t phys)
{
	struct pool *p = ctx;
	if (phys < POOL_BASE || phys >= POOL_BASE + POOL_PAGES * 4096ull)
		return NULL;
	return p->mem + (phys - POOL_BASE);
}

static struct pool pool;
static struct ept_mem_ops ops = { pool_alloc, pool_ptr, &pool };

static void reset_pool(unsigned limit)
{
	if (!pool.mem)
		pool.mem = aligned_alloc(4096, POOL_PAGES * 4096);
	pool.used = 0;
	pool.limit = limit;
}

static void test_map_4k_and_translate(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_FATAL(root != 0);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x100000, 0x7000000, 0x3000, EPT_READ | EPT_WRITE, 0), 0);
	uint64_t hpa, perms;
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x101234, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, 0x7001234);
	CU_ASSERT_EQUAL(perms, EPT_READ | EPT_WRITE);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x102fff, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, 0x7002fff);
	/* One past the end and far away are not mapped: the EPT-violation case. */
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x103000, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x20000000, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0xfff, &hpa, &perms), -1);
	/* PML4, PDPT, PD, PT: four pages for one small range. */
	CU_ASSERT_EQUAL(pool.used, 4);
}

static void test_map_2m_pages(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x8000000, 0x400000, EPT_RWX, 1), 0);
	CU_ASSERT_EQUAL(pool.used, 3); /* no page table level needed */
	uint64_t hpa, perms;
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x3fffff, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, 0x83fffff);
	CU_ASSERT_EQUAL(perms, EPT_RWX);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x400000, &hpa, &perms), -1);
	/* The PD entry is a large page with write-back memory type. */
	uint64_t *pml4 = pool_ptr(&pool, root);
	uint64_t *pdpt = pool_ptr(&pool, pml4[0] & EPT_ADDR_MASK);
	uint64_t *pd = pool_ptr(&pool, pdpt[0] & EPT_ADDR_MASK);
	CU_ASSERT(pd[0] & EPT_LARGE_PAGE);
	CU_ASSERT_EQUAL(pd[0] & (7ull << 3), EPT_MEMTYPE_WB);
}

static void test_unaligned_and_double_map_refused(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x1001, 0x2000, 0x1000, EPT_RWX, 0), -1);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x1000, 0x2000, 0x800, EPT_RWX, 0), -1);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x1000, 0x2000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x1000, 0x5000, 0x1000, EPT_RWX, 0), -1);
}

static void test_allocation_failure(void)
{
	reset_pool(2); /* root + one table: not enough for a 4 KiB mapping */
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x1000000, 0x1000, EPT_RWX, 0), -1);
}

static void test_misconfiguration_detected(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x1000000, 0x1000, EPT_RWX, 0), 0);
	uint64_t *pml4 = pool_ptr(&pool, root);
	pml4[0] = (pml4[0] & ~EPT_RWX) | EPT_WRITE; /* write-only: misconfigured */
	uint64_t hpa, perms;
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0, &hpa, &perms), -2);
}

static void test_eptp(void)
{
	CU_ASSERT_EQUAL(ept_pointer(0x123000), 0x123000 | 6 | (3 << 3));
}

void register_suite_ept(void)
{
	CU_pSuite s = CU_add_suite("ept", NULL, NULL);
	CU_add_test(s, "4 KiB mappings translate exactly", test_map_4k_and_translate);
	CU_add_test(s, "2 MiB pages when aligned", test_map_2m_pages);
	CU_add_test(s, "unaligned and double mappings refused", test_unaligned_and_double_map_refused);
	CU_add_test(s, "allocation failure reported", test_allocation_failure);
	CU_add_test(s, "write-only entry is a misconfiguration", test_misconfiguration_detected);
	CU_add_test(s, "EPTP: write-back, 4-level walk", test_eptp);
}
