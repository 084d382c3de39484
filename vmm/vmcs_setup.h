/* Building a VM's VMCS (controls, host state, guest state) and checking it. */
#ifndef NESTLAB_VMM_VMCS_SETUP_H
#define NESTLAB_VMM_VMCS_SETUP_H

#include "vm.h"
#include "vmx_caps.h"

/*
 * Allocate, clear and load vm's VMCS, then write every field for a 64-bit
 * leaf guest entering at entry_rip with RSP entry_rsp and RDI = boot info.
 * Returns 0, or -1 with *why set (the VM is then not runnable).
 */
int vmcs_setup(struct vm *vm, const struct vmx_caps *caps, uint64_t entry_rip, uint64_t entry_rsp,
	       const char **why);

/* This VMM's host state into the current VMCS (every VMCS it runs: VMCS01s and VMCS02s). */
void vmcs_write_host_state(void);

/*
 * Make hpa the current VMCS (VMPTRLD only when it is not already), and
 * VMCLEAR one; the run loop and nested code both go through these so the
 * VMM always knows which VMCS its VMREADs and VMWRITEs reach.
 */
void vmcs_load(uint64_t hpa);
void vmcs_clear(uint64_t hpa);

/* Read the current VMCS back and run vmcs_check() over it. NULL = all checks pass. */
const char *vmcs_self_check(const struct vmx_caps *caps);

#endif
