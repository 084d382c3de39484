/*
 * Interrupt lines as a guest sees them (issue #10 part 5): what a VM
 * programs at its VMM with NL_HC_IRQ_SETUP / NL_HC_IRQ_PROGRAM, and the page
 * in which its VMM publishes when each line was asserted, so that the
 * handler can measure the latency from the assertion (TSC, the same clock at
 * every level) to itself.  A nestlab VMM is such a guest of its parent: its
 * lines are the ones its parent routes to it, and it receives them the same
 * way.  One definition for the VMM, the leaf and the hostile guest.
 */
#ifndef NESTLAB_IRQ_LINES_H
#define NESTLAB_IRQ_LINES_H

#include <stdint.h>
#include "nestlab/manifest.h"

/*
 * Where nestlab's guests put their lines: line N at vector
 * NL_IRQ_LINE_VECTOR_BASE + N, priority class 5, below a VMM's own timer
 * (0xf0) and above the leaf's timer (0x40).  A guest may choose others.
 */
#define NL_IRQ_LINE_VECTOR_BASE 0x50u
#define NL_IRQ_LINE_VECTOR(line) (NL_IRQ_LINE_VECTOR_BASE + (line))
#define NL_IRQ_ALL_LINES ((1u << NL_IRQ_LINES) - 1)

/*
 * The page a VM registers (4 KiB aligned, inside its memory): asserted_tsc[N]
 * is the TSC at which line N's latest accepted interrupt was asserted at the
 * machine (a device at L0, a generator at whichever level drives it).  The
 * VMM writes it when the interrupt reaches the VM's local APIC; an
 * assertion that finds the vector still pending (coalesced) leaves it.
 */
struct nl_irq_page {
	uint64_t asserted_tsc[NL_IRQ_LINES];
};

#endif
