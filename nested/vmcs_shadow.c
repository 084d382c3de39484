/* VMCS shadowing for a child VMM; see vmcs_shadow.h. */
#include "vmcs_shadow.h"
#include "nested_entry.h"
#include "platform.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"


static void bitmap_clear(uint64_t bitmap, uint32_t enc)
{
	uint8_t *b = (uint8_t *)(uintptr_t)bitmap;
	enc &= 0x7fff; /* the bitmaps are indexed by encoding bits 14:0 (SDM 24.6.15) */
	b[enc >> 3] &= (uint8_t)~(1u << (enc & 7));
}

/*
 * After this VMM made the shadow VMCS current to copy fields, VMCLEAR it:
 * that writes its data back to memory, where the processor reads a shadow
 * VMCS through VMCS01's link pointer (SDM 24.11.1; KVM does the same).
 */
static void release_shadow(struct nested_vm *nv)
{
	vmcs_clear(nv->cur->shadow_hpa);
}

/* Shadow the fields listed (the shadow VMCS is current); writable ones also for VMWRITE if rw. */
static void shadow_fields(struct nested_vm *nv, const struct vmcs12_index_list *fields, int rw, int may_write_ro,
			  uint64_t rd, uint64_t wr)
{
	for (unsigned h = 0; h < fields->count; h++) {
		unsigned i = fields->idx[h];
		uint32_t enc = vmcs_field_encodings[i];
		int ro = vmcs_field_is_readonly(enc);
		if (ro && !may_write_ro)
			continue; /* this VMM fills read-only fields of the shadow only where the processor lets it */
		/* Fields the processor does not implement stay intercepted (and emulated from the cache). */
		if (vmx_vmwrite(enc, 0) != VMX_OK)
			continue;
		if (nv->shadow.listed[i])
			continue; /* already shadowed, by an earlier list */
		nv->shadow.list[nv->shadow.count++] = (uint8_t)i;
		nv->shadow.listed[i] = 1;
		bitmap_clear(rd, enc);
		/*
		 * Writable through the shadow only if L1 was told the field is
		 * writable, and not 64 bits wide: a trapped VMWRITE of a high half
		 * is emulated on the cache, which must then hold the whole value.
		 */
		if (rw && !ro && vmcs_field_width(enc) != VMCS_W64) {
			nv->shadow.rw_list[nv->shadow.rw_count++] = (uint8_t)i;
			bitmap_clear(wr, enc);
		}
	}
}

int vmcs_shadow_init(struct vm *vm, const struct vmx_caps *real)
{
	struct nested_vm *nv = vm->nested;
	if (!(vm->desc->features & NL_FEAT_VMCS_SHADOW) || !real->has_vmcs_shadowing)
		return 0;
	/* One shadow VMCS per VMCS12 slot: making a kept VMCS12 current again only points VMCS01 at its own. */
	for (unsigned k = 0; k < NESTED_VMCS12_SLOTS; k++) {
		uint64_t s = platform_alloc(4096, 4096);
		if (!s)
			return -1;
		*(volatile uint32_t *)(uintptr_t)s = real->revision | VMCS_SHADOW_INDICATOR;
		vmcs_clear(s);
		nv->vmcs12s[k].shadow_hpa = s;
		nv->vmcs12s[k].shadow_image_for = NVMX_NO_VMCS;
	}
	uint64_t shadow = nv->vmcs12s[0].shadow_hpa;
	uint64_t rd = platform_alloc(4096, 4096), wr = platform_alloc(4096, 4096);
	if (!rd || !wr)
		return -1;
	/* Every bit set: exit, until a field is known to live in the shadow VMCS. */
	for (unsigned i = 0; i < 4096; i++) {
		((uint8_t *)(uintptr_t)rd)[i] = 0xff;
		((uint8_t *)(uintptr_t)wr)[i] = 0xff;
	}
	int may_write_ro = (real->misc & VMX_MISC_VMWRITE_ANY_FIELD) != 0;
	uint64_t back = vm->vmcs01.hpa;
	vmcs_clear(shadow);
	vmcs_load(shadow);
	/*
	 * The hot fields: readable, and writable but for the read-mostly
	 * ones.  For a child that hosts a VMM, also the fields a VMM touches
	 * to emulate exits for a child VMM of its own, readable only.  Not
	 * every field: L1's VMX instructions copy the writable ones back from
	 * the shadow, and every reflected exit syncs the shadowed L2 state.
	 */
	shadow_fields(nv, &vmcs12_hot_read_mostly, 0, may_write_ro, rd, wr);
	shadow_fields(nv, &vmcs12_hot, 1, may_write_ro, rd, wr);
	if (vm->hosts_vmm) {
		shadow_fields(nv, &vmcs12_l2_exit_load, 0, may_write_ro, rd, wr);
		nv->shadow.exit_load = 1;
	}
	vmcs_clear(shadow);
	vmcs_load(back);
	vmcs_write64(VMCS_VMREAD_BITMAP, rd);
	vmcs_write64(VMCS_VMWRITE_BITMAP, wr);
	nv->shadow.vmcs_hpa = shadow;
	nv->shadow.vmread_bitmap = rd;
	nv->shadow.vmwrite_bitmap = wr;
	return 0;
}

void vmcs_shadow_to_cache(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	if (!vmcs_shadow_on(vm) || nv->nvmx.current == NVMX_NO_VMCS)
		return;
	/* Only the writable ones: L1 cannot have changed the rest. */
	struct nested_vmcs12_slot *cur = nv->cur;
	vmcs_load(cur->shadow_hpa);
	uint64_t *field = nv->nvmx.cache->field;
	for (unsigned k = 0; k < nv->shadow.rw_count; k++) {
		unsigned i = nv->shadow.rw_list[k];
		uint64_t v = vmx_vmread_or_zero(vmcs_field_encodings[i]);
		if (field[i] != v) {
			field[i] = v;
			nested_vmcs12_changed(nv, i);
		}
		cur->shadow_image[i] = v;
		cur->shadow_known[i] = 1;
	}
	nv->nvmx.cache_dirty = 1;
	nv->shadow.syncs_in++;
	release_shadow(nv);
	vmcs_load(vm->vmcs01.hpa);
}

static void forget_noted(struct nested_vm *nv)
{
	for (unsigned k = 0; k < nv->shadow.noted_count; k++)
		nv->shadow.noted_mark[nv->shadow.noted[k]] = 0;
	nv->shadow.noted_count = 0;
}

/* Write the fields of candidates[0..n) whose value the shadow VMCS does not hold yet. */
static void push(struct vm *vm, const uint8_t *candidates, unsigned count)
{
	struct nested_vm *nv = vm->nested;
	const uint64_t *field = nv->nvmx.cache->field;
	struct nested_vmcs12_slot *cur = nv->cur;
	uint8_t stale[VMCS12_NFIELDS];
	unsigned n = 0;
	for (unsigned k = 0; k < count; k++) {
		unsigned i = candidates[k];
		if (!cur->shadow_known[i] || cur->shadow_image[i] != field[i])
			stale[n++] = (uint8_t)i;
	}
	if (!n)
		return; /* the shadow VMCS already holds every value: no VMPTRLD, no VMCLEAR */
	uint64_t back = vm->vmcs->hpa;
	vmcs_load(cur->shadow_hpa);
	for (unsigned k = 0; k < n; k++) {
		unsigned i = stale[k];
		vmx_vmwrite(vmcs_field_encodings[i], field[i]);
		cur->shadow_image[i] = field[i];
		cur->shadow_known[i] = 1;
	}
	nv->shadow.syncs_out++;
	release_shadow(nv);
	vmcs_load(back);
}

void vmcs_shadow_from_cache(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	if (!vmcs_shadow_on(vm))
		return;
	forget_noted(nv); /* a full compare covers them; none outlive the VMCS12 they were noted for */
	if (nv->nvmx.current == NVMX_NO_VMCS)
		return;
	/*
	 * The image is of the shadow VMCS, whichever VMCS12 its values came
	 * from: after L1 switched VMCS12s only the fields whose values differ
	 * between the two are written.
	 */
	push(vm, nv->shadow.list, nv->shadow.count);
	nv->cur->shadow_image_for = nv->nvmx.current;
}

void vmcs_shadow_push_noted(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	if (!vmcs_shadow_on(vm) || nv->nvmx.current == NVMX_NO_VMCS)
		return;
	if (nv->cur->shadow_image_for != nv->nvmx.current) {
		vmcs_shadow_from_cache(vm); /* not compared in full since L1 switched VMCS12s: do that */
		return;
	}
	push(vm, nv->shadow.noted, nv->shadow.noted_count);
	forget_noted(nv);
}

void vmcs_shadow_put(struct vm *vm, uint32_t encoding)
{
	struct nested_vm *nv = vm->nested;
	int i = vmcs12_index_of(encoding);
	if (!vmcs_shadow_on(vm) || nv->nvmx.current == NVMX_NO_VMCS || i < 0 || !nv->shadow.listed[i])
		return;
	uint64_t back = vm->vmcs->hpa;
	vmcs_load(nv->cur->shadow_hpa);
	/* The full encoding: the operand may name a 64-bit field's high half, the cache holds it whole. */
	vmx_vmwrite(vmcs_field_encodings[i], nv->nvmx.cache->field[i]);
	nv->cur->shadow_image[i] = nv->nvmx.cache->field[i];
	nv->cur->shadow_known[i] = 1;
	release_shadow(nv);
	vmcs_load(back);
}

void vmcs_shadow_attach(struct vm *vm, int attach)
{
	struct nested_vm *nv = vm->nested;
	if (!vmcs_shadow_on(vm))
		return;
	vmcs_load(vm->vmcs01.hpa);
	uint32_t proc2 = vmcs_read32(VMCS_SECONDARY_VM_EXEC_CONTROL);
	/*
	 * Without a current VMCS12 the shadowing control goes off and every
	 * VMREAD/VMWRITE exits again, so the emulation answers VMfailInvalid.
	 */
	if (attach) {
		vmcs_write64(VMCS_VMCS_LINK_POINTER, nv->cur->shadow_hpa);
		vmcs_write32(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | SEC_VMCS_SHADOWING);
	} else {
		vmcs_write32(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 & ~SEC_VMCS_SHADOWING);
		vmcs_write64(VMCS_VMCS_LINK_POINTER, ~0ull);
	}
}
