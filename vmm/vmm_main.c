/*
 * The VMM core's main loop: bring VMX up, build the manifest's VMs, share
 * the CPU among them round-robin on the VMX-preemption timer until each has
 * stopped or the experiment's duration is spent, then report and shut down.
 */
#include "cpu.h"
#include "fmt.h"
#include "nestlab/records.h"
#include "platform.h"
#include "rr.h"
#include "vm_build.h"
#include "vmcs_setup.h"
#include "vmm.h"
#include "vmx_ops.h"
#include "nested_runtime.h"
#include "single_step.h"
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
	if (basic_reason < EXIT_REASON_MAX && !vmm_exit_has_qualification[basic_reason])
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
	jsonw_str(&w, "vm", vm->path);
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
	jsonw_str(&w, "vm", vm->path);
	jsonw_u64(&w, "total", vm->count.exits_total);
	jsonw_u64(&w, "entries", vm->count.entries);
	jsonw_obj_begin(&w, "by_reason");
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

static int vm_runnable(unsigned idx, void *ctx)
{
	(void)ctx;
	return vms[idx].state == VM_RUNNABLE;
}

static unsigned runnable_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < vm_count; i++)
		n += vms[i].state == VM_RUNNABLE;
	return n;
}

static void enter_failed(struct vm *vm, int rc)
{
	char reason[160];
	if (rc == VMX_FAIL_VALID) {
		uint32_t err = vmcs_read32(VMCS_VM_INSTRUCTION_ERROR);
		nl_snprintf(reason, sizeof reason, "%s failed: VM-instruction error %u",
			    vm->launched ? "VMRESUME" : "VMLAUNCH", err);
	} else {
		nl_snprintf(reason, sizeof reason, "%s failed: VMfailInvalid", vm->launched ? "VMRESUME" : "VMLAUNCH");
	}
	vm_stop(vm, VM_FAILED, -1, reason);
}

/* An exit with bit 31 set: the processor refused the guest state (SDM 26.8). */
static void entry_failure_exit(struct vm *vm, uint32_t raw_reason)
{
	char reason[160];
	uint32_t basic = EXIT_REASON_BASIC(raw_reason);
	const char *name = vmx_exit_reason_name(basic);
	nl_snprintf(reason, sizeof reason, "VM-entry failure: %s, qualification %llu", name ? name : "?",
		    (unsigned long long)vmcs_readnat(VMCS_EXIT_QUALIFICATION));
	vm_stop(vm, VM_FAILED, -1, reason);
}

static uint64_t run_deadline;

uint64_t vmm_run_deadline(void)
{
	return run_deadline;
}

static void run_vms(const struct nl_manifest_view *m)
{
	struct rr_sched rr;
	uint64_t tsc_khz = m->hdr->tsc_khz;
	uint64_t quantum = m->hdr->quantum_us * tsc_khz / 1000;
	uint64_t deadline = run_deadline;
	struct vm *cur = 0;
	uint64_t slice_end = 0;

	if (!quantum)
		quantum = 1;
	rr_init(&rr, vm_count);
	for (;;) {
		uint64_t now = rdtsc();
		if (now >= deadline) {
			for (unsigned i = 0; i < vm_count; i++)
				if (vms[i].state == VM_RUNNABLE)
					vm_stop(&vms[i], VM_TIMEOUT, -1, "the experiment's duration ran out");
			return;
		}
		if (!cur || cur->state != VM_RUNNABLE || now >= slice_end) {
			int next = rr_next(&rr, vm_runnable, 0);
			if (next < 0)
				return;
			cur = &vms[next];
			/* Alone on the CPU, a VM is preempted only by the deadline: a slice would buy nothing. */
			slice_end = runnable_count() > 1 ? now + quantum : deadline;
		}
		/* An L2 runs on this VMM's VMCS02 for it; everything else on the VM's own VMCS. */
		int in_l2 = cur->in_l2;
		uint64_t vmcs = in_l2 ? nested_vmcs02(cur) : cur->vmcs_hpa;
		int *launched = in_l2 ? nested_vmcs02_launched(cur) : &cur->launched;
		uint64_t *host_rsp = in_l2 ? nested_vmcs02_host_rsp(cur) : &cur->host_rsp;
		vmcs_load(vmcs);
		if (!in_l2 && vm_stepping(cur))
			vm_step_arm(cur);

		uint64_t until = slice_end < deadline ? slice_end : deadline;
		uint64_t l1_timer = in_l2 ? nested_l2_exit_deadline(cur) : 0;
		if (l1_timer && l1_timer < until)
			until = l1_timer > now ? l1_timer : now;
		uint64_t timer = (until - now) >> caps.preempt_rate;
		vmcs_write32(VMCS_VMX_PREEMPTION_TIMER_VALUE, timer > 0xffffffffull ? 0xffffffffu : (uint32_t)timer);

		int rc = vmx_run(&cur->regs, *launched, host_rsp);
		if (rc) {
			if (in_l2)
				nested_vmcs02_entry_failed(cur, rc);
			else
				enter_failed(cur, rc);
			continue;
		}
		uint32_t raw = vmcs_read32(VMCS_VM_EXIT_REASON);
		/* A VM-entry failure leaves the VMCS clear: the next entry must be a VMLAUNCH (SDM 26.8). */
		if (!(raw & EXIT_REASON_ENTRY_FAIL))
			*launched = 1;
		cur->count.entries++;
		struct exit_info ei = {
			.reason = EXIT_REASON_BASIC(raw),
			.qualification = exit_qualification(EXIT_REASON_BASIC(raw)),
			.insn_len = vmcs_read32(VMCS_VM_EXIT_INSTRUCTION_LEN),
		};
		enum exit_action action;
		if (in_l2) {
			action = nested_l2_exit(cur, raw, &ei);
		} else if (raw & EXIT_REASON_ENTRY_FAIL) {
			entry_failure_exit(cur, raw);
			continue;
		} else {
			action = vmm_handle_exit(cur, &ei);
		}
		if (action == EXIT_RESCHEDULE)
			slice_end = 0;
	}
}

static __attribute__((noreturn)) void vmx_unavailable(const char *why)
{
	char buf[NL_REC_MAX_LINE], reason[200];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VMX_UNAVAILABLE);
	jsonw_str(&w, "reason", why);
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
	run_deadline = m->hdr->deadline_tsc ? m->hdr->deadline_tsc : rdtsc() + m->hdr->duration_ms * m->hdr->tsc_khz;

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

	run_vms(m);

	int all_ok = 1;
	const struct vm *first_bad = 0;
	for (unsigned i = 0; i < vm_count; i++) {
		record_exits(&vms[i]);
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
