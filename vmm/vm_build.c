/* Building a VM: memory, EPT, image, boot structures, VMCS; a child VMM's payload in vm_build_vmm.c. */
#include "vm_build.h"
#include "vm_events.h"
#include "ept.h"
#include "elf64.h"
#include "fmt.h"
#include "fnv1a.h"
#include "platform.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"
#include <string.h>

#define MiB(x) ((uint64_t)(x) << 20)
#define STACK_RESERVE 0x10000ull /* the top 64 KiB of guest memory hold the stack */

/* x86-64 paging entry bits (SDM 4.5). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)

static uint64_t ept_alloc_page(void *ctx)
{
	(void)ctx;
	return platform_alloc(4096, 4096);
}

static void *ept_phys_to_ptr(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys; /* L0 identity-maps physical memory */
}

const struct ept_mem_ops vmm_ept_ops = { ept_alloc_page, ept_phys_to_ptr, 0 };

/* Identity map of guest-physical [0, 1 GiB) with 2 MiB pages: PML4 -> PDPT -> PD. */
static void build_guest_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa_ptr(vm, NL_GUEST_PML4_GPA);
	uint64_t *pdpt = vm_gpa_ptr(vm, NL_GUEST_PDPT_GPA);
	uint64_t *pd = vm_gpa_ptr(vm, NL_GUEST_PD_GPA);
	pml4[0] = NL_GUEST_PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = NL_GUEST_PD_GPA | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i * MiB(2)) | PTE_P | PTE_RW | PTE_PS;
}

static void build_guest_gdt(struct vm *vm)
{
	uint64_t *gdt = vm_gpa_ptr(vm, NL_GUEST_GDT_GPA);
	uint64_t tss = NL_GUEST_TSS_GPA, limit = 0x67;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* 64-bit code, matches CS access rights 0xa09b */
	gdt[2] = 0x00cf93000000ffffull; /* data, matches 0xc093 */
	/* 64-bit busy TSS descriptor (type 0xb), two slots. */
	gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x8bull << 40) | ((tss >> 24) & 0xff) << 56;
	gdt[4] = tss >> 32;
}

static struct nl_guest_boot *build_boot_info(struct vm *vm, const struct nl_manifest_view *m,
					     uint64_t image_end)
{
	struct nl_guest_boot *b = vm_gpa_ptr(vm, NL_GUEST_BOOT_GPA);
	b->magic = NL_GUEST_BOOT_MAGIC;
	b->version = NL_GUEST_BOOT_VERSION;
	b->vm_index = vm->index;
	memcpy(b->name, vm->name, sizeof b->name);
	memcpy(b->path, vm->path, sizeof b->path);
	b->memory_bytes = vm->mem_bytes;
	/*
	 * Each VM gets its own stream from the experiment's seed, mixed with a
	 * hash of its path (FNV-1a) so VMs at different levels never share one.
	 */
	b->seed = m->hdr->seed ^ fnv1a_str(FNV1A_OFFSET, vm->path);
	b->image_end = image_end;
	b->tsc_khz = m->hdr->tsc_khz;
	b->workload = vm->desc->workload;
	b->level = platform_level() + 1;
	return b;
}

int vm_build(struct vm *vm, const struct nl_manifest_view *m, unsigned index,
	     const struct vmx_caps *caps, uint16_t vpid, const char **why)
{
	const struct nl_manifest_vm *d = &m->vms[index];
	static char reason[160];

	vm->index = index;
	vm->desc = d;
	vm->hosts_vmm = nl_manifest_below_has_kind(m, index, NL_VM_VMM);
	memcpy(vm->name, d->name, sizeof vm->name);
	if (nl_snprintf(vm->path, sizeof vm->path, "%s/%s", platform_path(), d->name) >= (int)sizeof vm->path) {
		*why = "the VM's path does not fit NL_PATH_MAX: its records could not be told apart";
		return -1;
	}
	vm->state = VM_RUNNABLE;
	vm_events_init(vm, m->hdr->tsc_khz);

	const struct boot_module *img = platform_module(d->image);
	if (!img) {
		nl_snprintf(reason, sizeof reason, "no boot module named '%s'", d->image);
		*why = reason;
		return -1;
	}

	vm->mem_bytes = d->memory_bytes;
	vm->mem_hpa = platform_alloc(vm->mem_bytes, MiB(2));
	if (!vm->mem_hpa) {
		*why = "not enough host memory for the VM";
		return -1;
	}

	/* The VM's own EPT maps its memory and nothing else: any other access is an EPT violation. */
	vm->ept_root = ept_create(&vmm_ept_ops);
	if (!vm->ept_root ||
	    ept_map(&vmm_ept_ops, vm->ept_root, 0, vm->mem_hpa, vm->mem_bytes, EPT_RWX, caps->has_ept_2m)) {
		*why = "cannot build the EPT";
		return -1;
	}
	vm->eptp = ept_pointer(vm->ept_root);

	struct elf64_load_result res;
	const char *elf_why = 0;
	if (elf64_load((const void *)(uintptr_t)img->start, img->size, vm_gpa_ptr(vm, 0), 0,
		       vm->mem_bytes - STACK_RESERVE, NL_GUEST_IMAGE_GPA, &res, &elf_why)) {
		nl_snprintf(reason, sizeof reason, "image '%s': %s", d->image, elf_why ? elf_why : "invalid ELF");
		*why = reason;
		return -1;
	}

	build_guest_page_tables(vm);
	build_guest_gdt(vm);
	struct nl_guest_boot *boot = build_boot_info(vm, m, res.highest);
	uint64_t entry = res.entry;
	/* A child VMM also gets its sub-manifest and images, and starts at its 64-bit child entry. */
	if (d->kind == NL_VM_VMM && vm_build_vmm_payload(vm, m, index, res.lowest, boot, &entry, why))
		return -1;
	vm->regs.rdi = NL_GUEST_BOOT_GPA;
	vm->vpid = vpid;

	if (vmcs_setup(vm, caps, entry, vm->mem_bytes, why))
		return -1;
	const char *bad = vmcs_self_check(caps);
	if (bad) {
		nl_snprintf(reason, sizeof reason, "VMCS self-check: %s", bad);
		*why = reason;
		return -1;
	}
	/*
	 * The VM's memory and tables may reuse frames an earlier VM had: drop
	 * any translation the processor could still hold for this EPTP and
	 * VPID before the first entry (SDM 29.4.3.1, "when to invalidate").
	 */
	if (caps->has_invept)
		invept(INVEPT_SINGLE_CONTEXT, vm->eptp);
	if (vm->vpid && caps->has_invvpid)
		invvpid(INVVPID_SINGLE_CONTEXT, vm->vpid, 0);
	return 0;
}
