/*
 * VMCS shadowing for a child VMM (SDM Vol. 3 24.10, 25.6.15): while L1 has
 * a current VMCS12, VMCS01's link pointer names a shadow VMCS holding the
 * same values, and L1's VMREAD/VMWRITE of the fields the bitmaps let through
 * run without a VM exit.  This VMM copies between the shadow VMCS and its
 * VMCS12 cache at the points where either side may have changed.
 */
#ifndef NESTLAB_NESTED_VMCS_SHADOW_H
#define NESTLAB_NESTED_VMCS_SHADOW_H

#include "nested_runtime.h"

/* Whether vm uses VMCS shadowing (the experiment asked and the processor has it). */
static inline int vmcs_shadow_on(const struct vm *vm) { return vm->nested && vm->nested->shadow.vmcs_hpa; }

/* Allocate the shadow VMCS and bitmaps, learn which fields the processor shadows. */
int vmcs_shadow_init(struct vm *vm, const struct vmx_caps *real);
/* L1 may have written the shadow VMCS: bring its values into the cache. */
void vmcs_shadow_to_cache(struct vm *vm);
/* The cache changed (VMPTRLD, reflected exit, an error number): put it in the shadow VMCS. */
void vmcs_shadow_from_cache(struct vm *vm);
/*
 * Only the fields this VMM noted changing (nested_shadow_note()) since the
 * last push: the end of a reflected exit, whose every cache change is noted.
 */
void vmcs_shadow_push_noted(struct vm *vm);
/* One field of the cache into the shadow VMCS (the error number of a VMfailValid). */
void vmcs_shadow_put(struct vm *vm, uint32_t encoding);
/* Link the shadow VMCS into VMCS01 (L1 has a current VMCS12) or unlink it (it has none). */
void vmcs_shadow_attach(struct vm *vm, int attach);

#endif
