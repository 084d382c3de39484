/* The workload phases (see phases.h). */
#include <stdint.h>

#include "compute.h"
#include "emit.h"
#include "hypercall.h"
#include "nestlab/records.h"
#include "phases.h"
#include "tsc.h"

/* The end of this image as linked: a cross-check on boot->image_end. */
extern char __leaf_image_end[];

static void phase_record(struct record *r, const char *phase, uint64_t count, uint64_t ticks)
{
	record_begin(r, NL_REC_GUEST_PHASE);
	jsonw_str(&r->w, NL_KEY_PHASE, phase);
	jsonw_u64(&r->w, "count", count);
	jsonw_u64(&r->w, "ticks", ticks);
}

void phase_compute(const struct nl_guest_boot *boot, struct leaf_results *res)
{
	uint64_t n = boot->workload.iterations;
	struct record r;

	if (n == 0)
		return;
	uint64_t t0 = tsc_now();
	res->compute_checksum = nl_compute_loop(n, boot->seed);
	res->compute_ticks = tsc_now() - t0;

	phase_record(&r, "compute", n, res->compute_ticks);
	/* A hex string: a 64-bit checksum does not survive a double-based JSON parser. */
	jsonw_hex(&r.w, "checksum", res->compute_checksum);
	record_emit(&r);
}

void phase_hypercalls(const struct nl_guest_boot *boot, struct leaf_results *res)
{
	uint64_t n = boot->workload.hypercalls;
	uint64_t errors = 0;
	struct record r;

	if (n == 0)
		return;
	uint64_t t0 = tsc_now();
	for (uint64_t i = 0; i < n; i++)
		if (hc_nop() != NL_HC_OK)
			errors++;
	res->hypercall_ticks = tsc_now() - t0;
	res->hypercalls = n;
	res->hypercall_errors = errors;

	phase_record(&r, "hypercalls", n, res->hypercall_ticks);
	jsonw_u64(&r.w, "ticks_per_call", res->hypercall_ticks / n);
	jsonw_u64(&r.w, "errors", errors);
	record_emit(&r);
}

/* The value written to the 8-byte word at addr: differs per word and per seed. */
static uint64_t touch_pattern(uint64_t addr, uint64_t seed)
{
	return (addr * 0x9e3779b97f4a7c15ull) ^ seed;
}

/*
 * Pages go from the first page boundary after the image up to the stack
 * reserve below the top of memory (and no higher than the guest's page
 * tables map).  boot->image_end comes from the VMM; the linker's own idea
 * of the image end is taken too, whichever is higher, so a wrong boot
 * value cannot make the guest overwrite itself.
 */
static uint64_t touch_window(const struct nl_guest_boot *boot, uint64_t *first)
{
	uint64_t start = boot->image_end;
	uint64_t linked = (uint64_t)(uintptr_t)__leaf_image_end;
	uint64_t top = boot->memory_bytes < NL_GUEST_MAP_LIMIT ? boot->memory_bytes : NL_GUEST_MAP_LIMIT;

	if (start < linked)
		start = linked;
	start = (start + LEAF_PAGE_SIZE - 1) & ~(uint64_t)(LEAF_PAGE_SIZE - 1);
	*first = start;
	if (top < LEAF_STACK_RESERVE || top - LEAF_STACK_RESERVE <= start)
		return 0;
	return (top - LEAF_STACK_RESERVE - start) / LEAF_PAGE_SIZE;
}

void phase_touch(const struct nl_guest_boot *boot, struct leaf_results *res)
{
	uint64_t want = boot->workload.touch_pages;
	uint64_t first, mismatches = 0;
	struct record r;

	if (want == 0)
		return;
	uint64_t room = touch_window(boot, &first);
	uint64_t pages = want <= room ? want : room;
	uint64_t end = first + pages * LEAF_PAGE_SIZE;

	uint64_t t0 = tsc_now();
	/* volatile: the compiler must not fold the read-back into the writes. */
	for (uint64_t a = first; a < end; a += sizeof(uint64_t))
		*(volatile uint64_t *)(uintptr_t)a = touch_pattern(a, boot->seed);
	for (uint64_t a = first; a < end; a += sizeof(uint64_t))
		if (*(volatile uint64_t *)(uintptr_t)a != touch_pattern(a, boot->seed))
			mismatches++;
	res->touch_ticks = tsc_now() - t0;
	res->pages_requested = want;
	res->pages_touched = pages;
	res->touch_first = first;
	res->mismatches = mismatches;
	res->touch_clamped = pages < want;

	phase_record(&r, "touch", pages, res->touch_ticks);
	jsonw_u64(&r.w, "requested", want);
	jsonw_bool(&r.w, "clamped", res->touch_clamped);
	if (res->touch_clamped)
		jsonw_str(&r.w, "note", "fewer pages fit between the image and the stack reserve than requested");
	jsonw_hex(&r.w, "first", first);
	jsonw_u64(&r.w, "mismatches", mismatches);
	record_emit(&r);
}

/*
 * The hostile part: one write to an address the experiment chose,
 * normally outside this VM's memory, where the VMM must stop the VM with
 * an EPT violation.  The console line goes first because nothing after
 * the write is expected to run.  An address beyond the guest's own page
 * tables faults inside the guest instead and, with no IDT, becomes a
 * triple fault, which the VMM reports as well.
 */
void phase_touch_addr(const struct nl_guest_boot *boot, const char *name, struct leaf_results *res)
{
	uint64_t addr = boot->workload.touch_addr;
	int inside = addr < boot->memory_bytes;
	struct record r;

	if (addr == 0)
		return;
	console_printf("leaf %s: writing to 0x%llx (%s); the VMM should stop this VM\n", name,
		       (unsigned long long)addr,
		       inside ? "inside its memory" :
		       addr < NL_GUEST_MAP_LIMIT ? "outside its memory" : "outside its page tables");

	uint64_t t0 = tsc_now();
	*(volatile uint8_t *)(uintptr_t)addr = 0xa5;
	uint8_t back = *(volatile uint8_t *)(uintptr_t)addr;
	uint64_t ticks = tsc_now() - t0;

	res->touch_addr_survived = 1;
	res->touch_addr_breach = !inside;
	phase_record(&r, "touch_addr", 1, ticks);
	jsonw_hex(&r.w, "addr", addr);
	jsonw_bool(&r.w, "inside_memory", inside);
	jsonw_bool(&r.w, "survived", 1);
	jsonw_bool(&r.w, "read_back", back == 0xa5);
	record_emit(&r);
}
