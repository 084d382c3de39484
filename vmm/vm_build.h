/* Turning a manifest entry into a runnable VM. */
#ifndef NESTLAB_VMM_VM_BUILD_H
#define NESTLAB_VMM_VM_BUILD_H

#include "vm.h"
#include "vmx_caps.h"

/*
 * Carve the VM's memory, map it with its own EPT, load its ELF image, build
 * the guest's page tables, GDT and boot info (guest_boot.h), and its VMCS.
 * Returns 0, or -1 with *why set.  The VM's VMCS is current afterwards.
 */
int vm_build(struct vm *vm, const struct nl_manifest_view *m, unsigned index,
	     const struct vmx_caps *caps, uint16_t vpid, const char **why);

#endif
