/* The VMM core's internal interface: exits, hypercalls, VM life cycle. */
#ifndef NESTLAB_VMM_VMM_H
#define NESTLAB_VMM_VMM_H

#include "vm.h"
#include "vmx_caps.h"

/* What the run loop does after an exit handler. */
enum exit_action {
	EXIT_RESUME,     /* go on: the scheduler (vmm_sched.h) decides who runs next */
	EXIT_STOPPED,    /* the handler stopped the VM */
};

/* Exit information read once per exit, shared by all handlers. */
struct exit_info {
	uint32_t reason;       /* basic exit reason */
	uint64_t qualification;
	uint32_t insn_len;
};

typedef enum exit_action (*exit_handler_fn)(struct vm *vm, const struct exit_info *ei);

/* Dispatch one exit through the handler table; counts it first. */
enum exit_action vmm_handle_exit(struct vm *vm, const struct exit_info *ei);
/* The two halves: count an exit of the VM (its own or its L2's), and run the table's handler. */
void vmm_count_exit(struct vm *vm, uint32_t reason);
enum exit_action vmm_dispatch_exit(struct vm *vm, const struct exit_info *ei);
/* The hypercall table behind the VMCALL exit handler. */
enum exit_action vmm_hypercall(struct vm *vm);
const char *hypercall_name(unsigned nr);

/* The exit handlers the exit table names (exit_table.h): vmm/exits.c's, */
enum exit_action handle_exception(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_external_interrupt(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_triple_fault(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_cpuid(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_hlt(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_vmcall(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_io(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_monitor_trap(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_ept_violation(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_ept_misconfig(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_preemption_timer(struct vm *vm, const struct exit_info *ei);
/* and the MSR and control-register exits (vmm/msr_cr.c). */
enum exit_action handle_rdmsr(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_wrmsr(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_cr_access(struct vm *vm, const struct exit_info *ei);

/* Skip the instruction that caused the exit. */
void vm_skip_instruction(struct vm *vm, const struct exit_info *ei);

/* Stop a VM: records vm_stop, flushes its console line, clears its VMCS. */
void vm_stop(struct vm *vm, enum vm_state state, int64_t status, const char *reason);
/* Record a fatal act of the guest (vm_fault) and stop it as faulted. */
enum exit_action vm_fault(struct vm *vm, const struct exit_info *ei, const char *what);

/* Append guest console text; complete lines become console records. */
void vm_console_put(struct vm *vm, const char *s, unsigned n);

extern const struct vmx_caps *vmm_caps;

/* The TSC value at which this VMM stops every VM still running (the experiment's duration). */
uint64_t vmm_run_deadline(void);

#endif
