/* APIC virtualization for a VM, the VMCS half (apicv_vm.h). */
#include "apicv_vm.h"
#include "cpu.h"
#include "ept.h"
#include "nested_runtime.h"
#include "platform.h"
#include "vm_build.h"
#include "vm_events.h"
#include "vmx_ops.h"

/* Every control the VMM needs for the path; any one missing and the APIC stays emulated. */
#define APICV_PROC  (CPU_TPR_SHADOW | CPU_USE_MSR_BITMAPS)
#define APICV_PROC2 (SEC_APIC_REGISTER_VIRT | SEC_VIRTUAL_INTR_DELIVERY | SEC_VIRTUALIZE_X2APIC_MODE | \
		     SEC_VIRTUALIZE_APIC_ACCESSES)

/* One MSR bitmap serves every VM in x2APIC mode: its contents depend on nothing of theirs. */
static uint64_t msr_bitmap_hpa;

const char *apicv_state_name(enum apicv_state s)
{
	return s == APICV_ON ? "on" : s == APICV_UNAVAILABLE ? "unavailable" : "off";
}

static int offered(const struct vmx_caps *caps)
{
	/* Allowed-1 settings are the high halves of the capability MSRs (SDM A.3.2, A.3.3). */
	return ((uint32_t)(caps->procbased >> 32) & APICV_PROC) == APICV_PROC &&
	       ((uint32_t)(caps->procbased2 >> 32) & APICV_PROC2) == APICV_PROC2 &&
	       ((uint32_t)(caps->pinbased >> 32) & PIN_EXT_INTR_EXITING);
}

/* Map the APIC-access page at gpa in the VM's EPT (0: map it nowhere), dropping what the old mapping left cached. */
static void map_access_page(struct vm *vm, uint64_t gpa)
{
	struct vm_apicv *a = &vm->apicv;
	if (a->mapped_gpa == gpa)
		return;
	/* An entry with no permission is not present (SDM 29.3.2): accesses there are EPT violations again. */
	if (a->mapped_gpa)
		ept_map_page(&vmm_ept_ops, vm->ept_root, a->mapped_gpa, a->access_hpa, 0);
	/* Only a base outside the VM's memory: the page must not hide RAM the guest owns. */
	if (gpa && !vm_gpa_range_ok(vm, gpa, APICV_PAGE_SIZE) &&
	    !ept_map_page(&vmm_ept_ops, vm->ept_root, gpa, a->access_hpa, EPT_READ | EPT_WRITE))
		a->mapped_gpa = gpa;
	else
		a->mapped_gpa = 0;
	if (vmm_caps->has_invept)
		invept(INVEPT_SINGLE_CONTEXT, vm->eptp);
}

/*
 * The controls that depend on the APIC's mode (SDM 26.2.1.1: "virtualize
 * x2APIC mode" and "virtualize APIC accesses" exclude each other).  In
 * x2APIC mode the MSR bitmap lets the virtualized MSRs through; in any
 * other mode every RDMSR/WRMSR exits, since with "virtualize x2APIC mode"
 * 0 a read the bitmap lets through would reach the physical APIC (30.5).
 */
static void mode_controls(struct vm *vm)
{
	enum vlapic_mode m = vlapic_mode(&vm->ev.lapic);
	uint32_t proc = vmcs_read32(VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~CPU_USE_MSR_BITMAPS;
	uint32_t proc2 = vmcs_read32(VMCS_SECONDARY_VM_EXEC_CONTROL) &
			 ~(SEC_VIRTUALIZE_X2APIC_MODE | SEC_VIRTUALIZE_APIC_ACCESSES);
	if (m == VLAPIC_MODE_X2APIC) {
		proc |= CPU_USE_MSR_BITMAPS;
		proc2 |= SEC_VIRTUALIZE_X2APIC_MODE;
	} else if (m == VLAPIC_MODE_XAPIC) {
		proc2 |= SEC_VIRTUALIZE_APIC_ACCESSES;
	}
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write32(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	map_access_page(vm, m == VLAPIC_MODE_XAPIC ? vlapic_base_gpa(&vm->ev.lapic) : 0);
}

int apicv_vm_setup(struct vm *vm, const struct vmx_caps *caps, const char **why)
{
	struct vm_apicv *a = &vm->apicv;
	*a = (struct vm_apicv){ 0 };
	if (!(vm->desc->features & NL_FEAT_APICV) || vm->desc->kind == NL_VM_VMM)
		return 0;
	if (!offered(caps)) {
		a->state = APICV_UNAVAILABLE; /* emulated, and the record says why the counts look as they do */
		return 0;
	}
	if (!msr_bitmap_hpa) {
		msr_bitmap_hpa = platform_alloc(APICV_MSR_BITMAP_SIZE, 4096);
		if (msr_bitmap_hpa)
			apicv_msr_bitmap((uint8_t *)(uintptr_t)msr_bitmap_hpa);
	}
	a->vapic_hpa = platform_alloc(APICV_PAGE_SIZE, 4096);
	a->access_hpa = platform_alloc(APICV_PAGE_SIZE, 4096);
	if (!msr_bitmap_hpa || !a->vapic_hpa || !a->access_hpa) {
		*why = "no memory for the virtual-APIC, APIC-access or MSR-bitmap page";
		return -1;
	}
	a->state = APICV_ON;
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, vmcs_read32(VMCS_CPU_BASED_VM_EXEC_CONTROL) | CPU_TPR_SHADOW);
	vmcs_write32(VMCS_SECONDARY_VM_EXEC_CONTROL, vmcs_read32(VMCS_SECONDARY_VM_EXEC_CONTROL) |
						     SEC_APIC_REGISTER_VIRT | SEC_VIRTUAL_INTR_DELIVERY);
	vmcs_write64(VMCS_VIRTUAL_APIC_PAGE_ADDR, a->vapic_hpa);
	vmcs_write64(VMCS_APIC_ACCESS_ADDR, a->access_hpa);
	vmcs_write64(VMCS_MSR_BITMAP, msr_bitmap_hpa);
	/* With virtual-interrupt delivery the TPR threshold is not used (30.1.2); 0 passes 26.2.1.1. */
	vmcs_write32(VMCS_TPR_THRESHOLD, 0);
	vmcs_write64(VMCS_EOI_EXIT_BITMAP0, 0);
	vmcs_write64(VMCS_EOI_EXIT_BITMAP1, 0);
	vmcs_write64(VMCS_EOI_EXIT_BITMAP2, 0);
	vmcs_write64(VMCS_EOI_EXIT_BITMAP3, 0);
	vmcs_write16(VMCS_GUEST_INTR_STATUS, 0);
	a->image_stale = 1;
	mode_controls(vm);
	return 0;
}

void apicv_vm_changed(struct vm *vm, uint32_t msr)
{
	if (vm->apicv.state != APICV_ON)
		return;
	vm->apicv.image_stale = 1;
	if (msr == MSR_IA32_APIC_BASE)
		mode_controls(vm);
}

void apicv_vm_enter(struct vm *vm, int hold)
{
	struct vm_apicv *a = &vm->apicv;
	struct vlapic *l = &vm->ev.lapic;
	uint8_t *page = (uint8_t *)(uintptr_t)a->vapic_hpa;
	if (a->image_stale) {
		apicv_page_image(l, page, rdtsc());
		a->image_stale = 0;
	}
	apicv_push(l, page, &a->sync);
	/* Level-triggered vectors EOI with an exit (25.4.2), so their source hears of it at once;
	 * with none now and none before, the bitmap stays 0 (the wake-up loop's case: no words to build). */
	uint32_t level = 0;
	for (unsigned w = 0; w < APIC_VECTOR_REGS; w++)
		level |= l->tmr[w];
	if (level || a->eoi_level) {
		uint64_t eoi_exit[4];
		apicv_eoi_exit_bitmap(l, eoi_exit);
		static const enum vmcs_field eoi_fields[4] = { VMCS_EOI_EXIT_BITMAP0, VMCS_EOI_EXIT_BITMAP1,
							      VMCS_EOI_EXIT_BITMAP2, VMCS_EOI_EXIT_BITMAP3 };
		for (unsigned q = 0; q < 4; q++)
			if (eoi_exit[q] != a->eoi_exit[q])
				vmcs_write64(eoi_fields[q], a->eoi_exit[q] = eoi_exit[q]);
		a->eoi_level = level != 0;
	}
	/* VM entry evaluates RVI against VPPR and delivers when the guest can take it (26.3.2.5, 30.2). */
	vmcs_write16(VMCS_GUEST_INTR_STATUS, apicv_intr_status(l, hold));
}

enum exit_action handle_apic_access(struct vm *vm, const struct exit_info *ei)
{
	vm->apicv.count.apic_access_exits++;
	vm_events_apic_access(vm, ei);
	return vm->state == VM_FAULTED ? EXIT_STOPPED : EXIT_RESUME;
}

/* Trap-like (30.4.3.2): the write is done in the page and RIP is past it; the VMM does it on the APIC. */
enum exit_action handle_apic_write(struct vm *vm, const struct exit_info *ei)
{
	uint32_t offset = (uint32_t)(ei->qualification & APIC_ACCESS_QUAL_OFFSET) & ~(APIC_REG_STRIDE - 1);
	vm->apicv.count.apic_write_exits++;
	vm_events_apic_write(vm, offset, apicv_vm_page_reg(vm, offset));
	return EXIT_RESUME;
}

/* Trap-like (30.1.4): the processor did the EOI in the page; the look pulls it, with the EOI owed to a level source. */
enum exit_action handle_eoi_induced(struct vm *vm, const struct exit_info *ei)
{
	(void)ei;
	vm->apicv.count.eoi_exits++;
	vm_events_poke(vm);
	return EXIT_RESUME;
}
