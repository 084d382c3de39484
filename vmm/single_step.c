/*
 * Single-stepping a VM's first instructions.
 *
 * With the monitor trap flag (SDM 26.5.2) an entry runs one instruction
 * and exits with reason 37.  Without it (Bochs's skylake model has none,
 * and its newer models accept the control but never exit) the VMM sets
 * RFLAGS.TF in the guest and intercepts #DB: the single-step trap after
 * the instruction exits as exception 1 with BS in the exit qualification
 * (SDM 28.2.1), before the guest sees it.  What the guest can tell, as
 * under any TF-based debugger: PUSHF shows TF set, and an event delivered
 * through its IDT runs its handler unstepped until IRET.  Instructions that
 * exit and are emulated by the VMM (a hypercall) are not steps with either
 * mechanism: the step ends after the next instruction the guest completes.
 * Before each entry the state is made one that steps and that the entry
 * checks accept (step_entry_state(), after step_drop_stale_bs() for what
 * Bochs 2.7 leaves pending at exits).
 */
#include "cpu.h"
#include "fmt.h"
#include "fnv1a.h"
#include "nestlab/records.h"
#include "platform.h"
#include "single_step.h"
#include "vmx_ops.h"
#include "vm_events.h"

struct step_entry vmcs_step_by_tf(int on)
{
	uint64_t rflags = vmcs_readnat(VMCS_GUEST_RFLAGS), pending = vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	struct step_entry e = step_entry_state(on ? rflags : rflags & ~RFLAGS_TF, step_drop_stale_bs(pending, intr),
					       intr, vmcs_read32(VMCS_GUEST_ACTIVITY_STATE),
					       vmcs_read64(VMCS_GUEST_IA32_DEBUGCTL), on);
	if (e.rflags != rflags)
		vmcs_writenat(VMCS_GUEST_RFLAGS, e.rflags);
	if (e.pending_dbg != pending)
		vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, e.pending_dbg);
	if (e.interruptibility != intr)
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, e.interruptibility);
	return e;
}

int exit_is_step_trap(const struct exit_info *ei)
{
	if (ei->reason != EXIT_REASON_EXCEPTION_NMI || !(ei->qualification & DBG_BS))
		return 0;
	/* Valid, hardware exception, vector 1: the trap after a completed instruction. */
	uint32_t info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO);
	return intr_info_valid(info) && intr_info_type(info) == INTR_TYPE_HW_EXCEPTION && intr_info_vector(info) == VECTOR_DB;
}

static void set_mtf(int on)
{
	uint32_t proc = vmcs_read32(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, on ? proc | CPU_MONITOR_TRAP_FLAG : proc & ~CPU_MONITOR_TRAP_FLAG);
}

void vm_step_begin(struct vm *vm, const struct vmx_caps *caps)
{
	vm->step = (struct vm_step){ .wanted = vm->desc->single_steps, .rip_hash = FNV1A_OFFSET };
	vm->step.left = vm->step.wanted;
	if (!vm->step.left)
		return;
	vm->step.by_tf = !vmx_caps_have_mtf(caps);
	if (vm->step.by_tf)
		vmcs_write32(VMCS_EXCEPTION_BITMAP, vmcs_read32(VMCS_EXCEPTION_BITMAP) | (1u << 1));
	else
		set_mtf(1);
}

void vm_step_arm(struct vm *vm)
{
	/* The guest may have cleared TF (POPF, IRET), and a child VMM's emulated VM exits load RFLAGS 0x2. */
	if (vm->step.by_tf)
		vmcs_step_by_tf(1);
}

/*
 * The last step by TF was an STI that set IF: Bochs shows no STI shadow at
 * the step trap (nested_mtf.c), so it is put back, now that TF is clear and
 * the entry checks allow it; else the interrupt the last step lets in could
 * go between the STI and the instruction it shields (a HLT).
 */
static void keep_sti_shadow(struct vm *vm, uint64_t stepped_rip)
{
	uint8_t op = 0;
	if ((vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) && vm_code_fetch(vm, stepped_rip, &op, 1) == 1 && op == 0xfb) {
		uint32_t intr = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, intr | INTERRUPTIBILITY_STI);
	}
}

static void step_taken(struct vm *vm)
{
	struct vm_step *s = &vm->step;
	uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP), now = rdtsc();
	uint64_t stepped_rip = s->steps ? s->last_rip : 0; /* the RIP the step began at: the one before */
	if (!s->steps) {
		s->first_rip = rip;
		s->first_tsc = now;
	}
	s->last_rip = rip;
	s->last_tsc = now;
	s->rip_hash = fnv1a_u64(s->rip_hash, rip);
	s->steps++;
	if (--s->left)
		return;
	if (s->by_tf) {
		vmcs_step_by_tf(0);
		if (s->steps > 1)
			keep_sti_shadow(vm, stepped_rip);
	} else {
		set_mtf(0);
	}
	vm_events_poke(vm); /* interrupts that waited for the stepping to end (vm_events.c) */
}

int vm_step_exit(struct vm *vm, const struct exit_info *ei)
{
	if (!vm_stepping(vm) || vm_in_l2(vm))
		return 0;
	if (ei->reason == EXIT_REASON_MONITOR_TRAP_FLAG && !vm->step.by_tf) {
		step_taken(vm);
		return 1;
	}
	if (vm->step.by_tf && exit_is_step_trap(ei)) {
		step_taken(vm);
		return 1;
	}
	return 0;
}

void vm_step_record(const struct vm *vm)
{
	const struct vm_step *s = &vm->step;
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	if (!s->wanted)
		return;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_SINGLE_STEP);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_u64(&w, "wanted", s->wanted);
	jsonw_u64(&w, "steps", s->steps);
	jsonw_str(&w, "mechanism", s->by_tf ? "rflags_tf" : "monitor_trap_flag");
	jsonw_hex(&w, "first_rip", s->first_rip);
	jsonw_hex(&w, "last_rip", s->last_rip);
	jsonw_hex(&w, "rip_hash", s->rip_hash);
	jsonw_bool(&w, "complete", s->steps == s->wanted); /* false: the VM stopped before its last step */
	/* What a step costs, the guest's instruction and every level's work included. */
	jsonw_u64(&w, "ticks_per_step", s->steps > 1 ? (s->last_tsc - s->first_tsc) / (s->steps - 1) : 0);
	rec_emit(&w);
}
