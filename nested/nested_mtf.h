/*
 * The monitor trap flag emulated for a child where the processor has none
 * (nested_mtf.c says how).  Its state is struct nested_mtf
 * (nested_runtime.h), set through two hooks — before every emulated entry
 * of L2 and at every exit of L2, before anything else asks about the exit
 * — and read by this header, nested_mtf.c and the code-page cache of
 * nested_l2_code_byte() (nested_l2_vmcs.c, where L2's tables are walked).  Both are inline: they
 * run on every entry and exit, most of which are none of the MTF's
 * business, and under Bochs every instruction is a tick.  VMCS02 is
 * current for everything here.
 */
#ifndef NESTLAB_NESTED_MTF_H
#define NESTLAB_NESTED_MTF_H

#include "nested_runtime.h"
#include "single_step.h"

/*
 * The emulated MTF exit is owed right after the event this entry delivers
 * (SDM 26.7.2): L2 was entered without TF and exits at once, before the
 * handler's first instruction, on a time already come in the timer
 * multiplexer (TIMER_MTF_OWED), which is the one record of it.
 */
static inline void nested_mtf_owe(struct nested_vm *nv, int owed)
{
	vmm_timer_set(TIMER_MTF_OWED, nv->vm, owed ? 0 : TIMER_NONE); /* 0: long past, the timer starts at zero */
}

static inline int nested_mtf_owed(const struct nested_vm *nv)
{
	return vmm_timer_get(TIMER_MTF_OWED, nv->vm) != TIMER_NONE;
}

/* L1's INVEPT or INVVPID: the emulated MTF's cached code page goes, as a TLB entry would. */
static inline void nested_mtf_forget_code(struct nested_vm *nv)
{
	nv->mtf.code_tlb.valid = 0;
}

/* An emulated exit ends L2's run: no MTF exit is owed while L1 runs. */
static inline void nested_mtf_l2_stopped(struct nested_vm *nv)
{
	nested_mtf_owe(nv, 0);
}

/*
 * The before-entry hook, VMCS02 built or updated.  With the MTF emulated,
 * L2 runs with RFLAGS.TF and the rest of the state that makes one
 * instruction a step the entry checks accept (step_entry_state()); the
 * exit hides it from L1.  An entry that delivers an event does not step:
 * TF would be pushed onto L2's stack and the handler run unstepped.  It
 * exits right after the delivery instead (the MTF exit owed), which is
 * where the SDM puts the MTF exit then (26.7.2).  INT n is such an event
 * too, but one no exit announces: an entry at one delivers it by
 * injection (type 4, the same checks as the instruction's, 26.6.1.2) and
 * exits after.
 */
static inline void nested_mtf_before_entry(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	struct nested_mtf *m = &nv->mtf;
	const struct vmcs12 *v = nv->nvmx.cache;
	uint64_t rflags = V12(v, GUEST_RFLAGS);
	/*
	 * The merge's verdict (vmcs02_controls.step_by_tf) for the VMCS02 this
	 * entry uses: L1 asks for the MTF and VMCS02's merged controls lack it.
	 * VMCS12's primary controls are as at that merge: a change to them
	 * makes the entry a full one, which merges again.
	 */
	m->by_tf = (V12(v, CPU_BASED_VM_EXEC_CONTROL) & CPU_MONITOR_TRAP_FLAG) &&
		   !(nv->v02->proc & CPU_MONITOR_TRAP_FLAG);
	m->l2_own_tf = (rflags & RFLAGS_TF) != 0;
	uint32_t event = (uint32_t)V12(v, VM_ENTRY_INTR_INFO_FIELD);
	int delivers = intr_info_valid(event);
	/*
	 * A pending MTF exit injected (type 7, 26.7.2), with or without the
	 * control: a processor without MTF cannot take it, so the exit is
	 * made to come at once, before any instruction.
	 */
	int pending_mtf = delivers && intr_info_type(event) == INTR_TYPE_OTHER && !vmx_caps_have_mtf(vmm_caps);
	if (pending_mtf)
		nested_vmcs02_put(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD, 0);
	nested_mtf_owe(nv, pending_mtf || (delivers && m->by_tf));
	if (!m->by_tf)
		return;
	uint8_t op = 0, vector = 0;
	uint64_t rip = V12(v, GUEST_RIP);
	/*
	 * Not where something outranks the instruction (26.7.x): a pending
	 * debug exception, an event window L1 asked to hear of, L1's
	 * preemption timer at zero.  L2 then steps by TF as for any other
	 * instruction.
	 */
	int outranked = V12(v, GUEST_PENDING_DBG_EXCEPTIONS) ||
			(V12(v, CPU_BASED_VM_EXEC_CONTROL) & (CPU_INTR_WINDOW_EXITING | CPU_NMI_WINDOW_EXITING)) ||
			((V12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER) && !V12(v, VMX_PREEMPTION_TIMER_VALUE));
	if (!delivers && !outranked && V12(v, GUEST_ACTIVITY_STATE) == 0 && !nested_l2_code_byte(vm, rip, &op) &&
	    op == 0xcd && !nested_l2_code_byte(vm, rip + 1, &vector)) {
		nested_vmcs02_put(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_SW_INTR, vector));
		nested_vmcs02_put(nv, VMCS12_IDX_VM_ENTRY_INSTRUCTION_LEN, 2);
		delivers = 1;
		nested_mtf_owe(nv, 1);
	}
	struct step_entry e = step_entry_state(rflags, V12(v, GUEST_PENDING_DBG_EXCEPTIONS),
					       (uint32_t)V12(v, GUEST_INTERRUPTIBILITY_INFO),
					       (uint32_t)V12(v, GUEST_ACTIVITY_STATE),
					       nv->v02->image[VMCS12_IDX_GUEST_IA32_DEBUGCTL], !delivers);
	nested_vmcs02_put(nv, VMCS12_IDX_GUEST_RFLAGS, e.rflags);
	nested_vmcs02_put(nv, VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS, e.pending_dbg);
	nested_vmcs02_put(nv, VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO, e.interruptibility);
	m->sti_dropped = (V12(v, GUEST_INTERRUPTIBILITY_INFO) & ~e.interruptibility & INTERRUPTIBILITY_STI) != 0;
	m->step_rip = rip;
	/* The interrupt window stays shut for the instruction in the STI shadow the entry no longer shows. */
	nested_vmcs02_put(nv, VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL,
			  m->sti_dropped ? nv->v02->proc & ~CPU_INTR_WINDOW_EXITING : nv->v02->proc);
	m->step_if = (rflags & RFLAGS_IF) != 0;
}

/* The on-exit hook's slow half (nested_mtf.c): a preemption-timer exit, or any exit while L2 steps by TF. */
int nested_mtf_claims_exit(struct vm *vm, const struct exit_info *ei, enum exit_action *a);

/*
 * The on-exit hook: whether the exit is the emulated MTF's doing (then *a
 * is what became of it): an MTF exit owed after an event's delivery, or
 * the single-step trap, given to L1 as the MTF exit; or an exception of
 * L2's own, caught only because stepping intercepts them all, delivered to
 * L2.  While stepping it also drops the stale BS Bochs saves.
 */
static inline int nested_mtf_on_exit(struct vm *vm, const struct exit_info *ei, enum exit_action *a)
{
	if (!vm->nested->mtf.by_tf && ei->reason != EXIT_REASON_PREEMPTION_TIMER)
		return 0;
	return nested_mtf_claims_exit(vm, ei, a);
}

/* At the copy of L2's exit into VMCS12: it shows L2's TF, BS and STI blocking, not this VMM's. */
void nested_mtf_hide(struct nested_vm *nv);
/* VMCS02 injects an event now: while stepping by TF, without TF, and the MTF exit owed after it. */
void nested_mtf_delivering(struct nested_vm *nv);
/* After an exit this VMM handled for L2: the MTF exit an instruction it emulated owes L1. */
enum exit_action nested_mtf_after_emulation(struct vm *vm, const struct exit_info *ei, enum exit_action a);

#endif
