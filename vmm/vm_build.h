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

/*
 * What a VM that runs a nestlab VMM (NL_VM_VMM) needs beyond a leaf's
 * (vm_build_vmm.c), once its image is loaded (lowest loaded address
 * image_lowest, boot->image_end) and its boot information filled: find the
 * image's child-entry marker (*entry gets its 64-bit entry), copy in the
 * child's sub-manifest (the VMs below entry index, re-indexed) as module
 * "manifest" and every image those VMs name, and list them in boot.
 * Returns 0, or -1 with *why set.
 */
struct nl_guest_boot;
int vm_build_vmm_payload(struct vm *vm, const struct nl_manifest_view *m, unsigned index,
			 uint64_t image_lowest, struct nl_guest_boot *boot, uint64_t *entry, const char **why);

/* EPT tables from this VMM's own memory (identity mapped), for EPT01s; EPT02s come from each child's capped pool. */
struct ept_mem_ops;
extern const struct ept_mem_ops vmm_ept_ops;

#endif
