/*
 * The monitor trap flag a child is offered, emulated where the processor
 * has none: L2 steps by RFLAGS.TF in VMCS02, and this file turns what
 * comes back into what L1 would see from a processor with the flag (SDM
 * 26.5.2, 26.7.2): the single-step trap into an MTF exit, L2's own
 * exceptions delivered to it without TF and followed by the MTF exit, the
 * MTF exit made up after an instruction this VMM emulated for L2; VMCS12
 * never shows this VMM's TF.  Its state is struct nested_mtf, set by the
 * before-entry hook and read by the on-exit hook (nested_mtf.h); nothing
 * else touches it.
 */
#include "nested_mtf.h"
#include "cpu.h"
#include "exit_table.h"
#include "nested_entry.h"
#include "vmcs_setup.h"

/*
 * With the monitor trap flag emulated, VMCS02's RFLAGS.TF and pending BS
 * are this VMM's, not L2's: L1 finds L2's own in VMCS12.  (An L2 that set
 * TF itself keeps it, but its own single-step traps then reach L1 as MTF
 * exits too: a deviation the README lists.)
 */
void nested_mtf_hide(struct nested_vm *nv)
{
	const struct nested_mtf *m = &nv->mtf;
	if (!m->by_tf || m->l2_own_tf)
		return;
	uint64_t *field = nv->nvmx.cache->field;
	field[VMCS12_IDX_GUEST_RFLAGS] &= ~RFLAGS_TF;
	field[VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS] &= ~DBG_BS;
	nested_shadow_note(nv, VMCS12_IDX_GUEST_RFLAGS);
	nested_shadow_note(nv, VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS);
	/* Still at the instruction whose STI blocking the entry dropped: the blocking still holds. */
	if (m->sti_dropped && field[VMCS12_IDX_GUEST_RIP] == m->step_rip) {
		field[VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO] |= INTERRUPTIBILITY_STI;
		nested_shadow_note(nv, VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO);
	}
}

/*
 * The MTF exit this VMM makes up for L1: reason 37, no qualification, no
 * event information, between two instructions (SDM 26.5.2, 28.2); pending:
 * breakpoints that stay pending for L2, blocking: what L2's state keeps.
 */
static enum exit_action mtf_exit(struct vm *vm, uint64_t pending, uint32_t blocking)
{
	vm->nested->count.mtf_made_up++;
	return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
							      .flags = EXIT_GIVES_EVENT | EXIT_NO_DELIVERY,
							      .reason = EXIT_REASON_MONITOR_TRAP_FLAG,
							      .pending_dbg = pending,
							      .blocking = blocking });
}

/*
 * Whatever this exit was, VMCS02 must not resume L2 with the stale BS
 * Bochs saves at exits of a guest with TF set (vmm/single_step.c): L2
 * would take a step without executing anything.
 */
static void drop_stale_step_trap(struct nested_vm *nv)
{
	uint64_t pending = vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	uint64_t want = step_drop_stale_bs(pending, vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO));
	if (want != pending) {
		vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, want);
		nested_vmcs02_note(nv, VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS, want);
	}
}

/*
 * The step trap's exit: L1 gets the MTF exit after the instruction L2
 * completed.  Breakpoints that hit on the stepped instruction stay pending
 * for L2 (B3:B0, bit 12).  A stepped STI that set IF blocks interrupts for
 * the next instruction; the processor reports no blocking at the trap's
 * exit (Bochs does not), and L1 decides on injection from what VMCS12
 * shows, so the blocking is put back.
 */
static enum exit_action reflect_step(struct vm *vm, uint64_t qualification)
{
	const struct nested_mtf *m = &vm->nested->mtf;
	uint64_t hit = qualification & 0xf;
	uint8_t opcode = 0;
	uint32_t blocking = 0;
	if (!m->step_if && (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	    !nested_l2_code_byte(vm, m->step_rip, &opcode) && opcode == 0xfb /* STI */)
		blocking = INTERRUPTIBILITY_STI;
	return mtf_exit(vm, hit ? hit | (1ull << 12) : 0, blocking);
}

/*
 * L2 resumes to take an event this VMM injects into VMCS02: while the MTF
 * is emulated, not with TF (it would be pushed onto L2's stack), and with
 * the MTF exit owed right after the delivery.
 */
void nested_mtf_delivering(struct nested_vm *nv)
{
	if (!nv->mtf.by_tf)
		return;
	if (!nv->mtf.l2_own_tf) {
		/* TF goes, and a BS a MOV-SS shadow kept pending with it (26.3.1.5 ties them). */
		struct step_entry e = vmcs_step_by_tf(0);
		nested_vmcs02_note(nv, VMCS12_IDX_GUEST_RFLAGS, e.rflags);
		nested_vmcs02_note(nv, VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS, e.pending_dbg);
		nested_vmcs02_note(nv, VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO, e.interruptibility);
	}
	nested_mtf_owe(nv, 1);
}

/*
 * An exception of L2's own that the emulated MTF's interception of every
 * exception caught and L1 does not ask for: delivered to L2 as the
 * processor would have delivered it, then, the delivery done, the MTF exit
 * L1 asked for.  The exit left CR2 and DR6 alone and reported their new
 * values in the qualification (SDM 27.1): they are set first.  One raised
 * while another event was being delivered combines with it (Table 6-5);
 * an interrupt whose delivery it interrupted is not delivered again.
 */
static enum exit_action deliver_own_exception(struct vm *vm, const struct exit_info *ei, uint32_t info)
{
	struct nested_vm *nv = vm->nested;
	vmcs_must_be_current(nv->v02->ctx.hpa, "delivering L2's own exception");
	unsigned vector = intr_info_vector(info), type = intr_info_type(info);
	uint32_t inject = info & ~INTR_INFO_NMI_UNBLOCKING; /* no injection bit */
	uint32_t error_code = intr_info_has_error_code(info) ? vmcs_read32(VMCS_VM_EXIT_INTR_ERROR_CODE) : 0;
	switch (nested_combine_events(vmcs_read32(VMCS_IDT_VECTORING_INFO_FIELD), vector)) {
	case TRIPLE_FAULT:
		/* Shutdown in VMX non-root operation: an exit (25.2), of no instruction, in no delivery. */
		return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								      .flags = EXIT_GIVES_EVENT | EXIT_NO_DELIVERY,
								      .reason = EXIT_REASON_TRIPLE_FAULT });
	case DELIVER_DOUBLE_FAULT: {
		inject = intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_DF) | INTR_INFO_ERROR_CODE;
		error_code = 0;
		/* The #DF may be L1's to intercept even where the exception that made it was not. */
		struct reflect_input df = { .reason = EXIT_REASON_EXCEPTION_NMI, .intr_info = inject, .l1mem = &nv->l1mem };
		if (nested_reflect(nv->nvmx.cache, &df) == REFLECT_TO_L1) /* IDT-vectoring: the event whose delivery failed */
			return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
									      .flags = EXIT_GIVES_EVENT,
									      .reason = EXIT_REASON_EXCEPTION_NMI,
									      .intr_info = inject });
		break;
	}
	case DELIVER_SECOND:
		if (vector == VECTOR_PF)
			write_cr2(ei->qualification);
		if (vector == VECTOR_DB) {
			/* B0-B3 are replaced, the rest of DR6 is sticky (SDM 17.2.3); BS only if L2 stepped itself. */
			uint64_t bits = ei->qualification & (0xf | (1ull << 13) | (nv->mtf.l2_own_tf ? DBG_BS : 0));
			write_dr6((read_dr6() & ~0xfull) | bits);
		}
		break;
	}
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, inject);
	if (intr_info_has_error_code(inject))
		vmcs_write32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	if (type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION) /* delivered past the instruction */
		vmcs_write32(VMCS_VM_ENTRY_INSTRUCTION_LEN, ei->insn_len);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_EXCEPTION_ERROR_CODE);
	nested_vmcs02_forget(nv, VMCS12_IDX_VM_ENTRY_INSTRUCTION_LEN);
	nested_mtf_delivering(nv);
	return nested_handled(vm, ei, EXIT_RESUME);
}

/*
 * An exception exit while stepping that only the emulated MTF's
 * interception of every exception caused: one L1's exception bitmap does
 * not ask for (the exit table's rule, nested_reflect()), and not an NMI or
 * a machine check, which are this VMM's.  Returns its interruption
 * information, or 0.
 */
static uint32_t own_exception(struct vm *vm, const struct exit_info *ei)
{
	if (ei->reason != EXIT_REASON_EXCEPTION_NMI)
		return 0;
	uint32_t info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO);
	if (intr_info_type(info) == INTR_TYPE_NMI || intr_info_vector(info) == VECTOR_MC)
		return 0;
	struct reflect_input in = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = info,
		.intr_error_code = vmcs_read32(VMCS_VM_EXIT_INTR_ERROR_CODE),
		.l1mem = &vm->nested->l1mem,
	};
	return nested_reflect(vm->nested->nvmx.cache, &in) == REFLECT_TO_L1 ? 0 : info;
}

/*
 * The on-exit hook (nested_mtf_on_exit() calls this for a preemption-timer
 * exit or while L2 steps by TF).  A preemption-timer exit with an MTF exit
 * owed means the event is delivered: the handler's first instruction is
 * next, and L1 gets the MTF exit.  Any other exit while stepping: the step
 * trap is the MTF exit after L2's instruction; an exception of L2's own is
 * delivered to it.
 */
int nested_mtf_claims_exit(struct vm *vm, const struct exit_info *ei, enum exit_action *a)
{
	struct nested_vm *nv = vm->nested;
	if (ei->reason == EXIT_REASON_PREEMPTION_TIMER) {
		if (!nested_mtf_owed(nv))
			return 0;
		nested_mtf_owe(nv, 0);
		*a = mtf_exit(vm, 0, 0);
		return 1;
	}
	drop_stale_step_trap(nv);
	if (exit_is_step_trap(ei)) {
		nv->mtf.sti_dropped = 0; /* an instruction completed: whatever STI blocking there was is over */
		*a = reflect_step(vm, ei->qualification);
		return 1;
	}
	uint32_t info = own_exception(vm, ei);
	if (!info)
		return 0;
	*a = deliver_own_exception(vm, ei, info);
	return 1;
}

/*
 * Instructions of L2 this VMM may emulate itself (the exit table's
 * l0_completes column: port I/O and MSRs L1 lets through, control-register
 * accesses L1 does not own, VMREAD and VMWRITE served from L1's shadow
 * VMCS).  With L1's monitor trap flag on, the processor sees no instruction
 * complete there: the MTF exit it would give L1 is made up (as KVM does),
 * right away or after the event the emulation injected.
 */
enum exit_action nested_mtf_after_emulation(struct vm *vm, const struct exit_info *ei, enum exit_action a)
{
	struct nested_vm *nv = vm->nested;
	const struct exit_reason_row *row = exit_reason_row(ei->reason);
	if (a == EXIT_STOPPED || !vm_alive(vm) || !vm_in_l2(vm) || !row || !row->l0_completes ||
	    !(V12(nv->nvmx.cache, CPU_BASED_VM_EXEC_CONTROL) & CPU_MONITOR_TRAP_FLAG))
		return a;
	if (intr_info_valid(vmcs_read32(VMCS_VM_ENTRY_INTR_INFO_FIELD))) {
		/* The emulation injected an event (#GP): the MTF exit comes after its delivery. */
		nested_mtf_delivering(nv); /* when stepping by TF; the processor's own MTF does that by itself */
		return a;
	}
	return mtf_exit(vm, 0, 0);
}
