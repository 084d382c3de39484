/* The interrupt multiplex blocks of one VMM (irq_route.h). */
#include "irq_route.h"

static int target_ok(const struct irq_target *t, unsigned nvms)
{
	if (t->to == IRQ_TO_VMM)
		return 1;
	return t->to == IRQ_TO_VM && t->vm < nvms && t->vm_line < IRQ_LINES;
}

int irq_routes_init(struct irq_routes *r, const struct irq_route_change *changes, unsigned n, unsigned nvms,
		    uint64_t now, const char **why)
{
	if (n > IRQ_ROUTE_CHANGES) {
		*why = "more timed route changes than IRQ_ROUTE_CHANGES";
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (changes[i].line >= IRQ_LINES) {
			*why = "a route names a line past IRQ_LINES";
			return -1;
		}
		if (!target_ok(&changes[i].target, nvms)) {
			*why = "a route names a VM or a VM line that does not exist";
			return -1;
		}
	}
	*r = (struct irq_routes){ .nchanges = n };
	for (unsigned l = 0; l < IRQ_LINES; l++)
		r->now[l] = (struct irq_target){ .to = IRQ_TO_VMM };
	/* Insertion sort by time: stable, so equal times keep the order given (the last one wins). */
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;
		while (j > 0 && r->change[j - 1].at > changes[i].at) {
			r->change[j] = r->change[j - 1];
			j--;
		}
		r->change[j] = changes[i];
	}
	irq_routes_apply(r, now);
	return 0;
}

uint64_t irq_routes_next_change(const struct irq_routes *r)
{
	return r->applied < r->nchanges ? r->change[r->applied].at : UINT64_MAX;
}

unsigned irq_routes_apply(struct irq_routes *r, uint64_t now)
{
	unsigned n = 0;
	for (; r->applied < r->nchanges && r->change[r->applied].at <= now; r->applied++, n++)
		r->now[r->change[r->applied].line] = r->change[r->applied].target;
	return n;
}

void irq_redir_init(struct irq_redir *d)
{
	for (unsigned l = 0; l < IRQ_LINES; l++) {
		d->vector[l] = 0;
		d->masked[l] = 1;
	}
}

int irq_redir_program(struct irq_redir *d, unsigned line, unsigned vector, int masked)
{
	if (line >= IRQ_LINES || vector < IRQ_VECTOR_MIN || vector > 0xff)
		return -1;
	d->vector[line] = (uint8_t)vector;
	d->masked[line] = masked != 0;
	return 0;
}

enum irq_outcome irq_assert(struct irq_routes *r, const struct irq_redir *redirs, unsigned line, unsigned *vm,
			    unsigned *vector)
{
	if (line >= IRQ_LINES)
		return IRQ_NO_LINE;
	struct irq_line_counters *c = &r->count[line];
	const struct irq_target *t = &r->now[line];
	c->asserted++;
	if (t->to == IRQ_TO_VMM) {
		c->taken_by_vmm++;
		return IRQ_TAKEN_BY_VMM;
	}
	const struct irq_redir *d = &redirs[t->vm];
	if (d->masked[t->vm_line]) {
		c->masked++;
		return IRQ_MASKED;
	}
	*vm = t->vm;
	*vector = d->vector[t->vm_line];
	return IRQ_FOR_VM;
}

void irq_count_delivery(struct irq_routes *r, unsigned line, int coalesced)
{
	if (line >= IRQ_LINES)
		return;
	if (coalesced)
		r->count[line].coalesced++;
	else
		r->count[line].delivered++;
}
