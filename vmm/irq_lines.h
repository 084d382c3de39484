/*
 * This VMM's interrupt lines (issue #10 part 5, MISSION mechanism 1), the
 * mechanism around policy/irq_route.h's multiplexers: what drives each line
 * (a device at L0, a seeded generator, the parent's routed line for a
 * child VMM), the multiplexer's value and its timed changes, each VM's
 * redirection table (line -> vector, masked) and the page where it reads
 * when its line was asserted, and the per-line counters.  The same code at
 * every level: a line routed to a child VMM arrives there as a vector of
 * its own local APIC, which that VMM takes as its own line N.
 *
 * Where the time goes: a generator's assertions and the route changes are
 * TIMER_IRQ, one of the VMM's own times; a device's or the parent's
 * interrupt comes as an external-interrupt exit (acknowledged on exit) or
 * ends the idle halt (l0/isr.S counts it), and the run loop handles it.
 */
#ifndef NESTLAB_VMM_IRQ_LINES_H
#define NESTLAB_VMM_IRQ_LINES_H

#include <stdint.h>
#include "nestlab/manifest.h"
#include "vm.h"

/*
 * Lines, sources and routes from the manifest's entries that belong to this
 * VMM (owner -1), over vms[0..count-1]; a child VMM whose parent routes lines
 * to it registers them there.  0, or -1 with *why.
 */
int irq_lines_start(const struct nl_manifest_view *m, struct vm *vms, unsigned count, const char **why);

/* TIMER_IRQ has come: generators' assertions and route changes due by now. */
void irq_lines_run(uint64_t now);

/*
 * An interrupt of this VMM's own that an exit acknowledged (vector from the
 * exit's interruption information) and the caller ended at the APIC
 * (lapic_timer_exit_interrupt()): 1 when it was one of its lines (then
 * handled), 0 otherwise.
 */
int irq_lines_exit_vector(unsigned vector, uint64_t now);

/* After an idle halt: the line interrupts its handlers counted. */
void irq_lines_after_idle(uint64_t now);

/* NL_HC_IRQ_SETUP and NL_HC_IRQ_PROGRAM of a VM: an NL_HC_* result. */
int64_t irq_lines_hc_setup(struct vm *vm, uint64_t page_gpa, uint64_t vector_base, uint64_t unmask);
int64_t irq_lines_hc_program(struct vm *vm, uint64_t line, uint64_t vector, uint64_t masked);

/* One NL_REC_IRQ record per line that has a source, a route or a count. */
void irq_lines_record(void);

#endif
