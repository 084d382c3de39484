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

static void test_walk_1g_leaf(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	uint64_t pdpt = pool_alloc(&pool);
	uint64_t *pml4 = pool_ptr(&pool, root), *pdpt_t = pool_ptr(&pool, pdpt);
	pml4[0] = pdpt | EPT_RWX;
	pdpt_t[1] = 0x80000000ull | EPT_READ | EPT_EXEC | EPT_MEMTYPE_WB | EPT_LARGE_PAGE;
	struct ept_walk w;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x40000000ull + 0x12345678, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.addr, 0x80000000ull + 0x12345678);
	CU_ASSERT_EQUAL(w.perms, EPT_READ | EPT_EXEC);
	CU_ASSERT_EQUAL(w.level, 3);
	/* Address bits below a 1 GiB page's alignment are reserved (SDM 29.3.2). */
	pdpt_t[1] |= 1ull << 12;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x40000000ull, &w), EPT_WALK_MISCONFIG);
}

static void test_walk_perms_anded(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x1000000, 0x1000, EPT_RWX, 0), 0);
	uint64_t *pml4 = pool_ptr(&pool, root);
	uint64_t *pdpt = pool_ptr(&pool, pml4[0] & EPT_ADDR_MASK);
	struct ept_walk w;
	pml4[0] &= ~EPT_EXEC;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x10, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.perms, EPT_READ | EPT_WRITE);
	pdpt[0] &= ~EPT_WRITE;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x10, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.perms, EPT_READ);
	uint64_t hpa, perms;
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x10, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(perms, EPT_READ);
	CU_ASSERT_EQUAL(hpa, 0x1000010);
}

static void test_walk_outcomes(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x1000000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x200000, 0x1200000, 0x200000, EPT_RWX, 1), 0);
	uint64_t *pml4 = pool_ptr(&pool, root);
	uint64_t *pdpt = pool_ptr(&pool, pml4[0] & EPT_ADDR_MASK);
	uint64_t *pd = pool_ptr(&pool, pdpt[0] & EPT_ADDR_MASK);
	uint64_t *pt = pool_ptr(&pool, pd[0] & EPT_ADDR_MASK);
	struct ept_walk w;
	uint64_t saved;

	/* Not present at the PT: the level is reported and the rights are 0. */
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x1000, &w), EPT_WALK_NOT_PRESENT);
	CU_ASSERT_EQUAL(w.level, 1);
	CU_ASSERT_EQUAL(w.perms, 0);
	/* A table that is not memory is told apart from a malformed entry. */
	saved = pd[0];
	pd[0] = 0x7fff000000ull | EPT_RWX;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), EPT_WALK_BAD_TABLE);
	CU_ASSERT_EQUAL(w.level, 1);
	pd[0] = saved;
	/* Bits 7:3 of a non-leaf entry are reserved; bit 7 of a PML4E is one of them. */
	saved = pml4[0];
	pml4[0] |= EPT_LARGE_PAGE;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), EPT_WALK_MISCONFIG);
	pml4[0] = saved | (1ull << 3);
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), EPT_WALK_MISCONFIG);
	pml4[0] = saved;
	/* Leaf memory types 2, 3 and 7 are reserved. */
	saved = pt[0];
	for (uint64_t mt = 0; mt < 8; mt++) {
		pt[0] = (saved & ~(7ull << 3)) | (mt << 3);
		int bad = mt == 2 || mt == 3 || mt == 7;
		CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), bad ? EPT_WALK_MISCONFIG : EPT_WALK_OK);
	}
	/* Execute-only is never offered; write-and-execute without read is never valid. */
	pt[0] = (saved & ~EPT_RWX) | EPT_EXEC;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), EPT_WALK_MISCONFIG);
	pt[0] = (saved & ~EPT_RWX) | EPT_WRITE | EPT_EXEC;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0, &w), EPT_WALK_MISCONFIG);
	pt[0] = saved;
	/* A 2 MiB leaf must keep bits 20:12 clear. */
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x2abcde, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.addr, 0x12abcde);
	CU_ASSERT_EQUAL(w.level, 2);
	pd[1] |= 1ull << 20;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x2abcde, &w), EPT_WALK_MISCONFIG);
	/* A root that is not memory. */
	CU_ASSERT_EQUAL(ept_walk(&ops, 0x1000, 0, &w), EPT_WALK_BAD_TABLE);
	CU_ASSERT_EQUAL(w.level, 4);
}

static void test_walk_self_reference_terminates(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	uint64_t *pml4 = pool_ptr(&pool, root);
	/* Every level of the walk reads the PML4 itself: four reads, then a 4 KiB leaf. */
	pml4[0] = root | EPT_RWX | EPT_MEMTYPE_WB;
	struct ept_walk w;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x123, &w), EPT_WALK_MISCONFIG); /* memory type bits in a PML4E */
	pml4[0] = root | EPT_RWX;
	CU_ASSERT_EQUAL(ept_walk(&ops, root, 0x123, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.addr, root + 0x123);
	CU_ASSERT_EQUAL(w.level, 1);
}

static void test_map_page_replaces(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	uint64_t hpa, perms;
	CU_ASSERT_EQUAL(ept_map_page(&ops, root, 0x5000, 0x9000, EPT_READ), 0);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x5008, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, 0x9008);
	CU_ASSERT_EQUAL(perms, EPT_READ);
	CU_ASSERT_EQUAL(ept_map_page(&ops, root, 0x5000, 0xa000, EPT_READ | EPT_WRITE), 0);
	CU_ASSERT_EQUAL(ept_translate(&ops, root, 0x5008, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, 0xa008);
	CU_ASSERT_EQUAL(perms, EPT_READ | EPT_WRITE);
	CU_ASSERT_EQUAL(pool.used, 4); /* the second call reused every table */
	CU_ASSERT_EQUAL(ept_map_page(&ops, root, 0x5800, 0xa000, EPT_RWX), -1);
	CU_ASSERT_EQUAL(ept_map_page(&ops, root, 0x5000, 0xa800, EPT_RWX), -1);
	/* A page inside a 2 MiB mapping is not split. */
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x400000, 0x800000, 0x200000, EPT_RWX, 1), 0);
	CU_ASSERT_EQUAL(ept_map_page(&ops, root, 0x401000, 0xa000, EPT_RWX), -1);
}

static unsigned freed;
static uint64_t freed_pages[POOL_PAGES];
static void count_free(void *ctx, uint64_t page)
{
	(void)ctx;
	if (freed < POOL_PAGES)
		freed_pages[freed] = page;
	freed++;
}

static void test_destroy_frees_every_table(void)
{
	reset_pool(POOL_PAGES);
	uint64_t root = ept_create(&ops);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0, 0x1000000, 0x3000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x8000000000ull, 0x2000000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL(ept_map(&ops, root, 0x400000, 0x800000, 0x200000, EPT_RWX, 1), 0);
	freed = 0;
	CU_ASSERT_EQUAL(ept_destroy(&ops, root, count_free), 5); /* 3 + 1 pages of 4 KiB, one of 2 MiB */
	CU_ASSERT_EQUAL(freed, pool.used);
	/* Each table exactly once, the root last. */
	for (unsigned i = 0; i < freed && i < POOL_PAGES; i++)
		for (unsigned j = i + 1; j < freed && j < POOL_PAGES; j++)
			CU_ASSERT_NOT_EQUAL(freed_pages[i], freed_pages[j]);
	CU_ASSERT_EQUAL(freed_pages[freed - 1], root);
	CU_ASSERT_EQUAL(ept_destroy(&ops, 0, count_free), 0);
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
	CU_add_test(s, "1 GiB leaves translate", test_walk_1g_leaf);
	CU_add_test(s, "rights are ANDed over the levels", test_walk_perms_anded);
	CU_add_test(s, "not present, misconfigured and bad table told apart", test_walk_outcomes);
	CU_add_test(s, "a self-referencing structure ends after four reads", test_walk_self_reference_terminates);
	CU_add_test(s, "ept_map_page replaces a 4 KiB mapping", test_map_page_replaces);
	CU_add_test(s, "ept_destroy frees every table once", test_destroy_frees_every_table);
}
