/*
 * VMCS shadowing offered to a child VMM: L2's VMREAD/VMWRITE that L1's
 * VMREAD/VMWRITE bitmaps let through act on L1's shadow VMCS (VMCS12's
 * link pointer) without an exit to L1.  VMCS02 itself is never shadowed,
 * so they exit to this VMM, which runs them here in L2's context: operands
 * in L2's registers or in L2's memory (L2's page tables, then EPT12), the
 * outcome in L2's RFLAGS, #GP(0) into L2 (or to L1, if its exception
 * bitmap asks) above CPL 0.  SDM Vol. 3 25.10, 26.1.3, and the VMX
 * non-root branch of VMREAD/VMWRITE in chapter 31.
 */
#include <string.h>
#include "guest_state.h"
#include "nested_entry.h"
#include "nested_runtime.h"
#include "vmx_ops.h"

/* L2's page-table entries, which lie in L2-physical memory: through EPT12 into L1's memory. */
struct l2_tables {
	const struct guest_mem *l1mem;
	uint64_t eptp12;
};

static int read_l2_table_entry(const void *ctx, uint64_t gpa2, uint64_t *out)
{
	const struct l2_tables *t = ctx;
	uint64_t gpa1;
	if (shadow_ept_translate(t->l1mem, t->eptp12, gpa2, EPT_READ, &gpa1) || !guest_mem_ok(t->l1mem, gpa1, 8))
		return -1;
	memcpy(out, guest_mem_ptr(t->l1mem, gpa1), 8);
	return 0;
}

/* L2-linear to L1-physical for a len-byte operand (VMCS02 is current), or -1 where L2 or EPT12 maps nothing. */
static int l2_operand_gpa1(struct vm *vm, const struct exit_info *ei, unsigned len, int write, int long_mode,
			   uint64_t *gpa1)
{
	struct nested_vm *nv = vm->nested;
	uint64_t linear;
	if (nested_operand_linear(vm, ei, vmcs_read32(VMCS_VMX_INSTRUCTION_INFO), long_mode, &linear))
		return -1;
	const struct l2_tables tables = { &nv->l1mem, V12(nv->nvmx.cache, EPT_POINTER) };
	const struct gpa_reader reader = { read_l2_table_entry, &tables };
	uint64_t cr0 = vmcs_readnat(VMCS_GUEST_CR0), cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4), efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	uint64_t first2, last2, first1, last1, rights = write ? EPT_WRITE : EPT_READ;
	if (guest_linear_to_phys_via(&reader, cr0, cr3, cr4, efer, linear, write, &first2))
		return -1;
	if (operand_within_page(linear, len))
		last2 = first2 + len - 1;
	else if (guest_linear_to_phys_via(&reader, cr0, cr3, cr4, efer, linear + len - 1, write, &last2))
		return -1;
	if (shadow_ept_translate(&nv->l1mem, tables.eptp12, first2, rights, &first1) ||
	    shadow_ept_translate(&nv->l1mem, tables.eptp12, last2, rights, &last1))
		return -1;
	/* An operand across two pages must be contiguous in L1's memory for this copy. */
	if (last1 != first1 + len - 1 || !guest_mem_ok(&nv->l1mem, first1, len))
		return -1;
	*gpa1 = first1;
	return 0;
}

enum exit_action nested_l2_vmcs_access(struct vm *vm, const struct exit_info *ei)
{
	struct nested_vm *nv = vm->nested;
	uint32_t info = vmcs_read32(VMCS_VMX_INSTRUCTION_INFO);
	struct nvmx_ctx c = { 0 };
	c.cpl = guest_cpl();
	c.long_mode = (vmcs_read64(VMCS_GUEST_IA32_EFER) & EFER_LMA) != 0;
	c.cs_l = (vmcs_read32(VMCS_GUEST_CS_AR_BYTES) >> 13) & 1;
	int mode64 = c.long_mode && c.cs_l;
	unsigned opsize = mode64 ? 8 : 4;
	uint64_t field = guest_gpr(vm, vmx_insn_reg2(info)), value = 0, gpa1;
	int is_read = ei->reason == EXIT_REASON_VMREAD;
	int in_reg = vmx_insn_reg1_is_reg(info);
	struct nvmx_result r;

	nv->count.l2_vmcs_served[is_read ? 0 : 1]++;
	if (is_read) {
		r = nvmx_l2_vmread(&nv->nvmx, &nv->l1mem, &c, field, &value);
		if (r.outcome == NVMX_SUCCEED) {
			if (!mode64)
				value = (uint32_t)value;
			if (in_reg)
				guest_set_gpr(vm, vmx_insn_reg1(info), value);
			else if (l2_operand_gpa1(vm, ei, opsize, 1, mode64, &gpa1))
				return nested_l2_exception(vm, 13, 0); /* #PF on hardware: a documented deviation */
			else
				memcpy(guest_mem_ptr(&nv->l1mem, gpa1), &value, opsize);
		}
	} else {
		/* A memory source is read after the #GP and link-pointer checks, before the field checks. */
		int read_mem = !in_reg && c.cpl == 0 && V12(nv->nvmx.cache, VMCS_LINK_POINTER) != ~0ull;
		if (in_reg)
			value = guest_gpr(vm, vmx_insn_reg1(info));
		else if (read_mem && l2_operand_gpa1(vm, ei, opsize, 0, mode64, &gpa1))
			return nested_l2_exception(vm, 13, 0); /* #PF on hardware: a documented deviation */
		else if (read_mem)
			memcpy(&value, guest_mem_ptr(&nv->l1mem, gpa1), opsize);
		if (!mode64)
			value = (uint32_t)value;
		r = nvmx_l2_vmwrite(&nv->nvmx, &nv->l1mem, &c, field, value);
	}

	if (r.outcome == NVMX_GP) /* CPL above 0 */
		return nested_l2_exception(vm, 13, 0);
	/* A VMfailValid's error number went into VMCS12: L1 finds it in its shadow VMCS after the next exit. */
	if (r.outcome == NVMX_FAIL_VALID)
		nested_shadow_note(nv, VMCS12_IDX_VM_INSTRUCTION_ERROR);
	vmcs_writenat(VMCS_GUEST_RFLAGS, nvmx_rflags_after(vmcs_readnat(VMCS_GUEST_RFLAGS), r.outcome));
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}
