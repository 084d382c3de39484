/*
 * The parent's side of "the same VMM image as a child": what a VM that runs
 * a nestlab VMM gets beyond a leaf guest.  Its image is the VMM image
 * itself, entered at the child-entry marker rather than at the multiboot2
 * entry; its part of the experiment (the VMs below it) becomes a manifest
 * of its own; and since it has no GRUB, the images those VMs run are copied
 * into its memory as boot modules, listed in its boot information.
 */
#include "fmt.h"
#include "nestlab/guest_boot.h"
#include "platform.h"
#include "vm_build.h"
#include "vmm.h"
#include <string.h>

#define PAGE 4096ull

static char reason[200];

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

/* The marker in the first NL_CHILD_ENTRY_SCAN bytes of the loaded image; -1 if there is none. */
static int find_child_entry(const struct vm *vm, uint64_t lowest, uint64_t image_end, uint64_t *entry)
{
	uint64_t scan_end = lowest + NL_CHILD_ENTRY_SCAN < image_end ? lowest + NL_CHILD_ENTRY_SCAN : image_end;
	for (uint64_t gpa = (lowest + 7) & ~7ull; gpa + sizeof(struct nl_child_entry) <= scan_end; gpa += 8) {
		const struct nl_child_entry *c = vm_gpa_ptr(vm, gpa);
		if (c->magic != NL_CHILD_ENTRY_MAGIC)
			continue;
		/* An entry outside the image would run whatever lies there. */
		if (c->entry64 < lowest || c->entry64 >= image_end)
			return -1;
		*entry = c->entry64;
		return 0;
	}
	return -1;
}

/* Where the next module goes: page-aligned, above the image, below the child's entry stack. */
struct placement {
	struct vm *vm;
	struct nl_guest_boot *boot;
	uint64_t next, limit;
};

static int add_module(struct placement *p, const char *name, uint64_t size, uint64_t *gpa, const char **why)
{
	struct nl_guest_boot *b = p->boot;
	if (b->module_count >= NL_GUEST_MAX_MODULES) {
		nl_snprintf(reason, sizeof reason, "child VMM %s needs more than %u boot modules", p->vm->path,
			    NL_GUEST_MAX_MODULES);
		*why = reason;
		return -1;
	}
	if (size > p->limit || p->next > p->limit - size) {
		nl_snprintf(reason, sizeof reason,
			    "child VMM %s: module '%s' (%llu bytes) does not fit at 0x%llx below 0x%llx "
			    "(memory %llu bytes, its image ends at 0x%llx)",
			    p->vm->path, name, (unsigned long long)size, (unsigned long long)p->next,
			    (unsigned long long)p->limit, (unsigned long long)p->vm->mem_bytes,
			    (unsigned long long)b->image_end);
		*why = reason;
		return -1;
	}
	struct nl_boot_module *mod = &b->modules[b->module_count++];
	memset(mod->name, 0, sizeof mod->name);
	nl_snprintf(mod->name, sizeof mod->name, "%s", name);
	mod->gpa = p->next;
	mod->size = size;
	*gpa = p->next;
	p->next = page_up(p->next + size);
	return 0;
}

/*
 * What a child VMM's own level records (its scheduler's, its end) take to
 * leave the machine: under Bochs COM1 sends one character per 87 us
 * (115200 baud) of emulated time, and those records are some 250.
 */
#define REPORT_ALLOWANCE_MS 20

/* The child's own manifest, encoded straight into its memory. */
static int add_sub_manifest(struct placement *p, const struct nl_manifest_view *m, unsigned index,
			    struct nl_manifest_vm *sub, uint32_t *count, const char **why)
{
	static struct nl_manifest_irq lines[NL_IRQ_MAX];
	uint32_t nlines = 0;
	if (nl_manifest_subtree(m, index, sub, count) || nl_manifest_subtree_lines(m, index, lines, &nlines)) {
		*why = "cannot take the child VMM's part of the manifest";
		return -1;
	}
	size_t size = sizeof(struct nl_manifest_header) + *count * sizeof(struct nl_manifest_vm) +
		      nlines * sizeof(struct nl_manifest_irq);
	uint64_t gpa;
	if (add_module(p, "manifest", size, &gpa, why))
		return -1;
	/*
	 * The child must stop its own VMs and report them before this level's
	 * deadline stops it, or their records are lost: its deadline is this
	 * level's less a fifth of the duration (at least 10 ms: reporting
	 * through a parent's virtual VMX is slow) and the time its own
	 * level's records take (REPORT_ALLOWANCE_MS), on the TSC every level
	 * reads alike.
	 */
	struct nl_manifest_header hdr = *m->hdr;
	hdr.flags &= ~(NL_MF_MTF_UNRELIABLE | NL_MF_LINES_FROM_PARENT); /* the child's monitor trap flag is this VMM's, emulated if need be */
	if (nl_manifest_routes_to(m, index))
		hdr.flags |= NL_MF_LINES_FROM_PARENT; /* the child's lines are this VMM's routes to it */
	hdr.sched = m->vms[index].sched;    /* the scheduler the description chose for the child's level */
	uint64_t margin = hdr.duration_ms * hdr.tsc_khz / 5;
	if (margin < 10 * hdr.tsc_khz)
		margin = 10 * hdr.tsc_khz;
	margin += REPORT_ALLOWANCE_MS * hdr.tsc_khz;
	uint64_t deadline = vmm_run_deadline();
	hdr.deadline_tsc = deadline > margin ? deadline - margin : 1;
	hdr.start_tsc = vmm_run_start(); /* route times count from L0's start at every level */
	/* Page-aligned in memory that is 2 MiB aligned: the 8-byte alignment encode wants. */
	if (nl_manifest_encode_lines(&hdr, sub, *count, lines, nlines, vm_gpa_ptr(p->vm, gpa), size) != size) {
		*why = "the child VMM's sub-manifest does not encode";
		return -1;
	}
	return 0;
}

/* Every image the child's VMs name, once each. */
static int add_images(struct placement *p, const struct nl_manifest_vm *sub, uint32_t count, const char **why)
{
	for (uint32_t i = 0; i < count; i++) {
		int seen = 0;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = !strcmp(sub[j].image, sub[i].image);
		if (seen)
			continue;
		const struct boot_module *img = platform_module(sub[i].image);
		if (!img) {
			nl_snprintf(reason, sizeof reason, "child VMM %s needs image '%s': no boot module named so",
				    p->vm->path, sub[i].image);
			*why = reason;
			return -1;
		}
		uint64_t gpa;
		if (add_module(p, sub[i].image, img->size, &gpa, why))
			return -1;
		memcpy(vm_gpa_ptr(p->vm, gpa), (const void *)(uintptr_t)img->start, img->size);
	}
	return 0;
}

int vm_build_vmm_payload(struct vm *vm, const struct nl_manifest_view *m, unsigned index,
			 uint64_t image_lowest, struct nl_guest_boot *boot, uint64_t *entry, const char **why)
{
	if (find_child_entry(vm, image_lowest, boot->image_end, entry)) {
		nl_snprintf(reason, sizeof reason,
			    "image '%s' is not a nestlab VMM: no child-entry marker in its first %llu KiB",
			    vm->desc->image, (unsigned long long)(NL_CHILD_ENTRY_SCAN >> 10));
		*why = reason;
		return -1;
	}
	struct placement p = {
		.vm = vm,
		.boot = boot,
		.next = page_up(boot->image_end),
		.limit = vm->mem_bytes - NL_GUEST_STACK_BYTES,
	};
	struct nl_manifest_vm sub[NL_MAX_VMS];
	uint32_t count;
	boot->module_count = 0;
	if (add_sub_manifest(&p, m, index, sub, &count, why) || add_images(&p, sub, count, why))
		return -1;
	return 0;
}
