/*
 * The interrupt multiplex blocks of one VMM (MISSION mechanism 1; issue #10,
 * part 5): each of its lines has a configuration value that sends the line
 * either to the VMM itself or to one of its VMs, as that VM's line N, and
 * the value changes at the times the description sets.  What a VM's line
 * becomes there is the VM's own business: its redirection entry (an
 * IOAPIC-like line -> vector, masked; masked at power-up), which only the
 * VM programs, so no VM can route or mask another VM's lines.  Counters per
 * line: asserted, delivered to a guest, taken by the VMM, coalesced (the
 * vector was still pending), masked at the guest.  Pure, host-tested; the
 * VMM wires it to its sources and its VMs' local APICs (not yet).
 */
#ifndef NESTLAB_POLICY_IRQ_ROUTE_H
#define NESTLAB_POLICY_IRQ_ROUTE_H

#include <stdint.h>
#include "nestlab/manifest.h"

#define IRQ_LINES          NL_IRQ_LINES /* per VMM, and per VM: a VM's lines are numbered as a VMM's are */
#define IRQ_ROUTE_CHANGES  NL_IRQ_ROUTES_PER_VMM /* timed changes per VMM */
#define IRQ_VECTOR_MIN     32u /* 0-31 are the exceptions' (SDM Vol. 3 6.2) */

enum irq_to { IRQ_TO_VMM, IRQ_TO_VM };

struct irq_target {
	uint8_t to;      /* enum irq_to */
	uint8_t vm;      /* IRQ_TO_VM: the VM's place among the VMM's VMs */
	uint8_t vm_line; /* ... and the line of that VM it arrives on */
};

struct irq_route_change {
	uint64_t at;     /* TSC; 0: from the start */
	uint8_t line;
	struct irq_target target;
};

struct irq_line_counters {
	uint64_t asserted, delivered, taken_by_vmm, coalesced, masked;
};

struct irq_routes {
	struct irq_target now[IRQ_LINES];
	struct irq_route_change change[IRQ_ROUTE_CHANGES]; /* by time; equal times in the order given */
	unsigned nchanges, applied;
	struct irq_line_counters count[IRQ_LINES];
};

/* A VM's redirection table: line -> vector, masked. */
struct irq_redir {
	uint8_t vector[IRQ_LINES];
	uint8_t masked[IRQ_LINES];
};

/*
 * Every line to the VMM, then the changes (any order; those at time 0 or
 * before now take effect at once).  -1 with *why, routes untouched, for a
 * line or VM line past IRQ_LINES, a VM not below nvms, or too many changes.
 */
int irq_routes_init(struct irq_routes *r, const struct irq_route_change *changes, unsigned n, unsigned nvms,
		    uint64_t now, const char **why);
/* The TSC of the next change still to come, UINT64_MAX when none is left. */
uint64_t irq_routes_next_change(const struct irq_routes *r);
/* Apply every change due by now; how many. */
unsigned irq_routes_apply(struct irq_routes *r, uint64_t now);

/* Power-up: every line masked. */
void irq_redir_init(struct irq_redir *d);
/* The VM programs its line: -1 (nothing changed) for a line past IRQ_LINES or a vector below IRQ_VECTOR_MIN. */
int irq_redir_program(struct irq_redir *d, unsigned line, unsigned vector, int masked);

enum irq_outcome {
	IRQ_TAKEN_BY_VMM, /* the line's value is the VMM: it handles the assertion itself */
	IRQ_FOR_VM,       /* raise *vector at VM *vm's local APIC, then irq_count_delivery() */
	IRQ_MASKED,       /* the VM masked the line its value names: the assertion is dropped */
	IRQ_NO_LINE,      /* line past IRQ_LINES: nothing happens, nothing is counted */
};

/*
 * One assertion of a line, as its multiplexer decides it now; redirs[k] is
 * VM k's table.  Counts asserted, and taken or masked.
 */
enum irq_outcome irq_assert(struct irq_routes *r, const struct irq_redir *redirs, unsigned line, unsigned *vm,
			    unsigned *vector);
/* What the VM's APIC made of an IRQ_FOR_VM: accepted (delivered) or already pending (coalesced). */
void irq_count_delivery(struct irq_routes *r, unsigned line, int coalesced);

#endif
