/* The timer wake-up phase (wakeup.h). */
#include <stdint.h>

#include "emit.h"
#include "idt.h"
#include "latency.h"
#include "nestlab/records.h"
#include "tsc.h"
#include "wakeup.h"
#include "x2apic.h"

static volatile uint64_t nmi_count;  /* NMIs taken */
static uint64_t nmi_wanted;
static volatile uint64_t irq_tsc;    /* the handler's TSC, first thing */
static volatile uint64_t irq_count;  /* timer interrupts taken */
static struct latency lat;

void leaf_timer_interrupt(void)
{
	irq_tsc = tsc_now();
	irq_count++;
	leaf_apic_eoi();
}

/* Each NMI sends the next from inside its handler: blocked until this handler's IRET. */
void leaf_nmi_interrupt(void)
{
	if (++nmi_count < nmi_wanted)
		leaf_apic_send_self_nmi();
}

void leaf_latency_init(struct latency *l, const struct nl_guest_boot *boot)
{
	uint64_t per_us = boot->tsc_khz / 1000 ? boot->tsc_khz / 1000 : 1;
	latency_init(l, per_us, LATENCY_MAX_BUCKETS);
}

int leaf_interrupts_up(const struct nl_guest_boot *boot, struct wakeup_results *res)
{
	if (!res->apic_up && !res->failure) {
		res->failure = leaf_apic_start(boot->workload.apic_mode == NL_LEAF_XAPIC);
		if (res->failure)
			return 0;
		leaf_idt_install();
		res->apic_up = 1;
	}
	return !res->failure;
}

void phase_nmis(const struct nl_guest_boot *boot, struct wakeup_results *res)
{
	const struct nl_workload *w = &boot->workload;
	if (!w->nmis || !leaf_interrupts_up(boot, res))
		return;
	nmi_wanted = w->nmis;
	uint64_t t0 = tsc_now(), give_up = t0 + 1000 * boot->tsc_khz; /* a second: NMIs are never masked */
	/*
	 * The first from inside an STI shadow, where the VMM may not inject it
	 * until the next instruction (it waits for the window there); the rest
	 * from the handler of the one before.  Interrupts stay on meanwhile.
	 */
	leaf_apic_send_self_nmi_after_sti();
	while (nmi_count < nmi_wanted && tsc_now() < give_up)
		__builtin_ia32_pause();
	__asm__ volatile("cli" ::: "memory");
	res->nmis = nmi_count;
	struct record r;
	record_begin(&r, NL_REC_GUEST_PHASE);
	jsonw_str(&r.w, NL_KEY_PHASE, "nmis");
	jsonw_u64(&r.w, "count", nmi_count);
	jsonw_u64(&r.w, "wanted", nmi_wanted);
	jsonw_u64(&r.w, "ticks", tsc_now() - t0);
	record_emit(&r);
}

static void spin_until(uint64_t tsc)
{
	while (tsc_now() < tsc)
		__builtin_ia32_pause();
}

/*
 * One wake-up: halted with interrupts on; or, with an off section, spinning
 * with interrupts on up to it, off through it, and on again after it, still
 * spinning: the interrupt that came meanwhile is taken when the window
 * opens, not when a halt would have been (STI's shadow covers a HLT).
 */
static void wait_for(uint64_t deadline, uint64_t off)
{
	uint64_t seen = irq_count;
	x2apic_deadline(deadline);
	if (off) {
		uint64_t from = deadline - off / 2;
		__asm__ volatile("sti" ::: "memory");
		spin_until(from);
		__asm__ volatile("cli" ::: "memory");
		spin_until(from + off);
		__asm__ volatile("sti" ::: "memory");
		while (irq_count == seen)
			__builtin_ia32_pause();
		__asm__ volatile("cli" ::: "memory");
		return;
	}
	/* STI's shadow covers HLT: an interrupt already pending wakes the halt, it is not lost before it. */
	while (irq_count == seen)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* The histogram's non-empty buckets, as many records as they need, then the overflowed sample numbers. */
static void emit_histogram(void)
{
	struct record r;
	unsigned i = 0;
	while (i < lat.nbuckets) {
		record_begin(&r, NL_REC_WAKEUP_HIST);
		jsonw_arr_begin(&r.w, NL_KEY_BUCKETS);
		/* 40 pairs of at most 20 characters stay within a record's 1024 bytes. */
		for (unsigned pairs = 0; i < lat.nbuckets && pairs < 40; i++) {
			if (!lat.bucket[i])
				continue;
			jsonw_arr_begin(&r.w, 0);
			jsonw_u64(&r.w, 0, i);
			jsonw_u64(&r.w, 0, lat.bucket[i]);
			jsonw_arr_end(&r.w);
			pairs++;
		}
		jsonw_arr_end(&r.w);
		record_emit(&r);
	}
	if (lat.noutliers) {
		record_begin(&r, NL_REC_WAKEUP_HIST);
		jsonw_arr_begin(&r.w, "outliers");
		for (unsigned k = 0; k < lat.noutliers; k++)
			jsonw_u64(&r.w, 0, lat.outlier[k]);
		jsonw_arr_end(&r.w);
		record_emit(&r);
	}
}

static void emit_wakeups(const struct wakeup_results *res, uint64_t period, uint64_t off, uint64_t ticks)
{
	struct record r;
	emit_histogram();
	record_begin(&r, NL_REC_WAKEUP);
	jsonw_u64(&r.w, "wanted", res->wanted);
	jsonw_str(&r.w, "apic", res->xapic ? "xapic" : "x2apic");
	jsonw_u64(&r.w, "count", lat.count);
	jsonw_u64(&r.w, "period_ticks", period);
	jsonw_u64(&r.w, "irq_off_ticks", off);
	jsonw_u64(&r.w, "min", lat.min);
	jsonw_u64(&r.w, "avg", latency_avg(&lat));
	jsonw_u64(&r.w, "p50", latency_p50(&lat));
	jsonw_u64(&r.w, "p99", latency_p99(&lat));
	jsonw_u64(&r.w, "max", lat.max);
	jsonw_u64(&r.w, "sum", lat.sum_lo);
	if (lat.sum_hi)
		jsonw_u64(&r.w, "sum_hi", lat.sum_hi);
	jsonw_u64(&r.w, "overflow", lat.overflow);
	jsonw_u64(&r.w, "bucket_ticks", lat.width);
	jsonw_u64(&r.w, "nbuckets", lat.nbuckets);
	jsonw_u64(&r.w, "overruns", res->overruns);
	jsonw_u64(&r.w, "ticks", ticks);
	if (res->failure)
		jsonw_str(&r.w, "failure", res->failure);
	record_emit(&r);
}

void phase_wakeups(const struct nl_guest_boot *boot, struct wakeup_results *res)
{
	const struct nl_workload *w = &boot->workload;
	*res = (struct wakeup_results){ .wanted = w->wakeups, .xapic = w->apic_mode == NL_LEAF_XAPIC };
	if (!w->wakeups)
		return;
	uint64_t period = (uint64_t)w->period_us * boot->tsc_khz / 1000;
	uint64_t off = (uint64_t)w->irq_off_us * boot->tsc_khz / 1000;
	leaf_latency_init(&lat, boot);
	uint64_t t0 = tsc_now();
	res->failure = leaf_apic_start(w->apic_mode == NL_LEAF_XAPIC);
	if (res->failure) {
		emit_wakeups(res, period, off, 0);
		return;
	}
	leaf_idt_install();
	res->apic_up = 1;
	uint64_t deadline = tsc_now() + period;
	for (uint64_t k = 0; k < w->wakeups; k++) {
		wait_for(deadline, off);
		latency_add(&lat, irq_tsc > deadline ? irq_tsc - deadline : 0);
		res->done++;
		deadline += period;
		/* A deadline already past cannot be slept for: skip it on the grid, as cyclictest counts overruns. */
		for (uint64_t now = tsc_now(); deadline - off / 2 <= now; deadline += period)
			res->overruns++;
	}
	emit_wakeups(res, period, off, tsc_now() - t0);
}
