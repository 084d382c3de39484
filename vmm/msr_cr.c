/*
 * RDMSR/WRMSR and control-register exits.  A leaf sees only the MSRs a
 * 64-bit kernel needs and its local APIC's (IA32_APIC_BASE, the x2APIC
 * range, IA32_TSC_DEADLINE: vm_events.h); a VM that is a VMM also sees
 * IA32_FEATURE_CONTROL and the VMX capability MSRs of its virtual VMX
 * (nested/vmx_msr.c).  Anything
 * else gets #GP, as on a processor without that MSR.
 */
#include "guest_state.h"
#include "nested_runtime.h"
#include "vmx_ops.h"
#include "x86.h"
#include "vm_events.h"

#define MSR_IA32_KERNEL_GS_BASE 0xc0000102u
#define PAT_POWER_ON 0x0007040600070406ull

static int msr_read(struct vm *vm, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case MSR_IA32_FEATURE_CONTROL:
		if (!vm->nested)
			return -1;
		/* Locked, VMXON allowed outside SMX: what firmware leaves for a hypervisor. */
		*v = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
		return 0;
	case MSR_IA32_EFER: *v = vmcs_read64(VMCS_GUEST_IA32_EFER); return 0;
	case MSR_IA32_FS_BASE: *v = vmcs_readnat(VMCS_GUEST_FS_BASE); return 0;
	case MSR_IA32_GS_BASE: *v = vmcs_readnat(VMCS_GUEST_GS_BASE); return 0;
	case MSR_IA32_KERNEL_GS_BASE: *v = vm->msr_kernel_gs_base; return 0;
	case MSR_IA32_SYSENTER_CS: *v = vmcs_read32(VMCS_GUEST_SYSENTER_CS); return 0;
	case MSR_IA32_SYSENTER_ESP: *v = vmcs_readnat(VMCS_GUEST_SYSENTER_ESP); return 0;
	case MSR_IA32_SYSENTER_EIP: *v = vmcs_readnat(VMCS_GUEST_SYSENTER_EIP); return 0;
	case MSR_IA32_PAT: *v = vm->msr_pat ? vm->msr_pat : PAT_POWER_ON; return 0;
	}
	if (msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC && vm->nested)
		return nested_caps_rdmsr(&vm->nested->caps, msr, v);
	return -1;
}

static int pat_valid(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (v >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return 0;
	}
	return 1;
}

static int msr_write(struct vm *vm, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case MSR_IA32_EFER: {
		uint64_t cur = vmcs_read64(VMCS_GUEST_IA32_EFER);
		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -1;
		/* LME may not change while paging is on (SDM Vol. 3 9.8.5); LMA is the processor's. */
		if (((v ^ cur) & EFER_LME) && (vmcs_readnat(VMCS_GUEST_CR0) & CR0_PG))
			return -1;
		vmcs_write64(VMCS_GUEST_IA32_EFER, (v & ~EFER_LMA) | (cur & EFER_LMA));
		return 0;
	}
	case MSR_IA32_FS_BASE:
		if (!x86_canonical(v))
			return -1;
		vmcs_writenat(VMCS_GUEST_FS_BASE, v);
		return 0;
	case MSR_IA32_GS_BASE:
		if (!x86_canonical(v))
			return -1;
		vmcs_writenat(VMCS_GUEST_GS_BASE, v);
		return 0;
	case MSR_IA32_KERNEL_GS_BASE:
		if (!x86_canonical(v))
			return -1;
		vm->msr_kernel_gs_base = v;
		return 0;
	case MSR_IA32_SYSENTER_CS: vmcs_write32(VMCS_GUEST_SYSENTER_CS, (uint32_t)v); return 0;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		if (!x86_canonical(v))
			return -1; /* #GP, as WRMSR of a non-canonical address does (SDM Vol. 4) */
		vmcs_writenat(msr == MSR_IA32_SYSENTER_ESP ? VMCS_GUEST_SYSENTER_ESP : VMCS_GUEST_SYSENTER_EIP, v);
		return 0;
	case MSR_IA32_PAT:
		if (!pat_valid(v))
			return -1;
		vm->msr_pat = v;
		return 0;
	}
	/* IA32_FEATURE_CONTROL is locked and the capability MSRs are read-only: #GP (SDM 23.7, A.1). */
	return -1;
}

enum exit_action handle_rdmsr(struct vm *vm, const struct exit_info *ei)
{
	uint64_t v;
	uint32_t msr = (uint32_t)vm->regs.rcx;
	if (vlapic_is_apic_msr(msr) ? vm_apic_msr_read(vm, msr, &v) : msr_read(vm, msr, &v)) {
		vm_inject_exception(vm, VECTOR_GP, 1, 0);
		return EXIT_RESUME;
	}
	vm->regs.rax = (uint32_t)v;
	vm->regs.rdx = v >> 32;
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

enum exit_action handle_wrmsr(struct vm *vm, const struct exit_info *ei)
{
	uint64_t v = (vm->regs.rdx << 32) | (uint32_t)vm->regs.rax;
	uint32_t msr = (uint32_t)vm->regs.rcx;
	if (vlapic_is_apic_msr(msr) ? vm_apic_msr_write(vm, msr, v) : msr_write(vm, msr, v)) {
		vm_inject_exception(vm, VECTOR_GP, 1, 0);
		return EXIT_RESUME;
	}
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

/*
 * MOV to CR0/CR4 that touched a bit this VMM owns (the guest/host masks
 * hold the VMX-fixed bits, paging and PAE).  The owned bits must keep their
 * value — nestlab guests never leave 64-bit paging — except CR4.VMXE for a
 * VM offered VMX, whose guest-visible value lives in the read shadow (the
 * real bit must stay 1 in VMX non-root operation).
 */
static enum exit_action mov_to_cr(struct vm *vm, const struct exit_info *ei, unsigned cr, uint64_t v)
{
	enum vmcs_field guest = cr == 0 ? VMCS_GUEST_CR0 : VMCS_GUEST_CR4;
	enum vmcs_field mask_f = cr == 0 ? VMCS_CR0_GUEST_HOST_MASK : VMCS_CR4_GUEST_HOST_MASK;
	enum vmcs_field shadow_f = cr == 0 ? VMCS_CR0_READ_SHADOW : VMCS_CR4_READ_SHADOW;
	uint64_t mask = vmcs_readnat(mask_f), shadow = vmcs_readnat(shadow_f);
	uint64_t flexible = (cr == 4 && vm->nested) ? CR4_VMXE : 0;

	if (cr == 4 && (v & CR4_VMXE) && !vm->nested) {
		vm_inject_exception(vm, VECTOR_GP, 1, 0); /* VMXE is reserved where CPUID offers no VMX */
		return EXIT_RESUME;
	}
	if (cr == 4 && !(v & CR4_VMXE) && vm->nested && vm->nested->nvmx.vmxon) {
		vm_inject_exception(vm, VECTOR_GP, 1, 0); /* CR4.VMXE cannot be cleared in VMX operation (SDM 23.8) */
		return EXIT_RESUME;
	}
	if ((v ^ shadow) & mask & ~flexible)
		return vm_fault(vm, ei, "changes a control-register bit nestlab keeps fixed");
	vmcs_writenat(guest, (v & ~mask) | (vmcs_readnat(guest) & mask));
	vmcs_writenat(shadow_f, (shadow & ~flexible) | (v & flexible));
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

enum exit_action handle_cr_access(struct vm *vm, const struct exit_info *ei)
{
	uint64_t q = ei->qualification;
	unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	if (type == 0 && (cr == 0 || cr == 4))
		return mov_to_cr(vm, ei, cr, guest_gpr(vm, reg));
	return vm_fault(vm, ei, "control-register access nestlab does not emulate");
}
