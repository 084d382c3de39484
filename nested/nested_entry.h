/* Entering L2 for a child VMM, and the transitions between VMCS01, VMCS12 and VMCS02. */
#ifndef NESTLAB_NESTED_ENTRY_H
#define NESTLAB_NESTED_ENTRY_H

#include "nested_runtime.h"

/*
 * L1's VMLAUNCH (launch = 1) or VMRESUME passed the instruction checks:
 * check VMCS12 (SDM 26.2-26.3), build VMCS02 and switch the VM to L2.
 * Returns NVMX_ENTER when done (L2 runs next, or a guest-state failure was
 * delivered to L1 as a VM-entry-failure exit), or NVMX_FAIL_VALID with
 * error 7 (controls) or 8 (host state) for the caller to apply.
 */
struct nvmx_result nested_enter(struct vm *vm, int launch);

/* Load L1's host state from VMCS12 into VMCS01 (SDM 27.5) and make VMCS01 current. */
void nested_load_l1_host_state(struct vm *vm);

/* The child's EPT02 page pool (ept02_ops), and a fresh EPT02 root from it (0 when even a drop frees none). */
uint64_t nested_ept02_alloc(void *ctx);
void nested_ept02_free(void *ctx, uint64_t page);
uint64_t nested_ept02_root(struct vm *vm);

/* Drop every EPT02 of the child (its INVEPT, or a VMCS12 change that demands it). */
void nested_drop_all_ept02(struct vm *vm);

/* Whether a VMCS field encoding belongs to the guest-state area (SDM Appendix B, bits 11:10 = 2). */
static inline int vmcs_field_is_guest_state(uint32_t enc) { return ((enc >> 10) & 3) == 2; }


/*
 * The VMCS12 indices of L2's state as VMCS02 carries it (the guest-state
 * area without the link pointer and the preemption timer, which this VMM
 * sets itself), and of the exit-information fields a VM exit writes (the
 * read-only area without the VM-instruction error).  Computed once: the
 * entry and exit paths walk these instead of testing every field.
 */
struct vmcs12_index_list {
	uint8_t idx[VMCS12_NFIELDS];
	unsigned count;
};
extern struct vmcs12_index_list vmcs12_l2_state, vmcs12_exit_info;
/*
 * L2's state in three parts: the hot fields (copied to VMCS12 at every
 * reflected exit), the exit-load fields (copied too when the child hosts a
 * VMM and its parent shadows them, else lazy), and the rest (lazy: synced
 * from VMCS02 only when L1 may see it).
 */
extern struct vmcs12_index_list vmcs12_l2_hot, vmcs12_l2_exit_load, vmcs12_l2_rest;
/* The hot fields (VF_HOT), all of them and those a parent shadows for reading only (VF_READ_MOSTLY). */
extern struct vmcs12_index_list vmcs12_hot, vmcs12_hot_read_mostly;
/* Whether the child's VMCS12 copy of this field is synced from VMCS02 lazily (L2 state nv does not shadow). */
int nested_field_lazy(const struct nested_vm *nv, uint32_t encoding);
void vmcs12_index_lists_init(void);

#endif
