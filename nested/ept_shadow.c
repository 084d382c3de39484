/*
 * Shadow EPT: EPT02 = EPT12 ∘ EPT01, filled one 4 KiB page at a time.
 *
 * L2 runs on EPT02, which starts empty.  Each EPT violation of L2 walks
 * EPT12 in L1's memory, exactly as the processor would walk it for L1
 * (vmm/ept.c's walker over an ept_mem_ops that only sees L1's memory), and
 * either maps the page in EPT02 or hands the fault to L1.  EPT01 is L1's
 * memory as one contiguous block, so composing with it is an offset and a
 * bounds check: whatever EPT12 says, an EPT02 entry only ever points into
 * L1's memory.
 */
#include "nested.h"
#include "ept.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))
/* A 4-level EPT translates guest-physical addresses below 2^48 (SDM 29.3.2). */
#define EPT_GPA_LIMIT (1ull << 48)

/* EPT-violation qualification (SDM 28.2.1, Table 28-7). */
#define EPT_QUAL_ACCESS         (EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_FETCH)
#define EPT_QUAL_PERMS_SHIFT    3
#define EPT_QUAL_NMI_UNBLOCKING (1ull << 12) /* the access came from an IRET that unblocked NMIs */

/* EPT12's tables as L1 sees them: a 4 KiB table exists only if it lies wholly in L1's memory. */
static void *l1_table(void *ctx, uint64_t phys)
{
	const struct guest_mem *m = ctx;
	return guest_mem_ok(m, phys, PAGE_SIZE) ? guest_mem_ptr(m, phys) : 0;
}

static uint64_t no_alloc(void *ctx)
{
	(void)ctx;
	return 0; /* a walk never allocates */
}

/*
 * The qualification L1 gets (SDM 28.2.1): the access (bits 2:0) as L2 made
 * it; bits 5:3 the read/write/execute rights of EPT12's entries for gpa2,
 * ANDed over the levels and 0 when one was not present; the linear-address
 * bits 7-8 and NMI unblocking (bit 12) as the processor reported them,
 * since they describe L2's access, not a table.  The rest (advanced
 * information, mode-based execute) is 0: nestlab offers neither.
 */
static uint64_t violation_qualification(uint64_t qual, uint64_t perms12)
{
	uint64_t q = qual & (EPT_QUAL_ACCESS | EPT_QUAL_GLA_VALID | EPT_QUAL_NMI_UNBLOCKING);
	if (qual & EPT_QUAL_GLA_VALID)
		q |= qual & EPT_QUAL_GLA_TRANSLATED;
	return q | ((perms12 & EPT_RWX) << EPT_QUAL_PERMS_SHIFT);
}

/* Read, write and fetch (qualification bits 2:0) line up with EPT's R, W, X (bits 2:0). */
static int access_allowed(uint64_t qual, uint64_t perms)
{
	return (qual & EPT_QUAL_ACCESS & ~perms) == 0;
}

uint64_t shadow_ept_root(struct shadow_ept *s, const struct ept_mem_ops *ops, uint64_t eptp12)
{
	if (s->root02)
		return s->eptp12 == eptp12 ? s->root02 : 0;
	s->root02 = ept_create(ops);
	s->eptp12 = s->root02 ? eptp12 : 0;
	return s->root02;
}

/*
 * Walk EPT12 for an access (qual bits 0-2) to gpa2: SEPT_FILLED when it
 * allows it (w says where and with which rights), else what L1 is told:
 * an EPT violation (*qual12), a misconfiguration (no qualification,
 * 28.2.1), or its own fault when a table of EPT12 is not L1's memory.
 */
static enum shadow_ept_result walk12(const struct guest_mem *l1mem, uint64_t eptp12, uint64_t gpa2, uint64_t qual,
				     struct ept_walk *w, uint64_t *qual12)
{
	struct guest_mem l1 = *l1mem;
	const struct ept_mem_ops l1_ops = { no_alloc, l1_table, &l1 };
	enum ept_walk_status st = gpa2 < EPT_GPA_LIMIT ? ept_walk(&l1_ops, eptp12, gpa2, w) : EPT_WALK_NOT_PRESENT;
	*qual12 = 0;
	switch (st) {
	case EPT_WALK_BAD_TABLE:
		return SEPT_L1_FAULT;
	case EPT_WALK_MISCONFIG:
		return SEPT_MISCONFIG;
	case EPT_WALK_NOT_PRESENT:
		w->perms = 0;
		break;
	case EPT_WALK_OK:
		break;
	}
	if (st != EPT_WALK_OK || !access_allowed(qual, w->perms)) {
		*qual12 = violation_qualification(qual, w->perms);
		return SEPT_REFLECT;
	}
	return SEPT_FILLED;
}

enum shadow_ept_result shadow_ept_fault(struct shadow_ept *s, const struct ept_mem_ops *ops,
					const struct guest_mem *l1mem, uint64_t eptp12, uint64_t gpa2,
					uint64_t qual, uint64_t *qual12)
{
	s->faults++;
	*qual12 = 0;
	if (s->root02 && s->eptp12 != eptp12)
		return SEPT_STALE; /* filling it would mix two EPT12s' translations */

	struct ept_walk w = { 0, 0, 0 };
	enum shadow_ept_result r = walk12(l1mem, eptp12, gpa2, qual, &w, qual12);
	if (r == SEPT_REFLECT || r == SEPT_MISCONFIG)
		s->reflected++;
	if (r != SEPT_FILLED)
		return r;

	/* EPT12 allows it.  Compose with EPT01: L1-physical page → this VMM's
	 * host-physical page, only if the whole page is L1's. */
	uint64_t gpa1 = w.addr & PAGE_MASK;
	if (!guest_mem_ok(l1mem, gpa1, PAGE_SIZE))
		return SEPT_L1_FAULT;
	if (!shadow_ept_root(s, ops, eptp12))
		return SEPT_NO_MEMORY;
	/* A larger EPT12 leaf still becomes one 4 KiB EPT02 entry per fault: L1's
	 * memory need not be aligned like EPT12's page, and only touched pages cost. */
	uint64_t hpa = (uint64_t)(uintptr_t)l1mem->base + gpa1;
	if (ept_map_page(ops, s->root02, gpa2 & PAGE_MASK, hpa, w.perms))
		return SEPT_NO_MEMORY;
	s->fills++;
	return SEPT_FILLED;
}

enum shadow_ept_result shadow_ept_access(const struct guest_mem *l1mem, uint64_t eptp12, uint64_t gpa2, uint64_t len,
					 uint64_t qual, uint64_t *gpa1, uint64_t *qual12)
{
	struct ept_walk w = { 0, 0, 0 };
	enum shadow_ept_result r = walk12(l1mem, eptp12, gpa2, qual, &w, qual12);
	if (r != SEPT_FILLED)
		return r;
	if (!guest_mem_ok(l1mem, w.addr, len))
		return SEPT_L1_FAULT;
	*gpa1 = w.addr;
	return SEPT_FILLED;
}

void shadow_ept_drop(struct shadow_ept *s, const struct ept_mem_ops *ops, void (*free_page)(void *ctx, uint64_t page))
{
	if (s->root02)
		s->drops += ept_destroy(ops, s->root02, free_page);
	s->root02 = 0;
	s->eptp12 = 0;
}
