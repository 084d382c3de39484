/*
 * An event for a child VMM (L1) that becomes deliverable while its L2
 * runs, following VMCS12 as the processor follows a VMCS (SDM Vol. 3 26.2,
 * 26.3 "Changes to event blocking", 27.2.2):
 *
 * - an NMI: with "NMI exiting", a VM exit to L1 with basic reason 0 and
 *   the NMI in the exit's interruption information; without it, the NMI
 *   goes to L2 through L2's IDT (this VMM injects it into VMCS02) and is
 *   L1's NMI taken;
 * - an external interrupt: with "external-interrupt exiting", a VM exit
 *   with basic reason 1, which carries the vector (and has acknowledged it:
 *   IRR -> ISR in L1's local APIC) when L1 set "acknowledge interrupt on
 *   exit", and leaves it pending in the IRR for L1 to take through its IDT
 *   otherwise; without it, the interrupt goes to L2 through L2's IDT when
 *   L2 can take it, acknowledged by L1's APIC at the delivery (L2's
 *   handler then EOIs L1's APIC, through whatever L1 lets L2 reach).
 *
 * As KVM does, neither RFLAGS.IF nor STI or MOV SS blocking of L2 holds an
 * exit back: they mask interrupts for L2, not exits for L1 (26.3: with the
 * exiting controls, STI and MOV SS blocking are implementation-specific).
 * Where L2 cannot take an event it gets, this VMM opens a window of its
 * own in VMCS02 (own_windows), invisible to L1; a window L1 asked for in
 * VMCS12 is L1's and its exit is reflected (its row in the exit table).
 *
 * Deviations: while L2 steps by RFLAGS.TF (the emulated monitor trap
 * flag), and for NMIs where the processor has no virtual NMIs, an event
 * for L2's IDT waits for L1's next emulated exit (for_l1_later); so does an
 * NMI exit held by blocking by NMI, and L1 then takes it at once, where the
 * processor would keep that blocking until L1's IRET (nested/README.md).
 */
#include "cpu.h"
#include "nested_runtime.h"
#include "vm_events.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"
#include "event_gate.h"
#include "vmx_caps.h"

/* The window bits of VMCS02 this VMM keeps for itself become want (VMCS02 current). */
static void own_windows_set(struct vm *vm, uint32_t want)
{
	struct nested_vm *nv = vm->nested;
	if (want & ~nv->own_windows)
		vm->ev.count.l2_window_asks++;
	nv->own_windows = want;
	nested_vmcs02_put(nv, VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL, nv->v02->proc | want);
}

void nested_l2_drop_own_windows(struct vm *vm)
{
	own_windows_set(vm, 0);
	/* What waited for L2 is pending at L1's APIC: L1 may take it now, in its own way. */
	vm->ev.for_l1_later = 1;
}

enum exit_action nested_l2_own_window_open(struct vm *vm, const struct exit_info *ei, uint32_t control)
{
	struct nested_vm *nv = vm->nested;
	if (!(nv->own_windows & control))
		return vm_fault(vm, ei, "event-window exit of an L2 nobody asked for (a nestlab bug)");
	vm->ev.count.l2_window_exits++;
	own_windows_set(vm, nv->own_windows & ~control);
	vm_events_poke(vm); /* the look before this entry delivers what waited */
	return EXIT_RESUME;
}

/*
 * What comes before an event of L1's at L2's instruction boundary: an event
 * being delivered to L2 (one L1 injected, or one this VMM delivers: the
 * processor delivers it first, SDM 26.6), L1's preemption timer run out
 * (its exit ranks above NMIs and external interrupts, 26.5.1), an NMI
 * window L1 asked for that is open (above NMIs, 26.7.6) and, for an
 * external interrupt, an interrupt window L1 asked for that is open (above
 * external interrupts, below NMIs, 26.7.5).  The processor gives those at
 * the entry; a zero preemption timer then brings L2 back right after them
 * (26.7.4: after any event injection) and this look comes again.
 */
static int outranked(struct vm *vm, const struct vmcs12 *v, uint64_t now, uint32_t blocking, int nmi)
{
	uint32_t proc12 = (uint32_t)V12(v, CPU_BASED_VM_EXEC_CONTROL), pin12 = (uint32_t)V12(v, PIN_BASED_VM_EXEC_CONTROL);
	if (!(intr_info_valid(vmcs_read32(VMCS_VM_ENTRY_INTR_INFO_FIELD)) ||
	      vmm_timer_due(TIMER_CHILD_PREEMPTION, vm, now) ||
	      ((proc12 & CPU_NMI_WINDOW_EXITING) && (pin12 & PIN_VIRTUAL_NMIS) &&
	       !(blocking & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))) ||
	      (!nmi && (proc12 & CPU_INTR_WINDOW_EXITING) &&
	       event_gate_open(vmcs_readnat(VMCS_GUEST_RFLAGS), blocking, 0))))
		return 0;
	vmm_timer_set(TIMER_LAPIC, vm, now); /* after the look has registered the APIC's own time */
	return 1;
}

/* One event L1 gives L2 through L2's IDT (VMCS02 current; the processor clears the field's valid bit). */
static void inject_for_l2(struct nested_vm *nv, uint32_t info)
{
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD);
}

/*
 * L1's NMI.  With "NMI exiting" an NMI exit, held back only by blocking by
 * NMI when L1 does not use virtual NMIs (the bit is then the processor's
 * own NMI blocking, which L2's IRET does not end: the NMI waits for L1's
 * next exit, 25.3 IRET); with virtual NMIs the bit is L2's virtual-NMI
 * blocking, which matters for NMI windows, not for NMI exits.  Without it,
 * delivery through L2's IDT when L2 is not NMI-, STI- or MOV-SS-blocked
 * (26.3.1.5, and as KVM, STI), else a window of this VMM's: the NMI window
 * for blocking by NMI (it opens at L2's IRET, VMCS02 has virtual NMIs for
 * that: vmcs02_merge.c) or by MOV SS with IF clear, the interrupt window
 * for an STI or MOV-SS shadow with IF set (as vm_events.c, never an NMI
 * window that could exit before the shielded instruction).
 * Returns 1 when nothing else goes in at this entry (L1 runs now, or an
 * event is in the entry), 0 when an external interrupt may still go.
 */
static int l1_nmi(struct vm *vm, const struct vmcs12 *v, uint64_t now, uint32_t blocking, uint32_t *windows)
{
	struct nested_vm *nv = vm->nested;
	struct vm_events *ev = &vm->ev;
	uint32_t pin12 = (uint32_t)V12(v, PIN_BASED_VM_EXEC_CONTROL);
	if (pin12 & PIN_NMI_EXITING) {
		if (!(pin12 & PIN_VIRTUAL_NMIS) && (blocking & INTERRUPTIBILITY_NMI)) {
			ev->for_l1_later = 1;
			return 0;
		}
		if (outranked(vm, v, now, blocking, 1))
			return 1;
		vlapic_nmi_take(&ev->lapic);
		ev->count.l1_nmi_exits++;
		nv->reflect_started = rdtsc();
		nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								 .flags = EXIT_GIVES_EVENT | EXIT_NO_DELIVERY,
								 .reason = EXIT_REASON_EXCEPTION_NMI,
								 .intr_info = intr_info_event(INTR_TYPE_NMI, VECTOR_NMI) });
		/* 27.1: the NMI blocks later NMIs once the exit completes, until L1's IRET (VMCS01 current now). */
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO) | INTERRUPTIBILITY_NMI);
		return 1;
	}
	if (!((uint32_t)(vmm_caps->pinbased >> 32) & PIN_VIRTUAL_NMIS)) {
		ev->for_l1_later = 1; /* no way to hear of L2's IRET: L1's next exit takes it */
		return 0;
	}
	if (outranked(vm, v, now, blocking, 1))
		return 1;
	if (blocking & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) {
		int shadow_only = !(blocking & INTERRUPTIBILITY_NMI) && (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF);
		*windows |= shadow_only ? CPU_INTR_WINDOW_EXITING : CPU_NMI_WINDOW_EXITING;
		return 0;
	}
	inject_for_l2(nv, intr_info_event(INTR_TYPE_NMI, VECTOR_NMI));
	vlapic_nmi_take(&ev->lapic);
	ev->count.l2_nmi_injected++;
	/* An interrupt behind it: looked at again right after the delivery (L2's NMI handler then holds it). */
	if (vlapic_pending_vector(&ev->lapic) >= 0)
		vmm_timer_set(TIMER_LAPIC, vm, now);
	return 1;
}

/* L1's external interrupt, vector, while L2 runs (VMCS02 current): an exit to L1 or delivery to L2. */
static void l1_interrupt(struct vm *vm, const struct vmcs12 *v, uint64_t now, uint32_t blocking, int vector,
			 uint32_t *windows)
{
	struct nested_vm *nv = vm->nested;
	struct vm_events *ev = &vm->ev;
	if (!(V12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_EXT_INTR_EXITING)) {
		/* Through L2's IDT when L2's RFLAGS.IF and blocking allow (26.3.1.5), else this VMM's window. */
		if (outranked(vm, v, now, blocking, 0))
			return;
		if (!event_gate_open(vmcs_readnat(VMCS_GUEST_RFLAGS), blocking, 0)) {
			*windows |= CPU_INTR_WINDOW_EXITING;
			return;
		}
		inject_for_l2(nv, intr_info_event(INTR_TYPE_EXT_INTR, (unsigned)vlapic_ack(&ev->lapic, (unsigned)vector)));
		ev->count.l2_injected++;
		return;
	}
	if (outranked(vm, v, now, blocking, 0))
		return;
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

void nested_l2_interrupt(struct vm *vm, uint64_t now)
{
	struct nested_vm *nv = vm->nested;
	struct vm_events *ev = &vm->ev;
	int nmi = vlapic_nmi_pending(&ev->lapic), vector = vlapic_pending_vector(&ev->lapic);
	if (!nmi && vector < 0 && !nv->own_windows)
		return;
	const struct vmcs12 *v = nv->nvmx.cache;
	vmcs_load(nv->v02->ctx.hpa);
	/*
	 * Stepped by RFLAGS.TF, L2's STI shadows are not what VMCS02 shows
	 * (nested_mtf.h): nothing goes to L2's IDT meanwhile; exits to L1 do.
	 */
	uint32_t pin12 = (uint32_t)V12(v, PIN_BASED_VM_EXEC_CONTROL);
	if (nv->mtf.by_tf && ((nmi && !(pin12 & PIN_NMI_EXITING)) || (vector >= 0 && !(pin12 & PIN_EXT_INTR_EXITING)))) {
		ev->for_l1_later = 1;
		nmi = nmi && (pin12 & PIN_NMI_EXITING);
		vector = (pin12 & PIN_EXT_INTR_EXITING) ? vector : -1;
	}
	uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO), windows = 0;
	/* An NMI first (SDM 6.9: above maskable interrupts); one event per entry. */
	if (nmi && l1_nmi(vm, v, now, blocking, &windows))
		return;
	if (vector >= 0)
		l1_interrupt(vm, v, now, blocking, vector, &windows);
	if (vm_in_l2(vm) && windows != nv->own_windows)
		own_windows_set(vm, windows);
}
