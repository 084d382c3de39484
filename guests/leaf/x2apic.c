/*
 * The leaf's local APIC (x2apic.h): x2APIC mode through MSRs, or xAPIC
 * mode through the 4 KiB page at IA32_APIC_BASE, which the leaf maps
 * uncached into its own page tables (its VMM's identity map stops at
 * 1 GiB).  The TSC-deadline timer is an MSR in both modes.
 */
#include "x2apic.h"
#include "nestlab/guest_boot.h"
#include "nestlab/vmx.h"

static int xapic;

/* A 2 MiB page directory for the 4th GiB of linear addresses, where the xAPIC page lies. */
static uint64_t apic_pd[512] __attribute__((aligned(4096)));

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)

/* Map [base, base + 2 MiB) at the same linear address, uncached (the APIC page is a device). */
static void map_apic_page(uint64_t base)
{
	uint64_t *pdpt = (uint64_t *)(uintptr_t)NL_GUEST_PDPT_GPA; /* identity-mapped: its address is itself */
	uint64_t two_mib = base & ~((1ull << 21) - 1);
	apic_pd[(two_mib >> 21) & 511] = two_mib | PTE_P | PTE_RW | PTE_PWT | PTE_PCD | PTE_PS;
	pdpt[(two_mib >> 30) & 511] = (uint64_t)(uintptr_t)apic_pd | PTE_P | PTE_RW;
	__asm__ volatile("invlpg (%0)" ::"r"(two_mib) : "memory");
}

static volatile uint32_t *xapic_reg(uint32_t offset)
{
	return (volatile uint32_t *)(uintptr_t)(APIC_BASE_DEFAULT + offset);
}

void leaf_apic_write(uint32_t offset, uint32_t value)
{
	if (xapic)
		*xapic_reg(offset) = value;
	else
		leaf_wrmsr(X2APIC_MSR(offset), value);
}

uint32_t leaf_apic_read(uint32_t offset)
{
	return xapic ? *xapic_reg(offset) : (uint32_t)leaf_rdmsr(X2APIC_MSR(offset));
}

const char *leaf_apic_start(int use_xapic)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(d & CPUID_1_EDX_APIC))
		return "CPUID offers no local APIC";
	if (!use_xapic && !(c & CPUID_1_ECX_X2APIC))
		return "CPUID offers no x2APIC";
	if (!(c & CPUID_1_ECX_TSC_DEADLINE))
		return "CPUID offers no TSC-deadline timer";
	uint64_t base = leaf_rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN))
		return "the local APIC is globally disabled";
	xapic = use_xapic;
	if (xapic) {
		if ((base & ~0xfffull & 0xffffffffffull) != APIC_BASE_DEFAULT)
			return "the xAPIC page is not at its power-up address";
		map_apic_page(APIC_BASE_DEFAULT);
	} else {
		/* xAPIC -> x2APIC in one write (SDM "x2APIC State Transitions"). */
		leaf_wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	}
	/* Software-enabled first: while disabled, LVT mask bits cannot be cleared (SDM "Spurious-Interrupt Vector Register"). */
	leaf_apic_write(APIC_REG_SVR, APIC_SVR_ENABLE | LEAF_SPURIOUS_VECTOR);
	leaf_apic_write(APIC_REG_TPR, 0);
	leaf_apic_write(APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | LEAF_TIMER_VECTOR);
	return 0;
}

/* The write that sends an NMI IPI to this processor, right after an STI when in_sti_shadow (IF stays 1). */
static void send_self_nmi(int in_sti_shadow)
{
	uint32_t icr = APIC_DM_NMI << APIC_ICR_DM_SHIFT;
	if (xapic) {
		*xapic_reg(APIC_REG_ICR_HI) = leaf_apic_read(APIC_REG_ID) & (0xffu << APIC_XAPIC_ID_SHIFT);
		volatile uint32_t *lo = xapic_reg(APIC_REG_ICR_LO);
		if (in_sti_shadow)
			__asm__ volatile("sti; movl %0, (%1)" ::"r"(icr), "r"(lo) : "memory");
		else
			*lo = icr;
		return;
	}
	/* One 64-bit write: the destination (its x2APIC ID) in bits 63:32. */
	uint64_t v = ((uint64_t)leaf_rdmsr(X2APIC_MSR(APIC_REG_ID)) << 32) | icr;
	if (in_sti_shadow)
		__asm__ volatile("sti; wrmsr" ::"c"(X2APIC_MSR(APIC_REG_ICR_LO)), "a"((uint32_t)v),
				 "d"((uint32_t)(v >> 32)) : "memory");
	else
		leaf_wrmsr(X2APIC_MSR(APIC_REG_ICR_LO), v);
}

void leaf_apic_send_self_nmi(void)
{
	send_self_nmi(0);
}

void leaf_apic_send_self_nmi_after_sti(void)
{
	send_self_nmi(1);
}

void leaf_apic_eoi(void)
{
	leaf_apic_write(APIC_REG_EOI, 0);
}
