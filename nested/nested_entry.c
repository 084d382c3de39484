/*
 * VM entry for a child VMM's L2: the VMCS12 checks, VMCS02 preparation,
 * the child's EPT02 pool.  SDM Vol. 3 chapter 26 (VM entries).  The field
 * lists are in nested_fields.c, the load of L1's host state that ends
 * every emulated VM exit in nested_host_load.c.
 */
#include "vm_events.h"
#include "nested_entry.h"
#include "nested_mtf.h"
#include "vmm_sched.h"
#include "cpu.h"
#include "ept.h"
#include "platform.h"
#include "vmcs_check.h"
#include "vm_build.h"
#include "vmcs_setup.h"
#include "vmcs_shadow.h"
#include "vmx_ops.h"
#include <string.h>


/* The capability MSRs L1 was shown are what its VMCS12 is checked against. */
static void check_caps_of(const struct nested_caps *nc, struct vmcs_check_caps *cc)
{
	cc->pinbased = nc->true_pinbased;
	cc->procbased = nc->true_procbased;
	cc->procbased2 = nc->procbased2;
	cc->exit = nc->true_exit;
	cc->entry = nc->true_entry;
	cc->cr0_fixed0 = nc->cr0_fixed0;
	cc->cr0_fixed1 = nc->cr0_fixed1;
	cc->cr4_fixed0 = nc->cr4_fixed0;
	cc->cr4_fixed1 = nc->cr4_fixed1;
	cc->ept_vpid = nc->ept_vpid;
	cc->misc = nc->misc;
	cc->phys_addr_bits = vmm_caps->phys_addr_bits;
}

/*
 * What nestlab does not support in a VMCS12 even though the SDM allows it:
 * refused as invalid controls (VMfailValid 7), a documented deviation.
 */
static const char *unsupported_by_nestlab(const struct vmcs12 *v)
{
	if (!(vmcs12_proc2(v) & SEC_ENABLE_EPT))
		return "L2 without EPT needs shadow page tables, which nestlab does not build yet";
	if (V12(v, VM_EXIT_MSR_STORE_COUNT) || V12(v, VM_EXIT_MSR_LOAD_COUNT) || V12(v, VM_ENTRY_MSR_LOAD_COUNT))
		return "MSR-load/store areas are not emulated";
	return 0;
}

uint64_t nested_ept02_alloc(void *ctx)
{
	struct nested_vm *nv = ctx;
	uint64_t page = nv->ept02_free;
	if (page) {
		nv->ept02_free = *(uint64_t *)(uintptr_t)page;
		memset((void *)(uintptr_t)page, 0, 4096);
		return page;
	}
	if (nv->ept02_pages >= nv->ept02_limit)
		return 0;
	page = platform_alloc(4096, 4096);
	if (page)
		nv->ept02_pages++;
	return page;
}

void nested_ept02_free(void *ctx, uint64_t page)
{
	struct nested_vm *nv = ctx;
	*(uint64_t *)(uintptr_t)page = nv->ept02_free;
	nv->ept02_free = page;
}

/* A new EPT02 root; with the pool exhausted, every EPT02 is dropped (they refill lazily) and it is tried again. */
uint64_t nested_ept02_root(struct vm *vm)
{
	uint64_t root = ept_create(&vm->nested->ept02_ops);
	if (!root) {
		nested_drop_all_ept02(vm);
		root = ept_create(&vm->nested->ept02_ops);
	}
	return root;
}

/* The processor may still cache translations of an old EPTP02: they go before its frames are reused. */
static void invalidate_ept02(uint64_t root)
{
	if (vmm_caps->has_invept)
		invept(INVEPT_SINGLE_CONTEXT, ept_pointer(root));
	else if (vmm_caps->ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	/* With no INVEPT at all nothing can be invalidated; such a processor is not one nestlab knows. */
}

static struct shadow_ept *sept_for(struct nested_vm *nv, uint64_t eptp12)
{
	for (unsigned i = 0; i < NESTED_SEPT_SLOTS; i++)
		if (nv->sept[i].root02 && nv->sept[i].eptp12 == eptp12)
			return &nv->sept[i];
	for (unsigned i = 0; i < NESTED_SEPT_SLOTS; i++)
		if (!nv->sept[i].root02) {
			nv->sept[i].eptp12 = eptp12;
			return &nv->sept[i];
		}
	/* All taken: reuse one (round robin); its tables are dropped first. */
	struct shadow_ept *s = &nv->sept[nv->sept_next++ % NESTED_SEPT_SLOTS];
	uint64_t old = s->root02;
	shadow_ept_drop(s, &nv->ept02_ops, nested_ept02_free);
	invalidate_ept02(old);
	s->eptp12 = eptp12;
	return s;
}

void nested_drop_all_ept02(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	for (unsigned i = 0; i < NESTED_SEPT_SLOTS; i++) {
		uint64_t old = nv->sept[i].root02;
		if (!old)
			continue;
		shadow_ept_drop(&nv->sept[i], &nv->ept02_ops, nested_ept02_free);
		invalidate_ept02(old);
	}
}

/* VMCS02 writes go through its image (nested_vmcs02_put()): only values it does not hold yet. */
#define put(nv, NAME, value) nested_vmcs02_put(nv, VMCS12_IDX_##NAME, value)

/* L1's own EFER, DR7 and DEBUGCTL: what L2 keeps when L1 does not load its own (SDM 26.3.2.1). */
struct l1_regs {
	uint64_t efer, dr7, debugctl;
};

/* What VMCS02 takes from L1's own registers when VMCS12 does not load them. */
static void put_l1_regs(struct nested_vm *nv, const struct l1_regs *l1)
{
	const struct vmcs12 *v = nv->nvmx.cache;
	/*
	 * VMCS02 always loads EFER and the debug controls (vmcs02_merge.c).
	 * Where L1 does not, L2 must get what the processor would leave: L1's
	 * values, with EFER.LMA and LME following "IA-32e mode guest".
	 */
	uint32_t entry12 = (uint32_t)V12(v, VM_ENTRY_CONTROLS);
	if (!(entry12 & ENTRY_LOAD_IA32_EFER)) {
		uint64_t lm = (entry12 & ENTRY_IA32E_MODE_GUEST) ? (EFER_LMA | EFER_LME) : 0;
		put(nv, GUEST_IA32_EFER, (l1->efer & ~(EFER_LMA | EFER_LME)) | lm);
	}
	if (!(entry12 & ENTRY_LOAD_DEBUG_CONTROLS)) {
		put(nv, GUEST_DR7, l1->dr7);
		put(nv, GUEST_IA32_DEBUGCTL, l1->debugctl);
	}
}

/*
 * VMCS02 after an entry that changed only hot fields: those, the event to
 * inject (the last exit made VMCS02's copy unknown) and the EPT02 root
 * (INVEPT may have dropped it).
 */
/* The event-window exiting controls, the only primary controls an entry may take from L1 without a new merge. */
#define WINDOW_CONTROLS (CPU_INTR_WINDOW_EXITING | CPU_NMI_WINDOW_EXITING)

/*
 * Whether L1 changed only the window bits of the primary controls since they
 * passed the full checks, and in a way those checks would pass too: NMI-window
 * exiting needs virtual NMIs (SDM 26.2.1.1), which is pin-based, unchanged
 * unless the entry is cold anyway.
 */
static int only_window_bits_changed(const struct nested_vm *nv)
{
	const struct vmcs12 *v = nv->nvmx.cache;
	uint64_t proc12 = V12(v, CPU_BASED_VM_EXEC_CONTROL);
	if ((proc12 ^ nv->cur->changed.proc_passed) & ~(uint64_t)WINDOW_CONTROLS)
		return 0;
	/* Bits L1 is not offered (the allowed-1 half of its TRUE capability MSR) are the full check's to refuse. */
	if (proc12 & WINDOW_CONTROLS & ~(nv->caps.true_procbased >> 32))
		return 0;
	return !(proc12 & CPU_NMI_WINDOW_EXITING) || (V12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS);
}

static void update_vmcs02(struct nested_vm *nv, struct shadow_ept *sept, const struct l1_regs *l1)
{
	const struct vmcs12 *v = nv->nvmx.cache;
	vmcs_load(nv->v02->ctx.hpa);
	if (nv->cur->changed.mark[VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL]) {
		/*
		 * Only the window bits moved (only_window_bits_changed()): the
		 * merged controls (which the emulated MTF puts back at its entries)
		 * take L1's as they are, as the merge would.
		 */
		nv->v02->proc = (nv->v02->proc & ~WINDOW_CONTROLS) |
				((uint32_t)V12(v, CPU_BASED_VM_EXEC_CONTROL) & WINDOW_CONTROLS);
		nested_vmcs02_put(nv, VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL, nv->v02->proc);
	}
	put(nv, VM_ENTRY_INTR_INFO_FIELD, V12(v, VM_ENTRY_INTR_INFO_FIELD));
	put(nv, VM_ENTRY_EXCEPTION_ERROR_CODE, V12(v, VM_ENTRY_EXCEPTION_ERROR_CODE));
	put(nv, VM_ENTRY_INSTRUCTION_LEN, V12(v, VM_ENTRY_INSTRUCTION_LEN));
	put(nv, EPT_POINTER, ept_pointer(sept->root02));
	for (unsigned k = 0; k < nv->cur->changed.count; k++) {
		unsigned i = nv->cur->changed.list[k];
		if (vmcs_field_is_guest_state(vmcs_field_encodings[i]) && i != VMCS12_IDX_VMX_PREEMPTION_TIMER_VALUE)
			nested_vmcs02_put(nv, i, v->field[i]);
	}
	put_l1_regs(nv, l1);
}

/* Returns 1 when VMCS02 was built from nothing (then it deserves the full self-check). */
static int build_vmcs02(struct vm *vm, struct shadow_ept *sept, const struct l1_regs *l1)
{
	struct nested_vm *nv = vm->nested;
	const struct vmcs12 *v = nv->nvmx.cache;
	struct vmcs02_controls c;
	struct nested_vmcs02 *v02 = nv->v02; /* select_vmcs02() made it the current VMCS12's */
	int fresh = !v02->ctx.launched;

	if (fresh) {
		/* Never entered for this VMCS12: nothing it holds can be trusted to match. */
		for (unsigned i = 0; i < VMCS12_NFIELDS; i++)
			v02->known[i] = 0;
		vmcs_clear(v02->ctx.hpa);
	}
	vmcs_load(v02->ctx.hpa);

	nested_merge_controls(v, vmm_caps, &c);
	v02->proc = c.proc;
	uint16_t vpid02 = 0;
	if (c.proc2 & SEC_ENABLE_VPID) {
		vpid02 = vpid_map_get(&nv->vpids, (uint16_t)V12(v, VIRTUAL_PROCESSOR_ID));
		if (!vpid02)
			c.proc2 &= ~SEC_ENABLE_VPID; /* out of VPID02s: flush on every transition instead */
	}
	put(nv, PIN_BASED_VM_EXEC_CONTROL, c.pin);
	put(nv, CPU_BASED_VM_EXEC_CONTROL, c.proc);
	put(nv, SECONDARY_VM_EXEC_CONTROL, c.proc2);
	put(nv, VM_EXIT_CONTROLS, c.exit);
	put(nv, VM_ENTRY_CONTROLS, c.entry);
	put(nv, EXCEPTION_BITMAP, c.exception_bitmap);
	if (vpid02)
		put(nv, VIRTUAL_PROCESSOR_ID, vpid02);
	/* With every exception intercepted (the MTF emulated), every #PF: mask and match 0. */
	put(nv, PAGE_FAULT_ERROR_CODE_MASK, c.step_by_tf ? 0 : V12(v, PAGE_FAULT_ERROR_CODE_MASK));
	put(nv, PAGE_FAULT_ERROR_CODE_MATCH, c.step_by_tf ? 0 : V12(v, PAGE_FAULT_ERROR_CODE_MATCH));
	put(nv, CR3_TARGET_COUNT, 0);
	put(nv, VM_EXIT_MSR_STORE_COUNT, 0);
	put(nv, VM_EXIT_MSR_LOAD_COUNT, 0);
	put(nv, VM_ENTRY_MSR_LOAD_COUNT, 0);
	/* An event L1 injects into L2 is injected by this entry. */
	put(nv, VM_ENTRY_INTR_INFO_FIELD, V12(v, VM_ENTRY_INTR_INFO_FIELD));
	put(nv, VM_ENTRY_EXCEPTION_ERROR_CODE, V12(v, VM_ENTRY_EXCEPTION_ERROR_CODE));
	put(nv, VM_ENTRY_INSTRUCTION_LEN, V12(v, VM_ENTRY_INSTRUCTION_LEN));
	/* This VMM gives L1 no TSC offset of its own, so L2's offset is L1's. */
	put(nv, TSC_OFFSET, (c.proc & CPU_USE_TSC_OFFSETTING) ? V12(v, TSC_OFFSET) : 0);
	put(nv, CR0_GUEST_HOST_MASK, V12(v, CR0_GUEST_HOST_MASK));
	put(nv, CR4_GUEST_HOST_MASK, V12(v, CR4_GUEST_HOST_MASK));
	put(nv, CR0_READ_SHADOW, V12(v, CR0_READ_SHADOW));
	put(nv, CR4_READ_SHADOW, V12(v, CR4_READ_SHADOW));
	put(nv, EPT_POINTER, ept_pointer(sept->root02));

	/* L2's state is VMCS12's guest-state area, field for field. */
	for (unsigned k = 0; k < vmcs12_l2_state.count; k++) {
		unsigned i = vmcs12_l2_state.idx[k];
		nested_vmcs02_put(nv, i, v->field[i]);
	}
	put(nv, VMCS_LINK_POINTER, ~0ull); /* VMCS02 itself is never shadowed */
	put_l1_regs(nv, l1);
	if (fresh)
		vmcs_write_host_state();
	return fresh;
}

/*
 * L1's preemption timer for L2, as a deadline on this VMM's one clock (the
 * TSC, sched/README.md): it counts down while L2 is in VMX non-root
 * operation as L1 sees it (SDM 25.5.1), which includes the time this VMM
 * gives other VMs meanwhile — L1 reads the same TSC, so it sees that time
 * pass too.
 */
static void start_l1_timer(struct nested_vm *nv)
{
	const struct vmcs12 *v = nv->nvmx.cache;
	uint64_t at = TIMER_NONE;
	if (V12(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER) {
		unsigned rate = (unsigned)(nv->caps.misc & 0x1f);
		at = rdtsc() + (V12(v, VMX_PREEMPTION_TIMER_VALUE) << rate);
	}
	vmm_timer_set(TIMER_CHILD_PREEMPTION, nv->vm, at);
}

/*
 * Make nv->v02 the VMCS02 of the current VMCS12: the one already built
 * from it, or another taken over (round robin) and started afresh.
 */
static void select_vmcs02(struct nested_vm *nv)
{
	uint64_t current = nv->nvmx.current;
	if (nv->v02->for_vmcs12 == current)
		return;
	for (unsigned k = 0; k < NESTED_VMCS02_SLOTS; k++)
		if (nv->vmcs02s[k].for_vmcs12 == current) {
			nv->v02 = &nv->vmcs02s[k];
			return;
		}
	struct nested_vmcs02 *v02 = &nv->vmcs02s[nv->vmcs02_next++ % NESTED_VMCS02_SLOTS];
	if (v02 == nv->v02) /* not the one just used: it is the likeliest to come back */
		v02 = &nv->vmcs02s[nv->vmcs02_next++ % NESTED_VMCS02_SLOTS];
	v02->for_vmcs12 = current;
	v02->ctx.launched = 0;
	nv->v02 = v02;
}

/*
 * 26.3.1.5: with VMCS shadowing, the VMCS the link pointer names must hold
 * the revision identifier with the shadow-VMCS indicator set.  Read in
 * L1's memory at every entry (L1 may rewrite it without an exit); one
 * outside L1's memory is refused (hardware would read whatever is there).
 */
static const char *link_target_problem(struct vm *vm, const struct vmcs12 *v)
{
	const struct nested_vm *nv = vm->nested;
	uint64_t link = V12(v, VMCS_LINK_POINTER);
	if (!(vmcs12_proc2(v) & SEC_VMCS_SHADOWING) || link == ~0ull)
		return NULL;
	if (link == nv->nvmx.current)
		return "26.3.1.5: VMCS link pointer names the current VMCS";
	/* L2's shadowed VMREAD/VMWRITE work on L1's memory there: a copy this VMM keeps goes back first. */
	nested_vmcs12_write_back(vm, link);
	if (!guest_mem_ok(&nv->l1mem, link, VMCS12_SIZE))
		return "26.3.1.5: VMCS link pointer outside the child's memory";
	uint32_t rev;
	memcpy(&rev, guest_mem_ptr(&nv->l1mem, link), sizeof rev);
	if (rev != (VMCS12_REVISION | VMCS_SHADOW_INDICATOR))
		return "26.3.1.5: the VMCS the link pointer names is not a shadow VMCS of this revision";
	return NULL;
}

struct nvmx_result nested_enter(struct vm *vm, int launch)
{
	struct nested_vm *nv = vm->nested;
	struct vmcs12 *v = nv->nvmx.cache;
	struct vmcs_check_state s;
	struct vmcs_check_caps cc;
	enum vmcs_check_phase phase;
	struct nvmx_result fail = { NVMX_FAIL_VALID, 0 };

	int l1_ia32e = (vmcs_read64(VMCS_GUEST_IA32_EFER) & EFER_LMA) != 0; /* L1's mode: VMCS01 is current */
	select_vmcs02(nv);
	if (nv->cur->changed.mark[VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL] && !only_window_bits_changed(nv))
		nested_vmcs12_cold(nv);
	/*
	 * Since the last full check passed for this VMCS12 L1 changed only hot
	 * fields: every other check would read the values that passed, so
	 * only the hot ones run.  State the processor saved into VMCS12 at an
	 * exit is taken as checked; VMCS02's own entry checks it again anyway.
	 */
	int hot_only = !nv->cur->changed.cold && nv->cur->changed.passed_for == nv->nvmx.current &&
		       nv->cur->changed.passed_l1_ia32e == l1_ia32e && nv->v02->ctx.launched;
	const char *why;
	check_caps_of(&nv->caps, &cc);
	if (hot_only) {
		nv->count.entry_checks_hot++;
		vmcs_check_state_hot_from_fields(&s, v->field);
		why = vmcs_check_hot_phased(&s, &cc, &phase);
		if (!why && (why = link_target_problem(vm, v)))
			phase = VMCS_CHECK_LINK_POINTER;
	} else {
		nv->count.entry_checks_full++;
		vmcs_check_state_from_fields(&s, v->field); /* the cache keeps every value masked to its width */
		s.processor_ia32e = l1_ia32e;
		why = vmcs_check_phased(&s, &cc, &phase);
		/* nestlab's own refusals are control failures: they come before host and guest state (26.2, 26.3). */
		if ((!why || phase != VMCS_CHECK_CONTROLS) && unsupported_by_nestlab(v)) {
			why = unsupported_by_nestlab(v);
			phase = VMCS_CHECK_CONTROLS;
		}
		if (!why && (why = link_target_problem(vm, v)))
			phase = VMCS_CHECK_LINK_POINTER;
	}
	nv->cur->changed.passed_for = why ? NVMX_NO_VMCS : nv->nvmx.current;
	nv->cur->changed.passed_l1_ia32e = l1_ia32e;
	/* What the next window-only change is measured against; a hot entry that took one updates it. */
	if (!why && (!hot_only || nv->cur->changed.mark[VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL]))
		nv->cur->changed.proc_passed = V12(v, CPU_BASED_VM_EXEC_CONTROL);
	if (why) {
		nested_vmcs12_cold(nv); /* what L1 changed is not in VMCS02 yet: the next entry builds it whole */
		nv->count.vmentry_failures++;
		if (phase == VMCS_CHECK_CONTROLS) {
			fail.error = VMXERR_ENTRY_INVALID_CONTROL_FIELD;
			return fail;
		}
		if (phase == VMCS_CHECK_HOST) {
			fail.error = VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
			return fail;
		}
		/* Guest state: a VM exit "VM-entry failure, invalid guest state" to L1 (SDM 26.8). */
		nv->reflect_started = rdtsc();
		nested_emulate_exit(vm, &(struct emulated_exit){
						.from = EXIT_NO_ENTRY,
						.flags = EXIT_SHADOW_IN_FULL,
						.reason = EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAIL,
						.qualification = phase == VMCS_CHECK_LINK_POINTER ? ENTRY_FAIL_QUAL_LINK_POINTER : 0 });
		return (struct nvmx_result){ NVMX_ENTER, 0 };
	}

	uint64_t eptp12 = V12(v, EPT_POINTER);
	nv->active_sept = sept_for(nv, eptp12);
	if (!nv->active_sept->root02 && !(nv->active_sept->root02 = nested_ept02_root(vm))) {
		vm_stop(vm, VM_FAILED, -1, "no page left in its EPT02 pool for a new root");
		return (struct nvmx_result){ NVMX_ENTER, 0 };
	}
	struct l1_regs l1 = {
		.efer = vmcs_read64(VMCS_GUEST_IA32_EFER), /* VMCS01 is current: L1's VMLAUNCH/VMRESUME exited */
		.dr7 = vmcs_readnat(VMCS_GUEST_DR7),
		.debugctl = vmcs_read64(VMCS_GUEST_IA32_DEBUGCTL),
	};
	int fresh = 0;
	if (hot_only)
		update_vmcs02(nv, nv->active_sept, &l1);
	else
		fresh = build_vmcs02(vm, nv->active_sept, &l1);
	nested_mtf_before_entry(vm);
	struct nested_vmcs12_slot *cur = nv->cur;
	for (unsigned k = 0; k < cur->changed.count; k++)
		cur->changed.mark[cur->changed.list[k]] = 0;
	cur->changed.count = 0;
	cur->changed.cold = 0;
	/* The full self-check after a build from nothing; later entries change only checked VMCS12 values. */
	const char *bad = fresh ? vmcs_self_check(vmm_caps) : 0;
	if (bad) {
		/* VMCS12 passed L1's checks but the merge broke a rule: nestlab's bug, said plainly. */
		vmcs_load(vm->vmcs01.hpa);
		vm_stop(vm, VM_FAILED, -1, bad);
		return (struct nvmx_result){ NVMX_ENTER, 0 };
	}
	nv->entry_was_launch = launch;
	nv->entry_intr_info12 = V12(v, VM_ENTRY_INTR_INFO_FIELD);
	if (launch) {
		v->launch_state = VMCS12_LAUNCH_LAUNCHED;
		nv->nvmx.cache_dirty = 1;
	}
	/* The injected event is delivered by this entry; a later exit reports it cleared (SDM 27.2.4). */
	if (intr_info_valid((uint32_t)V12(v, VM_ENTRY_INTR_INFO_FIELD))) {
		V12(v, VM_ENTRY_INTR_INFO_FIELD) &= ~(uint64_t)INTR_INFO_VALID;
		nested_shadow_note(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD);
	}
	start_l1_timer(nv);
	vm->vmcs = &nv->v02->ctx; /* L2 runs now */
	/*
	 * An interrupt or NMI of L1's that waited for L1's window (IF = 0 or
	 * an NMI handler in its own code) is L2's run's business now: an exit
	 * at once or delivery to L2, as VMCS12 says (nested_interrupt.c).  The
	 * window flags say one waits, so an entry with none costs one compare.
	 */
	if (vm->ev.window | vm->ev.nmi_window)
		vm_events_poke(vm);
	return (struct nvmx_result){ NVMX_ENTER, 0 };
}
