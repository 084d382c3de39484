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

/* Read the current VMCS back and run vmcs_check() over it. NULL = all checks pass. */
const char *vmcs_self_check(const struct vmx_caps *caps);

#endif
