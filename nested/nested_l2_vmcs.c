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

/*
 * Why L2's memory operand could not be reached.  An EPT12 fault goes to L1
 * as the EPT violation or misconfiguration the processor would report; a
 * page L2's own tables do not map gets #GP(0) where the processor raises
 * #PF (CR2 is not virtualised: a documented deviation, as for L1).
 */
struct l2_reach {
	enum shadow_ept_result ept; /* SEPT_FILLED: EPT12 was not the obstacle */
	uint64_t gpa2, qual12;      /* the EPT12 fault */
	uint64_t linear;
};

/* L2's page-table entries lie in L2-physical memory: through EPT12 into L1's memory. */
struct l2_tables {
	const struct guest_mem *l1mem;
	uint64_t eptp12;
	struct l2_reach *reach;
};

static int read_l2_table_entry(void *ctx, uint64_t gpa2, uint64_t *out)
{
	struct l2_tables *t = ctx;
	uint64_t gpa1;
	/* A paging-structure access: a read, of a linear address, not the translated one (qualification bit 8). */
	enum shadow_ept_result r = shadow_ept_access(t->l1mem, t->eptp12, gpa2, 8, EPT_QUAL_READ | EPT_QUAL_GLA_VALID,
						     &gpa1, &t->reach->qual12);
	if (r != SEPT_FILLED) {
		t->reach->ept = r;
		t->reach->gpa2 = gpa2;
		return -1;
	}
	memcpy(out, guest_mem_ptr(t->l1mem, gpa1), 8);
	return 0;
}

/* L2-linear to L1-physical for a len-byte operand (VMCS02 is current): 0, or -1 with *reach saying why not. */
static int l2_operand_pieces(struct vm *vm, const struct exit_info *ei, unsigned len, int write, int long_mode,
			     struct l1_pieces *p, struct l2_reach *reach)
{
	struct nested_vm *nv = vm->nested;
	reach->ept = SEPT_FILLED;
	if (nested_operand_linear(vm, ei, vmcs_read32(VMCS_VMX_INSTRUCTION_INFO), long_mode, &reach->linear))
		return -1;
	struct l2_tables tables = { &nv->l1mem, V12(nv->nvmx.cache, EPT_POINTER), reach };
	const struct gpa_reader reader = { read_l2_table_entry, &tables };
	uint64_t cr0 = vmcs_readnat(VMCS_GUEST_CR0), cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4), efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	uint64_t access = (write ? EPT_QUAL_WRITE : EPT_QUAL_READ) | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_TRANSLATED;
	nested_pieces_split(p, reach->linear, len);
	for (unsigned k = 0; k < 2 && p->len[k]; k++) {
		uint64_t linear = reach->linear + (k ? p->len[0] : 0), gpa2;
		if (guest_linear_to_phys_via(&reader, cr0, cr3, cr4, efer, linear, write, &gpa2))
			return -1;
		reach->ept = shadow_ept_access(&nv->l1mem, tables.eptp12, gpa2, p->len[k], access, &p->gpa1[k],
					       &reach->qual12);
		reach->gpa2 = gpa2;
		if (reach->ept != SEPT_FILLED)
			return -1;
	}
	return 0;
}

int nested_l2_code_byte(struct vm *vm, uint64_t rip, uint8_t *out)
{
	struct nested_vm *nv = vm->nested;
	struct l2_reach reach = { .ept = SEPT_FILLED };
	struct l2_tables tables = { &nv->l1mem, V12(nv->nvmx.cache, EPT_POINTER), &reach };
	const struct gpa_reader reader = { read_l2_table_entry, &tables };
	uint64_t efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
	/* 64-bit mode ignores CS's base. */
	uint64_t linear = (guest_64bit_mode(efer) ? 0 : vmcs_readnat(VMCS_GUEST_CS_BASE)) + rip;
	uint64_t cr3 = vmcs_readnat(VMCS_GUEST_CR3), page = linear & ~0xfffull, gpa2, gpa1, qual;
	/*
	 * A step after a step mostly stays on one page: walking L2's tables and
	 * EPT12 each time cost more than the step.  Kept only as a TLB would
	 * keep the translation: with VPID12 on (without it every entry flushes,
	 * SDM 28.3.3.3), until L1's INVEPT or INVVPID or another CR3 or EPTP12.
	 */
	int tagged = (vmcs12_proc2(nv->nvmx.cache) & SEC_ENABLE_VPID) && V12(nv->nvmx.cache, VIRTUAL_PROCESSOR_ID);
	if (tagged && nv->mtf.code_tlb.valid && nv->mtf.code_tlb.cr3 == cr3 && nv->mtf.code_tlb.eptp12 == tables.eptp12 &&
	    nv->mtf.code_tlb.linear_page == page) {
		*out = *(const uint8_t *)guest_mem_ptr(&nv->l1mem, nv->mtf.code_tlb.gpa1_page | (linear & 0xfff));
		return 0;
	}
	/* As the fetch would go: L2's rights for its CPL, then EPT12's execute permission. */
	if (guest_linear_fetch_via(&reader, vmcs_readnat(VMCS_GUEST_CR0), cr3, vmcs_readnat(VMCS_GUEST_CR4), efer,
				   guest_cpl(), linear, &gpa2) ||
	    shadow_ept_access(&nv->l1mem, tables.eptp12, gpa2, 1, EPT_QUAL_FETCH | EPT_QUAL_GLA_VALID |
				      EPT_QUAL_GLA_TRANSLATED, &gpa1, &qual) != SEPT_FILLED)
		return -1;
	nv->mtf.code_tlb.valid = tagged;
	nv->mtf.code_tlb.cr3 = cr3;
	nv->mtf.code_tlb.eptp12 = tables.eptp12;
	nv->mtf.code_tlb.linear_page = page;
	nv->mtf.code_tlb.gpa1_page = gpa1 & ~0xfffull;
	*out = *(const uint8_t *)guest_mem_ptr(&nv->l1mem, gpa1);
	return 0;
}

/* The operand could not be reached: L1 hears of an EPT12 fault, L2 gets the fault of its own tables. */
static enum exit_action unreachable_operand(struct vm *vm, const struct exit_info *ei, const struct l2_reach *reach)
{
	switch (reach->ept) {
	case SEPT_REFLECT:
		/* The violation the processor would report for L2's access: EPT12's qualification, its addresses. */
		return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								      .flags = EXIT_GIVES_ADDRESSES,
								      .reason = EXIT_REASON_EPT_VIOLATION,
								      .qualification = reach->qual12,
								      .gpa = reach->gpa2,
								      .linear = reach->linear });
	case SEPT_MISCONFIG:
		return nested_emulate_exit(vm, &(struct emulated_exit){ .from = EXIT_MADE_UP,
								      .flags = EXIT_GIVES_ADDRESSES,
								      .reason = EXIT_REASON_EPT_MISCONFIG,
								      .gpa = reach->gpa2 });
	case SEPT_L1_FAULT:
		return vm_fault(vm, ei, "its EPT12 maps L2 memory outside the child VMM's own memory");
	default:
		return nested_l2_exception(vm, VECTOR_GP, 0); /* #PF on hardware: a documented deviation */
	}
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
	uint64_t field = guest_gpr(vm, vmx_insn_reg2(info)), value = 0;
	struct l1_pieces pieces;
	struct l2_reach reach;
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
			else if (l2_operand_pieces(vm, ei, opsize, 1, mode64, &pieces, &reach))
				return unreachable_operand(vm, ei, &reach);
			else
				nested_copy_to_pieces(nv, &pieces, &value);
		}
	} else {
		/* A memory source is read after the #GP and link-pointer checks, before the field checks. */
		int read_mem = !in_reg && c.cpl == 0 && V12(nv->nvmx.cache, VMCS_LINK_POINTER) != ~0ull;
		if (in_reg)
			value = guest_gpr(vm, vmx_insn_reg1(info));
		else if (read_mem && l2_operand_pieces(vm, ei, opsize, 0, mode64, &pieces, &reach))
			return unreachable_operand(vm, ei, &reach);
		else if (read_mem)
			nested_copy_from_pieces(nv, &pieces, &value);
		if (!mode64)
			value = (uint32_t)value;
		r = nvmx_l2_vmwrite(&nv->nvmx, &nv->l1mem, &c, field, value);
	}

	if (r.outcome == NVMX_GP) /* CPL above 0 */
		return nested_l2_exception(vm, VECTOR_GP, 0);
	/* A VMfailValid's error number went into VMCS12: L1 finds it in its shadow VMCS after the next exit. */
	if (r.outcome == NVMX_FAIL_VALID)
		nested_shadow_note(nv, VMCS12_IDX_VM_INSTRUCTION_ERROR);
	/* Written straight into VMCS02: its image must follow (a later entry compares against it). */
	uint64_t rflags = nvmx_rflags_after(vmcs_readnat(VMCS_GUEST_RFLAGS), r.outcome);
	vmcs_writenat(VMCS_GUEST_RFLAGS, rflags);
	nested_vmcs02_note(nv, VMCS12_IDX_GUEST_RFLAGS, rflags);
	vm_skip_instruction(vm, ei);
	nested_vmcs02_note(nv, VMCS12_IDX_GUEST_RIP, vmcs_readnat(VMCS_GUEST_RIP));
	if (is_read && in_reg && r.outcome == NVMX_SUCCEED && (vmx_insn_reg1(info) & 15) == 4)
		nested_vmcs02_note(nv, VMCS12_IDX_GUEST_RSP, value); /* VMREAD into RSP */
	return EXIT_RESUME;
}
