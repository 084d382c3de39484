/*
 * VMCS construction for a leaf guest (SDM Vol. 3 chapter 25 for the fields,
 * 26.2-26.3 for what VM entry demands of them).
 */
#include "vmcs_setup.h"
#include "cpu.h"
#include "platform.h"
#include "vmcs_check.h"
#include "vmx_ops.h"
#include "vmm.h"
#include "fmt.h"
#include "apicv_vm.h"

extern char vmx_exit_entry[];

/* What nestlab wants of each control field and why; adjusted against the capability MSRs. */
static const uint32_t want_pin = PIN_EXT_INTR_EXITING  /* no external interrupt reaches a leaf */
			       | PIN_NMI_EXITING       /* nor an NMI */
			       | PIN_PREEMPTION_TIMER; /* the round-robin time slice */
static const uint32_t want_proc = CPU_HLT_EXITING         /* HLT yields the CPU */
				| CPU_UNCOND_IO_EXITING   /* every port access is the VMM's */
				| CPU_MWAIT_EXITING | CPU_MONITOR_EXITING
				| CPU_ACTIVATE_SECONDARY;
/* Without "use MSR bitmaps" every RDMSR/WRMSR exits: a leaf never touches real MSRs. */
/* The VMM's own interrupts (its local APIC timer, l0/lapic_timer.h) are acknowledged on exit. */
static const uint32_t want_exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
				  EXIT_ACK_INTR_ON_EXIT;
static const uint32_t want_entry = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER;

uint64_t vmcs_loaded_hpa;
static int last_vmcs_op_failed;

void vmcs_load(uint64_t hpa)
{
	if (vmcs_loaded_hpa == hpa)
		return;
	last_vmcs_op_failed = vmptrld(hpa) != VMX_OK;
	vmcs_loaded_hpa = last_vmcs_op_failed ? 0 : hpa;
}

void vmcs_not_current(uint64_t hpa, const char *where)
{
	char reason[128];
	nl_snprintf(reason, sizeof reason, "VMM bug: %s needs VMCS %llx current, not %llx", where,
		    (unsigned long long)hpa, (unsigned long long)vmcs_loaded_hpa);
	platform_finish(0, reason);
}

void vmcs_clear(uint64_t hpa)
{
	last_vmcs_op_failed = vmclear(hpa) != VMX_OK;
	if (vmcs_loaded_hpa == hpa)
		vmcs_loaded_hpa = 0; /* VMCLEAR of the current VMCS leaves none current (SDM 31.3) */
}

static int vmcs_current_failed(void)
{
	return last_vmcs_op_failed;
}

static int adjust(uint32_t want, uint64_t cap, uint32_t *out, const char *what, const char **why)
{
	uint32_t missing;
	*out = vmx_adjust_controls(want, cap, &missing);
	if (missing) {
		*why = what;
		return -1;
	}
	return 0;
}

void vmcs_write_host_state(void)
{
	struct platform_host_state hs;
	platform_host_state(&hs);
	vmcs_writenat(VMCS_HOST_CR0, read_cr0());
	vmcs_writenat(VMCS_HOST_CR3, read_cr3());
	vmcs_writenat(VMCS_HOST_CR4, read_cr4());
	vmcs_write16(VMCS_HOST_CS_SELECTOR, hs.cs);
	vmcs_write16(VMCS_HOST_SS_SELECTOR, hs.ss);
	vmcs_write16(VMCS_HOST_DS_SELECTOR, hs.ds);
	vmcs_write16(VMCS_HOST_ES_SELECTOR, hs.es);
	vmcs_write16(VMCS_HOST_FS_SELECTOR, hs.fs);
	vmcs_write16(VMCS_HOST_GS_SELECTOR, hs.gs);
	vmcs_write16(VMCS_HOST_TR_SELECTOR, hs.tr);
	vmcs_writenat(VMCS_HOST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
	vmcs_writenat(VMCS_HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
	vmcs_writenat(VMCS_HOST_TR_BASE, hs.tr_base);
	vmcs_writenat(VMCS_HOST_GDTR_BASE, hs.gdt_base);
	vmcs_writenat(VMCS_HOST_IDTR_BASE, hs.idt_base);
	vmcs_write32(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmcs_writenat(VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmcs_write64(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_writenat(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
	/* HOST_RSP is written by vmx_run() on every entry. */
}

static void write_segment(enum vmcs_field sel, uint16_t selector, enum vmcs_field base,
			  enum vmcs_field limit, enum vmcs_field ar, uint32_t access)
{
	vmcs_write16(sel, selector);
	vmcs_writenat(base, 0);
	vmcs_write32(limit, 0xffffffffu);
	vmcs_write32(ar, access);
}

/* The state the guest_boot.h contract promises: 64-bit mode, paging on, flat segments. */
static void setup_guest_state(const struct vmx_caps *caps, uint64_t rip, uint64_t rsp)
{
	const uint32_t code64 = 0xa09b; /* G, L, P, DPL 0, S, execute/read accessed */
	const uint32_t data = 0xc093;   /* G, D/B, P, DPL 0, S, read/write accessed */
	uint64_t cr0 = ((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG) | caps->cr0_fixed0) & caps->cr0_fixed1;
	uint64_t cr4 = ((CR4_PAE | CR4_VMXE) | caps->cr4_fixed0) & caps->cr4_fixed1;

	vmcs_writenat(VMCS_GUEST_CR0, cr0);
	vmcs_writenat(VMCS_GUEST_CR3, NL_GUEST_PML4_GPA);
	vmcs_writenat(VMCS_GUEST_CR4, cr4);
	/* The guest owns no bit of CR0/CR4 that VMX fixes; it reads CR4.VMXE as 0. */
	vmcs_writenat(VMCS_CR0_GUEST_HOST_MASK, caps->cr0_fixed0 | ~caps->cr0_fixed1 | CR0_PG | CR0_PE);
	vmcs_writenat(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_writenat(VMCS_CR4_GUEST_HOST_MASK, caps->cr4_fixed0 | ~caps->cr4_fixed1 | CR4_PAE);
	vmcs_writenat(VMCS_CR4_READ_SHADOW, cr4 & ~CR4_VMXE);
	vmcs_write64(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);

	write_segment(VMCS_GUEST_CS_SELECTOR, NL_GUEST_CS, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT,
		      VMCS_GUEST_CS_AR_BYTES, code64);
	write_segment(VMCS_GUEST_SS_SELECTOR, NL_GUEST_DS, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT,
		      VMCS_GUEST_SS_AR_BYTES, data);
	write_segment(VMCS_GUEST_DS_SELECTOR, NL_GUEST_DS, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT,
		      VMCS_GUEST_DS_AR_BYTES, data);
	write_segment(VMCS_GUEST_ES_SELECTOR, NL_GUEST_DS, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT,
		      VMCS_GUEST_ES_AR_BYTES, data);
	write_segment(VMCS_GUEST_FS_SELECTOR, NL_GUEST_DS, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT,
		      VMCS_GUEST_FS_AR_BYTES, data);
	write_segment(VMCS_GUEST_GS_SELECTOR, NL_GUEST_DS, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT,
		      VMCS_GUEST_GS_AR_BYTES, data);
	/* TR must be a usable busy 64-bit TSS even though the guest never switches tasks. */
	vmcs_write16(VMCS_GUEST_TR_SELECTOR, NL_GUEST_TSS_SEL);
	vmcs_writenat(VMCS_GUEST_TR_BASE, NL_GUEST_TSS_GPA);
	vmcs_write32(VMCS_GUEST_TR_LIMIT, 0x67);
	vmcs_write32(VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmcs_write16(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmcs_writenat(VMCS_GUEST_LDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_LDTR_LIMIT, 0);
	vmcs_write32(VMCS_GUEST_LDTR_AR_BYTES, 0x10000); /* unusable */
	vmcs_writenat(VMCS_GUEST_GDTR_BASE, NL_GUEST_GDT_GPA);
	vmcs_write32(VMCS_GUEST_GDTR_LIMIT, NL_GUEST_GDT_LIMIT);
	/* No IDT: every guest exception exits through the exception bitmap. */
	vmcs_writenat(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write32(VMCS_GUEST_IDTR_LIMIT, 0);

	vmcs_writenat(VMCS_GUEST_DR7, 0x400);
	vmcs_writenat(VMCS_GUEST_RSP, rsp);
	vmcs_writenat(VMCS_GUEST_RIP, rip);
	vmcs_writenat(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_writenat(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_writenat(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write32(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write64(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write64(VMCS_VMCS_LINK_POINTER, ~0ull);
}

int vmcs_setup(struct vm *vm, const struct vmx_caps *caps, uint64_t rip, uint64_t rsp, const char **why)
{
	uint32_t pin, proc, proc2, exitc, entry;
	uint32_t want_proc2 = SEC_ENABLE_EPT | (vm->vpid ? SEC_ENABLE_VPID : 0);

	/* Virtual NMIs where the processor has them: NMI blocking tracked for the guest, NMI-window exiting (vm_events.c). */
	uint32_t vnmi = (uint32_t)(caps->pinbased >> 32) & PIN_VIRTUAL_NMIS;
	if (adjust(want_pin | vnmi, caps->pinbased, &pin, "pin-based controls lack the VMX-preemption timer", why) ||
	    adjust(want_proc, caps->procbased, &proc, "primary controls lack HLT/I-O/secondary controls", why) ||
	    adjust(want_proc2, caps->procbased2, &proc2, "secondary controls lack EPT or VPID", why) ||
	    adjust(want_exit, caps->exit, &exitc, "VM-exit controls lack 64-bit host, EFER save/load or interrupt acknowledge", why) ||
	    adjust(want_entry, caps->entry, &entry, "VM-entry controls lack IA-32e mode guest or EFER load", why))
		return -1;

	vm->vmcs01.ops = &vmm_vmcs01_ops;
	vm->vmcs = &vm->vmcs01;
	vm->vmcs01.hpa = platform_alloc(4096, 4096);
	if (!vm->vmcs01.hpa) {
		*why = "no memory for the VMCS";
		return -1;
	}
	*(volatile uint32_t *)(uintptr_t)vm->vmcs01.hpa = caps->revision;
	vmcs_clear(vm->vmcs01.hpa);
	vmcs_load(vm->vmcs01.hpa);
	if (vmcs_current_failed()) {
		*why = "VMCLEAR/VMPTRLD of a fresh VMCS failed";
		return -1;
	}

	vmcs_write32(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write32(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write32(VMCS_VM_EXIT_CONTROLS, exitc);
	vmcs_write32(VMCS_VM_ENTRY_CONTROLS, entry);
	vmcs_write32(VMCS_EXCEPTION_BITMAP, 0xffffffffu);
	vmcs_write32(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write32(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(VMCS_TSC_OFFSET, 0);
	vmcs_write64(VMCS_EPT_POINTER, vm->eptp);
	if (vm->vpid)
		vmcs_write16(VMCS_VIRTUAL_PROCESSOR_ID, vm->vpid);
	if (apicv_vm_setup(vm, caps, why))
		return -1;

	vmcs_write_host_state();
	setup_guest_state(caps, rip, rsp);
	return 0;
}

/* Every field of the current VMCS, by field index; a field the processor lacks reads 0. */
static void read_current_vmcs(uint64_t *fields)
{
	for (unsigned i = 0; i < VMCS12_NFIELDS; i++)
		fields[i] = vmx_vmread_or_zero(vmcs_field_encodings[i]);
}

const char *vmcs_self_check(const struct vmx_caps *caps)
{
	struct vmcs_check_caps cc = {
		.pinbased = caps->pinbased, .procbased = caps->procbased, .procbased2 = caps->procbased2,
		.exit = caps->exit, .entry = caps->entry,
		.cr0_fixed0 = caps->cr0_fixed0, .cr0_fixed1 = caps->cr0_fixed1,
		.cr4_fixed0 = caps->cr4_fixed0, .cr4_fixed1 = caps->cr4_fixed1,
		.ept_vpid = caps->ept_vpid, .misc = caps->misc, .phys_addr_bits = caps->phys_addr_bits,
	};
	struct vmcs_check_state s;
	uint64_t fields[VMCS12_NFIELDS];
	read_current_vmcs(fields);
	vmcs_check_state_from_fields(&s, fields);
	s.processor_ia32e = 1; /* every nestlab VMM runs in 64-bit mode */
	return vmcs_check(&s, &cc);
}
