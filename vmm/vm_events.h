/*
 * Interrupts into a VM, at any level: its virtual local APIC (vlapic.h)
 * behind the guest's APIC MSRs, the APIC timer on the VMM's timer
 * multiplexer (TIMER_LAPIC), and delivery at VM entry.
 *
 * Before each entry the run loop asks vm_events_before_entry().  When
 * something may be deliverable (vm_events_poke()) it looks: the timer is brought up to now, and
 * the vector the APIC would have the processor take now is injected if the
 * guest can take it (event_gate.h), or else the VMM turns on
 * interrupt-window exiting and injects at that exit (mechanism 3, the
 * event-window check).  A VM whose L2 runs (a child VMM's guest) gets its
 * interrupt or NMI as the child's VMCS12 says: an emulated external-interrupt
 * or NMI exit, or delivery through L2's IDT (nested/nested_interrupt.c).  HLT blocks the VM until an interrupt
 * for it is pending.
 *
 * Where nestlab deviates from the SDM: a VM that halts with RFLAGS.IF = 0
 * wakes at its next APIC timer expiration, if one is armed, and resumes
 * after the HLT (the processor would stay halted until an NMI or reset);
 * nestlab's guests halt with IF = 0 only in a loop around HLT.
 */
#ifndef NESTLAB_VMM_VM_EVENTS_H
#define NESTLAB_VMM_VM_EVENTS_H

#include "vm.h"
#include "vmm_sched.h"

/*
 * The APIC timer's input clock, in kHz: the bus clock the SDM's divide
 * configuration divides (CPUID leaf 15H would report it on newer models).
 * Below 100 MHz of TSC the timer counts the TSC itself.
 */
#define VM_APIC_BUS_KHZ 100000u

/* A VM's APIC at power-up: x2APIC and TSC deadline offered (CPUID says so), xAPIC mode. */
void vm_events_init(struct vm *vm, uint64_t tsc_khz);

/* RDMSR/WRMSR of an MSR vlapic_is_apic_msr() owns: 0, or -1 for #GP. */
int vm_apic_msr_read(struct vm *vm, uint32_t msr, uint64_t *val);
int vm_apic_msr_write(struct vm *vm, uint32_t msr, uint64_t val);

/* The slow half of vm_events_before_entry(): bring the timer to now and deliver what can be. */
void vm_events_look(struct vm *vm, uint64_t now);

/*
 * The VM's TIMER_LAPIC time is when the VMM must look at its interrupts:
 * its APIC timer's next expiration, or 0 once something may have become
 * deliverable (an APIC register written, a window opened), so that one
 * compare before each entry covers both.
 */
static inline void vm_events_poke(struct vm *vm)
{
	vmm_timer_set(TIMER_LAPIC, vm, 0);
}

/*
 * Before every entry; one compare while nothing is pending.  It compares
 * the earliest of all the VM's own times, which the multiplexer keeps: one
 * load, where TIMER_LAPIC's own slot would take more; another of them due
 * (an emulated preemption timer of its L2) costs a look that finds nothing.
 */
static inline void vm_events_before_entry(struct vm *vm, uint64_t now)
{
	if (__builtin_expect(timer_mux_earliest_own(&vmm_sched.timers, vm->slot) <= now, 0))
		vm_events_look(vm, now);
	vm->apicv.pulled = 0; /* the guest runs next: its virtual-APIC page may change (apicv_vm_pull()) */
}

/* HLT of the VM itself (VMCS01 current, RIP already past it): block unless an interrupt can be taken. */
void vm_events_halt(struct vm *vm);
/* An interrupt-window exit of VMCS01: the window is open, the interrupt goes in at this entry. */
void vm_events_window_open(struct vm *vm);
/* An NMI-window exit of VMCS01: the guest's NMI handler returned, the NMI goes in at this entry. */
void vm_events_nmi_window_open(struct vm *vm);

/* Up to max bytes of the VM's code at linear rip, through its own page tables (VMCS01 current); how many. */
unsigned vm_code_fetch(struct vm *vm, uint64_t rip, uint8_t *code, unsigned max);

/*
 * An EPT violation of the VM's own (VMCS01): if it hit the xAPIC page while
 * the APIC is in xAPIC mode, the MOV that made it is decoded
 * (mmio_decode.h) and done on the APIC, and RIP moves past it; 1 then (or
 * when the access could not be decoded: the VM was stopped), 0 when the
 * access was not the APIC's.
 */
int vm_events_xapic_access(struct vm *vm, const struct exit_info *ei);

/* An APIC-access exit (apicv_vm.h, xAPIC mode): the MOV that made it, done on the APIC. */
void vm_events_apic_access(struct vm *vm, const struct exit_info *ei);
/* An APIC-write exit: the guest wrote val at offset of the virtual-APIC page; done on the APIC. */
void vm_events_apic_write(struct vm *vm, uint32_t offset, uint32_t val);

/* The VM's "lapic" record (NL_REC_LAPIC): its APIC mode and what was delivered how; none
 * for a VM whose counters are all zero. */
void vm_events_record(struct vm *vm);

#endif
