/*
 * From the experiment model to the binary boot manifest.  Everything L0
 * needs comes from the model alone, so an XML file and a JSON file that
 * describe the same experiment give the same bytes.
 */
#include <string.h>

#include "model.h"

/* The largest manifest there can be; the codec refuses more VMs or lines than this holds. */
#define MANIFEST_MAX_BYTES                                                        \
	(sizeof(struct nl_manifest_header) + NL_MAX_VMS * sizeof(struct nl_manifest_vm) + \
	 NL_IRQ_MAX * sizeof(struct nl_manifest_irq))

/* A level's scheduler as the manifest carries it; the checks bounded the quantum by NL_QUANTUM_US_MAX. */
static struct nl_sched_choice sched_choice(const struct nl_sched_desc *s)
{
	return (struct nl_sched_choice){ s->policy, (uint32_t)s->quantum_us };
}

/*
 * The interrupt-line entries: sources, then route changes, each in file
 * order.  A field an entry of the other item does not have stays 0 (-1 for
 * a source's to_vm), as the decoder insists.
 */
static uint32_t encode_lines(const struct nl_experiment *exp, struct nl_manifest_irq *out)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < exp->irq_count; i++, n++) {
		const struct nl_irq_desc *d = &exp->irqs[i];
		struct nl_manifest_irq *m = &out[n];
		int device = nl_irq_source_is_device(d->source);

		memset(m, 0, sizeof *m);
		m->owner = d->owner;
		m->item = NL_IRQ_ITEM_SOURCE;
		m->line = (uint8_t)d->line; /* checked: below NL_IRQ_LINES */
		m->source = (uint8_t)d->source;
		m->to_vm = -1;
		/* A device is given its rate, a generator its period. */
		m->rate = device ? d->rate_hz : d->period_us;
		if (d->source == NL_IRQ_SRC_BURST) {
			m->burst = d->burst;
			m->spacing_us = d->spacing_us;
		}
	}
	for (unsigned i = 0; i < exp->route_count; i++, n++) {
		const struct nl_route_desc *d = &exp->routes[i];
		struct nl_manifest_irq *m = &out[n];

		memset(m, 0, sizeof *m);
		m->owner = d->owner;
		m->item = NL_IRQ_ITEM_ROUTE;
		m->line = (uint8_t)d->line;
		m->to_vm = d->to_vm;
		/* The VMM takes a line as it is: only a VM's route names the VM's line. */
		m->to_line = d->to_vm == NL_IRQ_TO_VMM ? 0 : (uint8_t)d->as;
		m->at_ms = d->at_ms;
	}
	return n;
}

size_t nl_experiment_to_manifest(const struct nl_experiment *exp, void *buf, size_t cap)
{
	/* The codec needs 8-byte alignment; callers' buffers need not have it. */
	_Alignas(8) unsigned char out[MANIFEST_MAX_BYTES];
	struct nl_manifest_header h;
	struct nl_manifest_vm vms[NL_MAX_VMS];
	struct nl_manifest_irq lines[NL_IRQ_MAX];
	uint32_t line_count;
	size_t size;

	if (exp->vm_count > NL_MAX_VMS || exp->irq_count + exp->route_count > NL_IRQ_MAX)
		return 0;
	memset(&h, 0, sizeof h);
	h.seed = exp->seed;
	h.duration_ms = exp->duration_ms;
	h.tsc_khz = nl_experiment_tsc_khz(exp);
	h.sched = sched_choice(&exp->sched);
	h.flags = exp->flags;
	if (!strcmp(exp->backend.name, "bochs"))
		h.flags |= NL_MF_MTF_UNRELIABLE; /* Bochs 2.7's monitor trap flag never exits */
	memcpy(h.experiment, exp->name, sizeof h.experiment);

	memset(vms, 0, sizeof vms);
	for (unsigned i = 0; i < exp->vm_count; i++) {
		const struct nl_vm_desc *d = &exp->vms[i];
		struct nl_manifest_vm *m = &vms[i];

		memcpy(m->name, d->name, sizeof m->name);
		/* The image name doubles as the multiboot2 module name; the runner maps it to a file. */
		memcpy(m->image, d->image, sizeof m->image);
		m->parent = d->parent;
		m->kind = (uint32_t)d->kind;
		m->memory_bytes = d->memory_bytes;
		m->features = d->features;
		m->single_steps = (uint32_t)d->single_steps; /* checked: at most NL_SINGLE_STEP_MAX */
		m->workload = d->workload;
		/* The scheduler that VMM runs for its own VMs; a leaf schedules nothing (zero). */
		if (d->kind == NL_VM_VMM)
			m->sched = sched_choice(&d->sched);
	}

	line_count = encode_lines(exp, lines);
	size = nl_manifest_encode_lines(&h, vms, exp->vm_count, lines, line_count, out, sizeof out);
	if (size == 0 || size > cap)
		return 0;
	memcpy(buf, out, size);
	return size;
}
