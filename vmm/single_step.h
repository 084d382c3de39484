/*
 * Single-stepping a VM (MISSION mechanism 2): its VMM steps the VM's first
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
 * The pending-debug-exceptions value to enter with while single-stepping by
 * RFLAGS.TF (tf: TF is set for this entry).  BS is set exactly where STI or
 * MOV-SS blocking makes the entry checks demand it (26.3.1.5: BS equals
 * TF when BTF is clear); elsewhere it is dropped: Bochs 2.7 leaves a stale
 * one at exits the instruction caused before completing.  Pure: shared by
 * the VMM's own stepping and the monitor trap flag it emulates for a child.
 */
static inline uint64_t step_bs_for(uint64_t pending, uint32_t interruptibility, int tf)
{
	if (tf && (interruptibility & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)))
		return pending | DBG_BS;
	return pending & ~DBG_BS;
}

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
