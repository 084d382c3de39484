/* Guest-linear to guest-physical through L1's page tables, over a synthetic L1 memory. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "nested.h"

#define MEM_SIZE 0x10000ull /* 64 KiB of L1 memory: the tables live here */
#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD   0x3000ull
#define PT   0x4000ull
#define PDPT_HI 0x5000ull /* for the top of the address space */

#define P  1ull
#define RW 2ull
#define PS 0x80ull

#define CR0_PAGED (CR0_PE | CR0_NE | CR0_PG | CR0_WP)
#define CR4_LONG  (CR4_PAE | CR4_VMXE)
#define EFER_LONG (EFER_LME | EFER_LMA)

static uint8_t *mem;
static struct guest_mem gm;

static void set_entry(uint64_t table, unsigned index, uint64_t value)
{
	memcpy(mem + table + 8 * index, &value, 8);
}

static uint64_t la(unsigned i4, unsigned i3, unsigned i2, unsigned i1, uint64_t offset)
{
	return ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30) | ((uint64_t)i2 << 21) | ((uint64_t)i1 << 12) | offset;
}

/* PML4[1] → PDPT, PDPT[2] → PD, PD[3] → PT, PT[4] → 0x9000 and a few odd entries around them. */
static void setup(void)
{
	if (!mem)
		mem = malloc(MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm.base = mem;
	gm.size = MEM_SIZE;
	set_entry(PML4, 1, PDPT | P | RW);
	set_entry(PDPT, 2, PD | P | RW);
	set_entry(PD, 3, PT | P | RW);
	set_entry(PT, 4, 0x9000 | P | RW);
	set_entry(PT, 8, 0xa000 | P);                      /* read-only 4 KiB page */
	set_entry(PD, 5, 0x40000000ull | P | RW | PS);     /* 2 MiB page */
	set_entry(PDPT, 3, 0x80000000ull | P | RW | PS);   /* 1 GiB page */
	set_entry(PDPT, 4, 0xc0000000ull | P | PS);        /* read-only 1 GiB page */
	set_entry(PD, 9, 0x10000000ull | P | RW);          /* a page table outside L1's memory */
	set_entry(PML4, 511, PDPT_HI | P | RW);
	set_entry(PDPT_HI, 0, 0x100000000ull | P | RW | PS);
}

static void teardown(void)
{
	free(mem);
	mem = NULL;
}

static int walk(uint64_t linear, int write, uint64_t *gpa)
{
	return guest_linear_to_phys(&gm, CR0_PAGED, PML4, CR4_LONG, EFER_LONG, linear, write, gpa);
}

static int read_mem_u64(void *ctx, uint64_t gpa, uint64_t *out)
{
	(void)ctx;
	if (gpa + 8 > MEM_SIZE)
		return -1;
	memcpy(out, mem + gpa, 8);
	return 0;
}

static int fetch(uint64_t cr4, uint64_t efer, unsigned cpl, uint64_t linear, uint64_t *gpa)
{
	const struct gpa_reader r = { read_mem_u64, NULL };
	return guest_linear_fetch_via(&r, CR0_PAGED, PML4, cr4, efer, cpl, linear, gpa);
}

/* An instruction fetch (SDM 4.6.1): XD with EFER.NXE, user and supervisor pages by CPL, SMEP. */
static void test_fetch_rights(void)
{
	const uint64_t US = 4, XD = 1ull << 63;
	uint64_t gpa = 0;
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 0, la(1, 2, 3, 4, 0x10), &gpa), 0); /* supervisor page, CPL 0 */
	CU_ASSERT_EQUAL(gpa, 0x9010);
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 3, la(1, 2, 3, 4, 0), &gpa), -1); /* CPL 3: not a user page */
	set_entry(PT, 4, 0x9000 | P | RW | XD);
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 0, la(1, 2, 3, 4, 0), &gpa), 0); /* XD ignored without NXE */
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG | EFER_NXE, 0, la(1, 2, 3, 4, 0), &gpa), -1);
	/* A user page needs U/S at every level. */
	set_entry(PML4, 1, PDPT | P | RW | US);
	set_entry(PDPT, 2, PD | P | RW | US);
	set_entry(PD, 3, PT | P | RW | US);
	set_entry(PT, 4, 0x9000 | P | RW | US);
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 3, la(1, 2, 3, 4, 0), &gpa), 0);
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 0, la(1, 2, 3, 4, 0), &gpa), 0);
	CU_ASSERT_EQUAL(fetch(CR4_LONG | CR4_SMEP, EFER_LONG, 0, la(1, 2, 3, 4, 0), &gpa), -1); /* SMEP */
	set_entry(PD, 3, PT | P | RW); /* one level supervisor: a supervisor page */
	CU_ASSERT_EQUAL(fetch(CR4_LONG, EFER_LONG, 3, la(1, 2, 3, 4, 0), &gpa), -1);
	CU_ASSERT_EQUAL(fetch(CR4_LONG | CR4_SMEP, EFER_LONG, 0, la(1, 2, 3, 4, 0), &gpa), 0);
}

static void test_4k_2m_1g_pages(void)
{
	uint64_t gpa = 0;
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 4, 0x123), 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x9123);
	CU_ASSERT_EQUAL(walk(la(1, 2, 5, 0, 0) + 0x12345, 1, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x40012345);
	CU_ASSERT_EQUAL(walk(la(1, 3, 0, 0, 0) + 0x1234567, 1, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x81234567);
}

static void test_upper_half_addresses(void)
{
	uint64_t gpa = 0;
	/* 0xffffff8000000000 is PML4 index 511: the sign extension plays no part in the index. */
	CU_ASSERT_EQUAL(walk(0xffffff8000001008ull, 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x100001008ull);
	/* A non-canonical address never walks. */
	CU_ASSERT_EQUAL(walk(0x0000ff8000001008ull, 0, &gpa), -1);
}

static void test_not_present_at_each_level(void)
{
	uint64_t gpa = 0x77;
	CU_ASSERT_EQUAL(walk(la(2, 0, 0, 0, 0), 0, &gpa), -1); /* PML4E */
	CU_ASSERT_EQUAL(walk(la(1, 7, 0, 0, 0), 0, &gpa), -1); /* PDPTE */
	CU_ASSERT_EQUAL(walk(la(1, 2, 7, 0, 0), 0, &gpa), -1); /* PDE */
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 6, 0), 0, &gpa), -1); /* PTE */
	CU_ASSERT_EQUAL(gpa, 0x77); /* untouched on failure */
	/* present bit clear with an address in it: still not present */
	set_entry(PT, 6, 0x9000 | RW);
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 6, 0), 0, &gpa), -1);
}

static void test_write_protection(void)
{
	uint64_t gpa = 0;
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 8, 0x10), 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0xa010);
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 8, 0x10), 1, &gpa), -1);
	CU_ASSERT_EQUAL(walk(la(1, 4, 0, 0, 0x10), 1, &gpa), -1); /* read-only 1 GiB page */
	/* R/W clear at an upper level write-protects everything below it. */
	set_entry(PD, 3, PT | P);
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 4, 0), 1, &gpa), -1);
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 4, 0), 0, &gpa), 0);
	/* Without CR0.WP a supervisor write ignores R/W. */
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PAGED & ~CR0_WP, PML4, CR4_LONG, EFER_LONG,
					     la(1, 2, 3, 8, 0x10), 1, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0xa010);
}

static void test_tables_outside_memory(void)
{
	uint64_t gpa = 0;
	CU_ASSERT_EQUAL(walk(la(1, 2, 9, 0, 0), 0, &gpa), -1);
	/* CR3 itself outside L1's memory */
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PAGED, 0x200000, CR4_LONG, EFER_LONG, la(1, 2, 3, 4, 0), 0, &gpa),
			-1);
	/* A table whose last entry would straddle the end of memory */
	struct guest_mem small = { mem, PT + 4 * 8 + 4 };
	CU_ASSERT_EQUAL(guest_linear_to_phys(&small, CR0_PAGED, PML4, CR4_LONG, EFER_LONG, la(1, 2, 3, 4, 0), 0, &gpa),
			-1);
}

static void test_cr3_low_bits_ignored(void)
{
	uint64_t gpa = 0;
	/* PCID / PWT / PCD in CR3's low bits do not move the PML4. */
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PAGED, PML4 | 0x18 | 0x5, CR4_LONG, EFER_LONG,
					     la(1, 2, 3, 4, 0x8), 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x9008);
	/* NX (bit 63) and other high attribute bits in an entry are not address bits. */
	set_entry(PT, 4, 0x9000 | P | RW | (1ull << 63));
	CU_ASSERT_EQUAL(walk(la(1, 2, 3, 4, 0x8), 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x9008);
}

static void test_no_paging_and_unsupported_modes(void)
{
	uint64_t gpa = 0;
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PE, 0, 0, 0, 0x12345678, 0, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x12345678);
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PE, 0, 0, 0, 0x112345678ull, 1, &gpa), 0);
	CU_ASSERT_EQUAL(gpa, 0x12345678); /* linear addresses are 32 bits without paging */
	/* 32-bit and PAE paging are not walked: nestlab's VMMs are 64-bit */
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PAGED, PML4, 0, 0, 0x1000, 0, &gpa), -1);
	CU_ASSERT_EQUAL(guest_linear_to_phys(&gm, CR0_PAGED, PML4, CR4_PAE, 0, 0x1000, 0, &gpa), -1);
}

void register_suite_nested_walk(void)
{
	CU_pSuite s = CU_add_suite_with_setup_and_teardown("nested_walk", NULL, NULL, setup, teardown);
	CU_add_test(s, "4 KiB, 2 MiB, 1 GiB pages", test_4k_2m_1g_pages);
	CU_add_test(s, "instruction fetch: XD, U/S, SMEP", test_fetch_rights);
	CU_add_test(s, "upper-half addresses", test_upper_half_addresses);
	CU_add_test(s, "not present at each level", test_not_present_at_each_level);
	CU_add_test(s, "write protection and CR0.WP", test_write_protection);
	CU_add_test(s, "tables outside memory", test_tables_outside_memory);
	CU_add_test(s, "CR3 and entry attribute bits", test_cr3_low_bits_ignored);
	CU_add_test(s, "no paging and unsupported modes", test_no_paging_and_unsupported_modes);
}
