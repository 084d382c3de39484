/*
 * Shadow EPT (nested/ept_shadow.c): EPT12 built in a fake L1 memory, EPT02
 * in a fake host pool whose pages are counted, so that fills, reflections,
 * drops and refills can be checked entry by entry.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "ept.h"
#include "nested.h"

#define PAGE 4096ull

/* ---- This VMM's memory for EPT02 tables: a pool that knows which pages are live ---- */
#define POOL_PAGES 256
#define POOL_BASE 0x40000000ull

static struct {
	uint8_t *mem;
	uint8_t live[POOL_PAGES];
	unsigned nlive;
	int double_free;
} pool;

static uint64_t pool_alloc(void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < POOL_PAGES; i++)
		if (!pool.live[i]) {
			pool.live[i] = 1;
			pool.nlive++;
			memset(pool.mem + i * PAGE, 0, PAGE);
			return POOL_BASE + i * PAGE;
		}
	return 0;
}

static void *pool_ptr(void *ctx, uint64_t phys)
{
	(void)ctx;
	if (phys < POOL_BASE || phys >= POOL_BASE + POOL_PAGES * PAGE)
		return NULL;
	return pool.mem + (phys - POOL_BASE);
}

static void pool_free(void *ctx, uint64_t phys)
{
	(void)ctx;
	unsigned i = (unsigned)((phys - POOL_BASE) / PAGE);
	if (phys < POOL_BASE || i >= POOL_PAGES || !pool.live[i]) {
		pool.double_free = 1;
		return;
	}
	pool.live[i] = 0;
	pool.nlive--;
}

static const struct ept_mem_ops host_ops = { pool_alloc, pool_ptr, 0 };

/* ---- L1's memory, and an EPT12 builder that allocates its tables inside it ---- */
#define BIG_L1 (4ull << 20)

static struct {
	uint8_t *mem;
	struct guest_mem gm;
	uint64_t next_table; /* L1-physical bump allocator for EPT12 tables */
	uint64_t tables_end;
} l1;

static uint64_t l1_alloc(void *ctx)
{
	(void)ctx;
	if (l1.next_table >= l1.tables_end)
		return 0;
	uint64_t p = l1.next_table;
	l1.next_table += PAGE;
	memset(l1.mem + p, 0, PAGE);
	return p;
}

static void *l1_ptr(void *ctx, uint64_t phys)
{
	(void)ctx;
	return phys + PAGE <= l1.gm.size ? l1.mem + phys : NULL;
}

static const struct ept_mem_ops l1_ops = { l1_alloc, l1_ptr, 0 };

/* A walker's view of L1's memory: a table is there only if its whole page is. */
static void *l1_table_view(void *ctx, uint64_t phys)
{
	const struct guest_mem *m = ctx;
	return guest_mem_ok(m, phys, PAGE) ? guest_mem_ptr(m, phys) : NULL;
}

static void reset_pool(void)
{
	if (!pool.mem)
		pool.mem = aligned_alloc(PAGE, POOL_PAGES * PAGE);
	memset(pool.live, 0, sizeof pool.live);
	pool.nlive = 0;
	pool.double_free = 0;
}

/* L1 with `size` bytes of memory; EPT12's tables live in its first 64 KiB. */
static uint64_t reset_l1(uint64_t size)
{
	free(l1.mem);
	l1.mem = aligned_alloc(PAGE, (size + PAGE - 1) & ~(PAGE - 1));
	memset(l1.mem, 0, (size + PAGE - 1) & ~(PAGE - 1));
	l1.gm.base = l1.mem;
	l1.gm.size = size;
	l1.next_table = PAGE; /* L1-physical 0 would read as "no page" */
	l1.tables_end = 0x10000;
	reset_pool();
	return ept_pointer(ept_create(&l1_ops));
}

static uint64_t root_of(uint64_t eptp) { return eptp & EPT_ADDR_MASK; }

static uint64_t host_of(uint64_t gpa1) { return (uint64_t)(uintptr_t)l1.mem + gpa1; }

/* A pointer to EPT12's entry for gpa2 at level (4 = PML4 .. 1 = PT), which must exist. */
static uint64_t *ept12_entry(uint64_t eptp12, uint64_t gpa2, int level)
{
	uint64_t *t = l1_ptr(0, eptp12 & EPT_ADDR_MASK);
	for (int lv = 4; lv > level; lv--)
		t = l1_ptr(0, t[(gpa2 >> (12 + 9 * (lv - 1))) & 511] & EPT_ADDR_MASK);
	return &t[(gpa2 >> (12 + 9 * (level - 1))) & 511];
}

/* EPT02's translation of gpa2: 0 if mapped. */
static int ept02(const struct shadow_ept *s, uint64_t gpa2, uint64_t *hpa, uint64_t *perms)
{
	if (!s->root02)
		return -1;
	return ept_translate(&host_ops, s->root02, gpa2, hpa, perms);
}

static struct shadow_ept fresh(void)
{
	struct shadow_ept s;
	memset(&s, 0, sizeof s);
	return s;
}

/* Every EPT02 leaf is a 4 KiB page wholly inside L1's memory; returns how many there are. */
static unsigned check_ept02_confined(const struct shadow_ept *s)
{
	unsigned leaves = 0;
	if (!s->root02)
		return 0;
	const uint64_t lo = (uint64_t)(uintptr_t)l1.mem, hi = lo + l1.gm.size;
	uint64_t *pml4 = pool_ptr(0, s->root02);
	for (unsigned a = 0; a < 512; a++) {
		if (!(pml4[a] & EPT_RWX))
			continue;
		uint64_t *pdpt = pool_ptr(0, pml4[a] & EPT_ADDR_MASK);
		CU_ASSERT_FATAL(pdpt != NULL && !(pml4[a] & EPT_LARGE_PAGE));
		for (unsigned b = 0; b < 512; b++) {
			if (!(pdpt[b] & EPT_RWX))
				continue;
			uint64_t *pd = pool_ptr(0, pdpt[b] & EPT_ADDR_MASK);
			CU_ASSERT_FATAL(pd != NULL && !(pdpt[b] & EPT_LARGE_PAGE));
			for (unsigned c = 0; c < 512; c++) {
				if (!(pd[c] & EPT_RWX))
					continue;
				uint64_t *pt = pool_ptr(0, pd[c] & EPT_ADDR_MASK);
				CU_ASSERT_FATAL(pt != NULL && !(pd[c] & EPT_LARGE_PAGE));
				for (unsigned d = 0; d < 512; d++) {
					uint64_t e = pt[d];
					if (!(e & EPT_RWX))
						continue;
					uint64_t hpa = e & EPT_ADDR_MASK;
					CU_ASSERT_FATAL(hpa >= lo && hpa + PAGE <= hi);
					CU_ASSERT_FATAL(e & EPT_READ); /* valid on any processor */
					leaves++;
				}
			}
		}
	}
	return leaves;
}

static void test_fill(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x200000, 0x100000, 0x4000, EPT_READ | EPT_WRITE, 0), 0);
	struct shadow_ept s = fresh();
	uint64_t q12 = 0xdead, hpa, perms;

	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x201234, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(q12, 0);
	CU_ASSERT_NOT_EQUAL(s.root02, 0);
	CU_ASSERT_EQUAL(s.eptp12, eptp);
	CU_ASSERT_EQUAL(ept02(&s, 0x201234, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, host_of(0x101234));
	CU_ASSERT_EQUAL(perms, EPT_READ | EPT_WRITE);
	/* Only the page that faulted: its neighbours are still absent. */
	CU_ASSERT_EQUAL(ept02(&s, 0x200000, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(ept02(&s, 0x202000, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x203ff8, EPT_QUAL_WRITE, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x203ff8, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, host_of(0x103ff8));
	CU_ASSERT_EQUAL(s.faults, 2);
	CU_ASSERT_EQUAL(s.fills, 2);
	CU_ASSERT_EQUAL(s.reflected, 0);
	CU_ASSERT_EQUAL(pool.nlive, 4); /* one EPT02 table per level */
	shadow_ept_drop(&s, &host_ops, pool_free);
}

/* The qualification L1 receives (SDM 28.2.1): the access, then EPT12's rights in bits 5:3. */
static void test_reflect_with_qualification(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x300000, 0x100000, 0x1000, EPT_READ, 0), 0);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;

	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x300010, EPT_QUAL_WRITE, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_WRITE | (EPT_READ << 3));
	CU_ASSERT_EQUAL(ept02(&s, 0x300010, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x300010, EPT_QUAL_FETCH, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_FETCH | (EPT_READ << 3));
	/* The linear-address bits and NMI unblocking pass through; other bits do not. */
	uint64_t qual = EPT_QUAL_WRITE | EPT_QUAL_GLA_VALID | (1ull << 8) | (1ull << 12) | (7ull << 3) |
			(1ull << 6) | (7ull << 9);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x300010, qual, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_WRITE | EPT_QUAL_GLA_VALID | (1ull << 8) | (1ull << 12) | (EPT_READ << 3));
	/* Bit 8 means something only with bit 7. */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x300010, EPT_QUAL_WRITE | (1ull << 8), &q12),
			SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_WRITE | (EPT_READ << 3));
	/* Not mapped at all: rights 0. */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x301000, EPT_QUAL_READ, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_READ);
	/* Not present at the PML4: rights 0 too. */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x8000000000ull, EPT_QUAL_READ, &q12),
			SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_READ);
	CU_ASSERT_EQUAL(s.faults, 6);
	CU_ASSERT_EQUAL(s.reflected, 6);
	CU_ASSERT_EQUAL(s.fills, 0);
	CU_ASSERT_EQUAL(s.root02, 0); /* nothing was ever filled */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x300010, EPT_QUAL_READ, &q12), SEPT_FILLED);
	shadow_ept_drop(&s, &host_ops, pool_free);
}

/* An access made on L2's behalf: translated through EPT12 alone, or classified as L1's fault. */
static void test_access_on_l2s_behalf(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x300000, 0x100000, 0x1000, EPT_READ, 0), 0);
	uint64_t gpa1 = 0, q12 = 0xdead;
	const uint64_t linear_bits = EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_TRANSLATED;
	CU_ASSERT_EQUAL(shadow_ept_access(&l1.gm, eptp, 0x300010, 1, EPT_QUAL_READ | linear_bits, &gpa1, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(gpa1, 0x100010);
	CU_ASSERT_EQUAL(q12, 0);
	/* A write to a read-only page: the violation L1 would get, rights and linear bits included. */
	CU_ASSERT_EQUAL(shadow_ept_access(&l1.gm, eptp, 0x300010, 1, EPT_QUAL_WRITE | linear_bits, &gpa1, &q12),
			SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_WRITE | linear_bits | (EPT_READ << 3));
	CU_ASSERT_EQUAL(shadow_ept_access(&l1.gm, eptp, 0x301000, 1, EPT_QUAL_READ, &gpa1, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_READ);
	/* Beyond the 48-bit guest-physical space: not present. */
	CU_ASSERT_EQUAL(shadow_ept_access(&l1.gm, eptp, 1ull << 48, 1, EPT_QUAL_READ, &gpa1, &q12), SEPT_REFLECT);
	/* A leaf outside L1's memory is L1's own fault. */
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x400000, 0x7fff0000ull, 0x1000, EPT_READ, 0), 0);
	CU_ASSERT_EQUAL(shadow_ept_access(&l1.gm, eptp, 0x400000, 1, EPT_QUAL_READ, &gpa1, &q12), SEPT_L1_FAULT);
}

/* Rights are EPT12's over every level: a leaf's RWX under a read-execute PML4E is read-execute. */
static void test_effective_permissions(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x200000, 0x2000, EPT_RWX, 0), 0);
	*ept12_entry(eptp, 0, 4) &= ~EPT_WRITE;
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x10, EPT_QUAL_WRITE, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_WRITE | ((EPT_READ | EPT_EXEC) << 3));
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x10, EPT_QUAL_FETCH, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x10, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(perms, EPT_READ | EPT_EXEC);
	/* A read-only PD entry narrows further. */
	*ept12_entry(eptp, 0x1000, 2) &= ~EPT_EXEC;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x1000, EPT_QUAL_FETCH, &q12), SEPT_REFLECT);
	CU_ASSERT_EQUAL(q12, EPT_QUAL_FETCH | (EPT_READ << 3));
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x1000, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x1000, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(perms, EPT_READ);
	shadow_ept_drop(&s, &host_ops, pool_free);
}

static void test_misconfiguration(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x200000, 0x1000, EPT_RWX, 0), 0);
	uint64_t *leaf = ept12_entry(eptp, 0, 1), *pml4e = ept12_entry(eptp, 0, 4);
	const uint64_t good_leaf = *leaf, good_pml4e = *pml4e;
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	const uint64_t bad_leaves[] = {
		(good_leaf & ~EPT_RWX) | EPT_WRITE,                   /* write-only */
		(good_leaf & ~EPT_RWX) | EPT_WRITE | EPT_EXEC,        /* write-execute */
		(good_leaf & ~EPT_RWX) | EPT_EXEC,                    /* execute-only: not offered */
		(good_leaf & ~(7ull << 3)) | (2ull << 3),             /* reserved memory type */
		(good_leaf & ~(7ull << 3)) | (7ull << 3),
	};
	for (unsigned i = 0; i < sizeof bad_leaves / sizeof bad_leaves[0]; i++) {
		*leaf = bad_leaves[i];
		q12 = 0x55;
		CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_MISCONFIG);
		CU_ASSERT_EQUAL(q12, 0);
	}
	*leaf = good_leaf;
	*pml4e = good_pml4e | EPT_LARGE_PAGE; /* bits 7:3 of a PML4E are reserved */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_MISCONFIG);
	*pml4e = good_pml4e;
	CU_ASSERT_EQUAL(s.reflected, 6);
	CU_ASSERT_EQUAL(ept02(&s, 0x0, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_FILLED);
	shadow_ept_drop(&s, &host_ops, pool_free);
}

/* EPT12 that points past L1's memory is L1's fault, and never reaches EPT02. */
static void test_outside_l1_memory(void)
{
	const uint64_t size = 0x100800; /* 1 MiB and half a page */
	uint64_t eptp = reset_l1(size);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	/* A leaf onto the page just past the end, and onto the half page at the end. */
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x101000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x1000, 0x100000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x2000, 0xfff000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x3000, 0xfffffffff000ull, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x4000, 0xff000, 0x1000, EPT_RWX, 0), 0); /* the last whole page */
	for (uint64_t g = 0; g < 0x4000; g += 0x1000) {
		CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, g, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
		CU_ASSERT_EQUAL(ept02(&s, g, &hpa, &perms), -1);
	}
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x4000, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x4000, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, host_of(0xff000));
	/* A table past the end. */
	*ept12_entry(eptp, 0, 2) = 0x200000 | EPT_RWX;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
	/* A table in the half page at the end: not a whole table. */
	*ept12_entry(eptp, 0, 2) = 0x100000 | EPT_RWX;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
	/* A root past the end. */
	struct shadow_ept s2 = fresh();
	CU_ASSERT_EQUAL(shadow_ept_fault(&s2, &host_ops, &l1.gm, ept_pointer(0x7ffff000ull), 0x0, EPT_QUAL_READ, &q12),
			SEPT_L1_FAULT);
	CU_ASSERT_EQUAL(s2.root02, 0);
	CU_ASSERT_EQUAL(s.reflected, 0);
	shadow_ept_drop(&s, &host_ops, pool_free);
}

/* One 2 MiB leaf of EPT12 becomes 4 KiB EPT02 entries, one per page touched. */
static void test_2m_leaf_split(void)
{
	uint64_t eptp = reset_l1(0x300000); /* 3 MiB: the leaf onto 2-4 MiB runs past the end */
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x40000000ull, 0x200000, 0x200000, EPT_RWX, 1), 0);
	uint64_t *pde = ept12_entry(eptp, 0x40000000ull, 2);
	CU_ASSERT_FATAL(*pde & EPT_LARGE_PAGE);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x40005123ull, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x400ff000ull, EPT_QUAL_WRITE, &q12), SEPT_FILLED);
	struct ept_walk w;
	CU_ASSERT_EQUAL(ept_walk(&host_ops, s.root02, 0x40005123ull, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.level, 1);
	CU_ASSERT_EQUAL(w.addr, host_of(0x205123));
	CU_ASSERT_EQUAL(w.perms, EPT_RWX);
	CU_ASSERT_EQUAL(ept_walk(&host_ops, s.root02, 0x400ff010ull, &w), EPT_WALK_OK);
	CU_ASSERT_EQUAL(w.level, 1);
	CU_ASSERT_EQUAL(w.addr, host_of(0x2ff010));
	CU_ASSERT_EQUAL(ept02(&s, 0x40006000ull, &hpa, &perms), -1);
	CU_ASSERT_EQUAL(s.fills, 2);
	/* The pages of the leaf past L1's end are L1's fault. */
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x40100000ull, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x401ff000ull, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
	CU_ASSERT_EQUAL(ept02(&s, 0x40100000ull, &hpa, &perms), -1);
	/* A 2 MiB leaf wholly outside. */
	pde[1] = 0x400000 | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x40200000ull, EPT_QUAL_READ, &q12), SEPT_L1_FAULT);
	CU_ASSERT_EQUAL(check_ept02_confined(&s), 2);
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(s.drops, 2);
}

static void test_drop_then_refill(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x100000, 0x10000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x8000000000ull, 0x200000, 0x1000, EPT_RWX, 0), 0);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	for (uint64_t g = 0; g < 0x10000; g += 0x1000)
		CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, g, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x8000000000ull, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(s.fills, 17);
	CU_ASSERT_EQUAL(pool.nlive, 7);

	/* L1 remaps a page and issues INVEPT: the runtime drops EPT02. */
	*ept12_entry(eptp, 0x3000, 1) = 0x180000 | EPT_READ | EPT_MEMTYPE_WB;
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(s.drops, 17);
	CU_ASSERT_EQUAL(s.root02, 0);
	CU_ASSERT_EQUAL(pool.nlive, 0);
	CU_ASSERT_FALSE(pool.double_free);
	/* Dropping nothing is harmless. */
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(s.drops, 17);
	CU_ASSERT_FALSE(pool.double_free);

	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x3008, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x3008, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, host_of(0x180008));
	CU_ASSERT_EQUAL(perms, EPT_READ);
	CU_ASSERT_EQUAL(ept02(&s, 0x4000, &hpa, &perms), -1); /* refilled lazily, not all at once */
	CU_ASSERT_EQUAL(s.fills, 18);
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(pool.nlive, 0);
}

/* L1 grants more rights without INVEPT: the next violation refreshes the EPT02 entry. */
static void test_rights_grow_in_place(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x100000, 0x1000, EPT_READ, 0), 0);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_FILLED);
	*ept12_entry(eptp, 0, 1) |= EPT_WRITE;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_WRITE, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x0, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(perms, EPT_READ | EPT_WRITE);
	CU_ASSERT_EQUAL(hpa, host_of(0x100000));
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(s.drops, 1);
}

/* One EPT02 per EPTP12: another EPTP12 must not fill it. */
static void test_stale_eptp(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	uint64_t other = ept_pointer(ept_create(&l1_ops));
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x100000, 0x1000, EPT_RWX, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(other), 0x0, 0x200000, 0x1000, EPT_RWX, 0), 0);
	struct shadow_ept s = fresh();
	uint64_t q12, hpa, perms;
	CU_ASSERT_EQUAL(shadow_ept_root(&s, &host_ops, eptp), s.root02);
	CU_ASSERT_NOT_EQUAL(s.root02, 0);
	CU_ASSERT_EQUAL(shadow_ept_root(&s, &host_ops, other), 0);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, other, 0x0, EPT_QUAL_READ, &q12), SEPT_STALE);
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, other, 0x0, EPT_QUAL_READ, &q12), SEPT_FILLED);
	CU_ASSERT_EQUAL(ept02(&s, 0x0, &hpa, &perms), 0);
	CU_ASSERT_EQUAL(hpa, host_of(0x200000));
	CU_ASSERT_EQUAL(s.eptp12, other);
	shadow_ept_drop(&s, &host_ops, pool_free);
}

static void test_out_of_host_memory(void)
{
	uint64_t eptp = reset_l1(BIG_L1);
	CU_ASSERT_EQUAL_FATAL(ept_map(&l1_ops, root_of(eptp), 0x0, 0x100000, 0x1000, EPT_RWX, 0), 0);
	memset(pool.live, 1, sizeof pool.live); /* every page taken */
	pool.nlive = POOL_PAGES;
	struct shadow_ept s = fresh();
	uint64_t q12;
	CU_ASSERT_EQUAL(shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0x0, EPT_QUAL_READ, &q12), SEPT_NO_MEMORY);
	CU_ASSERT_EQUAL(s.root02, 0);
	reset_pool();
}

/*
 * One entry of the walk for address 0, as a hostile L1 might write it.
 * NEXT is the table of the next level (T3, T2, T1, then a data page for a
 * PT's leaf); the others are the same at every level.
 */
enum shape_target { NEXT, SELF, ROOT, DATA, LAST, HALF, PAST, FAR, ZERO, MIB2 };
struct shape {
	enum shape_target target;
	uint64_t flags;
};
static const struct shape shapes[] = {
	{ NEXT, 0 },                                             /* not present */
	{ NEXT, EPT_RWX },                                       /* the good link */
	{ NEXT, EPT_READ },
	{ NEXT, EPT_READ | EPT_EXEC },
	{ NEXT, EPT_WRITE },                                     /* write-only */
	{ NEXT, EPT_EXEC },                                      /* execute-only */
	{ NEXT, EPT_RWX | (1ull << 3) },                         /* reserved (non-leaf) / memory type 1 (leaf) */
	{ NEXT, EPT_READ | (1ull << 6) },                        /* reserved (non-leaf) / ignore PAT (leaf) */
	{ SELF, EPT_RWX },                                       /* a loop onto its own table */
	{ ROOT, EPT_RWX },                                       /* a loop onto the PML4 */
	{ DATA, EPT_RWX | EPT_MEMTYPE_WB },                      /* a data page used as a table */
	{ LAST, EPT_RWX | EPT_MEMTYPE_WB },                      /* L1's last whole page */
	{ HALF, EPT_RWX | EPT_MEMTYPE_WB },                      /* the half page at L1's end */
	{ PAST, EPT_RWX | EPT_MEMTYPE_WB },                      /* the page past the end */
	{ FAR, EPT_RWX | EPT_MEMTYPE_WB },                       /* the top of the address space */
	{ ZERO, EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE },     /* a large page at L1-physical 0 */
	{ MIB2, EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE },     /* a large page past the end */
	{ ZERO, EPT_RWX | (2ull << 3) | EPT_LARGE_PAGE },        /* reserved memory type */
	{ DATA, EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE },     /* a large page not aligned */
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

/*
 * Every combination of the shapes above at the four levels of the walk,
 * for each kind of access: whatever EPT12 says, EPT02 only ever maps L1's
 * memory, it maps the address exactly when EPT12 allows the access, and
 * then to the page and with the rights that a walk of EPT12 gives.
 */
static void test_hostile_ept12_exhaustive(void)
{
	const uint64_t size = 0x20800; /* 32 pages and a half */
	const uint64_t table[5] = { 0, 0x4000, 0x3000, 0x2000, 0x1000 }; /* T1..T4 by level */
	const uint64_t accesses[] = { EPT_QUAL_READ, EPT_QUAL_WRITE, EPT_QUAL_FETCH };

	reset_l1(size);
	for (uint64_t p = 0x5000; p < size; p++)
		l1.mem[p] = (uint8_t)(p * 7); /* garbage for the walk that reads a data page as a table */
	const uint64_t eptp = ept_pointer(table[4]);
	struct guest_mem view = l1.gm;
	const struct ept_mem_ops walk_l1 = { l1_alloc, l1_table_view, &view };
	struct shadow_ept s = fresh();
	unsigned outcomes[SEPT_STALE + 1] = { 0 };
	unsigned iter = 0;

	unsigned idx[5];
	for (idx[4] = 0; idx[4] < NSHAPES; idx[4]++)
	for (idx[3] = 0; idx[3] < NSHAPES; idx[3]++)
	for (idx[2] = 0; idx[2] < NSHAPES; idx[2]++)
	for (idx[1] = 0; idx[1] < NSHAPES; idx[1]++) {
		for (int lv = 4; lv >= 1; lv--) {
			const struct shape *sh = &shapes[idx[lv]];
			uint64_t target = 0;
			switch (sh->target) {
			case NEXT: target = lv > 1 ? table[lv - 1] : 0x5000; break;
			case SELF: target = table[lv]; break;
			case ROOT: target = table[4]; break;
			case DATA: target = 0x10000 + 0x1000; break;
			case LAST: target = 0x1f000; break;
			case HALF: target = 0x20000; break;
			case PAST: target = 0x21000; break;
			case FAR: target = 0xffffffffff000ull; break;
			case ZERO: target = 0; break;
			case MIB2: target = 0x40000000ull; break;
			}
			((uint64_t *)(l1.mem + table[lv]))[0] = target | sh->flags;
		}
		for (unsigned a = 0; a < 3; a++, iter++) {
			uint64_t q12 = 0, hpa = 0, perms = 0, drops = s.drops;
			enum shadow_ept_result r = shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, 0, accesses[a], &q12);
			CU_ASSERT_FATAL(r == SEPT_FILLED || r == SEPT_REFLECT || r == SEPT_MISCONFIG || r == SEPT_L1_FAULT);
			outcomes[r]++;
			int mapped = ept02(&s, 0, &hpa, &perms) == 0;
			CU_ASSERT_FATAL(mapped == (r == SEPT_FILLED));

			/* The walk of EPT12 that L1's processor would make. */
			struct ept_walk w;
			enum ept_walk_status st = ept_walk(&walk_l1, eptp, 0, &w);
			int allowed = st == EPT_WALK_OK && (w.perms & accesses[a]);
			int inside = st == EPT_WALK_OK && (w.addr & ~(PAGE - 1)) + PAGE <= size;
			CU_ASSERT_FATAL(mapped == (allowed && inside));
			CU_ASSERT_FATAL((r == SEPT_MISCONFIG) == (st == EPT_WALK_MISCONFIG));
			if (mapped) {
				CU_ASSERT_FATAL(hpa == host_of(w.addr & ~(PAGE - 1)));
				CU_ASSERT_FATAL(hpa >= host_of(0) && hpa + PAGE <= host_of(size));
				CU_ASSERT_FATAL(perms == w.perms);
			}
			if (r == SEPT_REFLECT)
				CU_ASSERT_FATAL(q12 == (accesses[a] | ((st == EPT_WALK_OK ? w.perms : 0) << 3)));
			if (iter % 4099 == 0)
				CU_ASSERT_FATAL(check_ept02_confined(&s) == (mapped ? 1u : 0u));
			shadow_ept_drop(&s, &host_ops, pool_free);
			/* Exactly one leaf, or none, was in EPT02: the one just checked. */
			CU_ASSERT_FATAL(s.drops - drops == (mapped ? 1u : 0u));
			CU_ASSERT_FATAL(pool.nlive == 0 && !pool.double_free);
		}
	}
	/* Every outcome happened: the enumeration really explored the shapes. */
	CU_ASSERT(outcomes[SEPT_FILLED] > 0);
	CU_ASSERT(outcomes[SEPT_REFLECT] > 0);
	CU_ASSERT(outcomes[SEPT_MISCONFIG] > 0);
	CU_ASSERT(outcomes[SEPT_L1_FAULT] > 0);
	CU_ASSERT_EQUAL(s.fills, outcomes[SEPT_FILLED]);
}

/* Random EPT12 pages, many addresses, no drop between faults: EPT02 stays inside L1's memory. */
static void test_hostile_ept12_random(void)
{
	const uint64_t size = 0x40000;
	reset_l1(size);
	uint64_t x = 0x2545f4914f6cdd1dull;
	uint64_t *words = (uint64_t *)l1.mem;
	for (uint64_t i = 0; i < size / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Mostly readable links into (or just past) L1's memory, some large
		 * pages, some raw garbage and holes: hostile, but deep walks happen. */
		uint64_t target = ((x >> 20) % (size + 0x4000)) & EPT_ADDR_MASK;
		uint64_t large = ((x >> 45) & 7) == 0 ? EPT_LARGE_PAGE | EPT_MEMTYPE_WB : 0;
		switch (x & 7) {
		case 0: words[i] = x; break;
		case 1: words[i] = 0; break;
		default: words[i] = target | EPT_READ | ((x >> 40) & 6) | large; break;
		}
	}
	struct shadow_ept s = fresh();
	unsigned filled = 0;
	for (unsigned i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t eptp = ept_pointer(((x >> 8) % (size / PAGE)) * PAGE);
		uint64_t gpa2 = (x >> 16) & 0xfffffffff000ull;
		uint64_t q12;
		if (s.root02 && s.eptp12 != eptp)
			shadow_ept_drop(&s, &host_ops, pool_free);
		enum shadow_ept_result r = shadow_ept_fault(&s, &host_ops, &l1.gm, eptp, gpa2, 1ull << (x % 3), &q12);
		CU_ASSERT_FATAL(r != SEPT_STALE);
		if (r == SEPT_NO_MEMORY) {
			shadow_ept_drop(&s, &host_ops, pool_free);
			continue;
		}
		filled += r == SEPT_FILLED;
		if (i % 1000 == 0)
			check_ept02_confined(&s);
	}
	check_ept02_confined(&s);
	shadow_ept_drop(&s, &host_ops, pool_free);
	CU_ASSERT_EQUAL(pool.nlive, 0);
	CU_ASSERT_FALSE(pool.double_free);
	CU_ASSERT(filled > 0);
}

void register_suite_nested_ept_shadow(void)
{
	CU_pSuite s = CU_add_suite("nested_ept_shadow", NULL, NULL);
	CU_add_test(s, "an access made on L2's behalf", test_access_on_l2s_behalf);
	CU_add_test(s, "a permitted access fills one 4 KiB EPT02 entry", test_fill);
	CU_add_test(s, "a forbidden access is reflected with the SDM qualification", test_reflect_with_qualification);
	CU_add_test(s, "EPT12 rights are ANDed over its levels", test_effective_permissions);
	CU_add_test(s, "malformed EPT12 is an EPT misconfiguration for L1", test_misconfiguration);
	CU_add_test(s, "EPT12 outside L1's memory is L1's fault", test_outside_l1_memory);
	CU_add_test(s, "a 2 MiB EPT12 leaf is split into 4 KiB EPT02 entries", test_2m_leaf_split);
	CU_add_test(s, "drop frees EPT02, refill is lazy", test_drop_then_refill);
	CU_add_test(s, "rights granted later refresh the entry", test_rights_grow_in_place);
	CU_add_test(s, "another EPTP12 needs a drop first", test_stale_eptp);
	CU_add_test(s, "no host memory for EPT02", test_out_of_host_memory);
	CU_add_test(s, "hostile EPT12, every shape: EPT02 stays in L1's memory", test_hostile_ept12_exhaustive);
	CU_add_test(s, "hostile EPT12, random: EPT02 stays in L1's memory", test_hostile_ept12_random);
}
