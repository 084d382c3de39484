/*
 * The leaf guest kernel: checks what its VMM handed it, announces itself,
 * runs the workload phases in order, reports, and exits through the
 * hypercall ABI with a status that says whether every check passed.
 *
 * Bare metal with interrupts off and no exception handlers: any exception
 * here becomes a triple fault, which the VMM records, so the code avoids
 * anything that could fault except the deliberately hostile touch_addr
 * phase.  Interrupts come only in the wake-up phase (wakeup.h), through an
 * IDT with the timer's gate.
 */
#include <stdint.h>

#include "emit.h"
#include "exit_status.h"
#include "hypercall.h"
#include "nestlab/guest_boot.h"
#include "nestlab/records.h"
#include "nestlab/vmx.h"
#include "phases.h"
#include "tsc.h"
#include "wakeup.h"
#include "lines.h"

__attribute__((noreturn)) void leaf_main(const struct nl_guest_boot *boot);

/*
 * The pointer comes from the VMM in RDI.  Reading it is safe only inside
 * the identity map; anything else would fault before the magic check
 * could say what went wrong.
 */
static void check_boot(const struct nl_guest_boot *boot)
{
	uint64_t at = (uint64_t)(uintptr_t)boot;

	if (at == 0 || at % 8 != 0 || at > NL_GUEST_MAP_LIMIT - sizeof *boot) {
		console_printf("leaf: boot info pointer 0x%llx is unusable\n", (unsigned long long)at);
		hc_exit(LEAF_EXIT_BAD_BOOT_PTR);
	}
	if (boot->magic != NL_GUEST_BOOT_MAGIC) {
		console_printf("leaf: boot info magic 0x%llx, expected 0x%llx\n",
			       (unsigned long long)boot->magic, (unsigned long long)NL_GUEST_BOOT_MAGIC);
		hc_exit(LEAF_EXIT_BAD_MAGIC);
	}
	if (boot->version != NL_GUEST_BOOT_VERSION) {
		console_printf("leaf: boot info version %u, expected %u\n", boot->version,
			       NL_GUEST_BOOT_VERSION);
		hc_exit(LEAF_EXIT_BAD_VERSION);
	}
}

/* The VM's name, NUL-terminated even if the VMM's copy is not. */
static void copy_name(char out[NL_NAME_MAX], const struct nl_guest_boot *boot)
{
	unsigned i;

	for (i = 0; i < NL_NAME_MAX - 1 && boot->name[i] != '\0'; i++)
		out[i] = boot->name[i];
	out[i] = '\0';
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/*
 * What the processor says about the VMM beneath: the hypervisor bit, the
 * signature of leaf 0x40000000 and nestlab's level leaf.  A leaf guest
 * must not see VMX (only a child VMM is offered it, issue #3).
 */
static void emit_hypervisor(struct record *r)
{
	uint32_t a, b, c, d;
	char sig[13];

	cpuid(1, &a, &b, &c, &d);
	jsonw_bool(&r->w, "hypervisor_bit", (c & CPUID_1_ECX_HYPERVISOR) != 0);
	jsonw_bool(&r->w, "vmx_visible", (c & CPUID_1_ECX_VMX) != 0);
	cpuid(CPUID_HV_LEAF_BASE, &a, &b, &c, &d);
	for (int i = 0; i < 4; i++) {
		sig[i] = (char)(b >> (8 * i));
		sig[4 + i] = (char)(c >> (8 * i));
		sig[8 + i] = (char)(d >> (8 * i));
	}
	sig[12] = '\0';
	for (int i = 11; i >= 0 && sig[i] == ' '; i--)
		sig[i] = '\0';
	jsonw_str(&r->w, "hypervisor", sig);
	if (a >= NL_CPUID_LEAF_INFO) {
		cpuid(NL_CPUID_LEAF_INFO, &a, &b, &c, &d);
		jsonw_u64(&r->w, "vmm_level", a);
	}
}

static void emit_start(const struct nl_guest_boot *boot, const char *name)
{
	struct record r;

	record_begin(&r, NL_REC_GUEST_START);
	jsonw_str(&r.w, "name", name);
	jsonw_u64(&r.w, "memory_bytes", boot->memory_bytes);
	/* Hex strings: 64-bit values do not survive a double-based JSON parser. */
	jsonw_hex(&r.w, "seed", boot->seed);
	jsonw_u64(&r.w, "vm_index", boot->vm_index);
	jsonw_hex(&r.w, "image_end", boot->image_end);
	jsonw_u64(&r.w, "tsc_khz", boot->tsc_khz);
	emit_hypervisor(&r);
	jsonw_obj_begin(&r.w, "workload");
	jsonw_u64(&r.w, "iterations", boot->workload.iterations);
	jsonw_u64(&r.w, "hypercalls", boot->workload.hypercalls);
	jsonw_u64(&r.w, "touch_pages", boot->workload.touch_pages);
	jsonw_hex(&r.w, "touch_addr", boot->workload.touch_addr);
	if (boot->workload.wakeups) {
		jsonw_u64(&r.w, "wakeups", boot->workload.wakeups);
		jsonw_u64(&r.w, "period_us", boot->workload.period_us);
		jsonw_u64(&r.w, "irq_off_us", boot->workload.irq_off_us);
	}
	jsonw_obj_end(&r.w);
	record_emit(&r);
}

/* The first failed check, or NULL when all passed. */
static const char *first_failure(const struct leaf_results *res, const struct wakeup_results *wk,
				 uint64_t boot_nmis)
{
	if (wk->failure)
		return wk->failure;
	if (wk->done != wk->wanted)
		return "fewer timer wake-ups than asked for";
	if (wk->nmis != boot_nmis)
		return "fewer NMIs than asked for";
	if (res->mismatches != 0)
		return "touched memory did not read back as written";
	if (res->hypercall_errors != 0)
		return "a null hypercall did not return NL_HC_OK";
	if (res->touch_addr_breach)
		return "a write outside this VM's memory was not stopped";
	if (emit_failures() != 0)
		return "a record did not reach the VMM whole";
	return 0;
}

static void emit_report(const char *name, const struct leaf_results *res, uint64_t total_ticks,
			const char *failure)
{
	struct record r;

	record_begin(&r, NL_REC_GUEST_REPORT);
	jsonw_str(&r.w, "name", name);
	jsonw_str(&r.w, NL_KEY_STATUS, failure ? "failed" : "ok");
	if (failure)
		jsonw_str(&r.w, "reason", failure);
	jsonw_hex(&r.w, "compute_checksum", res->compute_checksum);
	jsonw_u64(&r.w, "compute_ticks", res->compute_ticks);
	jsonw_u64(&r.w, "hypercalls", res->hypercalls);
	jsonw_u64(&r.w, "ticks_per_call", res->hypercalls ? res->hypercall_ticks / res->hypercalls : 0);
	jsonw_u64(&r.w, "pages_touched", res->pages_touched);
	jsonw_bool(&r.w, "touch_clamped", res->touch_clamped);
	jsonw_u64(&r.w, "mismatches", res->mismatches);
	jsonw_u64(&r.w, "total_ticks", total_ticks);
	record_emit(&r);
}

void leaf_main(const struct nl_guest_boot *boot)
{
	struct leaf_results res = { 0 };
	struct wakeup_results wk;
	char name[NL_NAME_MAX];

	check_boot(boot);
	uint64_t t0 = tsc_now();
	copy_name(name, boot);
	emit_start(boot, name);
	console_printf("leaf %s: starting\n", name);

	phase_compute(boot, &res);
	phase_hypercalls(boot, &res);
	phase_touch(boot, &res);
	phase_touch_addr(boot, name, &res);
	phase_wakeups(boot, &wk);
	phase_nmis(boot, &wk);
	phase_lines(boot, &wk);

	uint64_t total = tsc_now() - t0;
	const char *failure = first_failure(&res, &wk, boot->workload.nmis);
	emit_report(name, &res, total, failure);
	console_printf("leaf %s: done, %s\n", name, failure ? failure : "ok");
	hc_exit(failure ? LEAF_EXIT_CHECK_FAILED : LEAF_EXIT_OK);
}
