/*
 * Loading a description: pick the reader by extension, then run the
 * semantic checks that both formats share.  The readers only know syntax
 * and types; every rule about what an experiment may ask for lives here,
 * against the model, so XML and JSON cannot accept different experiments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "desc.h"
#include "nestlab/guest_boot.h"

#define MIB               (1024ull * 1024ull)
#define PAGE_SIZE         4096ull
/* L0 backs guest memory with 2 MiB EPT pages, so VM sizes come in those. */
#define VM_MEMORY_GRANULE (2ull * MIB)

/* Room L0 keeps for itself, its page tables, VMCS pages and the boot modules. */
#define L0_RESERVE_MB     32ull
/*
 * A VM with children runs a nestlab VMM, which needs room of its own beside
 * its VMs' memory: its image, the images and manifest it hands down, its
 * EPT tables, VMCS pages and stacks, and up to 2 MiB lost aligning a VM.
 */
#define VMM_OWN_MB        16ull
/* L0 → L1 → L2 → L3: the depth docs/architecture.md describes and the CI runs. */
#define MAX_VMM_LEVELS    4u
/* The images a VM runs unless the description names one. */
#define DEFAULT_LEAF_IMAGE "leaf"
#define DEFAULT_VMM_IMAGE  "nestlab-vmm"

int nl_desc_refuse(const struct nl_desc_checker *c, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
{
	char field[sizeof c->diag->field];
	char message[sizeof c->diag->message];
	int line = 0;
	va_list ap;

	c->src->locate(c->src, vm, f, field, sizeof field, &line);
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	nl_diag_set(c->diag, c->file, line, field, "%s", message);
	return -1;
}

int nl_desc_check_values(const struct nl_desc_checker *c, enum nl_desc_kind k, unsigned vm)
{
	const void *base = nl_desc_base((struct nl_experiment *)c->exp, k, vm);
	char msg[sizeof c->diag->message];

	for (unsigned f = 0; f < NL_DF_COUNT; f++) {
		const struct nl_desc_field_info *r = nl_desc_field(f);

		if (r->kind == k && nl_desc_has_value(r, base) && nl_desc_value_problem(r, base, msg, sizeof msg))
			return nl_desc_refuse(c, vm, r->id, "%s", msg);
	}
	return 0;
}

static int check_experiment(const struct nl_desc_checker *c)
{
	const struct nl_experiment *e = c->exp;

	if (nl_desc_check_values(c, NL_DK_EXPERIMENT, NL_DESC_TOP) ||
	    nl_desc_check_values(c, NL_DK_SCHEDULER, NL_DESC_TOP))
		return -1;
	if (e->flags & ~NL_MF_ALL)
		return nl_desc_refuse(c, NL_DESC_TOP, NL_DF_EXPERIMENT, "unknown experiment flags 0x%x", e->flags);
	if (e->vm_count == 0)
		return nl_desc_refuse(c, NL_DESC_TOP, NL_DF_VMS, "an experiment needs at least one VM");
	return nl_desc_check_values(c, NL_DK_BACKEND, NL_DESC_TOP);
}

static int check_vm_memory(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_vm_desc *vm = &c->exp->vms[i];
	unsigned long long mib = (unsigned long long)(vm->memory_bytes / MIB);

	if (vm->memory_bytes % VM_MEMORY_GRANULE)
		return nl_desc_refuse(c, i, NL_DF_VM_MEMORY,
				      "%llu MiB is not a multiple of 2 MiB (L0 maps guest memory in 2 MiB pages)",
				      mib);
	if (vm->workload.touch_pages > vm->memory_bytes / PAGE_SIZE)
		return nl_desc_refuse(c, i, NL_DF_VM_TOUCH_PAGES,
				      "%llu pages of 4 KiB do not fit in the VM's %llu MiB",
				      (unsigned long long)vm->workload.touch_pages, mib);
	return 0;
}

/* How many VMMs stand above and at VM i, L0 counted: 1 for a VM of L0. */
static unsigned vmm_levels_at(const struct nl_experiment *e, unsigned i)
{
	unsigned levels = 1;

	for (int p = e->vms[i].parent; p >= 0 && levels <= NL_MAX_VMS; p = e->vms[p].parent)
		levels++;
	return levels + (e->vms[i].kind == NL_VM_VMM);
}

/* A VM that runs a VMM: deep enough to build, big enough for its VMs and itself. */
static int check_vmm(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_experiment *e = c->exp;
	const struct nl_vm_desc *vm = &e->vms[i];
	unsigned long long children = 0, own = vm->memory_bytes / MIB;
	unsigned levels = vmm_levels_at(e, i);

	if (levels > MAX_VMM_LEVELS)
		return nl_desc_refuse(c, i, NL_DF_VM_CHILDREN,
				      "this VM would run the VMM at level L%u: a stack holds at most %u VMMs "
				      "(L0 to L%u)",
				      levels - 1, MAX_VMM_LEVELS, MAX_VMM_LEVELS - 1);
	for (unsigned j = i + 1; j < e->vm_count; j++)
		if (e->vms[j].parent == (int)i)
			children += e->vms[j].memory_bytes / MIB;
	if (children + VMM_OWN_MB > own)
		return nl_desc_refuse(c, i, NL_DF_VM_MEMORY,
				      "%llu MiB is too small for a VMM: its child VMs need %llu MiB and the VMM keeps "
				      "%llu MiB of its own",
				      own, children, VMM_OWN_MB);
	return 0;
}

/* Whether VM i has child VMs (a VM offered VMX by vmx="on" may have none). */
static int has_children(const struct nl_experiment *e, unsigned i)
{
	for (unsigned j = i + 1; j < e->vm_count; j++)
		if (e->vms[j].parent == (int)i)
			return 1;
	return 0;
}

static int check_vm(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_experiment *e = c->exp;
	const struct nl_vm_desc *vm = &e->vms[i];
	int rc;

	if (nl_desc_check_values(c, NL_DK_VM, i) || nl_desc_check_values(c, NL_DK_FEATURES, i) ||
	    nl_desc_check_values(c, NL_DK_WORKLOAD, i) || nl_desc_check_values(c, NL_DK_SCHEDULER, i))
		return -1;
	/* Sibling names must differ: records name a VM by its path (L0/hv1/vm0). */
	for (unsigned j = 0; j < i; j++)
		if (e->vms[j].parent == vm->parent && !strcmp(e->vms[j].name, vm->name))
			return nl_desc_refuse(c, i, NL_DF_VM_NAME,
					      "duplicate VM name '%s': the VM on line %d at the same level has it",
					      vm->name, e->vms[j].line);
	if (!strcmp(vm->image, "manifest"))
		return nl_desc_refuse(c, i, NL_DF_VM_IMAGE,
				      "'manifest' names the boot manifest's module, not an image");
	/* Every level tags records with the VM's path in NL_PATH_MAX bytes: a longer one would be cut. */
	char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
	nl_experiment_vm_path(e, i, path, sizeof path);
	if (strlen(path) >= NL_PATH_MAX)
		return nl_desc_refuse(c, i, NL_DF_VM_NAME, "the VM's path %s is %zu characters; at most %u fit",
				      path, strlen(path), NL_PATH_MAX - 1);
	rc = check_vm_memory(c, i);
	if (rc)
		return rc;
	if (!(vm->features & NL_FEAT_EPT))
		return nl_desc_refuse(c, i, NL_DF_VM_EPT,
				      "ept=off needs shadow paging, not implemented yet (issue #3)");
	if (vm->features & ~NL_FEAT_ALL)
		return nl_desc_refuse(c, i, NL_DF_VM_FEATURES, "unknown feature bits 0x%x", vm->features);
	if (vm->kind != NL_VM_VMM && (vm->features & NL_FEAT_VMCS_SHADOW))
		return nl_desc_refuse(c, i, NL_DF_VM_VMCS_SHADOWING,
				      "VMCS shadowing only applies to a VM that runs a VMM (one with child VMs), "
				      "not to a leaf guest");
	if (vm->kind == NL_VM_VMM && (vm->features & NL_FEAT_APICV))
		return nl_desc_refuse(c, i, NL_DF_VM_APICV,
				      "APIC virtualization is given to a leaf guest; a VM that runs a VMM keeps the "
				      "emulated APIC");
	if (vm->workload.wakeups && vm->workload.irq_off_us >= vm->workload.period_us)
		return nl_desc_refuse(c, i, NL_DF_VM_IRQ_OFF,
				      "%u us with interrupts off is not shorter than the wake-up period of %u us",
				      vm->workload.irq_off_us, vm->workload.period_us);
	if (vm->kind != NL_VM_VMM && vm->sched.given)
		return nl_desc_refuse(c, i, NL_DF_VM_SCHED,
				      "a leaf guest schedules nothing: a scheduler belongs to a VM that runs a VMM "
				      "(one with child VMs, or vmx=on)");
	if (!strcmp(vm->image, DEFAULT_VMM_IMAGE) && !has_children(e, i))
		return nl_desc_refuse(c, i, NL_DF_VM_IMAGE,
				      "'%s' is the nestlab VMM: a VM running it needs child VMs to run", vm->image);
	if (vm->kind == NL_VM_VMM)
		return check_vmm(c, i);
	return 0;
}

/* The VMs of L0 are carved out of the machine's memory next to L0 itself. */
static int check_machine_memory(const struct nl_desc_checker *c)
{
	const struct nl_experiment *e = c->exp;
	unsigned long long need = 0;

	for (unsigned i = 0; i < e->vm_count; i++)
		if (e->vms[i].parent < 0)
			need += e->vms[i].memory_bytes / MIB;
	if (need + L0_RESERVE_MB > e->backend.memory_mb)
		return nl_desc_refuse(c, 0, NL_DF_BACKEND_MEMORY,
				      "the VMs of L0 need %llu MiB and L0 keeps %llu MiB, more than the machine's "
				      "%u MiB",
				      need, L0_RESERVE_MB, e->backend.memory_mb);
	return 0;
}

/*
 * What follows from the whole tree once it is read: a VM offered VMX or
 * given child VMs runs a VMM (a VM becomes one when its first child
 * appears); one that names no image runs the nestlab VMM if it has child
 * VMs, the leaf guest otherwise; a level without a scheduler of its own
 * runs round robin with the experiment's quantum; interrupt lines take
 * their defaults and a route the VM it names (desc_lines.c).
 */
static void resolve(struct nl_experiment *e)
{
	if (!e->sched.given)
		nl_desc_begin(e, NL_DK_SCHEDULER, NL_DESC_TOP);
	for (unsigned i = 0; i < e->vm_count; i++) {
		struct nl_vm_desc *vm = &e->vms[i];

		if (vm->offer_vmx)
			vm->kind = NL_VM_VMM;
		if (!vm->image[0])
			nl_desc_copy_str(vm->image, sizeof vm->image,
					 vm->kind == NL_VM_VMM ? DEFAULT_VMM_IMAGE : DEFAULT_LEAF_IMAGE);
		if (!vm->sched.given)
			nl_desc_begin(e, NL_DK_SCHEDULER, i);
	}
	nl_desc_resolve_lines(e);
}

/* A VM's image must be one the run can boot: say which there are, as `run` would look for them. */
static int check_image(const struct nl_desc_checker *c, unsigned i)
{
	const struct nl_image_set *set = c->images;
	const char *image = c->exp->vms[i].image;
	char there[sizeof c->diag->message / 2] = "";
	size_t used = 0;

	if (!set)
		return 0;
	for (unsigned k = 0; k < set->count; k++)
		if (!strcmp(set->names[k], image))
			return 0;
	if (set->more) {
		/* A folder with more images than are listed: the file itself says. */
		char file[NL_SOURCE_PATH_MAX + NL_NAME_MAX + 8];
		snprintf(file, sizeof file, "%s/%s.elf", set->dir, image);
		if (!access(file, R_OK))
			return 0;
	}
	for (unsigned k = 0; k < set->count && used + 1 < sizeof there; k++)
		used += (size_t)snprintf(there + used, sizeof there - used, "%s%s", k ? ", " : "",
					 set->names[k]);
	if (used + 1 >= sizeof there || set->more)
		snprintf(there + (used + 1 < sizeof there ? used : sizeof there - 5), 5, " ...");
	return nl_desc_refuse(c, i, NL_DF_VM_IMAGE, "no image '%s' in %s (%s%s)", image, set->dir,
			      set->count ? "there are: " : "it holds no <name>.elf", there);
}

static int check_all(const struct nl_desc_checker *c)
{
	int rc = check_experiment(c);

	for (unsigned i = 0; !rc && i < c->exp->vm_count; i++)
		rc = check_vm(c, i) ? -1 : check_image(c, i);
	if (!rc)
		rc = check_machine_memory(c);
	if (!rc)
		rc = nl_desc_check_lines(c);
	return rc;
}

static const char *extension_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	return dot ? dot : "";
}

int nl_desc_load(const char *path, struct nl_experiment *exp, struct nl_diag *diag)
{
	return nl_desc_load_for(path, NULL, exp, diag);
}

int nl_desc_load_for(const char *path, const struct nl_image_set *images, struct nl_experiment *exp,
		     struct nl_diag *diag)
{
	struct nl_desc_source src = { 0 };
	const char *ext = extension_of(path);
	struct nl_desc_checker c = { .file = path, .exp = exp, .src = &src, .images = images, .diag = diag };
	int rc;

	memset(exp, 0, sizeof *exp);
	memset(diag, 0, sizeof *diag);
	if (strlen(path) >= sizeof exp->source_path) {
		nl_diag_set(diag, path, 0, "", "path longer than %zu bytes", sizeof exp->source_path - 1);
		return -1;
	}
	snprintf(exp->source_path, sizeof exp->source_path, "%s", path);
	nl_desc_defaults(exp);

	if (!strcasecmp(ext, ".xml")) {
		rc = nl_desc_read_xml(path, exp, &src, diag);
	} else if (!strcasecmp(ext, ".json")) {
		rc = nl_desc_read_json(path, exp, &src, diag);
	} else {
		nl_diag_set(diag, path, 0, "", "unknown description format '%s': expected .xml or .json",
			    ext);
		return -1;
	}
	if (rc)
		return -1;
	resolve(exp);
	rc = check_all(&c);
	src.release(&src);
	return rc;
}

int nl_experiment_set_backend(struct nl_experiment *exp, const char *backend, struct nl_diag *diag)
{
	const char *why = nl_desc_backend_problem(backend);

	if (why) {
		nl_diag_set(diag, exp->source_path, 0, "--backend", "'%s' %s", backend, why);
		return -1;
	}
	nl_desc_copy_str(exp->backend.name, sizeof exp->backend.name, backend);
	return 0;
}
