/*
 * The interrupt-line phase, last of all (workload.listen_ms): the leaf
 * programs each of its lines at its VMM (NL_HC_IRQ_SETUP: line N to vector
 * NL_IRQ_LINE_VECTOR(N), unmasked, with the page where its VMM writes when
 * each line was asserted), halts with interrupts on for listen_ms, and
 * counts what arrives: per line, how many, and the latency from assertion
 * to its handler in TSC ticks (1 us buckets, as the wake-ups).  Then it masks
 * them all again and emits an NL_REC_IRQ_GUEST record per line that saw any.
 */
#ifndef NESTLAB_LEAF_LINES_H
#define NESTLAB_LEAF_LINES_H

#include "nestlab/guest_boot.h"
#include "wakeup.h"

void phase_lines(const struct nl_guest_boot *boot, struct wakeup_results *res);

/* irq.S: line's interrupt, every caller-saved register kept. */
void leaf_line_interrupt(unsigned line);

#endif
