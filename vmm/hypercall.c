/*
 * The hypercall table (include/nestlab/hypercall.h).  Guest buffers are
 * checked against the VM's memory before a byte is read, and records are
 * checked to be one well-formed JSON object before the VMM forwards them
 * with the VM's path, so no guest can forge another level's records.  A
 * child VMM forwards whole record lines; their path must be its own or lie
 * below it, so it cannot speak for its parent or a sibling either.
 */
#include "irq_lines.h"
#include "json_check.h"
#include "nestlab/hypercall.h"
#include "nestlab/records.h"
#include "platform.h"
#include "record_path.h"
#include "vmm.h"
#include "vmm_sched.h"
#include "vmx_ops.h"
#include <string.h>

static int64_t hc_console_write(struct vm *vm)
{
	uint64_t gpa = vm->regs.rdi, len = vm->regs.rsi;
	if (len > NL_HC_MAX_TEXT)
		return NL_HC_EINVAL;
	if (!vm_gpa_range_ok(vm, gpa, len))
		return NL_HC_EFAULT;
	vm_console_put(vm, vm_gpa_ptr(vm, gpa), (unsigned)len);
	return NL_HC_OK;
}

/*
 * Copy the guest's buffer (RDI, RSI) into dst (cap - 1 bytes at most, then
 * NUL): checks are made on this copy, so what is written is what was
 * checked.  Returns its length, or a negative NL_HC_* result.
 */
static int64_t copy_guest_text(struct vm *vm, char *dst, uint64_t cap)
{
	uint64_t gpa = vm->regs.rdi, len = vm->regs.rsi;
	if (len == 0 || len >= cap)
		return NL_HC_EINVAL;
	if (!vm_gpa_range_ok(vm, gpa, len))
		return NL_HC_EFAULT;
	memcpy(dst, vm_gpa_ptr(vm, gpa), len);
	dst[len] = 0;
	return (int64_t)len;
}

static int64_t hc_emit_record(struct vm *vm)
{
	static const char *const reserved_keys[] = { "path", "tsc", 0 };
	char text[NL_HC_MAX_TEXT + 1];
	int64_t n = copy_guest_text(vm, text, sizeof text);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	if (json_check_object(text, len, reserved_keys))
		return NL_HC_EINVAL;
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, NL_KEY_PATH, vm->path);
	/* Splice the guest's members after the path: text is "{...}", maybe "{ }" with none. */
	size_t first = 1, last = len - 1;
	while (first < last && (text[first] == ' ' || text[first] == '\t'))
		first++;
	if (first < last)
		jsonw_raw_members(&w, text + first, last - first);
	const char *line = jsonw_end(&w);
	if (!line)
		return NL_HC_EINVAL;
	/* A record line, not console text: in a child VMM it travels up as a record. */
	platform_write_record_line(line, strlen(line));
	return NL_HC_OK;
}

/*
 * A record line from a child VMM, "path" included: up to NL_REC_MAX_LINE
 * bytes (a whole line, not just a guest's members), one JSON object whose
 * first member is the child's path or one below it.  Anything else is
 * refused whole: nothing of it is written.
 */
static int64_t hc_forward_record(struct vm *vm)
{
	/* Only a VMM forwards whole lines (its own records and its VMs'); a leaf emits members. */
	if (!vm->nested)
		return NL_HC_ENOSYS;
	char line[NL_REC_MAX_LINE + 1];
	int64_t n = copy_guest_text(vm, line, sizeof line);
	if (n < 0)
		return n;
	size_t len = (size_t)n;
	if (json_check_object(line, len, 0) || !record_path_allowed(line, len, vm->path))
		return NL_HC_EINVAL;
	platform_write_record_line(line, len);
	return NL_HC_OK;
}

static int64_t hc_nop(struct vm *vm)
{
	(void)vm;
	return NL_HC_OK;
}

static int64_t hc_yield(struct vm *vm)
{
	vmm_sched_yield(vm);
	return NL_HC_OK;
}

static int64_t hc_irq_setup(struct vm *vm)
{
	return irq_lines_hc_setup(vm, vm->regs.rdi, vm->regs.rsi, vm->regs.rdx);
}

static int64_t hc_irq_program(struct vm *vm)
{
	return irq_lines_hc_program(vm, vm->regs.rdi, vm->regs.rsi, vm->regs.rdx);
}

struct hypercall {
	const char *name;
	int64_t (*fn)(struct vm *vm);
	enum exit_action after; /* what the run loop does when fn returns */
};

static const struct hypercall hypercalls[NL_HC_COUNT] = {
	[NL_HC_CONSOLE_WRITE] = { "CONSOLE_WRITE", hc_console_write, EXIT_RESUME },
	[NL_HC_EMIT_RECORD] = { "EMIT_RECORD", hc_emit_record, EXIT_RESUME },
	[NL_HC_EXIT] = { "EXIT", 0, EXIT_STOPPED },
	[NL_HC_NOP] = { "NOP", hc_nop, EXIT_RESUME },
	[NL_HC_YIELD] = { "YIELD", hc_yield, EXIT_RESUME },
	[NL_HC_SET_TIMER] = { "SET_TIMER", 0, EXIT_RESUME },
	[NL_HC_SCHED_REPORT] = { "SCHED_REPORT", 0, EXIT_RESUME },
	[NL_HC_GET_MANIFEST] = { "GET_MANIFEST", 0, EXIT_RESUME },
	[NL_HC_FORWARD_RECORD] = { "FORWARD_RECORD", hc_forward_record, EXIT_RESUME },
	[NL_HC_IRQ_SETUP] = { "IRQ_SETUP", hc_irq_setup, EXIT_RESUME },
	[NL_HC_IRQ_PROGRAM] = { "IRQ_PROGRAM", hc_irq_program, EXIT_RESUME },
};

const char *hypercall_name(unsigned nr)
{
	return nr < NL_HC_COUNT ? hypercalls[nr].name : 0;
}

enum exit_action vmm_hypercall(struct vm *vm)
{
	uint64_t nr = vm->regs.rax;
	if (nr >= NL_HC_COUNT || !hypercalls[nr].name) {
		vm->regs.rax = (uint64_t)NL_HC_ENOSYS;
		return EXIT_RESUME;
	}
	vm->count.hypercalls[nr]++;
	if (nr == NL_HC_EXIT) {
		vm_stop(vm, VM_EXITED, (int64_t)vm->regs.rdi, "the guest called EXIT");
		return EXIT_STOPPED;
	}
	const struct hypercall *hc = &hypercalls[nr];
	vm->regs.rax = (uint64_t)(hc->fn ? hc->fn(vm) : NL_HC_ENOSYS);
	return hc->after;
}
