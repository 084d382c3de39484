/*
 * The exit handlers and the dispatcher: the handler column of the exit
 * table (exit_table.h, rows in include/nestlab/vmx_exit_reasons.def).  An
 * exit without a handler is recorded and stops only the VM that caused it.
 */
#include "fmt.h"
#include "platform.h"
#include "cpu.h"
#include "nestlab/records.h"
#include "vmm.h"
#include "guest_state.h"
#include "exit_table.h"
#include "irq_lines.h"
#include "vmm_sched.h"
#include "nested_runtime.h"
#include "single_step.h"
#include "vmx_ops.h"
#include "vm_events.h"
#include "lapic_timer.h"
#include <string.h>

void vm_skip_instruction(struct vm *vm, const struct exit_info *ei)
{
	(void)vm;
	vmcs_writenat(VMCS_GUEST_RIP, vmcs_readnat(VMCS_GUEST_RIP) + ei->insn_len);
}

enum exit_action handle_vmcall(struct vm *vm, const struct exit_info *ei)
{
	vm_skip_instruction(vm, ei);
	return vmm_hypercall(vm);
}

/* CPUID: the real processor's answers, minus VMX, plus nestlab's hypervisor leaves. */
enum exit_action handle_cpuid(struct vm *vm, const struct exit_info *ei)
{
	uint32_t leaf = (uint32_t)vm->regs.rax, sub = (uint32_t)vm->regs.rcx;
	uint32_t a, b, c, d;
	if (leaf >= CPUID_HV_LEAF_BASE && leaf <= CPUID_HV_LEAF_BASE + 0xff) {
		a = b = c = d = 0;
		if (leaf == CPUID_HV_LEAF_BASE) {
			const char *sig = NL_CPUID_SIGNATURE;
			a = NL_CPUID_LEAF_INFO;
			memcpy(&b, sig, 4);
			memcpy(&c, sig + 4, 4);
			memcpy(&d, sig + 8, 4);
		} else if (leaf == NL_CPUID_LEAF_INFO) {
			a = platform_level(); /* the level of the VMM answering */
			b = vm->index;  /* the VM's index in its VMM's manifest */
		}
	} else {
		cpuid(leaf, sub, &a, &b, &c, &d);
		if (leaf == 1) {
			/* VMX only for a VM that is a VMM: it gets this VMM's virtual VMX (nested/). */
			if (!vm->nested)
				c &= ~CPUID_1_ECX_VMX;
			else
				c |= CPUID_1_ECX_VMX;
			c |= CPUID_1_ECX_HYPERVISOR;
			/* The VM's local APIC is the virtual one (vm_events.h): x2APIC and TSC deadline, its ID. */
			c |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
			d |= CPUID_1_EDX_APIC;
			b = (b & 0x00ffffffu) | ((vm->ev.lapic.cfg.apic_id & 0xffu) << 24);
		}
	}
	vm->regs.rax = a;
	vm->regs.rbx = b;
	vm->regs.rcx = c;
	vm->regs.rdx = d;
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

/*
 * HLT: the VM waits for an interrupt (vm_events.h).  An HLT of a child's
 * L2 that L1 does not intercept reaches here with L1's APIC not L2's to
 * wait on: it gives the CPU up for a turn.
 */
enum exit_action handle_hlt(struct vm *vm, const struct exit_info *ei)
{
	vm_skip_instruction(vm, ei);
	if (vm_in_l2(vm))
		vmm_sched_yield(vm);
	else
		vm_events_halt(vm);
	return EXIT_RESUME;
}

/* The NMI window this VMM asked for is open (vm_events.c, or for an L2 nested_interrupt.c): the guest's NMI handler returned. */
enum exit_action handle_nmi_window(struct vm *vm, const struct exit_info *ei)
{
	if (vm_in_l2(vm))
		return nested_l2_own_window_open(vm, ei, CPU_NMI_WINDOW_EXITING);
	vm_events_nmi_window_open(vm);
	return EXIT_RESUME;
}

/* The interrupt window this VMM asked for is open (vm_events.c, or for an L2 nested_interrupt.c). */
enum exit_action handle_interrupt_window(struct vm *vm, const struct exit_info *ei)
{
	if (vm_in_l2(vm))
		return nested_l2_own_window_open(vm, ei, CPU_INTR_WINDOW_EXITING);
	vm_events_window_open(vm);
	return EXIT_RESUME;
}

#define COM1_DATA 0x3f8
#define COM1_LSR  0x3fd
#define PORT_E9   0xe9

/*
 * Port I/O (qualification: SDM Table 28-5).  Bytes written to COM1 or port
 * 0xE9 are the guest's console; reading COM1's line status says "ready";
 * other reads see a floating bus (all ones) and writes are dropped.
 */
enum exit_action handle_io(struct vm *vm, const struct exit_info *ei)
{
	uint64_t q = ei->qualification;
	unsigned size = (unsigned)(q & 7) + 1;
	int in = (q >> 3) & 1, string = (q >> 4) & 1;
	uint16_t port = (uint16_t)(q >> 16);
	if (string)
		return vm_fault(vm, ei, "string port I/O is not emulated");
	if (in) {
		uint64_t val = port == COM1_LSR ? 0x60 : ~0ull;
		vm->regs.rax = gpr_after_load(vm->regs.rax, val, size);
	} else if (port == COM1_DATA || port == PORT_E9) {
		char ch = (char)vm->regs.rax;
		vm_console_put(vm, &ch, 1);
	}
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

enum exit_action handle_exception(struct vm *vm, const struct exit_info *ei)
{
	if (vm_step_exit(vm, ei))
		return EXIT_RESUME;
	return vm_fault(vm, ei, "exception");
}

enum exit_action handle_monitor_trap(struct vm *vm, const struct exit_info *ei)
{
	if (vm_step_exit(vm, ei))
		return EXIT_RESUME;
	return vm_fault(vm, ei, "monitor trap flag exit while not single-stepping");
}

enum exit_action handle_triple_fault(struct vm *vm, const struct exit_info *ei)
{
	return vm_fault(vm, ei, "triple fault");
}

enum exit_action handle_ept_violation(struct vm *vm, const struct exit_info *ei)
{
	/* The one device page a VM has: its local APIC in xAPIC mode (vm_events.c). */
	if (vm_events_xapic_access(vm, ei))
		return vm->state == VM_FAULTED ? EXIT_STOPPED : EXIT_RESUME;
	return vm_fault(vm, ei, "access outside the VM's memory");
}

enum exit_action handle_ept_misconfig(struct vm *vm, const struct exit_info *ei)
{
	return vm_fault(vm, ei, "EPT misconfiguration (a VMM bug)");
}

/*
 * A time this VMM registered with its timer multiplexer has come.  The
 * scheduler is told only when one of the VMM's own times came (a slice, the
 * deadline); the VM's own (its APIC timer) is the run loop's to deliver.
 */
enum exit_action handle_preemption_timer(struct vm *vm, const struct exit_info *ei)
{
	(void)ei;
	uint64_t now = rdtsc();
	vmm_timer_expired(vm, now);
	if (vmm_own_time_due(now))
		vmm_sched_preempt(vm);
	return EXIT_RESUME;
}

/*
 * An interrupt of this VMM's own while a guest ran: acknowledged on exit
 * (VMCS01 and VMCS02 ask for that), its vector in the exit's interruption
 * information: one of its interrupt lines (vmm/irq_lines.h), or its local
 * APIC timer, armed while it idles (lapic_timer_idle_until()), which is
 * retired while the run loop looks at time again.  L0 masks the PICs at
 * boot; the I/O APIC delivers only the lines the description drives.
 */
enum exit_action handle_external_interrupt(struct vm *vm, const struct exit_info *ei)
{
	(void)ei;
	uint32_t info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO);
	uint64_t now = rdtsc();
	lapic_timer_exit_interrupt(info); /* whichever it was, ended at the APIC */
	/* One of the VMM's interrupt lines: handled, and the VM goes on with its slice. */
	if (intr_info_valid(info) && irq_lines_exit_vector(intr_info_vector(info), now))
		return EXIT_RESUME;
	/* The idle timer's interrupt late, or a stray one: the turn ends only where the VMM's own time has come. */
	if (vmm_own_time_due(now))
		vmm_sched_preempt(vm);
	return EXIT_RESUME;
}

static enum exit_action handle_unexpected(struct vm *vm, const struct exit_info *ei)
{
	return vm_fault(vm, ei, "unexpected exit");
}

enum exit_action vmm_dispatch_exit(struct vm *vm, const struct exit_info *ei)
{
	const struct exit_reason_row *row = exit_reason_row(ei->reason);
	exit_handler_fn fn = row ? row->handler : 0;
	return (fn ? fn : handle_unexpected)(vm, ei);
}

void vmm_count_exit(struct vm *vm, uint32_t reason)
{
	vm->count.exits_total++;
	if (reason < EXIT_REASON_MAX)
		vm->count.exits[reason]++;
	else
		vm->count.exits_unknown++;
}

enum exit_action vmm_handle_exit(struct vm *vm, const struct exit_info *ei)
{
	vmm_count_exit(vm, ei->reason);
	return vmm_dispatch_exit(vm, ei);
}
