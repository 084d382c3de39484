/*
 * VMX instructions executed by a child VMM (L1), one exit handler each (the
 * exit table's handler column): decode the operand, let nested/vmx_insn.c
 * decide the SDM outcome, apply it (RFLAGS, the VM-instruction error field,
 * an injected #UD/#GP, memory written back).  What every handler does
 * before and after its nvmx_* call is begin() and finish().
 * VMLAUNCH/VMRESUME that pass the instruction checks go on to
 * nested_entry.c.
 */
#include "guest_state.h"
#include "nested_entry.h"
#include "nested_mtf.h"
#include "nested_runtime.h"
#include "vmcs_shadow.h"
#include "vmx_ops.h"
#include <string.h>

/*
 * What every handler shares is compiled into each (a call and the spills
 * around it cost each emulated instruction tens of ticks under Bochs,
 * where every instruction is one).
 */
#define EVERY_HANDLER static inline __attribute__((always_inline))

/* One VMX instruction exit of L1, as begin() found it. */
struct insn {
	struct vm *vm;
	const struct exit_info *ei;
	struct nested_vm *nv;
	struct nvmx_ctx c;
	uint32_t info;        /* the VMX-instruction information field */
	int mode64;           /* L1 in 64-bit mode: register and memory operands are 64 bits wide */
	uint64_t was_current; /* the current VMCS12 before the instruction */
	int kept;             /* VMPTRLD made current a VMCS12 this VMM kept, with all it knows of it */
};

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
EVERY_HANDLER void fill_ctx(struct nvmx_ctx *c, int is_vmxon)
{
	c->cpl = guest_cpl();
	c->cr0_pe = 1;
	c->rflags_vm = 0;
	c->long_mode = (vmcs_read64(VMCS_GUEST_IA32_EFER) & EFER_LMA) != 0;
	c->cs_l = c->long_mode;
	if (is_vmxon) {
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

/* What begin() does besides reading the exit: see there. */
enum { SHADOW_TO_CACHE = 1, MATERIALIZE = 2 };

/*
 * The opening every handler shares: -1 for a leaf (offered no VMX, so
 * every VMX instruction is #UD there: CR4.VMXE = 0), the #UD injected;
 * else 0 with *x filled and the instruction counted.  what:
 * SHADOW_TO_CACHE for every instruction but VMREAD/VMWRITE (whatever L1
 * wrote through the shadow VMCS counts from here on), MATERIALIZE for those
 * that let L1 see or flush VMCS12's copy of L2's state (VMCLEAR, VMPTRLD,
 * VMXOFF; VMREAD/VMWRITE of a lazy field do it in field_operand()).
 */
EVERY_HANDLER int begin(struct insn *x, struct vm *vm, const struct exit_info *ei, enum nvmx_insn_kind kind,
			unsigned what)
{
	struct nested_vm *nv = vm->nested;
	if (!nv) {
		vm_inject_exception(vm, VECTOR_UD, 0, 0);
		return -1;
	}
	x->vm = vm;
	x->ei = ei;
	x->nv = nv;
	x->info = vmcs_read32(VMCS_VMX_INSTRUCTION_INFO);
	fill_ctx(&x->c, kind == NVMX_I_VMXON);
	x->mode64 = x->c.long_mode && x->c.cs_l;
	x->kept = 0;
	nv->count.emulated[kind]++;
	if (what & SHADOW_TO_CACHE)
		vmcs_shadow_to_cache(vm);
	/*
	 * No VMX instruction changes the current VMCS12 behind this VMM's
	 * back: VMPTRLD switches to a VMCS12 whose own state says what is
	 * known of it (nested_vmcs12_vmptrld()), VMCLEAR and VMXOFF free
	 * what they clear, and a VMCS12 loaded from memory starts cold.
	 */
	x->was_current = nv->nvmx.current;
	if (what & MATERIALIZE)
		nested_materialize_l2_state(vm);
	return 0;
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

static int read_operand(const struct insn *x, void *dst, unsigned len)
{
	struct l1_pieces p;
	if (operand_pieces(x->vm, x->ei, len, 0, &p))
		return -1;
	nested_copy_from_pieces(x->nv, &p, dst);
	return 0;
}

static int write_operand(const struct insn *x, const void *src, unsigned len)
{
	struct l1_pieces p;
	if (operand_pieces(x->vm, x->ei, len, 1, &p))
		return -1;
	nested_copy_to_pieces(x->nv, &p, src);
	return 0;
}

EVERY_HANDLER enum exit_action apply(struct vm *vm, const struct exit_info *ei, struct nvmx_result r)
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
 * The end every handler shares once its instruction's checks ran: after a
 * new current VMCS12 (VMPTRLD) or none (VMCLEAR of it, VMXOFF) the shadow
 * follows — a kept one's own shadow VMCS already holds its values — and
 * the outcome is applied.
 */
EVERY_HANDLER enum exit_action finish(const struct insn *x, struct nvmx_result r)
{
	struct nested_vm *nv = x->nv;
	if (nv->nvmx.current != x->was_current) {
		if (!x->kept || nv->cur->shadow_image_for != nv->nvmx.current)
			vmcs_shadow_from_cache(x->vm);
		vmcs_shadow_attach(x->vm, nv->nvmx.current != NVMX_NO_VMCS);
	}
	return apply(x->vm, x->ei, r);
}

/*
 * A memory operand this VMM cannot reach (not mapped by L1's page tables).
 * The instruction's #UD/#GP checks come first (SDM ch. 31 pseudo-code);
 * past them the processor would raise #PF with CR2, and nestlab injects
 * #GP(0) instead, because it does not yet virtualise CR2 (a documented
 * deviation).
 */
static enum exit_action operand_fault(const struct insn *x, int is_vmxon)
{
	int ud = nvmx_fault_gate(&x->nv->nvmx, &x->c, is_vmxon) == NVMX_UD;
	vm_inject_exception(x->vm, ud ? VECTOR_UD : VECTOR_GP, !ud, 0);
	return EXIT_RESUME;
}

static void do_invept(struct vm *vm, uint64_t type)
{
	struct nested_vm *nv = vm->nested;
	if (type < 3)
		nv->count.invept[type]++;
	nested_mtf_forget_code(nv);
	/* Every EPT02 derives from some EPT12: drop them all so they refill from L1's new tables. */
	nested_drop_all_ept02(vm);
}

static void do_invvpid(struct vm *vm, uint64_t type, const uint64_t desc[2])
{
	struct nested_vm *nv = vm->nested;
	nested_mtf_forget_code(nv);
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

/*
 * VMREAD/VMWRITE's field-encoding operand (register 2).  L1 is about to
 * see VMCS12's copy of L2's state: a lazy field is brought up to date from
 * VMCS02 first (for a VMWRITE too, so that VMCS02's image is exact before
 * a new value is compared with it).
 */
static uint64_t field_operand(const struct insn *x)
{
	uint64_t field = guest_gpr(x->vm, vmx_insn_reg2(x->info));
	if (nested_field_lazy(x->nv, (uint32_t)field))
		nested_materialize_l2_state(x->vm);
	return field;
}

enum exit_action nested_vmxon_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t ptr = 0;
	if (begin(&x, vm, ei, NVMX_I_VMXON, SHADOW_TO_CACHE))
		return EXIT_RESUME;
	if (read_operand(&x, &ptr, 8))
		return operand_fault(&x, 1);
	return finish(&x, nvmx_vmxon(&x.nv->nvmx, &x.nv->l1mem, &x.c, ptr));
}

enum exit_action nested_vmxoff_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	if (begin(&x, vm, ei, NVMX_I_VMXOFF, SHADOW_TO_CACHE | MATERIALIZE))
		return EXIT_RESUME;
	struct nvmx *n = &x.nv->nvmx;
	/* Kept VMCS12s go back to memory only once the instruction's #UD/#GP checks have passed. */
	if (nvmx_fault_gate(n, &x.c, 0) == NVMX_SUCCEED)
		nested_vmcs12_write_back_all(vm);
	struct nvmx_result r = nvmx_vmxoff(n, &x.nv->l1mem, &x.c); /* writes the current one back */
	if (r.outcome == NVMX_SUCCEED)
		nested_vmcs12_forget(vm, x.was_current);
	return finish(&x, r);
}

enum exit_action nested_vmclear_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t ptr = 0;
	if (begin(&x, vm, ei, NVMX_I_VMCLEAR, SHADOW_TO_CACHE | MATERIALIZE))
		return EXIT_RESUME;
	if (read_operand(&x, &ptr, 8))
		return operand_fault(&x, 0);
	struct nvmx *n = &x.nv->nvmx;
	/* "Ensure that data for the VMCS is in memory" (31.3), whether or not it is current. */
	if (nvmx_fault_gate(n, &x.c, 0) == NVMX_SUCCEED)
		nested_vmcs12_write_back(vm, ptr);
	struct nvmx_result r = nvmx_vmclear(n, &x.nv->l1mem, &x.c, ptr);
	if (r.outcome == NVMX_SUCCEED)
		nested_vmcs12_forget(vm, ptr);
	return finish(&x, r);
}

enum exit_action nested_vmptrld_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t ptr = 0;
	if (begin(&x, vm, ei, NVMX_I_VMPTRLD, SHADOW_TO_CACHE | MATERIALIZE))
		return EXIT_RESUME;
	if (read_operand(&x, &ptr, 8))
		return operand_fault(&x, 0);
	return finish(&x, nested_vmcs12_vmptrld(vm, &x.c, ptr, &x.kept));
}

enum exit_action nested_vmptrst_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t ptr = 0;
	if (begin(&x, vm, ei, NVMX_I_VMPTRST, SHADOW_TO_CACHE))
		return EXIT_RESUME;
	struct nvmx_result r = nvmx_vmptrst(&x.nv->nvmx, &x.c, &ptr);
	if (r.outcome == NVMX_SUCCEED && write_operand(&x, &ptr, 8))
		return operand_fault(&x, 0);
	return finish(&x, r);
}

enum exit_action nested_vmread_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t value = 0;
	if (begin(&x, vm, ei, NVMX_I_VMREAD, 0))
		return EXIT_RESUME;
	uint64_t field = field_operand(&x);
	count_trapped_field(x.nv->count.trapped_vmread, field);
	struct nvmx_result r = nvmx_vmread(&x.nv->nvmx, &x.c, field, &value);
	if (r.outcome == NVMX_SUCCEED) {
		if (vmx_insn_reg1_is_reg(x.info))
			guest_set_gpr(vm, vmx_insn_reg1(x.info), x.mode64 ? value : (uint32_t)value);
		else if (write_operand(&x, &value, x.mode64 ? 8 : 4))
			return operand_fault(&x, 0);
	}
	return finish(&x, r);
}

enum exit_action nested_vmwrite_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t value = 0;
	if (begin(&x, vm, ei, NVMX_I_VMWRITE, 0))
		return EXIT_RESUME;
	uint64_t field = field_operand(&x);
	if (vmx_insn_reg1_is_reg(x.info))
		value = guest_gpr(vm, vmx_insn_reg1(x.info));
	else if (read_operand(&x, &value, x.mode64 ? 8 : 4))
		return operand_fault(&x, 0);
	if (!x.mode64)
		value = (uint32_t)value;
	count_trapped_field(x.nv->count.trapped_vmwrite, field);
	struct nvmx_result r = nvmx_vmwrite(&x.nv->nvmx, &x.c, field, value);
	/* A field shadowed for reading only: L1's next VMREAD must see what it wrote. */
	if (r.outcome == NVMX_SUCCEED) {
		int i = vmcs12_index_of((uint32_t)field);
		if (i >= 0)
			nested_vmcs12_changed(x.nv, (unsigned)i);
		if (vmcs_shadow_on(vm))
			vmcs_shadow_put(vm, (uint32_t)field);
	}
	return finish(&x, r);
}

enum exit_action nested_vmentry_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	int launch = ei->reason == EXIT_REASON_VMLAUNCH;
	if (begin(&x, vm, ei, launch ? NVMX_I_VMLAUNCH : NVMX_I_VMRESUME, SHADOW_TO_CACHE))
		return EXIT_RESUME;
	int movss = (vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO) >> 1) & 1;
	struct nvmx_result r = nvmx_vmentry_insn(&x.nv->nvmx, &x.c, launch, movss);
	if (r.outcome == NVMX_ENTER) {
		r = nested_enter(vm, launch);
		if (r.outcome == NVMX_ENTER)
			return EXIT_RESUME; /* L2 runs next, or L1 resumes at its host RIP after an entry failure */
	}
	return finish(&x, r);
}

enum exit_action nested_invept_invvpid_exit(struct vm *vm, const struct exit_info *ei)
{
	struct insn x;
	uint64_t desc[2];
	int ept = ei->reason == EXIT_REASON_INVEPT;
	if (begin(&x, vm, ei, ept ? NVMX_I_INVEPT : NVMX_I_INVVPID, SHADOW_TO_CACHE))
		return EXIT_RESUME;
	uint64_t type = guest_gpr(vm, vmx_insn_reg2(x.info));
	if (!x.mode64)
		type = (uint32_t)type;
	if (read_operand(&x, desc, 16))
		return operand_fault(&x, 0);
	struct nvmx *n = &x.nv->nvmx;
	struct nvmx_result r;
	if (ept) {
		r = nvmx_invept(n, &x.c, type, desc);
		if (r.outcome == NVMX_SUCCEED)
			do_invept(vm, type);
	} else {
		r = nvmx_invvpid(n, &x.c, type, desc);
		if (r.outcome == NVMX_SUCCEED)
			do_invvpid(vm, type, desc);
	}
	return finish(&x, r);
}
