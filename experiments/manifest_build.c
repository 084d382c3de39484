/*
 * From the experiment model to the binary boot manifest.  Everything L0
 * needs comes from the model alone, so an XML file and a JSON file that
 * describe the same experiment give the same bytes.
 */
#include <string.h>

#include "model.h"

/* The largest manifest there can be; the codec refuses more VMs than this holds. */
#define MANIFEST_MAX_BYTES \
	(sizeof(struct nl_manifest_header) + NL_MAX_VMS * sizeof(struct nl_manifest_vm))

/* A level's scheduler as the manifest carries it; the checks bounded the quantum by NL_QUANTUM_US_MAX. */
static struct nl_sched_choice sched_choice(const struct nl_sched_desc *s)
{
	return (struct nl_sched_choice){ s->policy, (uint32_t)s->quantum_us };
}

size_t nl_experiment_to_manifest(const struct nl_experiment *exp, void *buf, size_t cap)
{
	/* The codec needs 8-byte alignment; callers' buffers need not have it. */
	_Alignas(8) unsigned char out[MANIFEST_MAX_BYTES];
	struct nl_manifest_header h;
	struct nl_manifest_vm vms[NL_MAX_VMS];
	size_t size;

	if (exp->vm_count > NL_MAX_VMS)
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

	size = nl_manifest_encode(&h, vms, exp->vm_count, out, sizeof out);
	if (size == 0 || size > cap)
		return 0;
	memcpy(buf, out, size);
	return size;
}
