/* A child VMM's virtual VMX: set-up, the accessors the run loop uses, and its counters record. */
#include "cpu.h"
#include "fmt.h"
#include "nestlab/records.h"
#include "nested_entry.h"
#include "platform.h"
#include "vm_build.h"
#include "vmcs_setup.h"
#include "vmcs_shadow.h"
#include "vmx_ops.h"
#include "vmm_sched.h"
#include <string.h>

/* Each child VMM gets its own range of VPID02s, after the VPIDs of this VMM's own VMs. */
#define VPID02_BASE 256
#define VPID02_PER_CHILD 64

/* A VMCS02's context: L2's exits and failed entries are this VMM's nested business. */
static const struct vmcs_ctx_ops vmcs02_ops = {
	.exit = nested_l2_exit,
	.entry_failure = nested_l2_entry_failure,
	.vmfail = nested_vmcs02_entry_failed,
	.runs_l2 = 1,
};

int nested_vm_init(struct vm *vm, const struct vmx_caps *real, const char **why)
{
	static int lists_ready;
	if (!lists_ready) {
		vmcs12_index_lists_init();
		lists_ready = 1;
	}
	struct nested_vm *nv = (struct nested_vm *)(uintptr_t)platform_alloc(sizeof *nv, 4096);
	uint64_t cache = platform_alloc((uint64_t)VMCS12_SIZE * NESTED_VMCS12_SLOTS, 4096);
	if (!nv || !cache) {
		*why = "no memory for the child VMM's virtual VMX";
		return -1;
	}
	for (unsigned k = 0; k < NESTED_VMCS02_SLOTS; k++) {
		struct nested_vmcs02 *v02 = &nv->vmcs02s[k];
		v02->ctx.hpa = platform_alloc(4096, 4096);
		if (!v02->ctx.hpa) {
			*why = "no memory for the child VMM's VMCS02s";
			return -1;
		}
		*(volatile uint32_t *)(uintptr_t)v02->ctx.hpa = real->revision;
		v02->ctx.ops = &vmcs02_ops;
		v02->for_vmcs12 = NVMX_NO_VMCS;
	}
	nv->v02 = &nv->vmcs02s[0];
	nv->vm = vm;
	nv->l1mem.base = (uint8_t *)(uintptr_t)vm->mem_hpa;
	nv->l1mem.size = vm->mem_bytes;
	/* Enough for every EPT02 slot to map all of the child's memory with 4 KiB pages, plus upper levels. */
	nv->ept02_ops = (struct ept_mem_ops){ nested_ept02_alloc, vmm_ept_ops.phys_to_ptr, nv };
	nv->ept02_limit = NESTED_SEPT_SLOTS * (vm->mem_bytes / (2ull << 20) + 8) + 16;
	nested_caps_compute(&nv->caps, real, vm->desc->features, vm->hosts_vmm);
	nv->nvmx.current = NVMX_NO_VMCS;
	nested_vmcs12_slots_init(nv, cache);
	nv->nvmx.caps = &nv->caps;
	nv->nvmx.phys_addr_bits = real->phys_addr_bits;
	uint16_t first = (uint16_t)(VPID02_BASE + vm->index * VPID02_PER_CHILD);
	vpid_map_init(&nv->vpids, first, (uint16_t)(first + VPID02_PER_CHILD - 1));

	/* A VMM has its own IDT and handles its own exceptions: intercept none of them. */
	vmcs_load(vm->vmcs01.hpa);
	vmcs_write32(VMCS_EXCEPTION_BITMAP, 0);
	vm->nested = nv;
	if (vmcs_shadow_init(vm, real)) {
		*why = "no memory for the shadow VMCS";
		return -1;
	}
	return 0;
}


void nested_vmcs02_entry_failed(struct vm *vm, int rc)
{
	uint64_t err = 0;
	char reason[120];
	if (rc == 2)
		vmx_vmread(VMCS_VM_INSTRUCTION_ERROR, &err);
	vmcs_load(vm->vmcs01.hpa);
	nl_snprintf(reason, sizeof reason, "entering its L2 failed: VM-instruction error %llu (a nestlab bug)",
		    (unsigned long long)err);
	vm_stop(vm, VM_FAILED, -1, reason);
}


static void counts_by_reason(struct jsonw *w, const char *key, const uint64_t *counts, uint64_t *total)
{
	*total = 0;
	jsonw_obj_begin(w, key);
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
		if (!counts[r])
			continue;
		const char *name = vmx_exit_reason_name(r);
		jsonw_u64(w, name ? name : "UNNAMED", counts[r]);
		*total += counts[r];
	}
	jsonw_obj_end(w);
}

#define TRAPS_LISTED 12 /* fields named per kind; the rest are summed so the record stays one line */

/* The fields that exited most often, by name, then the rest as one count: where shadowing would pay off. */
static void trapped_by_field(struct jsonw *w, const char *key, const char *rest_key, const uint32_t *counts)
{
	uint8_t listed[VMCS12_NFIELDS] = { 0 };
	uint64_t total = 0;
	for (unsigned i = 0; i < VMCS12_NFIELDS; i++)
		total += counts[i];
	jsonw_obj_begin(w, key);
	for (unsigned n = 0; n < TRAPS_LISTED; n++) {
		int best = -1;
		for (unsigned i = 0; i < VMCS12_NFIELDS; i++)
			if (counts[i] && !listed[i] && (best < 0 || counts[i] > counts[best]))
				best = (int)i;
		if (best < 0)
			break;
		listed[best] = 1;
		total -= counts[best];
		jsonw_u64(w, vmcs_field_name(vmcs_field_encodings[best]), counts[best]);
	}
	jsonw_obj_end(w);
	jsonw_u64(w, rest_key, total);
}

static void record_trapped_fields(const struct vm *vm)
{
	const struct nested_counters *c = &vm->nested->count;
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VMCS_TRAPS);
	jsonw_str(&w, "vm", vm->path);
	trapped_by_field(&w, "vmread", "vmread_other_fields", c->trapped_vmread);
	trapped_by_field(&w, "vmwrite", "vmwrite_other_fields", c->trapped_vmwrite);
	rec_emit(&w);
}

void nested_record_counters(const struct vm *vm)
{
	const struct nested_vm *nv = vm->nested;
	const struct nested_counters *c = &nv->count;
	static const char *const invept_types[3] = { "reserved", "single_context", "all_context" };
	static const char *const invvpid_types[4] = { "individual_address", "single_context", "all_context",
						      "single_context_retaining_globals" };
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	uint64_t reflected, handled_total;

	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_NESTED);
	jsonw_str(&w, "vm", vm->path);
	jsonw_obj_begin(&w, "emulated");
	for (unsigned k = 0; k < NVMX_I_COUNT; k++)
		if (c->emulated[k])
			jsonw_u64(&w, nvmx_insn_name((enum nvmx_insn_kind)k), c->emulated[k]);
	jsonw_obj_end(&w);
	counts_by_reason(&w, "reflected", c->reflected, &reflected);
	counts_by_reason(&w, "handled", c->handled, &handled_total);
	jsonw_u64(&w, "reflected_total", reflected);
	jsonw_u64(&w, "handled_total", handled_total);
	jsonw_u64(&w, "reflected_ticks", c->reflected_ticks);
	jsonw_u64(&w, "vmentry_failures", c->vmentry_failures);
	jsonw_u64(&w, "entry_checks_full", c->entry_checks_full);
	jsonw_u64(&w, "entry_checks_hot", c->entry_checks_hot);
	uint64_t faults = 0, fills = 0, drops = 0, refl = 0;
	for (unsigned i = 0; i < NESTED_SEPT_SLOTS; i++) {
		faults += nv->sept[i].faults;
		fills += nv->sept[i].fills;
		drops += nv->sept[i].drops;
		refl += nv->sept[i].reflected;
	}
	jsonw_obj_begin(&w, "ept02");
	jsonw_u64(&w, "faults", faults);
	jsonw_u64(&w, "fills", fills);
	jsonw_u64(&w, "drops", drops);
	jsonw_u64(&w, "reflected", refl);
	jsonw_obj_end(&w);
	jsonw_bool(&w, "vmcs_shadowing", nv->shadow.vmcs_hpa != 0);
	/* The child's own VMCS shadowing, emulated: its guest's VMREAD/VMWRITE served here, never reflected. */
	jsonw_obj_begin(&w, "served_for_l2");
	jsonw_u64(&w, "vmread", c->l2_vmcs_served[0]);
	jsonw_u64(&w, "vmwrite", c->l2_vmcs_served[1]);
	jsonw_obj_end(&w);
	/* MTF exits the child got from this VMM rather than from the processor. */
	jsonw_u64(&w, "mtf_made_up", c->mtf_made_up);
	jsonw_u64(&w, "shadow_syncs_in", nv->shadow.syncs_in);
	jsonw_u64(&w, "shadow_syncs_out", nv->shadow.syncs_out);
	jsonw_obj_begin(&w, "invept");
	for (unsigned t = 1; t < 3; t++)
		jsonw_u64(&w, invept_types[t], c->invept[t]);
	jsonw_obj_end(&w);
	jsonw_obj_begin(&w, "invvpid");
	for (unsigned t = 0; t < 4; t++)
		jsonw_u64(&w, invvpid_types[t], c->invvpid[t]);
	jsonw_obj_end(&w);
	rec_emit(&w);
	record_trapped_fields(vm);
}
