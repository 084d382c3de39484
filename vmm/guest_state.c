/* Guest state helpers shared by the exit handlers and the nested runtime. */
#include "guest_state.h"
#include "nested_runtime.h"
#include "vmx_ops.h"

static uint64_t *gpr_slot(struct vm *vm, unsigned n)
{
	switch (n) {
	case 0: return &vm->regs.rax;
	case 1: return &vm->regs.rcx;
	case 2: return &vm->regs.rdx;
	case 3: return &vm->regs.rbx;
	case 5: return &vm->regs.rbp;
	case 6: return &vm->regs.rsi;
	case 7: return &vm->regs.rdi;
	case 8: return &vm->regs.r8;
	case 9: return &vm->regs.r9;
	case 10: return &vm->regs.r10;
	case 11: return &vm->regs.r11;
	case 12: return &vm->regs.r12;
	case 13: return &vm->regs.r13;
	case 14: return &vm->regs.r14;
	case 15: return &vm->regs.r15;
	}
	return 0; /* RSP lives in the VMCS */
}

uint64_t guest_gpr(const struct vm *vm, unsigned n)
{
	if ((n & 15) == 4)
		return vmcs_readnat(VMCS_GUEST_RSP);
	return *gpr_slot((struct vm *)vm, n & 15);
}

void guest_set_gpr(struct vm *vm, unsigned n, uint64_t v)
{
	if ((n & 15) == 4)
		vmcs_writenat(VMCS_GUEST_RSP, v);
	else
		*gpr_slot(vm, n & 15) = v;
}

uint64_t guest_visible_cr0(void)
{
	uint64_t mask = vmcs_readnat(VMCS_CR0_GUEST_HOST_MASK);
	return (vmcs_readnat(VMCS_GUEST_CR0) & ~mask) | (vmcs_readnat(VMCS_CR0_READ_SHADOW) & mask);
}

uint64_t guest_visible_cr4(void)
{
	uint64_t mask = vmcs_readnat(VMCS_CR4_GUEST_HOST_MASK);
	return (vmcs_readnat(VMCS_GUEST_CR4) & ~mask) | (vmcs_readnat(VMCS_CR4_READ_SHADOW) & mask);
}

int guest_64bit_mode(uint64_t efer)
{
	return (efer & EFER_LMA) && ((vmcs_read32(VMCS_GUEST_CS_AR_BYTES) >> 13) & 1);
}

unsigned guest_cpl(void)
{
	return (vmcs_read32(VMCS_GUEST_SS_AR_BYTES) >> 5) & 3;
}

void vm_inject_exception(struct vm *vm, unsigned vector, int has_error, uint32_t error_code)
{
	(void)vm;
	uint32_t info = intr_info_event(INTR_TYPE_HW_EXCEPTION, vector) | (has_error ? INTR_INFO_ERROR_CODE : 0);
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
	if (has_error)
		vmcs_write32(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
}
