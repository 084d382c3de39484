/* A VM's end, its faults and its console: the records a VMM writes about its VMs. */
#include "fmt.h"
#include "nestlab/records.h"
#include "platform.h"
#include "vmm.h"
#include "vmm_sched.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"
#include "x86.h"
#include <string.h>

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_RUNNABLE: return "running";
	case VM_BLOCKED: return "blocked";
	case VM_EXITED: return NL_VM_STATE_EXITED;
	case VM_FAULTED: return NL_VM_STATE_FAULTED;
	case VM_TIMEOUT: return NL_VM_STATE_TIMEOUT;
	case VM_FAILED: return NL_VM_STATE_FAILED;
	}
	return "unknown";
}

static void console_flush(struct vm *vm)
{
	if (!vm->console_len)
		return;
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, vm->path, NL_REC_CONSOLE);
	jsonw_strn(&w, NL_KEY_TEXT, vm->console, vm->console_len);
	rec_emit(&w);
	vm->console_len = 0;
}

void vm_console_put(struct vm *vm, const char *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (s[i] == '\n') {
			console_flush(vm);
			continue;
		}
		if (s[i] == '\r')
			continue;
		if (vm->console_len == sizeof vm->console)
			console_flush(vm); /* an over-long line continues in the next record */
		/*
		 * Console text is ASCII: a byte above 0x7f becomes '?', so a line cut
		 * anywhere, or a guest's invalid UTF-8, still makes a record the host
		 * parses (records must be valid UTF-8 JSON).
		 */
		vm->console[vm->console_len++] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	}
}

void vm_stop(struct vm *vm, enum vm_state state, int64_t status, const char *reason)
{
	console_flush(vm);
	vmm_sched_removed(vm);
	if (vm->vmcs)
		vm->vmcs = &vm->vmcs01; /* stopped in L2 or not, nothing enters it again; VMCS01 is what is cleared */
	vm->state = state;
	vm->exit_status = status;
	nl_snprintf(vm->stop_reason, sizeof vm->stop_reason, "%s", reason);
	if (vm->vmcs01.hpa)
		vmcs_clear(vm->vmcs01.hpa); /* never entered again */

	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VM_STOP);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_str(&w, NL_KEY_STATE, vm_state_name(state));
	jsonw_i64(&w, NL_KEY_EXIT_STATUS, status);
	jsonw_str(&w, NL_KEY_REASON, reason);
	rec_emit(&w);
}


enum exit_action vm_fault(struct vm *vm, const struct exit_info *ei, const char *what)
{
	char buf[NL_REC_MAX_LINE], reason[160];
	struct jsonw w;
	const char *rname = vmx_exit_reason_name(ei->reason);
	uint64_t rip = vmcs_readnat(VMCS_GUEST_RIP);

	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VM_FAULT);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_str(&w, "exit_reason", rname ? rname : "UNKNOWN");
	jsonw_u64(&w, "exit_reason_number", ei->reason);
	jsonw_str(&w, "what", what);
	jsonw_hex(&w, "rip", rip);
	jsonw_hex(&w, "qualification", ei->qualification);

	if (ei->reason == EXIT_REASON_EPT_VIOLATION || ei->reason == EXIT_REASON_EPT_MISCONFIG) {
		uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
		const char *access = (ei->qualification & EPT_QUAL_WRITE) ? "write"
				   : (ei->qualification & EPT_QUAL_FETCH) ? "fetch" : "read";
		jsonw_hex(&w, "gpa", gpa);
		jsonw_str(&w, "access", access);
		if (ei->qualification & EPT_QUAL_GLA_VALID)
			jsonw_hex(&w, "gla", vmcs_readnat(VMCS_GUEST_LINEAR_ADDRESS));
		nl_snprintf(reason, sizeof reason, "%s: %s of guest-physical 0x%llx at rip 0x%llx", what,
			    access, (unsigned long long)gpa, (unsigned long long)rip);
	} else if (ei->reason == EXIT_REASON_EXCEPTION_NMI) {
		uint32_t info = vmcs_read32(VMCS_VM_EXIT_INTR_INFO);
		unsigned vector = intr_info_vector(info);
		const char *vname = x86_exception_mnemonic(vector);
		jsonw_u64(&w, "vector", vector);
		jsonw_str(&w, "exception", vname);
		if (intr_info_has_error_code(info))
			jsonw_hex(&w, "error_code", vmcs_read32(VMCS_VM_EXIT_INTR_ERROR_CODE));
		nl_snprintf(reason, sizeof reason, "exception %s at rip 0x%llx", vname, (unsigned long long)rip);
	} else {
		nl_snprintf(reason, sizeof reason, "%s (%s) at rip 0x%llx", what, rname ? rname : "UNKNOWN",
			    (unsigned long long)rip);
	}
	rec_emit(&w);
	vm_stop(vm, VM_FAULTED, -1, reason);
	return EXIT_STOPPED;
}
