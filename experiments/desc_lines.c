/*
 * The interrupt lines of a description (issue #10 part 5): the sources
 * (<irq>, "irqs") and route changes (<route>, "routes") of each VMM's
 * NL_IRQ_LINES lines, checked against the model so that XML and JSON
 * refuse the same things in the same words.  The manifest decoder
 * (lib/manifest.c) holds the entries to the same rules; here each one is
 * said in terms of the field the user wrote.
 */
#include <stdio.h>
#include <string.h>

#include "desc.h"
#include "nestlab/guest_boot.h" /* NL_PATH_MAX: the checks before these held every VM's path to it */

/* A route's to_vm when its name is neither "vmm" nor one of its owner's own VMs. */
#define TO_NOBODY (-2)

/* The index of the VM named name among owner's own VMs (owner -1: L0's), or -1. */
static int own_vm_named(const struct nl_experiment *e, int owner, const char *name)
{
	for (unsigned i = 0; i < e->vm_count; i++)
		if (e->vms[i].parent == owner && !strcmp(e->vms[i].name, name))
			return (int)i;
	return -1;
}

static int given(const void *item, enum nl_desc_field f)
{
	return nl_desc_has_value(nl_desc_field(f), item);
}

void nl_desc_resolve_lines(struct nl_experiment *e)
{
	for (unsigned i = 0; i < e->irq_count; i++) {
		struct nl_irq_desc *q = &e->irqs[i];

		if (q->source == NL_IRQ_SRC_BURST && !given(q, NL_DF_IRQ_BURST))
			q->burst = 1;
	}
	for (unsigned i = 0; i < e->route_count; i++) {
		struct nl_route_desc *r = &e->routes[i];
		int vm = own_vm_named(e, r->owner, r->to);

		if (!given(r, NL_DF_ROUTE_AS))
			r->as = r->line;
		r->to_vm = !strcmp(r->to, "vmm") ? NL_IRQ_TO_VMM : vm >= 0 ? vm : TO_NOBODY;
	}
}

/* Whose lines an item's are, for messages: "L0" or the VM's path ("L0/hv1"). */
static void owner_name(const struct nl_experiment *e, int owner, char *out, size_t cap)
{
	if (owner < 0)
		nl_desc_fmt(out, cap, "L0");
	else
		nl_experiment_vm_path(e, (unsigned)owner, out, cap);
}

/* Where item j of kind k is ("experiment/irq[1], line 5"), to point from one item at another. */
static void item_place(const struct nl_desc_checker *c, enum nl_desc_kind k, unsigned j, char *out,
		       size_t cap)
{
	char field[sizeof c->diag->field];
	int line = 0;

	c->src->locate(c->src, j, nl_desc_whole_of(k), field, sizeof field, &line);
	nl_desc_fmt(out, cap, "%s, line %d", field, line);
}

/* Lines are a VMM's: L0's (the experiment's items) or those of a VM with child VMs. */
static int check_owner(const struct nl_desc_checker *c, enum nl_desc_kind k, unsigned i, int owner)
{
	const struct nl_experiment *e = c->exp;

	if (owner < 0)
		return 0;
	for (unsigned j = 0; j < e->vm_count; j++)
		if (e->vms[j].parent == owner)
			return 0;
	return nl_desc_refuse(c, i, nl_desc_whole_of(k),
			      "a leaf has no lines of its own; its VMM routes lines to it");
}

static int check_device(const struct nl_desc_checker *c, unsigned i, const struct nl_irq_device *d)
{
	const struct nl_irq_desc *q = &c->exp->irqs[i];

	if (q->owner >= 0)
		return nl_desc_refuse(c, i, NL_DF_IRQ_SOURCE,
				      "the %s is a device of the machine: only L0's lines (the experiment's own) "
				      "have it", d->name);
	if (q->line != d->line)
		return nl_desc_refuse(c, i, NL_DF_IRQ_LINE, "the %s is ISA IRQ %u: its source goes on line %u, not %u",
				      d->name, d->line, d->line, q->line);
	if (!given(q, NL_DF_IRQ_RATE))
		return nl_desc_refuse(c, i, NL_DF_IRQ_RATE, "missing: the %s needs its rate in Hz", d->name);
	if (!nl_irq_device_rate_ok(d, q->rate_hz))
		return nl_desc_refuse(c, i, NL_DF_IRQ_RATE, "%u Hz is not a rate of the %s: %s%u..%u Hz", q->rate_hz,
				      d->name, d->power_of_two ? "a power of two in " : "", d->hz_min, d->hz_max);
	if (given(q, NL_DF_IRQ_PERIOD))
		return nl_desc_refuse(c, i, NL_DF_IRQ_PERIOD, "the %s takes a rate in Hz, not a period", d->name);
	return 0;
}

/* A seeded generator: periodic, Poisson (the period is the mean gap) or bursts of assertions. */
static int check_generator(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_irq_desc *q = &c->exp->irqs[i];
	const char *name = nl_desc_enum_name(nl_desc_irq_sources, q->source);

	if (given(q, NL_DF_IRQ_RATE))
		return nl_desc_refuse(c, i, NL_DF_IRQ_RATE, "a %s source takes a period in us, not a rate in Hz",
				      name);
	if (!given(q, NL_DF_IRQ_PERIOD))
		return nl_desc_refuse(c, i, NL_DF_IRQ_PERIOD, "missing: a %s source needs its period in us", name);
	if (q->source != NL_IRQ_SRC_BURST)
		return 0;
	if (!given(q, NL_DF_IRQ_SPACING))
		return nl_desc_refuse(c, i, NL_DF_IRQ_SPACING,
				      "missing: a burst source needs the spacing of its assertions in us");
	if ((uint64_t)(q->burst - 1) * q->spacing_us >= q->period_us)
		return nl_desc_refuse(c, i, NL_DF_IRQ_SPACING,
				      "a burst of %u assertions %u us apart lasts %llu us: not less than its period "
				      "of %u us", q->burst, q->spacing_us,
				      (unsigned long long)(q->burst - 1) * q->spacing_us, q->period_us);
	return 0;
}

static int check_source(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_experiment *e = c->exp;
	const struct nl_irq_desc *q = &e->irqs[i];
	const struct nl_irq_device *d = nl_irq_device_of(q->source);
	static const enum nl_desc_field burst_only[] = { NL_DF_IRQ_BURST, NL_DF_IRQ_SPACING };
	char owner[NL_PATH_MAX], place[sizeof c->diag->field + 16];

	if (nl_desc_check_values(c, NL_DK_IRQ, i) || check_owner(c, NL_DK_IRQ, i, q->owner))
		return -1;
	for (unsigned b = 0; q->source != NL_IRQ_SRC_BURST && b < 2; b++)
		if (given(q, burst_only[b]))
			return nl_desc_refuse(c, i, burst_only[b], "only a burst source has bursts, not a %s one",
					      nl_desc_enum_name(nl_desc_irq_sources, q->source));
	if (d ? check_device(c, i, d) : check_generator(c, i))
		return -1;
	for (unsigned j = 0; j < i; j++) {
		if (e->irqs[j].owner != q->owner || e->irqs[j].line != q->line)
			continue;
		owner_name(e, q->owner, owner, sizeof owner);
		item_place(c, NL_DK_IRQ, j, place, sizeof place);
		return nl_desc_refuse(c, i, NL_DF_IRQ_LINE, "line %u of %s already has a source (%s)", q->line,
				      owner, place);
	}
	return 0;
}

/* "vmm, vm0, hv1": what a route of owner's lines may go to. */
static void route_targets(const struct nl_experiment *e, int owner, char *out, size_t cap)
{
	size_t used = (size_t)snprintf(out, cap, "vmm");

	for (unsigned i = 0; i < e->vm_count && used < cap; i++)
		if (e->vms[i].parent == owner)
			used += (size_t)snprintf(out + used, cap - used, ", %s", e->vms[i].name);
}

/* Where a route goes: "vmm" or one of its owner's own VMs, by a name that says which. */
static int check_route_to(const struct nl_desc_checker *c, unsigned i, const char *owner)
{
	const struct nl_experiment *e = c->exp;
	const struct nl_route_desc *r = &e->routes[i];
	char targets[256];

	if (r->to_vm == TO_NOBODY) {
		route_targets(e, r->owner, targets, sizeof targets);
		return nl_desc_refuse(c, i, NL_DF_ROUTE_TO, "'%s' is neither vmm nor one of %s's own VMs (%s)",
				      r->to, owner, targets);
	}
	if (r->to_vm == NL_IRQ_TO_VMM && own_vm_named(e, r->owner, "vmm") >= 0)
		return nl_desc_refuse(c, i, NL_DF_ROUTE_TO,
				      "'vmm' is ambiguous: it names %s itself and its VM vmm; rename the VM",
				      owner);
	if (r->to_vm == NL_IRQ_TO_VMM && given(r, NL_DF_ROUTE_AS))
		return nl_desc_refuse(c, i, NL_DF_ROUTE_AS,
				      "a line routed to the VMM itself keeps its number: only a route to a VM "
				      "names the VM's line");
	/* A child VMM's line is its parent's route or its own source, never both (one source per line). */
	for (unsigned j = 0; r->to_vm >= 0 && j < e->irq_count; j++) {
		char place[sizeof c->diag->field + 16];
		if (e->irqs[j].owner != r->to_vm || e->irqs[j].line != r->as)
			continue;
		item_place(c, NL_DK_IRQ, j, place, sizeof place);
		return nl_desc_refuse(c, i, NL_DF_ROUTE_AS,
				      "line %u of %s has a source of its own (%s): a route cannot arrive on it too",
				      r->as, e->vms[r->to_vm].name, place);
	}
	return 0;
}

static int check_route(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_experiment *e = c->exp;
	const struct nl_route_desc *r = &e->routes[i];
	char owner[NL_PATH_MAX], place[sizeof c->diag->field + 16];
	unsigned changes = 1;

	if (nl_desc_check_values(c, NL_DK_ROUTE, i) || check_owner(c, NL_DK_ROUTE, i, r->owner))
		return -1;
	owner_name(e, r->owner, owner, sizeof owner);
	if (r->at_ms >= e->duration_ms)
		return nl_desc_refuse(c, i, NL_DF_ROUTE_AT,
				      "a change at %llu ms comes too late: the experiment lasts %llu ms",
				      (unsigned long long)r->at_ms, (unsigned long long)e->duration_ms);
	if (check_route_to(c, i, owner))
		return -1;
	for (unsigned j = 0; j < i; j++) {
		if (e->routes[j].owner != r->owner)
			continue;
		if (++changes > NL_IRQ_ROUTES_PER_VMM)
			return nl_desc_refuse(c, i, NL_DF_ROUTE,
					      "more than %u route changes for %s's lines (NL_IRQ_ROUTES_PER_VMM, "
					      "what a VMM's multiplexer holds)", NL_IRQ_ROUTES_PER_VMM, owner);
		if (e->routes[j].line != r->line || e->routes[j].at_ms != r->at_ms)
			continue;
		item_place(c, NL_DK_ROUTE, j, place, sizeof place);
		return nl_desc_refuse(c, i, NL_DF_ROUTE_AT, "line %u of %s already changes route at %llu ms (%s)",
				      r->line, owner, (unsigned long long)r->at_ms, place);
	}
	return 0;
}

int nl_desc_check_lines(const struct nl_desc_checker *c)
{
	for (unsigned i = 0; i < c->exp->irq_count; i++)
		if (check_source(c, i))
			return -1;
	for (unsigned i = 0; i < c->exp->route_count; i++)
		if (check_route(c, i))
			return -1;
	return 0;
}
