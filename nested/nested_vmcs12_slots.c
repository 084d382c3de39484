/*
 * The active VMCS12s this VMM keeps for a child (struct nested_vmcs12_slot):
 * VMPTRLD of one it keeps makes it current without a reload, so what this
 * VMM knows of it (checks passed, host-state list, shadow VMCS image)
 * survives a child switching between VMCS12s — the middle VMM at depth 3
 * does twice per exit of its grandchild.  SDM Vol. 3 25.11.1: a processor
 * may keep the data of active VMCSs anywhere until VMCLEAR.
 */
#include <string.h>
#include "nested_entry.h"
#include "vmcs_shadow.h"

/* take_slot() evicts one that is not current: there must be another. */
_Static_assert(NESTED_VMCS12_SLOTS >= 2, "a VMCS12 slot besides the current one");

void nested_vmcs12_slots_init(struct nested_vm *nv, uint64_t first_cache)
{
	for (unsigned k = 0; k < NESTED_VMCS12_SLOTS; k++) {
		struct nested_vmcs12_slot *s = &nv->vmcs12s[k];
		s->addr = NVMX_NO_VMCS;
		s->cache = (struct vmcs12 *)(uintptr_t)(first_cache + (uint64_t)k * VMCS12_SIZE);
		s->changed.passed_for = NVMX_NO_VMCS;
		s->changed.cold = 1;
		s->host_load.stale = 1;
		s->shadow_image_for = NVMX_NO_VMCS;
	}
	nv->cur = &nv->vmcs12s[0];
	nv->nvmx.cache = nv->cur->cache;
}

static struct nested_vmcs12_slot *slot_of(struct nested_vm *nv, uint64_t addr)
{
	for (unsigned k = 0; k < NESTED_VMCS12_SLOTS; k++)
		if (nv->vmcs12s[k].addr == addr)
			return &nv->vmcs12s[k];
	return NULL;
}

/* Its data back into L1's memory; the slot is free again. */
static void write_back(struct nested_vm *nv, struct nested_vmcs12_slot *s)
{
	nvmx_write_back(&nv->l1mem, s->addr, s->cache);
	s->addr = NVMX_NO_VMCS;
}

/* A free slot, else the least recently used one that is not current (nvmx_vmptrld() writes its VMCS12 back). */
static struct nested_vmcs12_slot *take_slot(struct nested_vm *nv)
{
	struct nested_vmcs12_slot *victim = NULL;
	for (unsigned k = 0; k < NESTED_VMCS12_SLOTS; k++) {
		struct nested_vmcs12_slot *s = &nv->vmcs12s[k];
		if (s->addr == NVMX_NO_VMCS)
			return s;
		if (s->addr != nv->nvmx.current && (!victim || s->last_used < victim->last_used))
			victim = s;
	}
	return victim;
}

/*
 * The slot is chosen before nvmx_vmptrld() checks the instruction, and
 * changes only once they pass: a failed VMPTRLD evicts nothing.
 */
struct nvmx_result nested_vmcs12_vmptrld(struct vm *vm, const struct nvmx_ctx *c, uint64_t ptr, int *kept)
{
	struct nested_vm *nv = vm->nested;
	uint64_t was = nv->nvmx.current;
	struct nested_vmcs12_slot *s = ptr == was ? nv->cur : slot_of(nv, ptr);
	*kept = s != NULL;
	if (!s)
		s = take_slot(nv);
	struct nvmx_vmcs12_place place = { .cache = s->cache, .evict = s->addr, .loaded = *kept };
	/*
	 * What this VMM changed in the current one and not yet pushed goes to
	 * its shadow VMCS while it is current (the list is not per slot); should
	 * the checks fail, L1 merely sees those values sooner.
	 */
	if (ptr != was)
		vmcs_shadow_push_noted(vm);
	struct nvmx_result r = nvmx_vmptrld(&nv->nvmx, &nv->l1mem, c, ptr, &place);
	if (r.outcome != NVMX_SUCCEED || ptr == was)
		return r;
	if (!*kept) {
		s->addr = ptr;
		/* Fresh from L1's memory: nothing known of it holds (its VMCS02 image still does). */
		for (unsigned k = 0; k < s->changed.count; k++)
			s->changed.mark[s->changed.list[k]] = 0;
		s->changed.count = 0;
		s->changed.cold = 1;
		s->changed.passed_for = NVMX_NO_VMCS;
		s->host_load.stale = 1;
		s->shadow_image_for = NVMX_NO_VMCS;
	}
	s->last_used = ++nv->slot_clock;
	nv->cur = s;
	return r;
}

void nested_vmcs12_write_back(struct vm *vm, uint64_t ptr)
{
	struct nested_vm *nv = vm->nested;
	struct nested_vmcs12_slot *s = slot_of(nv, ptr);
	if (!s)
		return;
	if (ptr == nv->nvmx.current) {
		nvmx_flush(&nv->nvmx, &nv->l1mem); /* it stays current: only its memory is brought up to date */
		return;
	}
	write_back(nv, s);
}

void nested_vmcs12_forget(struct vm *vm, uint64_t ptr)
{
	struct nested_vmcs12_slot *s = slot_of(vm->nested, ptr);
	if (s && ptr != vm->nested->nvmx.current)
		s->addr = NVMX_NO_VMCS;
}

void nested_vmcs12_write_back_all(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	for (unsigned k = 0; k < NESTED_VMCS12_SLOTS; k++)
		if (nv->vmcs12s[k].addr != nv->nvmx.current)
			write_back(nv, &nv->vmcs12s[k]);
}
