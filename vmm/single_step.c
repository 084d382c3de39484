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
 *
 * Bochs 2.7 saves a pending single-step trap (BS in the pending-debug-
 * exceptions field) at every VM exit of a guest with TF set, even one the
 * instruction caused before completing (VMCALL, an EPT violation); hardware
 * saves none there (SDM 27.3.4), and resuming with it would take a step at
 * once.  step_bs_for() keeps BS only where the entry checks demand it.
 */
#include "fmt.h"
#include "nestlab/records.h"
#include "platform.h"
#include "single_step.h"
#include "vmx_ops.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

static int has_mtf(const struct vmx_caps *caps)
{
	return (uint32_t)(caps->procbased >> 32) & CPU_MONITOR_TRAP_FLAG;
}

/*
 * TF set or cleared in the guest's RFLAGS (current VMCS), and the pending
 * BS bit as the entry checks tie it to TF: set while STI or MOV-SS
 * blocking is in force (SDM 26.3.1.5), else clear (step_bs_for()).
 */
static void set_tf(int on)
{
	uint64_t rflags = vmcs_readnat(VMCS_GUEST_RFLAGS);
	if (!!(rflags & RFLAGS_TF) != on)
		vmcs_writenat(VMCS_GUEST_RFLAGS, on ? rflags | RFLAGS_TF : rflags & ~RFLAGS_TF);
	uint64_t pending = vmcs_readnat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	uint64_t want = step_bs_for(pending, vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO), on);
	if (want != pending)
		vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, want);
}

static void set_mtf(int on)
{
	uint32_t proc = vmcs_read32(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, on ? proc | CPU_MONITOR_TRAP_FLAG : proc & ~CPU_MONITOR_TRAP_FLAG);
}

void vm_step_begin(struct vm *vm, const struct vmx_caps *caps)
{
	vm->step = (struct vm_step){ .wanted = vm->desc->single_steps, .rip_hash = FNV_OFFSET };
	vm->step.left = vm->step.wanted;
	if (!vm->step.left)
		return;
	vm->step.by_tf = !has_mtf(caps);
	if (vm->step.by_tf)
		vmcs_write32(VMCS_EXCEPTION_BITMAP, vmcs_read32(VMCS_EXCEPTION_BITMAP) | (1u << 1));
	else
		set_mtf(1);
}

void vm_step_arm(struct vm *vm)
{
	/* The guest may have cleared TF (POPF, IRET), and a child VMM's emulated VM exits load RFLAGS 0x2. */
	if (vm->step.by_tf)
		set_tf(1);
}

static void step_taken(struct vm *vm)
{
	struct vm_step *s = &vm->step;
	uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP);
	if (!s->steps)
		s->first_rip = rip;
	s->last_rip = rip;
	for (unsigned b = 0; b < 8; b++)
		s->rip_hash = (s->rip_hash ^ ((rip >> (8 * b)) & 0xff)) * FNV_PRIME;
	s->steps++;
	if (--s->left)
		return;
	if (s->by_tf)
		set_tf(0);
	else
		set_mtf(0);
}

int vm_step_exit(struct vm *vm, const struct exit_info *ei)
{
	if (!vm_stepping(vm) || vm->in_l2)
		return 0;
	if (ei->reason == EXIT_REASON_MONITOR_TRAP_FLAG && !vm->step.by_tf) {
		step_taken(vm);
		return 1;
	}
	if (ei->reason == EXIT_REASON_EXCEPTION_NMI && vm->step.by_tf && (ei->qualification & DBG_BS)) {
		uint32_t info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO);
		/* Valid, hardware exception, vector 1: the trap after a completed instruction. */
		if ((info & 0x800007ffu) == (0x80000000u | (3u << 8) | 1u)) {
			step_taken(vm);
			return 1;
		}
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
	jsonw_str(&w, "vm", vm->path);
	jsonw_u64(&w, "wanted", s->wanted);
	jsonw_u64(&w, "steps", s->steps);
	jsonw_str(&w, "mechanism", s->by_tf ? "rflags_tf" : "monitor_trap_flag");
	jsonw_hex(&w, "first_rip", s->first_rip);
	jsonw_hex(&w, "last_rip", s->last_rip);
	jsonw_hex(&w, "rip_hash", s->rip_hash);
	rec_emit(&w);
}
