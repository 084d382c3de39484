/* The leaf's local APIC in x2APIC mode (x2apic.h). */
#include "x2apic.h"
#include "nestlab/vmx.h"

const char *x2apic_start(void)
{
	uint32_t a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(d & CPUID_1_EDX_APIC))
		return "CPUID offers no local APIC";
	if (!(c & CPUID_1_ECX_X2APIC))
		return "CPUID offers no x2APIC";
	if (!(c & CPUID_1_ECX_TSC_DEADLINE))
		return "CPUID offers no TSC-deadline timer";
	uint64_t base = leaf_rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN))
		return "the local APIC is globally disabled";
	/* xAPIC -> x2APIC in one write (SDM "x2APIC State Transitions"). */
	leaf_wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	/* Software-enabled first: while disabled, LVT mask bits cannot be cleared (SDM "Spurious-Interrupt Vector Register"). */
	leaf_wrmsr(X2APIC_MSR(APIC_REG_SVR), APIC_SVR_ENABLE | LEAF_SPURIOUS_VECTOR);
	leaf_wrmsr(X2APIC_MSR(APIC_REG_TPR), 0);
	leaf_wrmsr(X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_LVT_TIMER_TSC_DEADLINE | LEAF_TIMER_VECTOR);
	return 0;
}
