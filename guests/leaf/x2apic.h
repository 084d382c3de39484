/*
 * The leaf's local APIC driver: x2APIC mode (MSRs) or xAPIC mode (the
 * MMIO page), the timer in TSC-deadline mode, as a real-time kernel on real
 * hardware would program it.  The same code runs at any depth: the APIC it
 * finds is the virtual one of its VMM (vmm/vm_events.h).
 */
#ifndef NESTLAB_LEAF_X2APIC_H
#define NESTLAB_LEAF_X2APIC_H

#include <stdint.h>

#include "nestlab/apic.h"

#define LEAF_TIMER_VECTOR    0x40u
#define LEAF_SPURIOUS_VECTOR 0xffu

/*
 * CPUID must offer the APIC, the TSC deadline and, for x2APIC mode, the
 * x2APIC; then the mode on, the APIC software-enabled, the timer in
 * TSC-deadline mode and not yet armed.  NULL, or what is missing.
 */
const char *leaf_apic_start(int use_xapic);
static inline const char *x2apic_start(void) { return leaf_apic_start(0); }
/* A register by its xAPIC offset, through whichever interface leaf_apic_start() chose. */
void leaf_apic_write(uint32_t offset, uint32_t value);
uint32_t leaf_apic_read(uint32_t offset);
void leaf_apic_eoi(void);
/* An NMI IPI to this processor (ICR: its own APIC ID, delivery mode NMI). */
void leaf_apic_send_self_nmi(void);
/* The same, the ICR write in the shadow of an STI that sets IF (and leaves it set). */
void leaf_apic_send_self_nmi_after_sti(void);

static inline void leaf_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t leaf_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* The timer fires once when the TSC reaches tsc (0 disarms). */
static inline void x2apic_deadline(uint64_t tsc)
{
	leaf_wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
}

static inline void x2apic_eoi(void)
{
	leaf_wrmsr(X2APIC_MSR(APIC_REG_EOI), 0);
}

#endif
