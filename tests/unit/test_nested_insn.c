/*
 * The VMX instructions of a child VMM against the SDM's outcomes (Vol. 3
 * chapter 31): VMsucceed, VMfailInvalid, VMfailValid(n), #UD, #GP, in the
 * pseudo-code's order of checks.  L1's memory is a 64 KiB buffer.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "nested.h"
#include "fake_caps.h"
#include "nestlab/manifest.h"
#include "vmx_caps.h"

#define MEM_SIZE 0x10000ull
#define VMXON_REGION 0x1000ull
#define VMCS_A 0x2000ull
#define VMCS_B 0x3000ull
#define VMCS_C 0x4000ull
#define LAST_PAGE (MEM_SIZE - 0x1000)
#define PHYS_BITS FAKE_PHYS_ADDR_BITS

static uint8_t *mem;
static struct guest_mem gm;
static struct vmcs12 cache;
static struct nested_caps caps;
static struct nvmx n;
static struct nvmx_ctx ctx; /* 64-bit mode, CPL 0, CR0/CR4 that VMXON accepts */

static struct vmx_caps real_caps(void) { return fake_skylake_caps(); }

static void put_u32(uint64_t gpa, uint32_t v) { memcpy(mem + gpa, &v, 4); }
static uint32_t get_u32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, mem + gpa, 4);
	return v;
}
static uint64_t mem_field(uint64_t region, unsigned index)
{
	uint64_t v;
	memcpy(&v, mem + region + VMCS12_FIELDS_OFFSET + 8 * index, 8);
	return v;
}

static void setup(void)
{
	if (!mem)
		mem = malloc(MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm = (struct guest_mem){ mem, MEM_SIZE };
	/* Every region L1 prepares starts with the revision identifier from IA32_VMX_BASIC. */
	put_u32(VMXON_REGION, VMCS12_REVISION);
	put_u32(VMCS_A, VMCS12_REVISION);
	put_u32(VMCS_B, VMCS12_REVISION);
	put_u32(VMCS_C, VMCS12_REVISION);
	put_u32(LAST_PAGE, VMCS12_REVISION);
	struct vmx_caps r = real_caps();
	nested_caps_compute(&caps, &r, NL_FEAT_ALL, 0);
	memset(&cache, 0, sizeof cache);
	n = (struct nvmx){ .vmxon = 0, .vmxon_ptr = NVMX_NO_VMCS, .current = NVMX_NO_VMCS, .cache = &cache,
			   .caps = &caps, .phys_addr_bits = PHYS_BITS };
	ctx = (struct nvmx_ctx){ .cpl = 0, .cr4_vmxe = 1, .cr0_pe = 1, .rflags_vm = 0, .long_mode = 1, .cs_l = 1,
				 .cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
				 .cr4 = CR4_PAE | CR4_VMXE,
				 .feature_control = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX };
}

static void teardown(void)
{
	free(mem);
	mem = NULL;
}

#define OUT(expr) ((expr).outcome)
#define ASSERT_FAIL_VALID(expr, num)                                   \
	do {                                                           \
		struct nvmx_result r_ = (expr);                        \
		CU_ASSERT_EQUAL(r_.outcome, NVMX_FAIL_VALID);          \
		CU_ASSERT_EQUAL(r_.error, (num));                      \
		CU_ASSERT_EQUAL(V12(&cache, VM_INSTRUCTION_ERROR), (num)); \
	} while (0)

static void vmxon_ok(void) { CU_ASSERT_EQUAL_FATAL(OUT(nvmx_vmxon(&n, &gm, &ctx, VMXON_REGION)), NVMX_SUCCEED); }
/* VMPTRLD with one copy of the current VMCS12: its data goes back to memory before the next one's is loaded. */
static struct nvmx_result vmptrld(const struct nvmx_ctx *c, uint64_t p)
{
	struct nvmx_vmcs12_place one = { .cache = n.cache, .evict = n.current, .loaded = 0 };
	return nvmx_vmptrld(&n, &gm, c, p, &one);
}
static void load(uint64_t p) { CU_ASSERT_EQUAL_FATAL(OUT(vmptrld(&ctx, p)), NVMX_SUCCEED); }

/* The #UD/#GP checks made before a memory operand is touched. */
static void test_fault_gate(void)
{
	CU_ASSERT_EQUAL(nvmx_fault_gate(&n, &ctx, 0), NVMX_UD);      /* VMCLEAR... outside VMX operation */
	CU_ASSERT_EQUAL(nvmx_fault_gate(&n, &ctx, 1), NVMX_SUCCEED); /* VMXON itself may proceed */
	vmxon_ok();
	CU_ASSERT_EQUAL(nvmx_fault_gate(&n, &ctx, 0), NVMX_SUCCEED);
	ctx.cpl = 3;
	CU_ASSERT_EQUAL(nvmx_fault_gate(&n, &ctx, 0), NVMX_GP);
	CU_ASSERT_EQUAL(nvmx_fault_gate(&n, &ctx, 1), NVMX_GP);
	ctx.cpl = 0;
}

/* ---- VMXON ---- */

static void test_vmxon_succeeds(void)
{
	vmxon_ok();
	CU_ASSERT_TRUE(n.vmxon);
	CU_ASSERT_EQUAL(n.vmxon_ptr, VMXON_REGION);
	CU_ASSERT_EQUAL(n.current, NVMX_NO_VMCS);
}

static void test_vmxon_ud_conditions(void)
{
	struct nvmx_ctx bad = ctx;
	bad.cr4_vmxe = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_UD);
	bad = ctx;
	bad.cr0_pe = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_UD);
	bad = ctx;
	bad.rflags_vm = 1;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_UD);
	bad = ctx;
	bad.cs_l = 0; /* compatibility mode */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_UD);
	/* #UD comes before #GP: CPL 3 with CR4.VMXE clear is #UD */
	bad = ctx;
	bad.cr4_vmxe = 0;
	bad.cpl = 3;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_UD);
	CU_ASSERT_FALSE(n.vmxon);
}

static void test_vmxon_gp_conditions(void)
{
	struct nvmx_ctx bad = ctx;
	bad.cpl = 3;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_GP);
	bad = ctx;
	bad.cr0 &= ~CR0_NE; /* CR0_FIXED0 requires NE */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_GP);
	bad = ctx;
	bad.cr4 |= 1ull << 11; /* outside CR4_FIXED1 */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_GP);
	bad = ctx;
	bad.feature_control = FEATURE_CONTROL_VMXON_OUTSIDE_SMX; /* not locked */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_GP);
	bad = ctx;
	bad.feature_control = FEATURE_CONTROL_LOCKED; /* locked with VMX off */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION)), NVMX_GP);
	/* #GP comes before the operand checks */
	bad = ctx;
	bad.cpl = 1;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &bad, VMXON_REGION + 8)), NVMX_GP);
	CU_ASSERT_FALSE(n.vmxon);
}

static void test_vmxon_operand_fails_invalid(void)
{
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, VMXON_REGION + 0x10)), NVMX_FAIL_INVALID); /* unaligned */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, 1ull << PHYS_BITS)), NVMX_FAIL_INVALID);   /* too wide */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, MEM_SIZE)), NVMX_FAIL_INVALID); /* not L1's memory */
	put_u32(VMCS_C, VMCS12_REVISION + 1);
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, VMCS_C)), NVMX_FAIL_INVALID); /* wrong revision */
	put_u32(VMCS_C, VMCS12_REVISION | 0x80000000u);
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, VMCS_C)), NVMX_FAIL_INVALID); /* shadow indicator */
	CU_ASSERT_FALSE(n.vmxon);
	/* The last page of L1's memory is a whole region: accepted. */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, LAST_PAGE)), NVMX_SUCCEED);
}

static void test_vmxon_twice(void)
{
	vmxon_ok();
	/* No current VMCS: VMfail is VMfailInvalid */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &ctx, VMXON_REGION)), NVMX_FAIL_INVALID);
	load(VMCS_A);
	ASSERT_FAIL_VALID(nvmx_vmxon(&n, &gm, &ctx, VMXON_REGION), VMXERR_VMXON_IN_VMX_ROOT);
	/* In VMX operation only CPL is checked before the failure: CR0 no longer matters */
	struct nvmx_ctx c2 = ctx;
	c2.cr0 &= ~CR0_NE;
	ASSERT_FAIL_VALID(nvmx_vmxon(&n, &gm, &c2, VMXON_REGION), VMXERR_VMXON_IN_VMX_ROOT);
	c2.cpl = 3;
	CU_ASSERT_EQUAL(OUT(nvmx_vmxon(&n, &gm, &c2, VMXON_REGION)), NVMX_GP);
}

/* ---- The common gate of the other instructions ---- */

static void test_outside_vmx_operation_every_instruction_is_ud(void)
{
	uint64_t v, desc[2] = { 1, 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_vmxoff(&n, &gm, &ctx)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &ctx, VMCS_A)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(vmptrld(&ctx, VMCS_A)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrst(&n, &ctx, &v)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_RIP, &v)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_GUEST_RIP, 1)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 0, 0)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_ALL_CONTEXT, desc)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_ALL_CONTEXT, desc)), NVMX_UD);
	/* Not in VMX operation outranks CPL: #UD even at CPL 3 */
	struct nvmx_ctx c3 = ctx;
	c3.cpl = 3;
	CU_ASSERT_EQUAL(OUT(vmptrld(&c3, VMCS_A)), NVMX_UD);
}

static void test_cpl3_is_gp(void)
{
	vmxon_ok();
	load(VMCS_A);
	struct nvmx_ctx c3 = ctx;
	c3.cpl = 3;
	uint64_t v, desc[2] = { 1, 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_vmxoff(&n, &gm, &c3)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &c3, VMCS_A)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(vmptrld(&c3, VMCS_B)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrst(&n, &c3, &v)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &c3, VMCS_GUEST_RIP, &v)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &c3, VMCS_GUEST_RIP, 1)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &c3, 1, 0)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &c3, INVEPT_ALL_CONTEXT, desc)), NVMX_GP);
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &c3, INVVPID_ALL_CONTEXT, desc)), NVMX_GP);
	/* Nothing changed */
	CU_ASSERT_TRUE(n.vmxon);
	CU_ASSERT_EQUAL(n.current, VMCS_A);
}

static void test_wrong_mode_is_ud_in_vmx_operation(void)
{
	vmxon_ok();
	load(VMCS_A);
	struct nvmx_ctx compat = ctx;
	compat.cs_l = 0;
	uint64_t v;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &compat, VMCS_GUEST_RIP, &v)), NVMX_UD);
	struct nvmx_ctx v86 = ctx;
	v86.rflags_vm = 1;
	v86.cpl = 3; /* virtual-8086 code runs at CPL 3: still #UD, not #GP */
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &v86, VMCS_A)), NVMX_UD);
	struct nvmx_ctx no_vmxe = ctx;
	no_vmxe.cr4_vmxe = 0;
	CU_ASSERT_EQUAL(OUT(vmptrld(&no_vmxe, VMCS_B)), NVMX_UD);
}

/* ---- VMCLEAR, VMPTRLD, VMPTRST ---- */

static void test_vmptrld_vmptrst_round_trip(void)
{
	vmxon_ok();
	uint64_t p = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrst(&n, &ctx, &p)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(p, 0xffffffffffffffffull); /* no current VMCS */
	load(VMCS_A);
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrst(&n, &ctx, &p)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(p, VMCS_A);
	load(VMCS_B);
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrst(&n, &ctx, &p)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(p, VMCS_B);
}

static void test_vmptrld_bad_address(void)
{
	vmxon_ok();
	/* Without a current VMCS the failure is VMfailInvalid ... */
	CU_ASSERT_EQUAL(OUT(vmptrld(&ctx, VMCS_A + 8)), NVMX_FAIL_INVALID);
	CU_ASSERT_EQUAL(n.current, NVMX_NO_VMCS);
	/* ... with one, VMfailValid(9) recorded in the current VMCS, which stays current. */
	load(VMCS_A);
	ASSERT_FAIL_VALID(vmptrld(&ctx, VMCS_B + 8), VMXERR_VMPTRLD_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(vmptrld(&ctx, 1ull << PHYS_BITS), VMXERR_VMPTRLD_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(vmptrld(&ctx, 1ull << 63), VMXERR_VMPTRLD_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(vmptrld(&ctx, MEM_SIZE), VMXERR_VMPTRLD_INVALID_ADDRESS); /* not L1's */
	CU_ASSERT_EQUAL(n.current, VMCS_A);
	uint64_t err = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_VM_INSTRUCTION_ERROR, &err)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(err, VMXERR_VMPTRLD_INVALID_ADDRESS);
}

static void test_vmptrld_vmxon_region_and_revision(void)
{
	vmxon_ok();
	CU_ASSERT_EQUAL(OUT(vmptrld(&ctx, VMXON_REGION)), NVMX_FAIL_INVALID);
	load(VMCS_A);
	ASSERT_FAIL_VALID(vmptrld(&ctx, VMXON_REGION), VMXERR_VMPTRLD_VMXON_POINTER);
	put_u32(VMCS_B, 0x2b); /* a real processor's revision, not nestlab's */
	ASSERT_FAIL_VALID(vmptrld(&ctx, VMCS_B), VMXERR_VMPTRLD_INCORRECT_REVISION);
	CU_ASSERT_EQUAL(n.current, VMCS_A);
	/* The address check precedes the revision check */
	ASSERT_FAIL_VALID(vmptrld(&ctx, VMCS_B + 0x800), VMXERR_VMPTRLD_INVALID_ADDRESS);
}

static void test_vmptrld_shadow_vmcs(void)
{
	vmxon_ok();
	load(VMCS_A);
	put_u32(VMCS_B, VMCS12_REVISION | 0x80000000u);
	/* With VMCS shadowing offered (the processor has it), a shadow VMCS may be made current, but not entered. */
	CU_ASSERT((caps.procbased2 >> 32) & SEC_VMCS_SHADOWING);
	load(VMCS_B);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_FAIL_INVALID);
	uint64_t v;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_RIP, &v)), NVMX_SUCCEED);

	/* Without VMCS shadowing offered, the shadow indicator is a wrong revision. */
	struct vmx_caps r = real_caps();
	r.procbased2 &= ~((uint64_t)SEC_VMCS_SHADOWING << 32);
	r.has_vmcs_shadowing = 0;
	nested_caps_compute(&caps, &r, NL_FEAT_EPT | NL_FEAT_VPID, 0);
	load(VMCS_A);
	ASSERT_FAIL_VALID(vmptrld(&ctx, VMCS_B), VMXERR_VMPTRLD_INCORRECT_REVISION);
}

static void test_vmclear_writes_launch_state_back(void)
{
	vmxon_ok();
	load(VMCS_A);
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_GUEST_RIP, 0x401000)), NVMX_SUCCEED);
	cache.launch_state = VMCS12_LAUNCH_LAUNCHED; /* as after a successful VMLAUNCH */
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_GUEST_RIP), 0); /* still only in the cache */

	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &ctx, VMCS_A)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_GUEST_RIP), 0x401000); /* flushed first */
	CU_ASSERT_EQUAL(get_u32(VMCS_A + 8), VMCS12_LAUNCH_CLEAR);
	CU_ASSERT_EQUAL(get_u32(VMCS_A + 12), VMCS12_LAYOUT_VERSION);
	CU_ASSERT_EQUAL(get_u32(VMCS_A), VMCS12_REVISION); /* the revision stays */
	CU_ASSERT_EQUAL(n.current, NVMX_NO_VMCS);
	uint64_t v;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_RIP, &v)), NVMX_FAIL_INVALID);

	/* After VMCLEAR a VMLAUNCH is allowed again and the data survived */
	load(VMCS_A);
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_RIP, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, 0x401000);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_ENTER);
}

static void test_vmclear_of_another_vmcs(void)
{
	vmxon_ok();
	put_u32(VMCS_B + 8, VMCS12_LAUNCH_LAUNCHED);
	load(VMCS_A);
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &ctx, VMCS_B)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(get_u32(VMCS_B + 8), VMCS12_LAUNCH_CLEAR);
	CU_ASSERT_EQUAL(n.current, VMCS_A); /* the current VMCS is untouched */
	/* VMCLEAR of a region never loaded initialises its launch state too */
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &ctx, VMCS_C)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(get_u32(VMCS_C + 12), VMCS12_LAYOUT_VERSION);
}

static void test_vmclear_errors(void)
{
	vmxon_ok();
	CU_ASSERT_EQUAL(OUT(nvmx_vmclear(&n, &gm, &ctx, VMCS_A + 1)), NVMX_FAIL_INVALID);
	load(VMCS_A);
	ASSERT_FAIL_VALID(nvmx_vmclear(&n, &gm, &ctx, VMCS_B + 0x100), VMXERR_VMCLEAR_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(nvmx_vmclear(&n, &gm, &ctx, 1ull << 40), VMXERR_VMCLEAR_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(nvmx_vmclear(&n, &gm, &ctx, MEM_SIZE + 0x1000), VMXERR_VMCLEAR_INVALID_ADDRESS);
	ASSERT_FAIL_VALID(nvmx_vmclear(&n, &gm, &ctx, VMXON_REGION), VMXERR_VMCLEAR_VMXON_POINTER);
	CU_ASSERT_EQUAL(get_u32(VMXON_REGION), VMCS12_REVISION); /* the VMXON region is not written */
	CU_ASSERT_EQUAL(n.current, VMCS_A);
}

/* ---- VMREAD, VMWRITE ---- */

static void test_vmread_vmwrite_without_current(void)
{
	vmxon_ok();
	uint64_t v = 0x77;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_RIP, &v)), NVMX_FAIL_INVALID);
	CU_ASSERT_EQUAL(v, 0x77);
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_GUEST_RIP, 1)), NVMX_FAIL_INVALID);
	/* VMfailInvalid precedes the field check */
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, 0x0002, &v)), NVMX_FAIL_INVALID);
}

static void test_vmread_vmwrite_values(void)
{
	vmxon_ok();
	load(VMCS_A);
	uint64_t v = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_GUEST_CS_SELECTOR, 0x12340008)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_GUEST_CS_SELECTOR, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, 0x0008); /* 16-bit field */
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_EPT_POINTER, 0x123456789abcull)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_EPT_POINTER | 1, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, 0x1234); /* high access */
	CU_ASSERT_TRUE(n.cache_dirty);
}

static void test_vmwrite_read_only_and_unsupported(void)
{
	caps.misc &= ~(1ull << 29); /* a processor that refuses VMWRITE to exit-information fields */
	vmxon_ok();
	load(VMCS_A);
	ASSERT_FAIL_VALID(nvmx_vmwrite(&n, &ctx, VMCS_VM_EXIT_REASON, 1), VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	ASSERT_FAIL_VALID(nvmx_vmwrite(&n, &ctx, VMCS_EXIT_QUALIFICATION, 1), VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	ASSERT_FAIL_VALID(nvmx_vmwrite(&n, &ctx, VMCS_GUEST_PHYSICAL_ADDRESS | 1, 1),
			  VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	CU_ASSERT_EQUAL(V12(&cache, VM_EXIT_REASON), 0);
	/* Unsupported precedes read-only; both VMREAD and VMWRITE */
	ASSERT_FAIL_VALID(nvmx_vmwrite(&n, &ctx, 0x0002, 1), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	uint64_t v;
	ASSERT_FAIL_VALID(nvmx_vmread(&n, &ctx, 0x4401 /* 32-bit read-only with high access */, &v),
			  VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	/* In 64-bit mode, bits 63:32 of the encoding register name no field */
	ASSERT_FAIL_VALID(nvmx_vmread(&n, &ctx, (1ull << 32) | VMCS_GUEST_RIP, &v), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	/* VMREAD of a read-only field is fine */
	V12(&cache, VM_EXIT_REASON) = EXIT_REASON_HLT;
	CU_ASSERT_EQUAL(OUT(nvmx_vmread(&n, &ctx, VMCS_VM_EXIT_REASON, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, EXIT_REASON_HLT);
	/* If the offer allowed VMWRITE to exit-information fields, the write would pass. */
	caps.misc |= 1ull << 29;
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_VM_EXIT_REASON, 3)), NVMX_SUCCEED);
}

/*
 * L2's VMREAD/VMWRITE through L1's VMCS shadowing (VMX non-root branch):
 * #GP above CPL 0, VMfailInvalid without a link pointer, then the field
 * checks with the error in VMCS12 (the current VMCS), the value in the
 * shadow VMCS that the link pointer names, never in VMCS12.
 */
static void test_l2_access_through_the_shadow_vmcs(void)
{
	uint64_t v = 0;
	vmxon_ok();
	load(VMCS_A); /* VMCS12, in control of L2 */
	struct nvmx_ctx l2 = ctx;
	V12(&cache, VMCS_LINK_POINTER) = ~0ull;
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmread(&n, &gm, &l2, VMCS_GUEST_RIP, &v)), NVMX_FAIL_INVALID);
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmwrite(&n, &gm, &l2, VMCS_GUEST_RIP, 1)), NVMX_FAIL_INVALID);
	l2.cpl = 3; /* CPL comes first, after the exit decision */
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmread(&n, &gm, &l2, VMCS_GUEST_RIP, &v)), NVMX_GP);
	l2.cpl = 0;

	put_u32(VMCS_B, VMCS12_REVISION | VMCS_SHADOW_INDICATOR);
	V12(&cache, VMCS_LINK_POINTER) = VMCS_B;
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmwrite(&n, &gm, &l2, VMCS_GUEST_RIP, 0x401000)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_GUEST_RIP), 0x401000);
	CU_ASSERT_EQUAL(V12(&cache, GUEST_RIP), 0); /* VMCS12 untouched */
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmread(&n, &gm, &l2, VMCS_GUEST_RIP, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, 0x401000);
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmwrite(&n, &gm, &l2, VMCS_EPT_POINTER | 1, 0x12)), NVMX_SUCCEED); /* high half */
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_EPT_POINTER), 0x12ull << 32);

	/* Unsupported field: VMfailValid 12 into VMCS12; read-only per IA32_VMX_MISC bit 29. */
	ASSERT_FAIL_VALID(nvmx_l2_vmread(&n, &gm, &l2, 0x0002, &v), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	caps.misc &= ~(1ull << 29);
	ASSERT_FAIL_VALID(nvmx_l2_vmwrite(&n, &gm, &l2, VMCS_VM_EXIT_REASON, 1), VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_VM_EXIT_REASON), 0);
	caps.misc |= 1ull << 29;
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmwrite(&n, &gm, &l2, VMCS_VM_EXIT_REASON, 1)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_VM_EXIT_REASON), 1);

	/* Outside 64-bit mode the encoding is 32 bits: bits 63:32 of the register are ignored. */
	l2.long_mode = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmread(&n, &gm, &l2, (1ull << 32) | VMCS_GUEST_RIP, &v)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(v, 0x401000);
	/* A link pointer beyond L1's memory (the entry checks refuse it): as if none. */
	V12(&cache, VMCS_LINK_POINTER) = MEM_SIZE;
	CU_ASSERT_EQUAL(OUT(nvmx_l2_vmread(&n, &gm, &l2, VMCS_GUEST_RIP, &v)), NVMX_FAIL_INVALID);
}

static void test_encoding_is_32_bits_outside_64bit_mode(void)
{
	vmxon_ok();
	load(VMCS_A);
	struct nvmx_ctx pm = ctx; /* 32-bit protected mode, no long mode */
	pm.long_mode = 0;
	pm.cs_l = 0;
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &pm, (0xdeadull << 32) | VMCS_GUEST_RIP, 0x1000)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(V12(&cache, GUEST_RIP), 0x1000);
}

/* ---- VMLAUNCH, VMRESUME ---- */

static void test_vmentry_without_current(void)
{
	vmxon_ok();
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_FAIL_INVALID);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 0, 0)), NVMX_FAIL_INVALID);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 0, 1)), NVMX_FAIL_INVALID); /* precedes MOV SS */
}

static void test_vmresume_never_launched(void)
{
	vmxon_ok();
	load(VMCS_A);
	ASSERT_FAIL_VALID(nvmx_vmentry_insn(&n, &ctx, 0, 0), VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_ENTER);
}

static void test_vmlaunch_twice(void)
{
	vmxon_ok();
	load(VMCS_A);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 1, 0)), NVMX_ENTER);
	cache.launch_state = VMCS12_LAUNCH_LAUNCHED; /* the entry succeeded */
	ASSERT_FAIL_VALID(nvmx_vmentry_insn(&n, &ctx, 1, 0), VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	CU_ASSERT_EQUAL(OUT(nvmx_vmentry_insn(&n, &ctx, 0, 0)), NVMX_ENTER);
}

static void test_vmentry_blocked_by_mov_ss(void)
{
	vmxon_ok();
	load(VMCS_A);
	/* MOV SS blocking is checked before the launch state */
	ASSERT_FAIL_VALID(nvmx_vmentry_insn(&n, &ctx, 0, 1), VMXERR_ENTRY_EVENTS_BLOCKED_MOV_SS);
	ASSERT_FAIL_VALID(nvmx_vmentry_insn(&n, &ctx, 1, 1), VMXERR_ENTRY_EVENTS_BLOCKED_MOV_SS);
}

/* ---- The cache ---- */

static void test_cache_flush_semantics(void)
{
	vmxon_ok();
	load(VMCS_A);
	CU_ASSERT_FALSE(n.cache_dirty);
	CU_ASSERT_EQUAL(OUT(nvmx_vmwrite(&n, &ctx, VMCS_HOST_RIP, 0xaaaa)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_HOST_RIP), 0); /* not yet in L1's memory */

	/* VMPTRLD of another writes the previous one back and loads the new one. */
	struct vmcs12 b;
	memset(&b, 0, sizeof b);
	b.revision = VMCS12_REVISION;
	b.field[VMCS12_IDX_HOST_RIP] = 0xbbbb;
	memcpy(mem + VMCS_B, &b, sizeof b);
	load(VMCS_B);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_HOST_RIP), 0xaaaa);
	CU_ASSERT_FALSE(n.cache_dirty);
	uint64_t v = 0;
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0xbbbb);

	/* A failed VMPTRLD leaves the cache as it is (only the error field changes). */
	nvmx_vmwrite(&n, &ctx, VMCS_HOST_RIP, 0xcccc);
	vmptrld(&ctx, VMXON_REGION);
	CU_ASSERT_EQUAL(n.current, VMCS_B);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_HOST_RIP), 0xbbbb);
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0xcccc);

	/* Back to A: what was written there survived the round trip through memory. */
	load(VMCS_A);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_HOST_RIP), 0xcccc);
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0xaaaa);

	/* nvmx_flush writes the current VMCS back and stays current. */
	nvmx_vmwrite(&n, &ctx, VMCS_HOST_RIP, 0xdddd);
	nvmx_flush(&n, &gm);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_HOST_RIP), 0xdddd);
	CU_ASSERT_EQUAL(n.current, VMCS_A);
	CU_ASSERT_FALSE(n.cache_dirty);
}

/*
 * VMPTRLD as a VMM keeping several active VMCS12s calls it
 * (nested_vmcs12_slots.c): into a free copy, back into a kept copy
 * without a reload, into a copy another VMCS12 is evicted from.
 */
static void test_vmptrld_into_kept_copies(void)
{
	static struct vmcs12 copy_b;
	uint64_t v = 0;
	vmxon_ok();
	load(VMCS_A);
	nvmx_vmwrite(&n, &ctx, VMCS_HOST_RIP, 0xaaaa);
	struct vmcs12 b;
	memset(&b, 0, sizeof b);
	b.revision = VMCS12_REVISION;
	b.field[VMCS12_IDX_HOST_RIP] = 0xbbbb;
	memcpy(mem + VMCS_B, &b, sizeof b);

	/* A free copy: B loaded into it, A stays active in its own, not written back. */
	struct nvmx_vmcs12_place free_copy = { .cache = &copy_b, .evict = NVMX_NO_VMCS, .loaded = 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrld(&n, &gm, &ctx, VMCS_B, &free_copy)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(n.current, VMCS_B);
	CU_ASSERT_PTR_EQUAL(n.cache, &copy_b);
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0xbbbb);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_HOST_RIP), 0);
	nvmx_vmwrite(&n, &ctx, VMCS_HOST_RIP, 0xcccc);

	/* A kept: current again with what was written to it, nothing read from or written to memory. */
	struct nvmx_vmcs12_place kept = { .cache = &cache, .evict = NVMX_NO_VMCS, .loaded = 1 };
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrld(&n, &gm, &ctx, VMCS_A, &kept)), NVMX_SUCCEED);
	CU_ASSERT_PTR_EQUAL(n.cache, &cache);
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0xaaaa);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_HOST_RIP), 0);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_HOST_RIP), 0xbbbb);

	/* A failed VMPTRLD evicts nothing. */
	struct nvmx_vmcs12_place evict_b = { .cache = &copy_b, .evict = VMCS_B, .loaded = 0 };
	ASSERT_FAIL_VALID(nvmx_vmptrld(&n, &gm, &ctx, VMXON_REGION, &evict_b), VMXERR_VMPTRLD_VMXON_POINTER);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_HOST_RIP), 0xbbbb);
	CU_ASSERT_EQUAL(copy_b.field[VMCS12_IDX_HOST_RIP], 0xcccc);

	/* C into B's copy: B's data goes back to memory first. */
	CU_ASSERT_EQUAL(OUT(nvmx_vmptrld(&n, &gm, &ctx, VMCS_C, &evict_b)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(mem_field(VMCS_B, VMCS12_IDX_HOST_RIP), 0xcccc);
	CU_ASSERT_EQUAL(n.current, VMCS_C);
	CU_ASSERT_PTR_EQUAL(n.cache, &copy_b);
	nvmx_vmread(&n, &ctx, VMCS_HOST_RIP, &v);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_FALSE(n.cache_dirty);
}

static void test_vmxoff(void)
{
	vmxon_ok();
	load(VMCS_A);
	nvmx_vmwrite(&n, &ctx, VMCS_GUEST_RSP, 0x7000);
	CU_ASSERT_EQUAL(OUT(nvmx_vmxoff(&n, &gm, &ctx)), NVMX_SUCCEED);
	CU_ASSERT_FALSE(n.vmxon);
	CU_ASSERT_EQUAL(n.current, NVMX_NO_VMCS);
	CU_ASSERT_EQUAL(mem_field(VMCS_A, VMCS12_IDX_GUEST_RSP), 0x7000); /* written back */
	CU_ASSERT_EQUAL(OUT(nvmx_vmxoff(&n, &gm, &ctx)), NVMX_UD);
	/* VMX operation can be entered again, with no current VMCS */
	vmxon_ok();
	uint64_t p = 0;
	nvmx_vmptrst(&n, &ctx, &p);
	CU_ASSERT_EQUAL(p, NVMX_NO_VMCS);
}

/* ---- INVEPT, INVVPID ---- */

#define GOOD_EPTP (0x8000ull | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4)

static void test_invept(void)
{
	vmxon_ok();
	uint64_t desc[2] = { GOOD_EPTP, 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_SINGLE_CONTEXT, desc)), NVMX_SUCCEED);
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_ALL_CONTEXT, desc)), NVMX_SUCCEED);
	/* Unsupported types, without and with a current VMCS */
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, 0, desc)), NVMX_FAIL_INVALID);
	load(VMCS_A);
	ASSERT_FAIL_VALID(nvmx_invept(&n, &ctx, 0, desc), VMXERR_INVALID_INVEPT_INVVPID);
	ASSERT_FAIL_VALID(nvmx_invept(&n, &ctx, 3, desc), VMXERR_INVALID_INVEPT_INVVPID);
	ASSERT_FAIL_VALID(nvmx_invept(&n, &ctx, (1ull << 32) | INVEPT_ALL_CONTEXT, desc),
			  VMXERR_INVALID_INVEPT_INVVPID);
	/* Single-context checks the EPTP as VM entry would */
	uint64_t bad[][2] = {
		{ 0x8000ull | EPTP_WALK_LENGTH_4, 0 },                      /* UC not offered */
		{ 0x8000ull | EPTP_MEMTYPE_WB | (2ull << 3), 0 },            /* 3-level walk */
		{ GOOD_EPTP | EPTP_AD_ENABLE, 0 },                          /* A/D not offered */
		{ GOOD_EPTP | 0x100, 0 },                                   /* reserved bit 8 */
		{ GOOD_EPTP | (1ull << PHYS_BITS), 0 },                     /* beyond the width */
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ASSERT_FAIL_VALID(nvmx_invept(&n, &ctx, INVEPT_SINGLE_CONTEXT, bad[i]), VMXERR_INVALID_INVEPT_INVVPID);
	/* All-context ignores the descriptor; bits 127:64 are not checked */
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_ALL_CONTEXT, bad[0])), NVMX_SUCCEED);
	uint64_t high[2] = { GOOD_EPTP, ~0ull };
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_SINGLE_CONTEXT, high)), NVMX_SUCCEED);
}

static void test_invept_not_offered_is_ud(void)
{
	struct vmx_caps r = real_caps();
	nested_caps_compute(&caps, &r, NL_FEAT_VPID, 0);
	vmxon_ok();
	uint64_t desc[2] = { GOOD_EPTP, 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &ctx, INVEPT_ALL_CONTEXT, desc)), NVMX_UD);
	struct nvmx_ctx c3 = ctx;
	c3.cpl = 3; /* the missing instruction is #UD before any #GP */
	CU_ASSERT_EQUAL(OUT(nvmx_invept(&n, &c3, INVEPT_ALL_CONTEXT, desc)), NVMX_UD);
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_ALL_CONTEXT, desc)), NVMX_SUCCEED);
}

static void test_invvpid(void)
{
	vmxon_ok();
	load(VMCS_A);
	uint64_t d[2] = { 5, 0x400000 };
	for (uint64_t t = 0; t <= 3; t++)
		CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, t, d)), NVMX_SUCCEED);
	/* VPID 0 only for all-context */
	uint64_t zero[2] = { 0, 0x400000 };
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_INDIVIDUAL_ADDR, zero), VMXERR_INVALID_INVEPT_INVVPID);
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_SINGLE_CONTEXT, zero), VMXERR_INVALID_INVEPT_INVVPID);
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_SINGLE_NOGLOBALS, zero), VMXERR_INVALID_INVEPT_INVVPID);
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_ALL_CONTEXT, zero)), NVMX_SUCCEED);
	/* Reserved bits 63:16 of the descriptor, for every type */
	uint64_t rsvd[2] = { 0x10005, 0 };
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_ALL_CONTEXT, rsvd), VMXERR_INVALID_INVEPT_INVVPID);
	/* A non-canonical address matters only to the individual-address type */
	uint64_t nc[2] = { 5, 0x0000800000000000ull };
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_INDIVIDUAL_ADDR, nc), VMXERR_INVALID_INVEPT_INVVPID);
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_SINGLE_CONTEXT, nc)), NVMX_SUCCEED);
	uint64_t upper[2] = { 5, 0xffff800000000000ull };
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_INDIVIDUAL_ADDR, upper)), NVMX_SUCCEED);
	/* Unsupported types */
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, 4, d), VMXERR_INVALID_INVEPT_INVVPID);
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, ~0ull, d), VMXERR_INVALID_INVEPT_INVVPID);
	/* A type the processor lacks is not offered, hence unsupported */
	caps.ept_vpid &= ~VPID_CAP_INVVPID_SINGLE_NOGLOBAL;
	ASSERT_FAIL_VALID(nvmx_invvpid(&n, &ctx, INVVPID_SINGLE_NOGLOBALS, d), VMXERR_INVALID_INVEPT_INVVPID);
}

static void test_invvpid_not_offered_is_ud(void)
{
	struct vmx_caps r = real_caps();
	nested_caps_compute(&caps, &r, NL_FEAT_EPT, 0);
	vmxon_ok();
	uint64_t d[2] = { 5, 0 };
	CU_ASSERT_EQUAL(OUT(nvmx_invvpid(&n, &ctx, INVVPID_SINGLE_CONTEXT, d)), NVMX_UD);
}

static void test_insn_names(void)
{
	CU_ASSERT_STRING_EQUAL(nvmx_insn_name(NVMX_I_VMXON), "VMXON");
	CU_ASSERT_STRING_EQUAL(nvmx_insn_name(NVMX_I_VMPTRLD), "VMPTRLD");
	CU_ASSERT_STRING_EQUAL(nvmx_insn_name(NVMX_I_INVVPID), "INVVPID");
	for (int k = 0; k < NVMX_I_COUNT; k++)
		CU_ASSERT_PTR_NOT_NULL(nvmx_insn_name((enum nvmx_insn_kind)k));
	CU_ASSERT_PTR_NULL(nvmx_insn_name(NVMX_I_COUNT));
}

void register_suite_nested_insn(void)
{
	CU_pSuite s = CU_add_suite_with_setup_and_teardown("nested_insn", NULL, NULL, setup, teardown);
	CU_add_test(s, "#UD/#GP before the memory operand", test_fault_gate);
	CU_add_test(s, "VMXON succeeds", test_vmxon_succeeds);
	CU_add_test(s, "VMXON #UD conditions", test_vmxon_ud_conditions);
	CU_add_test(s, "VMXON #GP conditions", test_vmxon_gp_conditions);
	CU_add_test(s, "VMXON bad operand: VMfailInvalid", test_vmxon_operand_fails_invalid);
	CU_add_test(s, "VMXON twice: error 15", test_vmxon_twice);
	CU_add_test(s, "outside VMX operation: #UD", test_outside_vmx_operation_every_instruction_is_ud);
	CU_add_test(s, "CPL 3: #GP", test_cpl3_is_gp);
	CU_add_test(s, "wrong mode: #UD", test_wrong_mode_is_ud_in_vmx_operation);
	CU_add_test(s, "VMPTRLD/VMPTRST round trip", test_vmptrld_vmptrst_round_trip);
	CU_add_test(s, "VMPTRLD bad address: error 9", test_vmptrld_bad_address);
	CU_add_test(s, "VMPTRLD VMXON region / revision: 10, 11", test_vmptrld_vmxon_region_and_revision);
	CU_add_test(s, "VMPTRLD of a shadow VMCS", test_vmptrld_shadow_vmcs);
	CU_add_test(s, "VMCLEAR writes the launch state back", test_vmclear_writes_launch_state_back);
	CU_add_test(s, "VMCLEAR of another VMCS", test_vmclear_of_another_vmcs);
	CU_add_test(s, "VMCLEAR errors 2, 3", test_vmclear_errors);
	CU_add_test(s, "VMREAD/VMWRITE before VMPTRLD", test_vmread_vmwrite_without_current);
	CU_add_test(s, "VMREAD/VMWRITE values", test_vmread_vmwrite_values);
	CU_add_test(s, "VMWRITE read-only 13, unsupported 12", test_vmwrite_read_only_and_unsupported);
	CU_add_test(s, "encoding is 32 bits outside 64-bit mode", test_encoding_is_32_bits_outside_64bit_mode);
	CU_add_test(s, "VMLAUNCH/VMRESUME without current", test_vmentry_without_current);
	CU_add_test(s, "VMRESUME never launched: error 5", test_vmresume_never_launched);
	CU_add_test(s, "VMLAUNCH twice: error 4", test_vmlaunch_twice);
	CU_add_test(s, "blocked by MOV SS: error 26", test_vmentry_blocked_by_mov_ss);
	CU_add_test(s, "cache flush semantics", test_cache_flush_semantics);
	CU_add_test(s, "VMPTRLD into kept copies", test_vmptrld_into_kept_copies);
	CU_add_test(s, "VMXOFF", test_vmxoff);
	CU_add_test(s, "INVEPT", test_invept);
	CU_add_test(s, "INVEPT not offered: #UD", test_invept_not_offered_is_ud);
	CU_add_test(s, "INVVPID", test_invvpid);
	CU_add_test(s, "INVVPID not offered: #UD", test_invvpid_not_offered_is_ud);
	CU_add_test(s, "instruction names", test_insn_names);
	CU_add_test(s, "L2 VMREAD/VMWRITE through the shadow VMCS", test_l2_access_through_the_shadow_vmcs);
}
