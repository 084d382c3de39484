/*
 * The VMX instructions of a child VMM (L1), as SDM Vol. 3 chapter 31
 * defines them for VMX root operation: each function follows its
 * instruction's pseudo-code, checks in the same order, and returns the
 * outcome the processor would produce.  The caller has decoded and read the
 * memory operand; what changes here is struct nvmx, the VMCS12 cache and
 * L1's memory (through struct guest_mem only).
 *
 * VMfail(error) of the SDM is VMfailValid when there is a current VMCS (the
 * error number goes into its VM-instruction error field) and VMfailInvalid
 * when there is none: so "VMPTRLD of an unaligned address" is error 9 only
 * once some VMCS is current.
 *
 * A VMCS12 or VMXON address outside L1's memory is treated as one beyond
 * the physical-address width: L1 owns nothing else.
 */
#include <string.h>
#include "nested.h"
#include "x86.h"

#define PAGE_MASK_4K 0xfffull
#define EPT_CAP_UC (1ull << 8)
#define EPT_CAP_AD (1ull << 21)
#define EPTP_MEMTYPE_MASK 7ull
#define EPTP_WALK_MASK (7ull << 3)
#define EPTP_RESERVED_11_7 0xf80ull
#define EPTP_MEMTYPE_UC 0ull
#define INVVPID_DESC_RESERVED 0xffffffffffff0000ull /* bits 63:16 of the first quadword */
#define INVVPID_TYPE_BIT0 40                        /* IA32_VMX_EPT_VPID_CAP bit of INVVPID type 0 */

static struct nvmx_result outcome(enum nvmx_outcome o)
{
	return (struct nvmx_result){ o, 0 };
}

static struct nvmx_result vmfail(struct nvmx *n, unsigned error)
{
	if (n->current == NVMX_NO_VMCS)
		return outcome(NVMX_FAIL_INVALID);
	V12(n->cache, VM_INSTRUCTION_ERROR) = error;
	n->cache_dirty = 1;
	return (struct nvmx_result){ NVMX_FAIL_VALID, error };
}

static int in_64bit_mode(const struct nvmx_ctx *c) { return c->long_mode && c->cs_l; }

/* "(CR0.PE = 0) or (RFLAGS.VM = 1) or (IA32_EFER.LMA = 1 and CS.L = 0)": the mode #UD of every VMX instruction. */
static int bad_mode(const struct nvmx_ctx *c)
{
	return !c->cr4_vmxe || !c->cr0_pe || c->rflags_vm || (c->long_mode && !c->cs_l);
}

/* The opening of every instruction except VMXON: #UD outside VMX operation or in a wrong mode, #GP above CPL 0. */
static enum nvmx_outcome gate(const struct nvmx *n, const struct nvmx_ctx *c)
{
	if (!n->vmxon || bad_mode(c))
		return NVMX_UD;
	if (c->cpl > 0)
		return NVMX_GP;
	return NVMX_SUCCEED;
}

enum nvmx_outcome nvmx_fault_gate(const struct nvmx *n, const struct nvmx_ctx *c, int is_vmxon)
{
	if (is_vmxon)
		return bad_mode(c) ? NVMX_UD : c->cpl > 0 ? NVMX_GP : NVMX_SUCCEED;
	return gate(n, c);
}

static int phys_ok(const struct nvmx *n, uint64_t addr)
{
	return n->phys_addr_bits >= 64 || (addr >> n->phys_addr_bits) == 0;
}

/* A VMXON or VMCS region address: 4 KiB aligned, within the width, the whole region in L1's memory. */
static int region_ok(const struct nvmx *n, const struct guest_mem *m, uint64_t addr)
{
	return !(addr & PAGE_MASK_4K) && phys_ok(n, addr) && guest_mem_ok(m, addr, VMCS12_SIZE);
}

static uint32_t read_u32(const struct guest_mem *m, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, guest_mem_ptr(m, gpa), sizeof v);
	return v;
}

static void write_u32(struct guest_mem *m, uint64_t gpa, uint32_t v)
{
	memcpy(guest_mem_ptr(m, gpa), &v, sizeof v);
}

/* The secondary controls L1 was offered (0 if it cannot activate them). */
static uint32_t offered_sec(const struct nvmx *n)
{
	if (!((n->caps->true_procbased >> 32) & CPU_ACTIVATE_SECONDARY))
		return 0;
	return (uint32_t)(n->caps->procbased2 >> 32);
}

static int cr_fixed_ok(uint64_t cr, uint64_t fixed0, uint64_t fixed1)
{
	return (cr & fixed0) == fixed0 && (cr & ~fixed1) == 0;
}

int nvmx_write_back(struct guest_mem *m, uint64_t addr, const struct vmcs12 *data)
{
	/* NVMX_NO_VMCS lies beyond any L1's memory. */
	if (!guest_mem_ok(m, addr, sizeof *data))
		return 0;
	memcpy(guest_mem_ptr(m, addr), data, sizeof *data);
	return 1;
}

void nvmx_flush(struct nvmx *n, struct guest_mem *m)
{
	/* Written back whether or not dirty: whoever changed the cache directly
	 * (exit reflection, VMCS-shadowing sync) need not have said so. */
	if (n->cache && nvmx_write_back(m, n->current, n->cache))
		n->cache_dirty = 0;
}

struct nvmx_result nvmx_vmxon(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr)
{
	if (bad_mode(c))
		return outcome(NVMX_UD);
	if (n->vmxon) {
		if (c->cpl > 0)
			return outcome(NVMX_GP);
		return vmfail(n, VMXERR_VMXON_IN_VMX_ROOT);
	}
	const struct nested_caps *caps = n->caps;
	if (c->cpl > 0 || !cr_fixed_ok(c->cr0, caps->cr0_fixed0, caps->cr0_fixed1) ||
	    !cr_fixed_ok(c->cr4, caps->cr4_fixed0, caps->cr4_fixed1) ||
	    !(c->feature_control & FEATURE_CONTROL_LOCKED) ||
	    !(c->feature_control & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		return outcome(NVMX_GP);
	if (!region_ok(n, m, ptr))
		return outcome(NVMX_FAIL_INVALID);
	uint32_t rev = read_u32(m, ptr);
	if ((rev & ~VMCS_SHADOW_INDICATOR) != VMCS12_REVISION || (rev & VMCS_SHADOW_INDICATOR))
		return outcome(NVMX_FAIL_INVALID);
	n->vmxon = 1;
	n->vmxon_ptr = ptr;
	n->current = NVMX_NO_VMCS;
	n->cache_dirty = 0;
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_vmxoff(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c)
{
	enum nvmx_outcome g = gate(n, c);
	if (g != NVMX_SUCCEED)
		return outcome(g);
	/* The SDM leaves VMCS data unwritten at VMXOFF; writing it back keeps what L1 stored. */
	nvmx_flush(n, m);
	n->vmxon = 0;
	n->vmxon_ptr = NVMX_NO_VMCS;
	n->current = NVMX_NO_VMCS;
	return outcome(NVMX_SUCCEED);
}

/*
 * The checks VMCLEAR and VMPTRLD share, in the SDM's order: #UD/#GP, then
 * the pointer (bad_address), then "is it the VMXON pointer" (vmxon_error).
 * Returns 1 with *r set when one fails.
 */
static int vmcs_pointer_fails(struct nvmx *n, const struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr,
			      unsigned bad_address, unsigned vmxon_error, struct nvmx_result *r)
{
	enum nvmx_outcome g = gate(n, c);
	if (g != NVMX_SUCCEED)
		*r = outcome(g);
	else if (!region_ok(n, m, ptr))
		*r = vmfail(n, bad_address);
	else if (ptr == n->vmxon_ptr)
		*r = vmfail(n, vmxon_error);
	else
		return 0;
	return 1;
}

struct nvmx_result nvmx_vmclear(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr)
{
	struct nvmx_result r;
	if (vmcs_pointer_fails(n, m, c, ptr, VMXERR_VMCLEAR_INVALID_ADDRESS, VMXERR_VMCLEAR_VMXON_POINTER, &r))
		return r;
	/* "Ensure that data for the VMCS is in memory" before its launch state is cleared there. */
	if (ptr == n->current) {
		nvmx_flush(n, m);
		n->current = NVMX_NO_VMCS;
	}
	write_u32(m, ptr + offsetof(struct vmcs12, launch_state), VMCS12_LAUNCH_CLEAR);
	write_u32(m, ptr + offsetof(struct vmcs12, layout), VMCS12_LAYOUT_VERSION);
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_vmptrld(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr,
				const struct nvmx_vmcs12_place *place)
{
	struct nvmx_result r;
	if (vmcs_pointer_fails(n, m, c, ptr, VMXERR_VMPTRLD_INVALID_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER, &r))
		return r;
	uint32_t rev = read_u32(m, ptr);
	int shadow_ok = (offered_sec(n) & SEC_VMCS_SHADOWING) != 0;
	if ((rev & ~VMCS_SHADOW_INDICATOR) != VMCS12_REVISION || ((rev & VMCS_SHADOW_INDICATOR) && !shadow_ok))
		return vmfail(n, VMXERR_VMPTRLD_INCORRECT_REVISION);
	if (!place->loaded) {
		/* The copy's old data must reach memory before ptr's overwrites it (the previous current one, with one copy). */
		nvmx_write_back(m, place->evict, place->cache);
		memcpy(place->cache, guest_mem_ptr(m, ptr), sizeof *place->cache);
	}
	n->current = ptr;
	n->cache = place->cache;
	n->cache_dirty = 0;
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_vmptrst(struct nvmx *n, const struct nvmx_ctx *c, uint64_t *ptr_out)
{
	enum nvmx_outcome g = gate(n, c);
	if (g != NVMX_SUCCEED)
		return outcome(g);
	*ptr_out = n->current;
	return outcome(NVMX_SUCCEED);
}

/* The field-encoding operand: 32 bits outside 64-bit mode; in it, set bits 63:32 name no field. */
static int field_of(const struct nvmx_ctx *c, uint64_t encoding, uint32_t *enc)
{
	if (!in_64bit_mode(c))
		encoding = (uint32_t)encoding;
	if (encoding >> 32 || vmcs12_index_of((uint32_t)encoding) < 0)
		return -1;
	*enc = (uint32_t)encoding;
	return 0;
}

/*
 * The checks VMREAD and VMWRITE share, in the SDM's order: #UD/#GP, then
 * no current VMCS (VMfailInvalid), then an unsupported field (VMfailValid
 * 12).  Returns 1 with *r set when one fails, else 0 with *enc the field.
 */
static int field_access_fails(struct nvmx *n, const struct nvmx_ctx *c, uint64_t encoding, uint32_t *enc,
			      struct nvmx_result *r)
{
	enum nvmx_outcome g = gate(n, c);
	if (g != NVMX_SUCCEED)
		*r = outcome(g);
	else if (n->current == NVMX_NO_VMCS)
		*r = outcome(NVMX_FAIL_INVALID);
	else if (field_of(c, encoding, enc))
		*r = vmfail(n, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	else
		return 0;
	return 1;
}

struct nvmx_result nvmx_vmread(struct nvmx *n, const struct nvmx_ctx *c, uint64_t encoding, uint64_t *value)
{
	struct nvmx_result r;
	uint32_t enc;
	if (field_access_fails(n, c, encoding, &enc, &r))
		return r;
	*value = vmcs12_get(n->cache, enc);
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_vmwrite(struct nvmx *n, const struct nvmx_ctx *c, uint64_t encoding, uint64_t value)
{
	struct nvmx_result r;
	uint32_t enc;
	if (field_access_fails(n, c, encoding, &enc, &r))
		return r;
	if (vmcs_field_is_readonly(enc) && !(n->caps->misc & VMX_MISC_VMWRITE_ANY_FIELD))
		return vmfail(n, VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	vmcs12_set(n->cache, enc, value);
	n->cache_dirty = 1;
	return outcome(NVMX_SUCCEED);
}

/*
 * The shadow VMCS L2 reaches (VMCS12's link pointer), or NULL with *r set:
 * #GP above CPL 0, VMfailInvalid when the pointer is not valid (all ones;
 * the entry checks saw to the rest, and L1 cannot change VMCS12 while L2
 * runs), VMfailValid 12 for an unsupported field.
 */
static struct vmcs12 *l2_shadow_of(struct nvmx *n, const struct guest_mem *m, const struct nvmx_ctx *c,
				   uint64_t encoding, uint32_t *enc, struct nvmx_result *r)
{
	uint64_t link = V12(n->cache, VMCS_LINK_POINTER);
	if (c->cpl > 0)
		*r = outcome(NVMX_GP);
	else if (link == ~0ull || !guest_mem_ok(m, link, sizeof(struct vmcs12)))
		*r = outcome(NVMX_FAIL_INVALID);
	else if (field_of(c, encoding, enc))
		*r = vmfail(n, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	else
		return guest_mem_ptr(m, link);
	return NULL;
}

struct nvmx_result nvmx_l2_vmread(struct nvmx *n, const struct guest_mem *m, const struct nvmx_ctx *c,
				  uint64_t encoding, uint64_t *value)
{
	struct nvmx_result r;
	uint32_t enc;
	struct vmcs12 *shadow = l2_shadow_of(n, m, c, encoding, &enc, &r);
	if (!shadow)
		return r;
	*value = vmcs12_get(shadow, enc);
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_l2_vmwrite(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c,
				   uint64_t encoding, uint64_t value)
{
	struct nvmx_result r;
	uint32_t enc;
	struct vmcs12 *shadow = l2_shadow_of(n, m, c, encoding, &enc, &r);
	if (!shadow)
		return r;
	if (vmcs_field_is_readonly(enc) && !(n->caps->misc & VMX_MISC_VMWRITE_ANY_FIELD))
		return vmfail(n, VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	vmcs12_set(shadow, enc, value);
	return outcome(NVMX_SUCCEED);
}

struct nvmx_result nvmx_vmentry_insn(struct nvmx *n, const struct nvmx_ctx *c, int launch, int blocked_by_movss)
{
	enum nvmx_outcome g = gate(n, c);
	if (g != NVMX_SUCCEED)
		return outcome(g);
	/* A shadow VMCS cannot be entered with (SDM 25.10): VMfailInvalid, as with no VMCS. */
	if (n->current == NVMX_NO_VMCS || (n->cache->revision & VMCS_SHADOW_INDICATOR))
		return outcome(NVMX_FAIL_INVALID);
	if (blocked_by_movss)
		return vmfail(n, VMXERR_ENTRY_EVENTS_BLOCKED_MOV_SS);
	if (launch && n->cache->launch_state != VMCS12_LAUNCH_CLEAR)
		return vmfail(n, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	if (!launch && n->cache->launch_state != VMCS12_LAUNCH_LAUNCHED)
		return vmfail(n, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	return outcome(NVMX_ENTER);
}

/* Would VM entry with "enable EPT" fail because of this EPTP (SDM 26.2.1.1), against the offered caps? */
static int eptp_ok(const struct nvmx *n, uint64_t eptp)
{
	uint64_t caps = n->caps->ept_vpid;
	uint64_t mt = eptp & EPTP_MEMTYPE_MASK;
	if (!((mt == EPTP_MEMTYPE_UC && (caps & EPT_CAP_UC)) || (mt == EPTP_MEMTYPE_WB && (caps & EPT_CAP_WB))))
		return 0;
	if ((eptp & EPTP_WALK_MASK) != EPTP_WALK_LENGTH_4 || !(caps & EPT_CAP_WALK_LENGTH_4))
		return 0;
	if ((eptp & EPTP_AD_ENABLE) && !(caps & EPT_CAP_AD))
		return 0;
	return !(eptp & EPTP_RESERVED_11_7) && phys_ok(n, eptp);
}

/*
 * INVEPT/INVVPID: #UD when the gate says so or the instruction is not
 * offered at all (have), then the gate's #GP.  Returns 1 with *r set.
 */
static int inv_insn_fails(const struct nvmx *n, const struct nvmx_ctx *c, int have, struct nvmx_result *r)
{
	enum nvmx_outcome g = gate(n, c);
	if (g == NVMX_UD || !have)
		*r = outcome(NVMX_UD);
	else if (g != NVMX_SUCCEED)
		*r = outcome(g);
	else
		return 0;
	return 1;
}

struct nvmx_result nvmx_invept(struct nvmx *n, const struct nvmx_ctx *c, uint64_t type, const uint64_t desc[2])
{
	struct nvmx_result r;
	if (inv_insn_fails(n, c, (offered_sec(n) & SEC_ENABLE_EPT) && (n->caps->ept_vpid & EPT_CAP_INVEPT), &r))
		return r;
	if (!in_64bit_mode(c))
		type = (uint32_t)type;
	uint64_t caps = n->caps->ept_vpid;
	if (!(type == INVEPT_SINGLE_CONTEXT && (caps & EPT_CAP_INVEPT_SINGLE)) &&
	    !(type == INVEPT_ALL_CONTEXT && (caps & EPT_CAP_INVEPT_ALL)))
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	/* Bits 127:64 of the descriptor are not checked by the processor. */
	if (type == INVEPT_SINGLE_CONTEXT && !eptp_ok(n, desc[0]))
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	return outcome(NVMX_SUCCEED);
}


struct nvmx_result nvmx_invvpid(struct nvmx *n, const struct nvmx_ctx *c, uint64_t type, const uint64_t desc[2])
{
	struct nvmx_result r;
	if (inv_insn_fails(n, c, (offered_sec(n) & SEC_ENABLE_VPID) && (n->caps->ept_vpid & VPID_CAP_INVVPID), &r))
		return r;
	if (!in_64bit_mode(c))
		type = (uint32_t)type;
	if (type > INVVPID_SINGLE_NOGLOBALS || !((n->caps->ept_vpid >> (INVVPID_TYPE_BIT0 + type)) & 1))
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	if (desc[0] & INVVPID_DESC_RESERVED)
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	uint16_t vpid = (uint16_t)desc[0];
	/* VPID 0 is the VMM's own: only the all-context type may name it (implicitly). */
	if (type != INVVPID_ALL_CONTEXT && vpid == 0)
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	if (type == INVVPID_INDIVIDUAL_ADDR && !x86_canonical(desc[1]))
		return vmfail(n, VMXERR_INVALID_INVEPT_INVVPID);
	return outcome(NVMX_SUCCEED);
}

const char *nvmx_insn_name(enum nvmx_insn_kind k)
{
	static const char *const names[NVMX_I_COUNT] = {
		[NVMX_I_VMXON] = "VMXON",       [NVMX_I_VMXOFF] = "VMXOFF",   [NVMX_I_VMCLEAR] = "VMCLEAR",
		[NVMX_I_VMPTRLD] = "VMPTRLD",   [NVMX_I_VMPTRST] = "VMPTRST", [NVMX_I_VMREAD] = "VMREAD",
		[NVMX_I_VMWRITE] = "VMWRITE",   [NVMX_I_VMLAUNCH] = "VMLAUNCH", [NVMX_I_VMRESUME] = "VMRESUME",
		[NVMX_I_INVEPT] = "INVEPT",     [NVMX_I_INVVPID] = "INVVPID",
	};
	if ((unsigned)k >= NVMX_I_COUNT)
		return NULL;
	return names[k];
}
