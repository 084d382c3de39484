/*
 * The VMM core's main loop: bring VMX up, build the manifest's VMs, share
 * the CPU among them through the level's scheduler (vmm_sched.h) on the
 * VMX-preemption timer until each has stopped or the experiment's duration
 * is spent, then report and shut down.
 */
#include "cpu.h"
#include "fmt.h"
#include "nestlab/records.h"
#include "platform.h"
#include "vm_build.h"
#include "vmcs_setup.h"
#include "vmm.h"
#include "exit_table.h"
#include "vmm_sched.h"
#include "vmx_ops.h"
#include "nested_runtime.h"
#include "single_step.h"
#include "vm_events.h"
#include "lapic_timer.h"
#include "serial.h"
#include "irq_lines.h"
#include <string.h>

_Static_assert(VMCS_HOST_RSP == 0x6c14, "vmx_entry.S hard-codes the HOST_RSP encoding");
_Static_assert(__builtin_offsetof(struct guest_regs, rdi) == 40 &&
		       __builtin_offsetof(struct guest_regs, r15) == 112,
	       "vmx_entry.S hard-codes struct guest_regs offsets");

int vmx_run(struct guest_regs *regs, int launched, uint64_t *host_rsp);
uint64_t nl_compute_loop(uint64_t iterations, uint64_t seed);

/* The current VMCS's exit qualification, or 0 without a VMREAD where the SDM says it is cleared. */
static inline uint64_t exit_qualification(uint32_t basic_reason)
{
	const struct exit_reason_row *row = exit_reason_row(basic_reason);
	if (row && !row->has_qualification)
		return 0;
	return vmcs_readnat(VMCS_EXIT_QUALIFICATION);
}

static struct vm vms[NL_MAX_VMS];
static unsigned vm_count;
static struct vmx_caps caps;
const struct vmx_caps *vmm_caps = &caps;

void vmcs_width_fault(uint32_t field, enum vmcs_width used)
{
	char reason[128];
	nl_snprintf(reason, sizeof reason, "VMM bug: VMCS field 0x%x (%s) accessed at width %d", field,
		    vmcs_field_name(field) ? vmcs_field_name(field) : "?", (int)used);
	platform_finish(0, reason);
}

void vmcs_access_fault(uint32_t field, int is_write, enum vmx_result r)
{
	char reason[160];
	uint64_t err = 0;
	if (r == VMX_FAIL_VALID)
		vmx_vmread(VMCS_VM_INSTRUCTION_ERROR, &err);
	nl_snprintf(reason, sizeof reason, "VMM bug: %s of VMCS field 0x%x (%s) failed (%s, error %llu)",
		    is_write ? "VMWRITE" : "VMREAD", field, vmcs_field_name(field) ? vmcs_field_name(field) : "?",
		    r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid", (unsigned long long)err);
	platform_finish(0, reason);
}

static void record_vm_start(const struct vm *vm)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VM_START);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_str(&w, "image", vm->desc->image);
	jsonw_u64(&w, "memory_bytes", vm->mem_bytes);
	jsonw_hex(&w, "memory_hpa", vm->mem_hpa);
	jsonw_hex(&w, "eptp", vm->eptp);
	jsonw_u64(&w, "vpid", vm->vpid);
	jsonw_hex(&w, "entry", vmcs_readnat(VMCS_GUEST_RIP));
	rec_emit(&w);
}

static void record_exits(const struct vm *vm)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_EXITS);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_u64(&w, NL_KEY_TOTAL, vm->count.exits_total);
	jsonw_u64(&w, "entries", vm->count.entries);
	jsonw_obj_begin(&w, NL_KEY_BY_REASON);
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
		if (vm->count.exits[r])
			jsonw_u64(&w, vmx_exit_reason_name(r) ? vmx_exit_reason_name(r) : "UNNAMED", vm->count.exits[r]);
	if (vm->count.exits_unknown)
		jsonw_u64(&w, "UNKNOWN", vm->count.exits_unknown);
	jsonw_obj_end(&w);
	jsonw_obj_begin(&w, "hypercalls");
	for (unsigned h = 0; h < NL_HC_COUNT; h++)
		if (vm->count.hypercalls[h])
			jsonw_u64(&w, hypercall_name(h), vm->count.hypercalls[h]);
	jsonw_obj_end(&w);
	rec_emit(&w);
}

/* The bench's baseline: the leaf's compute loop run by L0 itself, outside any VM. */
static void bench_native_loop(const struct nl_manifest_view *m)
{
	if (!m->hdr->vm_count)
		return;
	uint64_t iters = m->vms[0].workload.iterations, seed = m->hdr->seed;
	uint64_t t0 = rdtsc();
	uint64_t sum = nl_compute_loop(iters, seed);
	uint64_t ticks = rdtsc() - t0;
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_BENCH);
	jsonw_str(&w, "what", "native_compute");
	jsonw_u64(&w, "iterations", iters);
	jsonw_u64(&w, "ticks", ticks);
	jsonw_hex(&w, "checksum", sum);
	rec_emit(&w);
}

static void enter_failed(struct vm *vm, int rc)
{
	char reason[160];
	if (rc == VMX_FAIL_VALID) {
		uint32_t err = vmcs_read32(VMCS_VM_INSTRUCTION_ERROR);
		nl_snprintf(reason, sizeof reason, "%s failed: VM-instruction error %u",
			    vm->vmcs01.launched ? "VMRESUME" : "VMLAUNCH", err);
	} else {
		nl_snprintf(reason, sizeof reason, "%s failed: VMfailInvalid",
			    vm->vmcs01.launched ? "VMRESUME" : "VMLAUNCH");
	}
	vm_stop(vm, VM_FAILED, -1, reason);
}

/* An exit with bit 31 set: the processor refused the guest state (SDM 26.8). */
static enum exit_action entry_failure_exit(struct vm *vm, uint32_t raw_reason, const struct exit_info *ei)
{
	char reason[160];
	const char *name = vmx_exit_reason_name(ei->reason);
	nl_snprintf(reason, sizeof reason, "VM-entry failure: %s, qualification %llu", name ? name : "?",
		    (unsigned long long)vmcs_readnat(VMCS_EXIT_QUALIFICATION));
	(void)raw_reason;
	vm_stop(vm, VM_FAILED, -1, reason);
	return EXIT_STOPPED;
}

const struct vmcs_ctx_ops vmm_vmcs01_ops = {
	.exit = vmm_handle_exit,
	.entry_failure = entry_failure_exit,
	.vmfail = enter_failed,
	.runs_l2 = 0,
};

/* Buffered output needs the CPU at: the run loop pumps it on TIMER_OUTPUT. */
static void output_due(uint64_t at)
{
	vmm_timer_set(TIMER_OUTPUT, 0, at);
}

uint64_t vmm_run_deadline(void)
{
	return vmm_timer_get(TIMER_RUN_DEADLINE, 0);
}

static uint64_t run_start;

uint64_t vmm_run_start(void)
{
	return run_start;
}

/* The experiment's duration is spent: every VM still alive stops as timed out. */
static void stop_at_deadline(void)
{
	for (unsigned i = 0; i < vm_count; i++)
		if (vm_alive(&vms[i]))
			vm_stop(&vms[i], VM_TIMEOUT, -1, "the experiment's duration ran out");
}

/*
 * Nothing runnable, something blocked: wait for the next time that matters
 * (the scheduler's next event, which a blocked VM's wake-up is, or the
 * deadline), halted with the local APIC timer armed where there is one.
 */
static void idle_until_next_event(void)
{
	uint64_t t0 = rdtsc();
	lapic_timer_idle_until(vmm_timer_earliest_own());
	uint64_t now = rdtsc();
	vmm_sched.sched.counts.idle_ticks += now - t0;
	irq_lines_after_idle(now); /* a line's interrupt may have ended the halt */
}

/* Phase 2: the VM's context made current, stepping armed, and the timer set from the multiplexer alone. */
static void prepare_entry(struct vm *vm, struct vmcs_ctx *ctx, uint64_t now)
{
	vmcs_load(ctx->hpa);
	if (!ctx->ops->runs_l2 && vm_stepping(vm))
		vm_step_arm(vm);
	uint64_t until = vmm_timer_earliest(vm);
	uint64_t timer = until > now ? (until - now) >> caps.preempt_rate : 0;
	vmcs_write32(VMCS_VMX_PREEMPTION_TIMER_VALUE, timer > 0xffffffffull ? 0xffffffffu : (uint32_t)timer);
}

/* Phase 4: the exit read once and handed to what the context it came from makes of it. */
static void dispatch_exit(struct vm *vm, const struct vmcs_ctx_ops *ops, uint32_t raw)
{
	struct exit_info ei = {
		.reason = EXIT_REASON_BASIC(raw),
		.qualification = exit_qualification(EXIT_REASON_BASIC(raw)),
		.insn_len = vmcs_read32(VMCS_VM_EXIT_INSTRUCTION_LEN),
	};
	if (raw & EXIT_REASON_ENTRY_FAIL)
		ops->entry_failure(vm, raw, &ei);
	else
		ops->exit(vm, &ei);
}

/*
 * The run loop, in four phases: pick (the scheduler), prepare the entry,
 * enter, dispatch the exit.  Handlers tell the scheduler what a VM needs;
 * the loop asks it again at every turn, which costs one compare while the
 * choice stands.
 */
static void run_vms(void)
{
	for (;;) {
		uint64_t now = rdtsc();
		/* One compare while none of the VMM's own times has come (the scheduler's is pick's). */
		if (__builtin_expect(now >= vmm_timer_earliest_own(), 0)) {
			if (vmm_run_deadline_passed(now)) {
				stop_at_deadline();
				return;
			}
			if (vmm_timer_due(TIMER_OUTPUT, 0, now))
				vmm_timer_set(TIMER_OUTPUT, 0, serial_pump(now));
			if (vmm_timer_due(TIMER_IRQ, 0, now))
				irq_lines_run(now);
		}
		struct vm *vm = vmm_sched_pick(now);
		if (!vm) {
			if (!vmm_sched_any_alive())
				return;
			idle_until_next_event();
			continue;
		}
		vm_events_before_entry(vm, now); /* may end its L2's run: an interrupt for L1 */
		struct vmcs_ctx *ctx = vm->vmcs; /* the exit may change vm->vmcs (an emulated entry or exit) */
		const struct vmcs_ctx_ops *ops = ctx->ops;
		prepare_entry(vm, ctx, now);
		int rc = vmx_run(&vm->regs, ctx->launched, &ctx->host_rsp);
		if (rc) {
			ops->vmfail(vm, rc);
			continue;
		}
		uint32_t raw = vmcs_read32(VMCS_VM_EXIT_REASON);
		/* A VM-entry failure leaves the VMCS clear: the next entry must be a VMLAUNCH (SDM 26.8). */
		if (!(raw & EXIT_REASON_ENTRY_FAIL))
			ctx->launched = 1;
		vm->count.entries++;
		dispatch_exit(vm, ops, raw);
	}
}

static __attribute__((noreturn)) void vmx_unavailable(const char *why)
{
	char buf[NL_REC_MAX_LINE], reason[200];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VMX_UNAVAILABLE);
	jsonw_str(&w, NL_KEY_REASON, why);
	rec_emit(&w);
	nl_snprintf(reason, sizeof reason, "VMX unavailable: %s", why);
	platform_finish(0, reason);
}

void vmm_main(const struct nl_manifest_view *m)
{
	const char *why;
	char reason[200];

	if (!vmx_available(&why))
		vmx_unavailable(why);
	vmx_read_caps(&caps);
	vmx_caps_record(&caps); /* what the processor says it has */
	if (m->hdr->flags & NL_MF_MTF_UNRELIABLE)
		caps.procbased &= ~((uint64_t)CPU_MONITOR_TRAP_FLAG << 32); /* step with RFLAGS.TF (single_step.c) */
	/* nestlab needs EPT to give every VM memory of its own; shadow paging is issue #3's. */
	if (!caps.has_ept)
		vmx_unavailable("the processor offers no 4-level write-back EPT");
	if (vmx_turn_on(&caps, &why)) {
		nl_snprintf(reason, sizeof reason, "cannot enter VMX operation: %s", why);
		platform_finish(0, reason);
	}
	if (m->hdr->flags & NL_MF_BENCH_NATIVE_LOOP)
		bench_native_loop(m);
	/* L0's clock starts now; a child VMM's deadline was set by its parent (manifest.h). */
	run_start = m->hdr->start_tsc ? m->hdr->start_tsc : rdtsc();
	vmm_timers_start(m->hdr->deadline_tsc ? m->hdr->deadline_tsc : run_start + m->hdr->duration_ms * m->hdr->tsc_khz);
	/* From here output goes out off the guests' time (l0/serial.c; a child's goes up by hypercall). */
	serial_buffer_start(m->hdr->tsc_khz, output_due);

	uint16_t next_vpid = 1;
	vm_count = 0;
	for (unsigned i = 0; i < m->hdr->vm_count; i++) {
		/* Only this VMM's own VMs: deeper ones belong to a child VMM, built from its sub-manifest. */
		if (m->vms[i].parent != -1)
			continue;
		struct vm *vm = &vms[vm_count++];
		int want_vpid = (m->vms[i].features & NL_FEAT_VPID) && caps.has_vpid;
		if (vm_build(vm, m, i, &caps, want_vpid ? next_vpid : 0, &why)) {
			vm_stop(vm, VM_FAILED, -1, why);
			continue;
		}
		if (want_vpid)
			next_vpid++;
		if (m->vms[i].kind == NL_VM_VMM && nested_vm_init(vm, &caps, &why)) {
			vm_stop(vm, VM_FAILED, -1, why);
			continue;
		}
		vm_step_begin(vm, &caps);
		record_vm_start(vm);
	}

	if (vmm_sched_start(m, vms, vm_count, &why)) {
		nl_snprintf(reason, sizeof reason, "cannot schedule: %s", why);
		platform_finish(0, reason);
	}
	if (irq_lines_start(m, vms, vm_count, &why)) {
		nl_snprintf(reason, sizeof reason, "cannot start the interrupt lines: %s", why);
		platform_finish(0, reason);
	}
	run_vms();
	vmm_sched_record();
	irq_lines_record();

	int all_ok = 1;
	const struct vm *first_bad = 0;
	for (unsigned i = 0; i < vm_count; i++) {
		record_exits(&vms[i]);
		vm_events_record(&vms[i]);
		vm_step_record(&vms[i]);
		if (vms[i].nested)
			nested_record_counters(&vms[i]);
		if (vms[i].state != VM_EXITED || vms[i].exit_status != 0) {
			all_ok = 0;
			if (!first_bad)
				first_bad = &vms[i];
		}
	}
	if (all_ok)
		platform_finish(1, "every VM exited with status 0");
	nl_snprintf(reason, sizeof reason, "%s %s: %s", first_bad->path, vm_state_name(first_bad->state),
		    first_bad->stop_reason);
	platform_finish(0, reason);
}
