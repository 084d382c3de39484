/*
 * The timer wake-up phase: cyclictest's measuring loop in a guest kernel.
 * Each wake-up is programmed on a fixed grid (deadline k = start + k x
 * period, never moved by how late the previous one came), the leaf halts
 * with interrupts on, and the timer interrupt's handler reads the TSC:
 * latency = handler TSC - programmed deadline, in TSC ticks, kept in a
 * lib/latency.h accumulator with 1 us buckets (cyclictest's -h layout).
 *
 * With irq_off_us, every period instead has an interrupts-off section of
 * that length centred on the deadline (the leaf spins with interrupts on
 * until it starts): the timer fires while RFLAGS.IF = 0, so the interrupt
 * waits for the event window (mechanism 3) and the latency includes the
 * second half of the section.
 */
#ifndef NESTLAB_LEAF_WAKEUP_H
#define NESTLAB_LEAF_WAKEUP_H

#include "nestlab/guest_boot.h"

struct wakeup_results {
	uint64_t wanted, done;
	uint64_t overruns; /* deadlines that had passed before they could be programmed */
	int xapic;         /* the APIC driven through its MMIO page, not its MSRs */
	int apic_up;       /* leaf_apic_start() and the IDT done */
	uint64_t nmis;     /* NMIs taken in phase_nmis() */
	const char *failure; /* NULL, or why the phase could not run */
};

void phase_wakeups(const struct nl_guest_boot *boot, struct wakeup_results *res);
/*
 * The NMI phase, after the wake-ups: workload.nmis NMIs sent to itself
 * through the APIC, the first from here, in the shadow of an STI (it
 * waits for the interrupt window), each next one from the handler of the
 * one before, where NMIs are blocked until its IRET: each waits for the
 * NMI window (mechanism 3).  A "phase" record: count, wanted, ticks.
 */
void phase_nmis(const struct nl_guest_boot *boot, struct wakeup_results *res);

/* An empty accumulator of 1 us buckets in TSC ticks, cyclictest's -h1000: every latency the leaf measures. */
struct latency;
void leaf_latency_init(struct latency *l, const struct nl_guest_boot *boot);

/* The APIC started and the IDT installed, once for every phase that takes interrupts: 1, or 0 with res->failure. */
int leaf_interrupts_up(const struct nl_guest_boot *boot, struct wakeup_results *res);

#endif
