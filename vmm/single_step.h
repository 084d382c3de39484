/*
 * Single-stepping a VM (mechanism 2 in docs/architecture.md): its VMM steps the VM's first
 * N instructions (the manifest's single_steps), one VM exit per completed
 * instruction, then lets it run.  Where the processor offers the monitor
 * trap flag (a child VMM always gets it from its parent, which emulates it
 * if need be: nested/) it is used; otherwise RFLAGS.TF with #DB exiting
 * does the same job.
 */
#ifndef NESTLAB_VMM_SINGLE_STEP_H
#define NESTLAB_VMM_SINGLE_STEP_H

#include "vmm.h"

/*
 * Pure rules, shared by the VMM's own stepping and the monitor trap flag it
 * emulates for a child, host-tested against the entry checks.
 *
 * After an exit: Bochs 2.7 saves a pending single-step trap (BS) at every
 * exit of a guest with TF set, even one its instruction caused before
 * completing; hardware saves one only where MOV-SS blocking held the trap
 * back (SDM 27.3.4).  Resuming with the stale one would take a step at
 * once, with no instruction executed.
 */
static inline uint64_t step_drop_stale_bs(uint64_t pending, uint32_t interruptibility)
{
	return (interruptibility & INTERRUPTIBILITY_MOV_SS) ? pending : pending & ~DBG_BS;
}

struct step_entry {
	uint64_t rflags, pending_dbg;
	uint32_t interruptibility;
};

/*
 * The state to enter with, from the state the guest is to have (activity
 * state and DEBUGCTL as they are), when step says the entry single-steps
 * by RFLAGS.TF.  A guest that is not active (HLT) executes nothing: it
 * gets no TF.  Blocking by STI is dropped: with TF it would demand BS
 * pending (26.3.1.5), which the processor delivers at once, before the one
 * instruction the step must run; nothing can notice, since no interrupt
 * may be injected under STI blocking and the VMM's own interrupts exit.
 * Then BS follows the entry checks: set exactly where blocking or HLT
 * demands it (TF set, BTF clear), cleared where they forbid it, otherwise
 * as given (a debug exception someone meant to be pending).
 */
static inline struct step_entry step_entry_state(uint64_t rflags, uint64_t pending, uint32_t interruptibility,
						 uint32_t activity, uint64_t debugctl, int step)
{
	struct step_entry e = { rflags, pending, interruptibility };
	if (step && activity == 0) {
		e.rflags |= RFLAGS_TF;
		e.interruptibility &= ~INTERRUPTIBILITY_STI;
	}
	if ((e.interruptibility & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) || activity == 1) {
		int single_step = (e.rflags & RFLAGS_TF) && !(debugctl & DEBUGCTL_BTF);
		e.pending_dbg = single_step ? pending | DBG_BS : pending & ~DBG_BS;
	}
	return e;
}

/*
 * The guest state in the current VMCS made to single-step by TF (on), or
 * to run freely again, as step_entry_state() says (after dropping Bochs's
 * stale BS); returns what it now holds.  The guest's own TF is taken to be
 * clear: a guest that steps itself while stepped is not supported.
 */
struct step_entry vmcs_step_by_tf(int on);
/* Whether the exit (its VMCS current) is the single-step trap after a completed instruction: #DB with BS. */
int exit_is_step_trap(const struct exit_info *ei);

/* Begin stepping a VM just built (its VMCS current), if its description asks. */
void vm_step_begin(struct vm *vm, const struct vmx_caps *caps);
/* Before every entry on the VM's own VMCS (current) while steps are left: TF back where the guest lost it. */
void vm_step_arm(struct vm *vm);
static inline int vm_stepping(const struct vm *vm) { return vm->step.left != 0; }
/* Whether an exit of the VM's own VMCS is one of its steps; if so the step is taken (counted, maybe the last). */
int vm_step_exit(struct vm *vm, const struct exit_info *ei);
/* The single_step record, for a VM whose description asked for steps. */
void vm_step_record(const struct vm *vm);

#endif
