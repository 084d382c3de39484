/* The interrupt-line phase (lines.h). */
#include <stdint.h>

#include "emit.h"
#include "hypercall.h"
#include "idt.h"
#include "latency.h"
#include "lines.h"
#include "nestlab/irq_lines.h"
#include "nestlab/records.h"
#include "tsc.h"
#include "x2apic.h"

static struct nl_irq_page page __attribute__((aligned(4096)));
static struct latency lat[NL_IRQ_LINES];

void leaf_line_interrupt(unsigned line)
{
	uint64_t now = tsc_now();
	if (line < NL_IRQ_LINES) {
		uint64_t at = page.asserted_tsc[line];
		latency_add(&lat[line], now > at ? now - at : 0);
	}
	leaf_apic_eoi();
}

static void emit_line(unsigned l)
{
	const struct latency *a = &lat[l];
	struct record r;
	record_begin(&r, NL_REC_IRQ_GUEST);
	jsonw_u64(&r.w, "line", l);
	jsonw_u64(&r.w, "vector", NL_IRQ_LINE_VECTOR(l));
	jsonw_u64(&r.w, "count", a->count);
	jsonw_u64(&r.w, "min", a->min);
	jsonw_u64(&r.w, "avg", latency_avg(a));
	jsonw_u64(&r.w, "p50", latency_p50(a));
	jsonw_u64(&r.w, "p99", latency_p99(a));
	jsonw_u64(&r.w, "max", a->max);
	jsonw_u64(&r.w, "overflow", a->overflow);
	record_emit(&r);
}

void phase_lines(const struct nl_guest_boot *boot, struct wakeup_results *res)
{
	const struct nl_workload *w = &boot->workload;
	if (!w->listen_ms || !leaf_interrupts_up(boot, res))
		return;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++)
		leaf_latency_init(&lat[l], boot);
	int64_t rc = hc_call(NL_HC_IRQ_SETUP, (uint64_t)(uintptr_t)&page, NL_IRQ_LINE_VECTOR_BASE, NL_IRQ_ALL_LINES, 0);
	if (rc != NL_HC_OK) {
		res->failure = "the VMM refused the interrupt lines' setup";
		return;
	}
	uint64_t t0 = tsc_now(), until = t0 + (uint64_t)w->listen_ms * boot->tsc_khz;
	/* The APIC timer ends the last halt; line interrupts end the others. */
	x2apic_deadline(until);
	while (tsc_now() < until)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	hc_call(NL_HC_IRQ_SETUP, 0, NL_IRQ_LINE_VECTOR_BASE, 0, 0); /* every line masked again */
	uint64_t total = 0;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++) {
		total += lat[l].count;
		if (lat[l].count)
			emit_line(l);
	}
	struct record r;
	record_begin(&r, NL_REC_GUEST_PHASE);
	jsonw_str(&r.w, NL_KEY_PHASE, "lines");
	jsonw_u64(&r.w, "count", total);
	jsonw_u64(&r.w, "ticks", tsc_now() - t0);
	record_emit(&r);
}
