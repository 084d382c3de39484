/*
 * The VMM's own local APIC timer, at any level: the physical local APIC at
 * L0, the virtual one its parent gives a child (vmm/vm_events.h).  The same
 * x2APIC code serves both.  The VMM uses it for one thing: to sleep until
 * its next time when nothing is runnable (a halt of the CPU at L0, of its
 * virtual CPU below, which gives the parent's CPU to the VMM's siblings).
 * Its slices and its guests' times run on the VMX-preemption timer.
 */
#ifndef NESTLAB_L0_LAPIC_TIMER_H
#define NESTLAB_L0_LAPIC_TIMER_H

#include <stdint.h>

/* The timer's vector: the highest priority class, so no guest-side TPR of this VMM masks it. */
#define LAPIC_TIMER_VECTOR 0xf0u

/*
 * Put the local APIC in x2APIC mode with the timer in TSC-deadline mode,
 * everything else masked.  Without an x2APIC, a TSC-deadline timer or a
 * globally enabled APIC (which Bochs cannot re-enable, docs/bochs.md) the
 * VMM polls the TSC instead.  After idt_init().
 */
void lapic_timer_init(void);

/*
 * Idle until the TSC reaches until, or until another interrupt of the VMM's
 * comes (an interrupt line's, which counts in lapic_wake_interrupts):
 * halt with the timer armed, or poll.
 */
void lapic_timer_idle_until(uint64_t until);
extern volatile uint64_t lapic_wake_interrupts;

/* Whether the VMM has the x2APIC (and so can take interrupt lines: their EOI is an x2APIC WRMSR). */
int lapic_timer_usable(void);

/* An interrupt acknowledged on a VM exit (intr_info as the exit reported it): end it at the APIC. */
void lapic_timer_exit_interrupt(uint32_t intr_info);

#endif
