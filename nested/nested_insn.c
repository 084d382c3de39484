/*
 * VMX instructions executed by a child VMM (L1): decode the operand, let
 * nested/vmx_insn.c decide the SDM outcome, apply it (RFLAGS, the
 * VM-instruction error field, an injected #UD/#GP, memory written back).
 * VMLAUNCH/VMRESUME that pass the instruction checks go on to
 * nested_entry.c.
 */
#include "guest_state.h"
#include "nested_entry.h"
#include "nested_runtime.h"
#include "vmcs_shadow.h"
#include "vmx_ops.h"
#include <string.h>

static enum nvmx_insn_kind kind_of(uint32_t reason)
{
	switch (reason) {
	case EXIT_REASON_VMXON: return NVMX_I_VMXON;
	case EXIT_REASON_VMXOFF: return NVMX_I_VMXOFF;
	case EXIT_REASON_VMCLEAR: return NVMX_I_VMCLEAR;
	case EXIT_REASON_VMPTRLD: return NVMX_I_VMPTRLD;
	case EXIT_REASON_VMPTRST: return NVMX_I_VMPTRST;
	case EXIT_REASON_VMREAD: return NVMX_I_VMREAD;
	case EXIT_REASON_VMWRITE: return NVMX_I_VMWRITE;
	case EXIT_REASON_VMLAUNCH: return NVMX_I_VMLAUNCH;
	case EXIT_REASON_VMRESUME: return NVMX_I_VMRESUME;
	case EXIT_REASON_INVEPT: return NVMX_I_INVEPT;
	default: return NVMX_I_INVVPID;
	}
}

/* The mode checks and VMXON's preconditions as L1 sees its own state. */
/*
 * L1's mode as the instruction's checks need it.  In every VMX
 * instruction's operation (SDM 31.3) the processor raises #UD for CR0.PE =
 * 0, RFLAGS.VM = 1 and compatibility mode (IA32_EFER.LMA = 1, CS.L = 0)
 * before it considers a VM exit: the exit itself proves protected mode,
 * no virtual-8086 mode, and CS.L = 1 wherever LMA = 1.  Read is what it
 * does not prove: the CPL, L1's own CR4.VMXE (this VMM owns the real one,
 * which VMX operation keeps set), whether L1 runs in 64-bit mode (operand
 * size), and for VMXON, the one instruction whose checks use them, all of
 * CR0 and CR4.  Each VMREAD left out is an exit saved when this VMM runs
 * under a parent of its own.
 */
static void fill_ctx(struct nvmx_ctx *c, uint32_t reason)
{
	c->cpl = guest_cpl();
	c->cr0_pe = 1;
	c->rflags_vm = 0;
	c->long_mode = (vmcs_read64(VMCS_GUEST_IA32_EFER) & EFER_LMA) != 0;
	c->cs_l = c->long_mode;
	if (reason == EXIT_REASON_VMXON) {
		c->cr0 = guest_visible_cr0();
		c->cr4 = guest_visible_cr4();
		c->cr4_vmxe = (c->cr4 & CR4_VMXE) != 0;
	} else {
		c->cr0 = c->cr4 = 0; /* not read: no check but VMXON's uses them */
		uint64_t mask = vmcs_readnat(VMCS_CR4_GUEST_HOST_MASK);
		c->cr4_vmxe = !(mask & CR4_VMXE) || (vmcs_readnat(VMCS_CR4_READ_SHADOW) & CR4_VMXE);
	}
	c->feature_control = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
}

int nested_operand_linear(const struct vm *vm, const struct exit_info *ei, uint32_t info, int mode64,
			  uint64_t *linear)
{
	static const enum vmcs_field seg_bases[6] = { VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
						      VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE };
	uint64_t gprs[16] = { 0 }, bases[6] = { 0 };
	struct vmx_operand op;
	uint32_t used = vmx_mem_operand_gprs(info);
	unsigned seg = vmx_mem_operand_seg(info);
	for (unsigned r = 0; r < 16; r++)
		if (used & (1u << r))
			gprs[r] = guest_gpr(vm, r);
	/* In 64-bit mode only FS and GS have a base (vmx_decode_mem_operand() ignores the others). */
	if (seg < 6 && (!mode64 || seg >= 4))
		bases[seg] = vmcs_readnat(seg_bases[seg]);
	if (vmx_decode_mem_operand(info, ei->qualification, gprs, bases, mode64, &op))
		return -1;
	*linear = op.linear;
	return 0;
}

void nested_pieces_split(struct l1_pieces *p, uint64_t linear, unsigned len)
{
	unsigned first_len = 0x1000 - (unsigned)(linear & 0xfff);
	p->len[0] = len < first_len ? len : first_len;
	p->len[1] = len - p->len[0];
}

void nested_copy_to_pieces(struct nested_vm *nv, const struct l1_pieces *p, const void *src)
{
	memcpy(guest_mem_ptr(&nv->l1mem, p->gpa1[0]), src, p->len[0]);
	if (p->len[1])
		memcpy(guest_mem_ptr(&nv->l1mem, p->gpa1[1]), (const uint8_t *)src + p->len[0], p->len[1]);
}

void nested_copy_from_pieces(struct nested_vm *nv, const struct l1_pieces *p, void *dst)
{
	memcpy(dst, guest_mem_ptr(&nv->l1mem, p->gpa1[0]), p->len[0]);
	if (p->len[1])
		memcpy((uint8_t *)dst + p->len[0], guest_mem_ptr(&nv->l1mem, p->gpa1[1]), p->len[1]);
}

/* Where L1's memory operand lies in its memory (one piece per page it touches); -1 if unmapped. */
static int operand_pieces(struct vm *vm, const struct exit_info *ei, unsigned len, int write, struct l1_pieces *p)
{
	uint64_t efer = vmcs_read64(VMCS_GUEST_IA32_EFER), linear;
	int mode64 = guest_64bit_mode(efer);
	if (nested_operand_linear(vm, ei, vmcs_read32(VMCS_VMX_INSTRUCTION_INFO), mode64, &linear))
		return -1;
	uint64_t cr0 = vmcs_readnat(VMCS_GUEST_CR0), cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4);
	struct guest_mem *m = &vm->nested->l1mem;
	nested_pieces_split(p, linear, len);
	for (unsigned k = 0; k < 2 && p->len[k]; k++)
		if (guest_linear_to_phys(m, cr0, cr3, cr4, efer, linear + (k ? p->len[0] : 0), write, &p->gpa1[k]) ||
		    !guest_mem_ok(m, p->gpa1[k], p->len[k]))
			return -1;
	return 0;
}

static int read_operand(struct vm *vm, const struct exit_info *ei, void *dst, unsigned len)
{
	struct l1_pieces p;
	if (operand_pieces(vm, ei, len, 0, &p))
		return -1;
	nested_copy_from_pieces(vm->nested, &p, dst);
	return 0;
}

static int write_operand(struct vm *vm, const struct exit_info *ei, const void *src, unsigned len)
{
	struct l1_pieces p;
	if (operand_pieces(vm, ei, len, 1, &p))
		return -1;
	nested_copy_to_pieces(vm->nested, &p, src);
	return 0;
}

static enum exit_action apply(struct vm *vm, const struct exit_info *ei, struct nvmx_result r)
{
	switch (r.outcome) {
	case NVMX_SUCCEED:
	case NVMX_FAIL_INVALID:
		break;
	case NVMX_FAIL_VALID:
		V12(vm->nested->nvmx.cache, VM_INSTRUCTION_ERROR) = r.error;
		vm->nested->nvmx.cache_dirty = 1;
		/* Only this field: the shadow may hold newer values L1 wrote than the cache. */
		vmcs_shadow_put(vm, VMCS_VM_INSTRUCTION_ERROR);
		break;
	case NVMX_UD:
		vm_inject_exception(vm, VECTOR_UD, 0, 0);
		return EXIT_RESUME;
	case NVMX_GP:
	case NVMX_ENTER:
		vm_inject_exception(vm, VECTOR_GP, 1, 0);
		return EXIT_RESUME;
	}
	vmcs_writenat(VMCS_GUEST_RFLAGS, nvmx_rflags_after(vmcs_readnat(VMCS_GUEST_RFLAGS), r.outcome));
	vm_skip_instruction(vm, ei);
	return EXIT_RESUME;
}

/*
 * A memory operand this VMM cannot reach (not mapped by L1's page tables).
 * The instruction's #UD/#GP checks come first (SDM ch. 31 pseudo-code);
 * past them the processor would raise #PF with CR2, and nestlab injects
 * #GP(0) instead, because it does not yet virtualise CR2 (a documented
 * deviation).
 */
static enum exit_action operand_fault(struct vm *vm, const struct nvmx_ctx *c, uint32_t reason)
{
	int ud = nvmx_fault_gate(&vm->nested->nvmx, c, reason == EXIT_REASON_VMXON) == NVMX_UD;
	vm_inject_exception(vm, ud ? VECTOR_UD : VECTOR_GP, !ud, 0);
	return EXIT_RESUME;
}

static void do_invept(struct vm *vm, uint64_t type)
{
	struct nested_vm *nv = vm->nested;
	if (type < 3)
		nv->count.invept[type]++;
	nv->code_tlb.valid = 0;
	/* Every EPT02 derives from some EPT12: drop them all so they refill from L1's new tables. */
	nested_drop_all_ept02(vm);
}

static void do_invvpid(struct vm *vm, uint64_t type, const uint64_t desc[2])
{
	struct nested_vm *nv = vm->nested;
	nv->code_tlb.valid = 0;
	struct invvpid_plan plan;
	if (type < 4)
		nv->count.invvpid[type]++;
	vpid_map_translate_invvpid(&nv->vpids, type, (uint16_t)desc[0], desc[1], &plan);
	if (plan.type < 0)
		return;
	for (unsigned i = 0; i < plan.count; i++)
		invvpid((uint64_t)plan.type, plan.vpid02[i], plan.gla);
}

static void count_trapped_field(uint32_t *counts, uint64_t encoding)
{
	int i = encoding >> 32 ? -1 : vmcs12_index_of((uint32_t)encoding);
	if (i >= 0)
		counts[i]++;
}

enum exit_action nested_vmx_insn_exit(struct vm *vm, const struct exit_info *ei)
{
	struct nested_vm *nv = vm->nested;
	if (!nv) {
		/* A leaf was offered no VMX: every VMX instruction is #UD there (CR4.VMXE = 0). */
		vm_inject_exception(vm, VECTOR_UD, 0, 0);
		return EXIT_RESUME;
	}
	struct nvmx *n = &nv->nvmx;
	struct guest_mem *m = &nv->l1mem;
	struct nvmx_ctx c;
	struct nvmx_result r;
	uint64_t ptr = 0, value = 0, desc[2];
	uint32_t info = vmcs_read32(VMCS_VMX_INSTRUCTION_INFO);
	fill_ctx(&c, ei->reason);
	int long_mode = c.long_mode && c.cs_l; /* 64-bit mode: operands are 64 bits wide */
	unsigned opsize = long_mode ? 8 : 4;
	int is_field_access = ei->reason == EXIT_REASON_VMREAD || ei->reason == EXIT_REASON_VMWRITE;
	uint64_t field = is_field_access ? guest_gpr(vm, vmx_insn_reg2(info)) : 0; /* the encoding operand */

	nv->count.emulated[kind_of(ei->reason)]++;
	/* Whatever L1 wrote through the shadow VMCS counts from here on. */
	if (!is_field_access)
		vmcs_shadow_to_cache(vm);
	uint64_t was_current = n->current;
	int kept = 0; /* VMPTRLD made current a VMCS12 this VMM kept, with all it knows of it */
	/*
	 * No VMX instruction changes the current VMCS12 behind this VMM's
	 * back: VMPTRLD switches to a VMCS12 whose own state says what is
	 * known of it (nested_vmcs12_make_current()), VMCLEAR and VMXOFF free
	 * what they clear, and a VMCS12 loaded from memory starts cold.
	 */
	/*
	 * L1 is about to see or flush VMCS12's copy of L2's state: bring it up
	 * to date from VMCS02 first (a VMWRITE too, so VMCS02's image is exact
	 * before a new value is compared with it).
	 */
	if (ei->reason == EXIT_REASON_VMCLEAR || ei->reason == EXIT_REASON_VMPTRLD ||
	    ei->reason == EXIT_REASON_VMXOFF ||
	    (is_field_access && nested_field_lazy(nv, (uint32_t)field)))
		nested_materialize_l2_state(vm);
	switch (ei->reason) {
	case EXIT_REASON_VMXON:
		if (read_operand(vm, ei, &ptr, 8))
			return operand_fault(vm, &c, ei->reason);
		r = nvmx_vmxon(n, m, &c, ptr);
		break;
	case EXIT_REASON_VMXOFF:
		/* Kept VMCS12s go back to memory only once the instruction's #UD/#GP checks have passed. */
		if (nvmx_fault_gate(n, &c, 0) == NVMX_SUCCEED)
			nested_vmcs12_write_back_all(vm);
		r = nvmx_vmxoff(n, m, &c); /* writes the current one back */
		if (r.outcome == NVMX_SUCCEED)
			nested_vmcs12_forget(vm, was_current);
		break;
	case EXIT_REASON_VMCLEAR:
		if (read_operand(vm, ei, &ptr, 8))
			return operand_fault(vm, &c, ei->reason);
		/* "Ensure that data for the VMCS is in memory" (31.3), whether or not it is current. */
		if (nvmx_fault_gate(n, &c, 0) == NVMX_SUCCEED)
			nested_vmcs12_write_back(vm, ptr);
		r = nvmx_vmclear(n, m, &c, ptr);
		if (r.outcome == NVMX_SUCCEED)
			nested_vmcs12_forget(vm, ptr);
		break;
	case EXIT_REASON_VMPTRLD:
		if (read_operand(vm, ei, &ptr, 8))
			return operand_fault(vm, &c, ei->reason);
		r = nvmx_vmptrld_check(n, m, &c, ptr);
		if (r.outcome == NVMX_SUCCEED)
			kept = nested_vmcs12_make_current(vm, ptr);
		break;
	case EXIT_REASON_VMPTRST:
		r = nvmx_vmptrst(n, &c, &ptr);
		if (r.outcome == NVMX_SUCCEED && write_operand(vm, ei, &ptr, 8))
			return operand_fault(vm, &c, ei->reason);
		break;
	case EXIT_REASON_VMREAD:
		count_trapped_field(nv->count.trapped_vmread, field);
		r = nvmx_vmread(n, &c, field, &value);
		if (r.outcome == NVMX_SUCCEED) {
			if (vmx_insn_reg1_is_reg(info))
				guest_set_gpr(vm, vmx_insn_reg1(info), long_mode ? value : (uint32_t)value);
			else if (write_operand(vm, ei, &value, opsize))
				return operand_fault(vm, &c, ei->reason);
		}
		break;
	case EXIT_REASON_VMWRITE:
		if (vmx_insn_reg1_is_reg(info))
			value = guest_gpr(vm, vmx_insn_reg1(info));
		else if (read_operand(vm, ei, &value, opsize))
			return operand_fault(vm, &c, ei->reason);
		if (!long_mode)
			value = (uint32_t)value;
		count_trapped_field(nv->count.trapped_vmwrite, field);
		r = nvmx_vmwrite(n, &c, field, value);
		/* A field shadowed for reading only: L1's next VMREAD must see what it wrote. */
		if (r.outcome == NVMX_SUCCEED) {
			int i = vmcs12_index_of((uint32_t)field);
			if (i >= 0)
				nested_vmcs12_changed(nv, (unsigned)i);
			if (vmcs_shadow_on(vm))
				vmcs_shadow_put(vm, (uint32_t)field);
		}
		break;
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMRESUME: {
		int launch = ei->reason == EXIT_REASON_VMLAUNCH;
		int movss = (vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO) >> 1) & 1;
		r = nvmx_vmentry_insn(n, &c, launch, movss);
		if (r.outcome == NVMX_ENTER) {
			r = nested_enter(vm, launch);
			if (r.outcome == NVMX_ENTER)
				return EXIT_RESUME; /* L2 runs next, or L1 resumes at its host RIP after an entry failure */
		}
		break;
	}
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID: {
		uint64_t type = guest_gpr(vm, vmx_insn_reg2(info));
		if (!long_mode)
			type = (uint32_t)type;
		if (read_operand(vm, ei, desc, 16))
			return operand_fault(vm, &c, ei->reason);
		if (ei->reason == EXIT_REASON_INVEPT) {
			r = nvmx_invept(n, &c, type, desc);
			if (r.outcome == NVMX_SUCCEED)
				do_invept(vm, type);
		} else {
			r = nvmx_invvpid(n, &c, type, desc);
			if (r.outcome == NVMX_SUCCEED)
				do_invvpid(vm, type, desc);
		}
		break;
	}
	default:
		return vm_fault(vm, ei, "VMX instruction nestlab does not emulate");
	}
	if (n->current != was_current) {
		/*
		 * A new current VMCS12 (VMPTRLD) or none (VMCLEAR of it, VMXOFF):
		 * the shadow follows — a kept one's own shadow VMCS already holds
		 * its values.
		 */
		if (!kept || nv->cur->shadow_image_for != n->current)
			vmcs_shadow_from_cache(vm);
		vmcs_shadow_attach(vm, n->current != NVMX_NO_VMCS);
	}
	return apply(vm, ei, r);
}
