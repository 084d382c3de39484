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

/* What a VMCS context's events mean (vm.h: struct vmcs_ctx). */
struct vmcs_ctx_ops {
	exit_handler_fn exit;                                   /* a VM exit */
	enum exit_action (*entry_failure)(struct vm *vm, uint32_t raw_reason, const struct exit_info *ei);
	void (*vmfail)(struct vm *vm, int rc);                  /* VMLAUNCH/VMRESUME did not enter at all */
	int runs_l2;                                            /* a child VMM's L2, on a VMCS02 of this VMM */
};
/* A VM's own VMCS: its exits through the exit table (vmm_main.c). */
extern const struct vmcs_ctx_ops vmm_vmcs01_ops;

/* Its L2 runs: the context it is entered in is the VMCS02 of a child VMM's guest. */
static inline int vm_in_l2(const struct vm *vm)
{
	return vm->vmcs->ops->runs_l2;
}

/*
 * Whether hpa is the current VMCS, for the functions whose VMREADs and
 * VMWRITEs must reach one particular VMCS: a VMM bug stops the run rather
 * than write another VM's state (vmcs_setup.c keeps track of VMPTRLD).
 */
extern uint64_t vmcs_loaded_hpa; /* vmcs_setup.c: the current VMCS as this VMM's VMPTRLDs left it; 0 = none */
void vmcs_not_current(uint64_t hpa, const char *where) __attribute__((noreturn, cold));
static inline void vmcs_must_be_current(uint64_t hpa, const char *where)
{
	if (__builtin_expect(vmcs_loaded_hpa != hpa, 0))
		vmcs_not_current(hpa, where);
}

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
enum exit_action handle_interrupt_window(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_nmi_window(struct vm *vm, const struct exit_info *ei);
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
/* The TSC at which L0's run began (L0's own start; a child's parent tells it): route times count from it. */
uint64_t vmm_run_start(void);

#endif
