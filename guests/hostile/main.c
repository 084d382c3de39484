/*
 * The hostile test VMM: a guest its parent offers VMX to (a VM of kind
 * NL_VM_VMM), which misuses VMX on purpose and checks every outcome
 * against the SDM (steps.c), one "check" record each, then reports.  Its
 * last step is destructive (an EPT12 aimed at memory it does not own) and
 * must end with the parent stopping this VM; the report goes out first.
 */
#include <stdint.h>

#include "../leaf/emit.h"
#include "../leaf/hypercall.h"
#include "../leaf/tsc.h"
#include "check.h"
#include "exit_status.h"
#include "idt.h"
#include "nestlab/records.h"
#include "steps.h"

/* Well above any memory-mb a description gives this guest, and below 4 GiB. */
#define OUTSIDE_ADDRESS 0xf0000000ull
#define PAGE_SIZE 4096ull

__attribute__((noreturn)) void hostile_main(const struct nl_guest_boot *boot);

/* The pointer comes from the parent in RDI: read it only inside the identity map. */
static void check_boot(const struct nl_guest_boot *boot)
{
	uint64_t at = (uint64_t)(uintptr_t)boot;

	if (at == 0 || at % 8 != 0 || at > NL_GUEST_MAP_LIMIT - sizeof *boot) {
		console_printf("hostile: boot info pointer 0x%llx is unusable\n", (unsigned long long)at);
		hc_exit(HOSTILE_EXIT_BAD_BOOT_PTR);
	}
	if (boot->magic != NL_GUEST_BOOT_MAGIC) {
		console_printf("hostile: boot info magic 0x%llx, expected 0x%llx\n",
			       (unsigned long long)boot->magic, (unsigned long long)NL_GUEST_BOOT_MAGIC);
		hc_exit(HOSTILE_EXIT_BAD_MAGIC);
	}
	if (boot->version != NL_GUEST_BOOT_VERSION) {
		console_printf("hostile: boot info version %u, expected %u\n", boot->version, NL_GUEST_BOOT_VERSION);
		hc_exit(HOSTILE_EXIT_BAD_VERSION);
	}
}

static void copy_name(char out[NL_NAME_MAX], const struct nl_guest_boot *boot)
{
	unsigned i;

	for (i = 0; i < NL_NAME_MAX - 1 && boot->name[i] != '\0'; i++)
		out[i] = boot->name[i];
	out[i] = '\0';
}

/* An L1-physical address this VM does not own: above its memory, page aligned. */
static uint64_t outside_address(const struct nl_guest_boot *boot)
{
	uint64_t end = (boot->memory_bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	return end > OUTSIDE_ADDRESS ? end : OUTSIDE_ADDRESS;
}

static void emit_start(const struct hostile *h)
{
	struct record r;

	record_begin(&r, NL_REC_GUEST_START);
	jsonw_str(&r.w, "name", h->name);
	jsonw_str(&r.w, "role", "hostile");
	jsonw_u64(&r.w, "memory_bytes", h->boot->memory_bytes);
	jsonw_u64(&r.w, "vm_index", h->boot->vm_index);
	jsonw_u64(&r.w, "level", h->boot->level);
	jsonw_hex(&r.w, "outside", h->outside);
	record_emit(&r);
}

static int emit_report(const struct hostile *h, uint64_t ticks)
{
	struct record r;
	int ok = checks_failed() == 0 && emit_failures() == 0;

	record_begin(&r, NL_REC_GUEST_REPORT);
	jsonw_str(&r.w, "name", h->name);
	jsonw_str(&r.w, NL_KEY_STATUS, ok ? "ok" : "failed");
	jsonw_u64(&r.w, "checks", checks_run());
	jsonw_u64(&r.w, "failed", checks_failed());
	jsonw_u64(&r.w, "ticks", ticks);
	if (emit_failures())
		jsonw_u64(&r.w, "records_lost", emit_failures());
	record_emit(&r);
	return ok;
}

/* Steps 1-9 in order; 1 when every one ran far enough to make the last step meaningful. */
static int run_checks(struct hostile *h)
{
	step_line_hypercalls(h);
	if (step_discover(h))
		return 0;
	step_outside_vmx_operation(h);
	if (step_vmxon(h))
		return 0;
	step_no_current_vmcs(h);
	if (step_vmptrld(h))
		return 0;
	step_fields(h);
	step_never_launched(h);
	if (!h->l2_ready)
		return 0;
	step_bad_vmcs(h);
	step_run_l2(h);
	return 1;
}

void hostile_main(const struct nl_guest_boot *boot)
{
	static struct hostile h;

	check_boot(boot);
	uint64_t t0 = tsc_now();
	h.boot = boot;
	copy_name(h.name, boot);
	h.outside = outside_address(boot);
	idt_install();
	emit_start(&h);
	console_printf("hostile %s: starting\n", h.name);

	int can_go_on = run_checks(&h);
	int ok = emit_report(&h, tsc_now() - t0);
	console_printf("hostile %s: %u checks, %u failed\n", h.name, checks_run(), checks_failed());
	if (!can_go_on) {
		console_printf("hostile %s: VMX unusable for L2, the last step is skipped\n", h.name);
		hc_exit(ok ? HOSTILE_EXIT_OK : HOSTILE_EXIT_CHECK_FAILED);
	}
	step_ept12_outside(&h);
	hc_exit(HOSTILE_EXIT_EPT12_RETURNED);
}
