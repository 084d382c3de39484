/*
 * Exits of L2: reflected to L1 as an emulated VM exit, or handled here
 * (this VMM's time slice, EPT02 fills, what L1 did not ask for).
 * SDM Vol. 3 chapter 27 (VM exits) for what L1 must find in VMCS12.
 */
#include "vm_events.h"
#include "cpu.h"
#include "guest_state.h"
#include "nested_entry.h"
#include "nested_mtf.h"
#include "platform.h"
#include "vm_build.h"
#include "vmcs_setup.h"
#include "vmcs_shadow.h"
#include "vmx_ops.h"
#include "vmm_sched.h"

/* One field from VMCS02 (current) into VMCS12, noted for the shadow VMCS if it changed; returns it. */
static inline uint64_t copy_from_vmcs02(struct nested_vm *nv, unsigned i)
{
	uint64_t *field = nv->nvmx.cache->field;
	uint64_t value = vmx_vmread_or_zero(vmcs_field_encodings[i]);
	if (field[i] != value) {
		field[i] = value;
		nested_shadow_note(nv, i);
	}
	return value;
}

/* Copy L2's state fields listed in idx from VMCS02 (current) into VMCS12, noting what VMCS02 holds. */
static void sync_l2_fields(struct nested_vm *nv, const struct vmcs12_index_list *list)
{
	for (unsigned k = 0; k < list->count; k++)
		nested_vmcs02_note(nv, list->idx[k], copy_from_vmcs02(nv, list->idx[k]));
}

/*
 * Guest-state fields a VM exit saves only under an exit control (SDM
 * 28.3.1): without it VMCS12 keeps what L1 put there.  Should VMCS02's
 * value then differ, the next entry rebuilds VMCS02 from VMCS12.
 */
static const struct {
	unsigned idx;
	uint32_t control;
} saved_only_if[] = {
	{ VMCS12_IDX_GUEST_DR7, EXIT_SAVE_DEBUG_CONTROLS },
	{ VMCS12_IDX_GUEST_IA32_DEBUGCTL, EXIT_SAVE_DEBUG_CONTROLS },
	{ VMCS12_IDX_GUEST_IA32_EFER, EXIT_SAVE_IA32_EFER },
	{ VMCS12_IDX_GUEST_IA32_PAT, EXIT_SAVE_IA32_PAT },
};
#define N_SAVED_ONLY_IF (sizeof saved_only_if / sizeof saved_only_if[0])

static void unsaved_before(const struct nested_vm *nv, uint64_t old[N_SAVED_ONLY_IF])
{
	for (unsigned k = 0; k < N_SAVED_ONLY_IF; k++)
		old[k] = nv->nvmx.cache->field[saved_only_if[k].idx];
}

/* After a sync from VMCS02: what the exit did not save (exitc: VMCS12's exit controls then) stays as it was. */
static void unsaved_after(struct nested_vm *nv, const uint64_t old[N_SAVED_ONLY_IF], uint32_t exitc)
{
	uint64_t *field = nv->nvmx.cache->field;
	for (unsigned k = 0; k < N_SAVED_ONLY_IF; k++)
		if (!(exitc & saved_only_if[k].control))
			field[saved_only_if[k].idx] = old[k];
}

/*
 * At every reflected exit, synced or lazy alike: if L2 changed a field the
 * exit does not save, VMCS02 now holds L2's value where the next entry
 * must load VMCS12's (or L1's).  Noting what VMCS02 really holds makes
 * the next entry, built in full, write the right one.
 */
static void unsaved_at_exit(struct nested_vm *nv, uint32_t exitc)
{
	struct nested_vmcs02 *v02 = nv->v02;
	/* Only where VMCS02's own exit saved the field could it differ (a VMREAD less, maybe an exit less). */
	uint32_t exitc02 = (uint32_t)v02->image[VMCS12_IDX_VM_EXIT_CONTROLS];
	for (unsigned k = 0; k < N_SAVED_ONLY_IF; k++) {
		unsigned i = saved_only_if[k].idx;
		if ((exitc & saved_only_if[k].control) ||
		    (v02->known[VMCS12_IDX_VM_EXIT_CONTROLS] && !(exitc02 & saved_only_if[k].control)))
			continue;
		uint64_t now = vmx_vmread_or_zero(vmcs_field_encodings[i]);
		if (!v02->known[i] || v02->image[i] != now) {
			nested_vmcs02_note(nv, i, now);
			nested_vmcs12_cold(nv);
		}
	}
}

void nested_materialize_l2_state(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	if (!nv->l2_state_stale || nv->v02->for_vmcs12 != nv->nvmx.current)
		return;
	uint64_t back = vm->vmcs->hpa;
	vmcs_load(nv->v02->ctx.hpa);
	/*
	 * Only the lazy fields: the hot ones were synced at the exit and L1 may
	 * have changed them since (its RIP after a VMCALL), which VMCS02 has
	 * not seen yet.
	 */
	uint64_t old[N_SAVED_ONLY_IF];
	unsaved_before(nv, old);
	sync_l2_fields(nv, &vmcs12_l2_rest);
	if (!nv->shadow.exit_load)
		sync_l2_fields(nv, &vmcs12_l2_exit_load);
	unsaved_after(nv, old, nv->exit_controls_at_exit);
	vmcs_load(back);
	nv->l2_state_stale = 0;
	nv->nvmx.cache_dirty = 1;
}

/*
 * Copy the exit information and the part of L2's state a VMM touches on
 * every exit from VMCS02 (current) into VMCS12.  The rest of L2's state
 * stays in VMCS02 until L1 asks for it (nested_materialize_l2_state()):
 * copying all of it on every exit was most of a reflected exit's cost.
 */
static void sync_vmcs02_to_vmcs12(struct nested_vm *nv)
{
	vmcs_must_be_current(nv->v02->ctx.hpa, "copying L2's exit into VMCS12");
	struct vmcs12 *v = nv->nvmx.cache;
	uint64_t old[N_SAVED_ONLY_IF];
	uint32_t exitc = (uint32_t)V12(v, VM_EXIT_CONTROLS);
	nv->exit_controls_at_exit = exitc; /* what a later lazy sync must honour */
	unsaved_at_exit(nv, exitc);
	unsaved_before(nv, old);
	sync_l2_fields(nv, &vmcs12_l2_hot);
	if (nv->shadow.exit_load)
		sync_l2_fields(nv, &vmcs12_l2_exit_load);
	unsaved_after(nv, old, exitc);
	nested_mtf_hide(nv);
	nv->l2_state_stale = 1;
	for (unsigned k = 0; k < vmcs12_exit_info.count; k++)
		copy_from_vmcs02(nv, vmcs12_exit_info.idx[k]);
	/* The exit cleared the valid bit of the event VMCS02 injected, and the handlers may have set one. */
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_EXCEPTION_ERROR_CODE);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INSTRUCTION_LEN);
	nv->nvmx.cache_dirty = 1;
}

/* A field of an exit this VMM makes up rather than copies from VMCS02, noted for L1's shadow VMCS. */
static void set_exit_field(struct nested_vm *nv, unsigned idx, uint64_t value)
{
	nv->nvmx.cache->field[idx] = value;
	nested_shadow_note(nv, idx);
}

/* The exit fields an exit made up or an entry that never happened gives VMCS12, in place of VMCS02's. */
static void give_exit_fields(struct nested_vm *nv, const struct emulated_exit *x)
{
	set_exit_field(nv, VMCS12_IDX_VM_EXIT_REASON, x->reason);
	set_exit_field(nv, VMCS12_IDX_EXIT_QUALIFICATION, x->qualification);
	if (x->flags & EXIT_GIVES_EVENT) {
		set_exit_field(nv, VMCS12_IDX_VM_EXIT_INTR_INFO, x->intr_info);
		set_exit_field(nv, VMCS12_IDX_VM_EXIT_INTR_ERROR_CODE, x->intr_error_code);
	}
	if (x->flags & EXIT_GIVES_ADDRESSES) {
		set_exit_field(nv, VMCS12_IDX_GUEST_PHYSICAL_ADDRESS, x->gpa);
		/* The linear address is reported only when qualification bit 7 says it is valid (28.2.1). */
		set_exit_field(nv, VMCS12_IDX_GUEST_LINEAR_ADDRESS,
			       (x->qualification & EPT_QUAL_GLA_VALID) ? x->linear : 0);
	}
	if (x->flags & EXIT_NO_DELIVERY) {
		/* Debug exceptions that remain pending at it: an MTF exit outranks a data breakpoint's trap (26.5.2). */
		if (x->pending_dbg) {
			V12(nv->nvmx.cache, GUEST_PENDING_DBG_EXCEPTIONS) |= x->pending_dbg;
			nested_shadow_note(nv, VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS);
		}
		if (x->blocking) {
			V12(nv->nvmx.cache, GUEST_INTERRUPTIBILITY_INFO) |= x->blocking;
			nested_shadow_note(nv, VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO);
		}
		set_exit_field(nv, VMCS12_IDX_VM_EXIT_INSTRUCTION_LEN, 0);
		set_exit_field(nv, VMCS12_IDX_IDT_VECTORING_INFO_FIELD, 0);
	}
}

/*
 * The one end of every emulated VM exit (SDM 27.2-27.5): VMCS12's exit
 * fields, the preemption timer's value saved if L1 asked (27.3.4), L1's
 * host state loaded, the shadow VMCS brought up to date, the exit counted.
 * A plain reflection takes the first branch alone: it is the hot path.
 */
enum exit_action nested_emulate_exit(struct vm *vm, const struct emulated_exit *x)
{
	struct nested_vm *nv = vm->nested;
	struct vmcs12 *v = nv->nvmx.cache;
	/* This VMM's own event windows in VMCS02 (nested_interrupt.c) end with L2's run. */
	if (__builtin_expect(nv->own_windows != 0, 0) && x->from != EXIT_NO_ENTRY)
		nested_l2_drop_own_windows(vm);
	if (x->from == EXIT_AS_REPORTED) {
		sync_vmcs02_to_vmcs12(nv); /* notes every field it changes */
	} else {
		if (x->from == EXIT_MADE_UP)
			sync_vmcs02_to_vmcs12(nv);
		else
			nv->nvmx.cache_dirty = 1;
		give_exit_fields(nv, x);
	}
	uint64_t l1_timer = vmm_timer_get(TIMER_CHILD_PREEMPTION, vm);
	/* A VM-entry failure saves no guest state (26.8), the timer's value included. */
	if ((V12(v, VM_EXIT_CONTROLS) & EXIT_SAVE_PREEMPTION_TIMER) && l1_timer != TIMER_NONE &&
	    !(V12(v, VM_EXIT_REASON) & EXIT_REASON_ENTRY_FAIL)) {
		uint64_t now = rdtsc(), left = now < l1_timer ? l1_timer - now : 0;
		V12(v, VMX_PREEMPTION_TIMER_VALUE) = (uint32_t)(left >> (nv->caps.misc & 0x1f));
		nested_shadow_note(nv, VMCS12_IDX_VMX_PREEMPTION_TIMER_VALUE);
	}
	nested_load_l1_host_state(vm);
	/* An event of L1's that waited while L2 ran (nested_interrupt.c): L1's to take now. */
	if (__builtin_expect(vm->ev.for_l1_later, 0)) {
		vm->ev.for_l1_later = 0;
		vm_events_poke(vm);
	}
	/* L2's times end with its run: L1 runs on this VMM's own timers. */
	vmm_timer_set(TIMER_CHILD_PREEMPTION, vm, TIMER_NONE);
	nested_mtf_l2_stopped(nv);
	/* Wholesale after changes this VMM did not note, else only the fields noted since the last push. */
	if (x->flags & EXIT_SHADOW_IN_FULL)
		vmcs_shadow_from_cache(vm);
	else
		vmcs_shadow_push_noted(vm);
	uint32_t basic = EXIT_REASON_BASIC((uint32_t)V12(v, VM_EXIT_REASON));
	if (basic < EXIT_REASON_MAX)
		nv->count.reflected[basic]++;
	nv->count.reflected_ticks += rdtsc() - nv->reflect_started;
	return EXIT_RESUME;
}

/* Reflect with the exit information VMCS02 reported. */
static enum exit_action reflect(struct vm *vm)
{
	static const struct emulated_exit as_reported = { .from = EXIT_AS_REPORTED };
	return nested_emulate_exit(vm, &as_reported);
}

/*
 * Resuming L2 after an exit this VMM handled: an event whose delivery the
 * exit interrupted must be delivered again (SDM 27.2.4, 28.2.x).
 */
static void redeliver_interrupted_event(struct nested_vm *nv)
{
	uint32_t idt = vmcs_read32(VMCS_IDT_VECTORING_INFO_FIELD);
	if (!intr_info_valid(idt))
		return;
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, idt & ~INTR_INFO_NMI_UNBLOCKING);
	if (intr_info_has_error_code(idt))
		vmcs_write32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(VMCS_IDT_VECTORING_ERROR_CODE));
	vmcs_write32(VMCS_VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VMCS_VM_EXIT_INSTRUCTION_LEN));
	nested_mtf_delivering(nv); /* delivered by this VMM now (an INT n among them) */
}

enum exit_action nested_handled(struct vm *vm, const struct exit_info *ei, enum exit_action a)
{
	if (ei->reason < EXIT_REASON_MAX)
		vm->nested->count.handled[ei->reason]++;
	return a;
}

enum exit_action nested_l2_exception(struct vm *vm, unsigned vector, uint32_t error_code)
{
	struct nested_vm *nv = vm->nested;
	vmcs_must_be_current(nv->v02->ctx.hpa, "an exception for L2");
	/* A hardware exception with its error code (SDM 25.8.3, 28.2.2). */
	uint32_t info = intr_info_event(INTR_TYPE_HW_EXCEPTION, vector) | INTR_INFO_ERROR_CODE;
	struct reflect_input in = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = info,
		.intr_error_code = error_code,
		.l1mem = &nv->l1mem,
	};
	if (nested_reflect(nv->nvmx.cache, &in) != REFLECT_TO_L1) {
		vm_inject_exception(vm, vector, 1, error_code); /* VMCS02 is current */
		nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD);
		nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_EXCEPTION_ERROR_CODE);
		return nested_handled(vm, &(struct exit_info){ .reason = EXIT_REASON_EXCEPTION_NMI }, EXIT_RESUME);
	}
	/* An exception exit: L2's state as at the faulting instruction, no instruction length (28.2.1-2). */
	return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
							      .flags = EXIT_GIVES_EVENT,
							      .reason = EXIT_REASON_EXCEPTION_NMI,
							      .intr_info = info,
							      .intr_error_code = error_code });
}

static enum exit_action ept_violation(struct vm *vm, const struct exit_info *ei)
{
	struct nested_vm *nv = vm->nested;
	vmcs_must_be_current(nv->v02->ctx.hpa, "filling EPT02 for L2");
	uint64_t qual12 = 0;
	uint64_t gpa2 = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t eptp12 = V12(nv->nvmx.cache, EPT_POINTER);
	enum shadow_ept_result r = shadow_ept_fault(nv->active_sept, &nv->ept02_ops, &nv->l1mem, eptp12, gpa2,
						    ei->qualification, &qual12);
	if (r == SEPT_NO_MEMORY) {
		/* The child's pool is spent: start its EPT02s afresh (this one refills from this very fault). */
		nested_drop_all_ept02(vm);
		nv->active_sept->root02 = nested_ept02_root(vm);
		if (nv->active_sept->root02) {
			vmcs_write64(VMCS_EPT_POINTER, ept_pointer(nv->active_sept->root02));
			nested_vmcs02_note(nv, VMCS12_IDX_EPT_POINTER, ept_pointer(nv->active_sept->root02));
			r = shadow_ept_fault(nv->active_sept, &nv->ept02_ops, &nv->l1mem, eptp12, gpa2,
					     ei->qualification, &qual12);
		}
	}
	switch (r) {
	case SEPT_FILLED:
		redeliver_interrupted_event(nv);
		return nested_handled(vm, ei, EXIT_RESUME);
	case SEPT_REFLECT:
		/* EPT12 forbids the access: L1 gets the violation as reported, with EPT12's qualification (28.2.1). */
		return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								      .flags = EXIT_SHADOW_IN_FULL,
								      .reason = EXIT_REASON_EPT_VIOLATION,
								      .qualification = qual12 });
	case SEPT_MISCONFIG:
		/* EPT12 is misconfigured there: an EPT misconfiguration, no qualification (28.2.1). */
		return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								      .flags = EXIT_SHADOW_IN_FULL,
								      .reason = EXIT_REASON_EPT_MISCONFIG });
	case SEPT_L1_FAULT:
		return vm_fault(vm, ei, "its EPT12 maps L2 memory outside the child VMM's own memory");
	case SEPT_STALE:
		/* sept_for() keys EPT02s by EPTP12, so this means a bookkeeping bug: say so rather than guess. */
		return vm_fault(vm, ei, "its EPT02 was built from another EPTP12 (a nestlab bug)");
	case SEPT_NO_MEMORY:
		break;
	}
	return vm_fault(vm, ei, "no memory left for its EPT02");
}

/* L2's state passed this VMM's checks but not the processor's: L1 hears it as the SDM says. */
enum exit_action nested_l2_entry_failure(struct vm *vm, uint32_t raw_reason, const struct exit_info *ei)
{
	struct nested_vm *nv = vm->nested;
	nv->reflect_started = rdtsc();
	vmm_count_exit(vm, ei->reason);
	struct vmcs12 *v = nv->nvmx.cache;
	/* The entry did not happen: VMCS12 stays as L1 left it, not launched, its event not delivered. */
	if (nv->entry_was_launch)
		v->launch_state = VMCS12_LAUNCH_CLEAR;
	V12(v, VM_ENTRY_INTR_INFO_FIELD) = nv->entry_intr_info12;
	nested_vmcs12_cold(nv);
	/* Undoing the entry changed VMCS12 unnoted: the shadow VMCS is compared in full. */
	return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_NO_ENTRY,
							      .flags = EXIT_SHADOW_IN_FULL,
							      .reason = raw_reason,
							      .qualification = ei->qualification });
}

/*
 * Does this VMM keep the exit, whatever L1 asked for?  The VMX-preemption
 * timer run out for this VMM's own time (a slice, the run's deadline) or
 * for L1's APIC timer rather than for L1's emulated preemption timer.  (One that fired for an MTF exit
 * owed is the emulated MTF's, which took it first.)
 */
static int l0_keeps(const struct vm *vm, uint32_t reason, uint64_t now)
{
	return reason == EXIT_REASON_PREEMPTION_TIMER && !vmm_timer_due(TIMER_CHILD_PREEMPTION, vm, now);
}

/*
 * Does L1 want it?  As the processor would decide had L2 run under VMCS12
 * alone: the exit table's rule for the reason (nested_reflect()), fed what
 * it reads of the exit.  A preemption-timer exit this VMM did not keep is
 * L1's timer run out.
 */
static enum reflect_decision l1_decision(struct vm *vm, const struct exit_info *ei)
{
	if (ei->reason == EXIT_REASON_PREEMPTION_TIMER)
		return REFLECT_TO_L1;
	struct reflect_input in = {
		.reason = ei->reason,
		.qualification = ei->qualification,
		.intr_info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO),
		.intr_error_code = vmcs_read32(VMCS_VM_EXIT_INTR_ERROR_CODE),
		.msr = (uint32_t)vm->regs.rcx,
		.l1mem = &vm->nested->l1mem,
	};
	if (ei->reason == EXIT_REASON_CR_ACCESS)
		in.cr_value = guest_gpr(vm, (unsigned)(ei->qualification >> 8) & 15);
	if (ei->reason == EXIT_REASON_VMREAD || ei->reason == EXIT_REASON_VMWRITE) {
		uint64_t field = guest_gpr(vm, vmx_insn_reg2(vmcs_read32(VMCS_VMX_INSTRUCTION_INFO)));
		in.vmcs_field = guest_64bit_mode(vmcs_read64(VMCS_GUEST_IA32_EFER)) ? field : (uint32_t)field;
	}
	return nested_reflect(vm->nested->nvmx.cache, &in);
}

/* Neither this VMM's nor L1's: handled here for L2, as L1 lets it happen (d: how, by the table). */
static enum exit_action handle_for_l2(struct vm *vm, const struct exit_info *ei, enum reflect_decision d)
{
	if (d == HANDLE_EPT) {
		if (ei->reason == EXIT_REASON_EPT_VIOLATION)
			return ept_violation(vm, ei);
		return vm_fault(vm, ei, "EPT02 misconfiguration (a nestlab bug)");
	}
	/* A VMREAD/VMWRITE L1's VMCS shadowing serves from its shadow VMCS, here in L1's place. */
	if (ei->reason == EXIT_REASON_VMREAD || ei->reason == EXIT_REASON_VMWRITE)
		return nested_mtf_after_emulation(vm, ei, nested_l2_vmcs_access(vm, ei));
	/* Not L1's business: this VMM treats it as it would for L1 itself (e.g. port I/O L1 lets through). */
	return nested_mtf_after_emulation(vm, ei, nested_handled(vm, ei, vmm_dispatch_exit(vm, ei)));
}

/*
 * An exit of L2, asked in turn: is it the emulated MTF's doing, does this
 * VMM keep it, does L1 want it; else it is handled here for L2.
 */
enum exit_action nested_l2_exit(struct vm *vm, const struct exit_info *ei)
{
	struct nested_vm *nv = vm->nested;
	nv->reflect_started = rdtsc();
	vmm_count_exit(vm, ei->reason);
	uint64_t now = 0;
	if (ei->reason == EXIT_REASON_PREEMPTION_TIMER) {
		now = rdtsc();
		vmm_timer_expired(vm, now); /* counted for every source whose time had come */
	}
	enum exit_action a;
	if (nested_mtf_on_exit(vm, ei, &a))
		return a;
	if (l0_keeps(vm, ei->reason, now)) {
		/* L2 resumes later; L1's timer keeps its deadline.  A VM's own time (L1's APIC timer) is delivered at entry. */
		if (vmm_own_time_due(now))
			vmm_sched_preempt(vm);
		return nested_handled(vm, ei, EXIT_RESUME);
	}
	if (ei->reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
		/* A real interrupt is this VMM's own: L1's come emulated (nested_interrupt.c). */
		return nested_handled(vm, ei, handle_external_interrupt(vm, ei));
	}
	enum reflect_decision d = l1_decision(vm, ei);
	if (d == REFLECT_TO_L1)
		return reflect(vm);
	return handle_for_l2(vm, ei, d);
}
