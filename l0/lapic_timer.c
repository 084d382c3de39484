/* The VMM's own local APIC timer, in x2APIC mode at every level (lapic_timer.h). */
#include "cpu.h"
#include "idt.h"
#include "lapic_timer.h"
#include "nestlab/apic.h"
#include "nestlab/vmx.h"

void isr_lapic_timer(void);    /* isr.S: counts, EOIs, returns */
void isr_lapic_spurious(void); /* isr.S: returns */
uint64_t lapic_timer_irqs;  /* isr.S's counting handler counts here (the hostile guest reads its own) */

static int usable;
volatile uint64_t lapic_wake_interrupts; /* l0/isr.S's line handlers count here */

void lapic_timer_init(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & CPUID_1_EDX_APIC) || !(c & CPUID_1_ECX_X2APIC) || !(c & CPUID_1_ECX_TSC_DEADLINE))
		return;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_EN))
		return; /* never enable it here: a disabled APIC stays disabled under Bochs */
	/* xAPIC -> x2APIC directly (SDM "x2APIC State Transitions"); never back. */
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	/* Software-enabled first: while disabled, LVT mask bits cannot be cleared (SDM "Spurious-Interrupt Vector Register"). */
	wrmsr(X2APIC_MSR(APIC_REG_SVR), APIC_SVR_ENABLE | APIC_SVR_RESET);
	wrmsr(X2APIC_MSR(APIC_REG_TPR), 0);
	wrmsr(X2APIC_MSR(APIC_REG_LVT_LINT0), APIC_LVT_MASKED);
	wrmsr(X2APIC_MSR(APIC_REG_LVT_LINT1), APIC_LVT_MASKED);
	wrmsr(X2APIC_MSR(APIC_REG_LVT_ERROR), APIC_LVT_MASKED);
	wrmsr(X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_LVT_TIMER_TSC_DEADLINE | LAPIC_TIMER_VECTOR);
	idt_set_gate(LAPIC_TIMER_VECTOR, isr_lapic_timer, 0);
	idt_set_gate(APIC_SVR_RESET, isr_lapic_spurious, 0); /* the spurious vector SVR names */
	usable = 1;
}

void lapic_timer_idle_until(uint64_t until)
{
	if (!usable) {
		/* No APIC timer: no line interrupts either (they need the x2APIC's EOI). */
		while (rdtsc() < until)
			__builtin_ia32_pause();
		return;
	}
	/*
	 * The deadline is one-shot: the interrupt that ends the halt spends it.
	 * STI's one-instruction shadow covers the HLT, so an interrupt that came
	 * between the WRMSR and here still wakes the halt rather than being
	 * taken before it (and leaving the CPU halted for good).
	 */
	uint64_t woken = lapic_wake_interrupts;
	while (rdtsc() < until && lapic_wake_interrupts == woken) {
		wrmsr(MSR_IA32_TSC_DEADLINE, until);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	/* Woken early by a line: the deadline must not fire later into a VM's turn (writing 0 disarms it). */
	if (lapic_wake_interrupts != woken)
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
}

int lapic_timer_usable(void)
{
	return usable;
}

void lapic_timer_exit_interrupt(uint32_t intr_info)
{
	if (!intr_info_valid(intr_info))
		return; /* not acknowledged: a latecomer from the masked PICs, never taken */
	if (intr_info_vector(intr_info) == APIC_SVR_RESET)
		return; /* the spurious vector sets no ISR bit: no EOI */
	if (usable)
		wrmsr(X2APIC_MSR(APIC_REG_EOI), 0);
}
