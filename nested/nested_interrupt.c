/*
 * An interrupt for a child VMM (L1) that becomes deliverable while its L2
 * runs, following VMCS12 as the processor follows a VMCS (SDM Vol. 3 26.2,
 * 27.2.2): with "external-interrupt exiting", a VM exit to L1 with basic
 * reason 1, which carries the vector (and has acknowledged it: IRR -> ISR
 * in L1's local APIC) when L1 set "acknowledge interrupt on exit", and
 * leaves it pending in the IRR for L1 to take through its IDT otherwise.
 * As KVM does, neither RFLAGS.IF nor STI or MOV SS blocking of L2 holds
 * such an exit back: they mask interrupts for L2, not exits for L1.
 */
#include "cpu.h"
#include "nested_runtime.h"
#include "vm_events.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"
#include "event_gate.h"

void nested_l2_interrupt(struct vm *vm, uint64_t now)
{
	struct nested_vm *nv = vm->nested;
	struct vm_events *ev = &vm->ev;
	/* An NMI of L1's is not made into an exit of L2 (yet): it waits for L1's next emulated exit. */
	if (vlapic_nmi_pending(&ev->lapic))
		ev->for_l1_later = 1;
	int vector = vlapic_pending_vector(&ev->lapic);
	if (vector < 0)
		return;
	const struct vmcs12 *v = nv->nvmx.cache;
	if (!(V12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_EXT_INTR_EXITING)) {
		/*
		 * L1 lets its interrupts reach L2's IDT.  Not emulated yet: the
		 * interrupt waits in L1's IRR, and L1's next emulated exit looks
		 * at it again (nested_emulate_exit() pokes).
		 */
		ev->for_l1_later = 1;
		return;
	}
	vmcs_load(nv->v02->ctx.hpa);
	/*
	 * What comes before the interrupt's exit at this boundary: an event
	 * being delivered to L2 (one L1 injected, or one this VMM delivers
	 * again: the processor delivers it first, SDM 26.6), L1's preemption
	 * timer run out (its exit ranks above external interrupts, 26.7.4),
	 * and an interrupt or NMI window L1 asked for that is open (26.7.5-6).  The
	 * processor gives those at the entry; a zero preemption timer brings
	 * L2 back right after them (26.7.4: after any event injection).
	 */
	uint32_t proc12 = (uint32_t)V12(v, CPU_BASED_VM_EXEC_CONTROL), pin12 = (uint32_t)V12(v, PIN_BASED_VM_EXEC_CONTROL);
	uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (intr_info_valid(vmcs_read32(VMCS_VM_ENTRY_INTR_INFO_FIELD)) ||
	    vmm_timer_due(TIMER_CHILD_PREEMPTION, vm, now) ||
	    ((proc12 & CPU_NMI_WINDOW_EXITING) && (pin12 & PIN_VIRTUAL_NMIS) &&
	     !(blocking & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))) ||
	    ((proc12 & CPU_INTR_WINDOW_EXITING) && event_gate_open(vmcs_readnat(VMCS_GUEST_RFLAGS), blocking, 0))) {
		vmm_timer_set(TIMER_LAPIC, vm, now); /* after the look has registered the APIC's own time */
		return;
	}
	uint32_t info = 0;
	if (V12(v, VM_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT) {
		info = intr_info_event(INTR_TYPE_EXT_INTR, (unsigned)vlapic_ack(&ev->lapic, (unsigned)vector));
		ev->count.l1_exits_acked++;
	}
	ev->count.l1_exits++;
	nv->reflect_started = rdtsc();
	nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
							 .flags = EXIT_GIVES_EVENT | EXIT_NO_DELIVERY,
							 .reason = EXIT_REASON_EXTERNAL_INTERRUPT,
							 .intr_info = info });
	/* L1 runs now; vm_events_look() goes on to deliver to it (unacknowledged: when its window opens). */
}
