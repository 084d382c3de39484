/*
 * Guest-linear to guest-physical through L1's own page tables, for the
 * memory operands of the VMX instructions L1 executes (they run at CPL 0,
 * so every access here is a supervisor access).  SDM Vol. 3 4.5 (4-level
 * paging).  Every table entry is read through struct guest_mem and bounds-
 * checked: L1 can point its CR3 or an entry anywhere.
 *
 * Accessed and dirty bits are not set: the walk serves an emulated
 * instruction of a VMM, which does not depend on them for its own tables.
 */
#include <string.h>
#include "nested.h"
#include "x86.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_PS  (1ull << 7)
#define PTE_XD  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull /* bits 51:12 */

#define PAGE_1G_MASK ((1ull << 30) - 1)
#define PAGE_2M_MASK ((1ull << 21) - 1)
#define PAGE_4K_MASK ((1ull << 12) - 1)

static int read_entry(const struct gpa_reader *r, uint64_t table, uint64_t linear, unsigned level,
		      uint64_t *entry)
{
	/* level 4 = PML4 (bits 47:39) ... level 1 = PT (bits 20:12) */
	uint64_t gpa = (table & PTE_ADDR) + 8 * ((linear >> (12 + 9 * (level - 1))) & 511);
	return r->read_u64(r->ctx, gpa, entry);
}

static int read_from_mem(void *ctx, uint64_t gpa, uint64_t *out)
{
	const struct guest_mem *m = ctx;
	if (!guest_mem_ok(m, gpa, 8))
		return -1;
	memcpy(out, guest_mem_ptr(m, gpa), 8);
	return 0;
}

int guest_linear_to_phys(const struct guest_mem *m, uint64_t cr0, uint64_t cr3, uint64_t cr4,
			 uint64_t efer, uint64_t linear, int write, uint64_t *gpa)
{
	const struct gpa_reader r = { read_from_mem, (void *)(uintptr_t)m };
	return guest_linear_to_phys_via(&r, cr0, cr3, cr4, efer, linear, write, gpa);
}

/* What a 4-level walk found: the address and the rights every level grants (SDM 4.6). */
struct walk_rights {
	int writable, user, executable;
};

static int walk(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		uint64_t linear, uint64_t *gpa, struct walk_rights *rights);

int guest_linear_to_phys_via(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4,
			     uint64_t efer, uint64_t linear, int write, uint64_t *gpa)
{
	struct walk_rights rights;
	uint64_t pa;
	if (walk(r, cr0, cr3, cr4, efer, linear, &pa, &rights))
		return -1;
	/* A supervisor write to a read-only page faults only with CR0.WP (SDM 4.6.1). */
	if (write && !rights.writable && (cr0 & CR0_WP))
		return -1;
	*gpa = pa;
	return 0;
}

int guest_linear_fetch_via(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
			   unsigned cpl, uint64_t linear, uint64_t *gpa)
{
	struct walk_rights rights;
	uint64_t pa;
	if (walk(r, cr0, cr3, cr4, efer, linear, &pa, &rights))
		return -1;
	/* SDM 4.6.1: no fetch from an XD page (with EFER.NXE), by CPL 3 from a supervisor page, or by CPL < 3 from a user page with CR4.SMEP. */
	if (!rights.executable || (cpl == 3 && !rights.user) || (cpl < 3 && rights.user && (cr4 & CR4_SMEP)))
		return -1;
	*gpa = pa;
	return 0;
}

static int walk(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		uint64_t linear, uint64_t *gpa, struct walk_rights *rights)
{
	*rights = (struct walk_rights){ 1, 1, 1 };
	if (!(cr0 & CR0_PG)) {
		/* No paging: protected mode with 32-bit linear addresses, identity-mapped, every right. */
		*gpa = linear & 0xffffffffull;
		rights->user = 0;
		return 0;
	}
	/* Only IA-32e (4-level) paging: nestlab's VMMs run in long mode. */
	if (!(cr4 & CR4_PAE) || !(efer & EFER_LMA))
		return -1;
	/* A non-canonical address never reaches the tables (#GP, not #PF, on hardware). */
	if (!x86_canonical(linear))
		return -1;

	uint64_t table = cr3, pa = 0;
	for (unsigned level = 4; level >= 1; level--) {
		uint64_t e;
		if (read_entry(r, table, linear, level, &e) || !(e & PTE_P))
			return -1;
		rights->writable &= (e & PTE_RW) != 0;
		rights->user &= (e & PTE_US) != 0;
		if ((efer & EFER_NXE) && (e & PTE_XD))
			rights->executable = 0;
		if (level == 3 && (e & PTE_PS)) {
			pa = (e & PTE_ADDR & ~PAGE_1G_MASK) | (linear & PAGE_1G_MASK);
			break;
		}
		if (level == 2 && (e & PTE_PS)) {
			pa = (e & PTE_ADDR & ~PAGE_2M_MASK) | (linear & PAGE_2M_MASK);
			break;
		}
		if (level == 1)
			pa = (e & PTE_ADDR) | (linear & PAGE_4K_MASK);
		table = e;
	}
	*gpa = pa;
	return 0;
}
