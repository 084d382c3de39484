/* Exit reflection (nested/reflect.c): each rule of SDM 26.1-26.2 against VMCS12 and L1's bitmaps. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "nested.h"

#define L1_SIZE  0x10000ull
#define IO_A     0x1000ull
#define IO_B     0x2000ull
#define MSRS     0x3000ull
#define VMREADS  0x4000ull
#define VMWRITES 0x5000ull

static struct vmcs12 v;
static uint8_t *l1_bytes;
static struct guest_mem l1;

static void reset(void)
{
	if (!l1_bytes)
		l1_bytes = aligned_alloc(4096, L1_SIZE);
	memset(l1_bytes, 0, L1_SIZE);
	l1.base = l1_bytes;
	l1.size = L1_SIZE;
	memset(&v, 0, sizeof v);
	V12(&v, IO_BITMAP_A) = IO_A;
	V12(&v, IO_BITMAP_B) = IO_B;
	V12(&v, MSR_BITMAP) = MSRS;
	V12(&v, VMREAD_BITMAP) = VMREADS;
	V12(&v, VMWRITE_BITMAP) = VMWRITES;
}

static void set_bit(uint64_t bitmap, uint64_t n)
{
	l1_bytes[bitmap + n / 8] |= (uint8_t)(1u << (n % 8));
}

static enum reflect_decision ask(uint32_t reason, uint64_t qual)
{
	struct reflect_input in = { .reason = reason, .qualification = qual, .l1mem = &l1 };
	return nested_reflect(&v, &in);
}

static void test_unconditional_exits_go_to_l1(void)
{
	static const uint32_t always[] = {
		EXIT_REASON_TRIPLE_FAULT, EXIT_REASON_INIT_SIGNAL, EXIT_REASON_SIPI, EXIT_REASON_TASK_SWITCH,
		EXIT_REASON_CPUID, EXIT_REASON_GETSEC, EXIT_REASON_INVD, EXIT_REASON_VMCALL,
		EXIT_REASON_VMCLEAR, EXIT_REASON_VMLAUNCH, EXIT_REASON_VMPTRLD, EXIT_REASON_VMPTRST,
		EXIT_REASON_VMREAD, EXIT_REASON_VMRESUME, EXIT_REASON_VMWRITE, EXIT_REASON_VMXOFF,
		EXIT_REASON_VMXON, EXIT_REASON_INVEPT, EXIT_REASON_INVVPID, EXIT_REASON_VMFUNC,
		EXIT_REASON_XSETBV, EXIT_REASON_APIC_ACCESS, EXIT_REASON_APIC_WRITE, EXIT_REASON_EOI_INDUCED,
		EXIT_REASON_INVALID_GUEST_STATE, EXIT_REASON_MSR_LOAD_FAIL, EXIT_REASON_ENCLS, EXIT_REASON_RSM,
		EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, /* no MSR bitmaps: every access */
	};
	reset(); /* every control of L1 clear */
	for (unsigned i = 0; i < sizeof always / sizeof always[0]; i++)
		CU_ASSERT_EQUAL(ask(always[i], 0), REFLECT_TO_L1);
	/* The entry-failure flag is not part of the basic reason. */
	CU_ASSERT_EQUAL(ask(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE, 0), REFLECT_TO_L1);
	/* Reasons nestlab has no name for are L2's events, so L1's. */
	CU_ASSERT_EQUAL(ask(35, 0), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_MAX, 0), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(0xffff, 0), REFLECT_TO_L1);
}

static void test_own_exits_stay_in_l0(void)
{
	reset();
	memset(v.field, 0xff, sizeof v.field); /* whatever L1 asked for */
	CU_ASSERT_EQUAL(ask(EXIT_REASON_PREEMPTION_TIMER, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_SMI, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_OTHER_SMI, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_MCE_DURING_ENTRY, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_PML_FULL, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ), HANDLE_EPT);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_EPT_MISCONFIG, 0), HANDLE_EPT);
	reset();
	CU_ASSERT_EQUAL(ask(EXIT_REASON_EPT_VIOLATION, EPT_QUAL_READ), HANDLE_EPT);
}

struct control_rule {
	uint32_t reason;
	int field; /* 0 pin, 1 primary, 2 secondary */
	uint32_t bit;
};

static const struct control_rule control_rules[] = {
	{ EXIT_REASON_EXTERNAL_INTERRUPT, 0, PIN_EXT_INTR_EXITING },
	{ EXIT_REASON_INTERRUPT_WINDOW, 1, CPU_INTR_WINDOW_EXITING },
	{ EXIT_REASON_NMI_WINDOW, 1, CPU_NMI_WINDOW_EXITING },
	{ EXIT_REASON_HLT, 1, CPU_HLT_EXITING },
	{ EXIT_REASON_INVLPG, 1, CPU_INVLPG_EXITING },
	{ EXIT_REASON_RDPMC, 1, CPU_RDPMC_EXITING },
	{ EXIT_REASON_RDTSC, 1, CPU_RDTSC_EXITING },
	{ EXIT_REASON_RDTSCP, 1, CPU_RDTSC_EXITING },
	{ EXIT_REASON_DR_ACCESS, 1, CPU_MOV_DR_EXITING },
	{ EXIT_REASON_MWAIT, 1, CPU_MWAIT_EXITING },
	{ EXIT_REASON_MONITOR, 1, CPU_MONITOR_EXITING },
	{ EXIT_REASON_MONITOR_TRAP_FLAG, 1, CPU_MONITOR_TRAP_FLAG },
	{ EXIT_REASON_PAUSE, 1, CPU_PAUSE_EXITING },
	{ EXIT_REASON_TPR_BELOW_THRESHOLD, 1, CPU_TPR_SHADOW },
	{ EXIT_REASON_PAUSE, 2, SEC_PAUSE_LOOP_EXITING },
	{ EXIT_REASON_GDTR_IDTR, 2, SEC_DESCRIPTOR_TABLE_EXITING },
	{ EXIT_REASON_LDTR_TR, 2, SEC_DESCRIPTOR_TABLE_EXITING },
	{ EXIT_REASON_WBINVD, 2, SEC_WBINVD_EXITING },
	{ EXIT_REASON_RDRAND, 2, SEC_RDRAND_EXITING },
	{ EXIT_REASON_RDSEED, 2, SEC_RDSEED_EXITING },
	{ EXIT_REASON_XSAVES, 2, SEC_ENABLE_XSAVES },
	{ EXIT_REASON_XRSTORS, 2, SEC_ENABLE_XSAVES },
};

static void set_controls(uint32_t pin, uint32_t proc, uint32_t proc2)
{
	V12(&v, PIN_BASED_VM_EXEC_CONTROL) = pin;
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = proc;
	V12(&v, SECONDARY_VM_EXEC_CONTROL) = proc2;
}

/* Each exit that a single control governs: set → L1, clear → L0, and only that bit counts. */
static void test_exits_by_one_control(void)
{
	for (unsigned i = 0; i < sizeof control_rules / sizeof control_rules[0]; i++) {
		const struct control_rule *r = &control_rules[i];
		uint32_t on[3] = { 0, CPU_ACTIVATE_SECONDARY, 0 }, off[3] = { ~0u, ~0u, ~0u };
		on[r->field] |= r->bit;
		off[r->field] &= ~r->bit;
		reset();
		set_controls(on[0], on[1], on[2]);
		CU_ASSERT_EQUAL(ask(r->reason, 0), REFLECT_TO_L1);
		if (r->reason == EXIT_REASON_PAUSE) { /* PAUSE has two controls: both must be clear */
			off[1] &= ~CPU_PAUSE_EXITING;
			off[2] &= ~SEC_PAUSE_LOOP_EXITING;
		}
		set_controls(off[0], off[1], off[2]);
		CU_ASSERT_EQUAL(ask(r->reason, 0), HANDLE_IN_L0);
		set_controls(0, 0, 0);
		CU_ASSERT_EQUAL(ask(r->reason, 0), HANDLE_IN_L0);
	}
}

/* Secondary controls count only while "activate secondary controls" is set (SDM 25.6.2). */
static void test_secondary_needs_activation(void)
{
	reset();
	set_controls(0, 0, ~0u);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_WBINVD, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_GDTR_IDTR, 0), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_RDRAND, 0), HANDLE_IN_L0);
	set_controls(0, CPU_ACTIVATE_SECONDARY, ~0u);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_WBINVD, 0), REFLECT_TO_L1);
}

static void test_invpcid_needs_both_controls(void)
{
	reset();
	set_controls(0, CPU_ACTIVATE_SECONDARY | CPU_INVLPG_EXITING, SEC_ENABLE_INVPCID);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_INVPCID, 0), REFLECT_TO_L1);
	set_controls(0, CPU_ACTIVATE_SECONDARY, SEC_ENABLE_INVPCID);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_INVPCID, 0), HANDLE_IN_L0);
	set_controls(0, CPU_ACTIVATE_SECONDARY | CPU_INVLPG_EXITING, 0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_INVPCID, 0), HANDLE_IN_L0);
}

static enum reflect_decision ask_event(uint32_t type, uint32_t vector, uint32_t error_code)
{
	struct reflect_input in = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = intr_info_event(type, vector),
		.intr_error_code = error_code,
		.l1mem = &l1,
	};
	return nested_reflect(&v, &in);
}

static void test_exceptions_and_nmi(void)
{
	reset();
	/* An NMI follows "NMI exiting", not bit 2 of the exception bitmap. */
	V12(&v, EXCEPTION_BITMAP) = 1u << VECTOR_NMI;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_NMI, VECTOR_NMI, 0), HANDLE_IN_L0);
	V12(&v, PIN_BASED_VM_EXEC_CONTROL) = PIN_NMI_EXITING;
	V12(&v, EXCEPTION_BITMAP) = 0;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_NMI, VECTOR_NMI, 0), REFLECT_TO_L1);
	/* Hardware and software exceptions: their bit in the bitmap. */
	for (uint32_t vec = 0; vec < 32; vec++) {
		if (vec == VECTOR_PF || vec == VECTOR_MC || vec == VECTOR_NMI)
			continue;
		V12(&v, EXCEPTION_BITMAP) = 1u << vec;
		CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, vec, 0), REFLECT_TO_L1);
		V12(&v, EXCEPTION_BITMAP) = ~(1u << vec);
		CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, vec, 0), HANDLE_IN_L0);
	}
	V12(&v, EXCEPTION_BITMAP) = 1u << VECTOR_BP;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_SW_EXCEPTION, VECTOR_BP, 0), REFLECT_TO_L1); /* INT3 */
	/* A machine check is the machine's, whatever L1 asked. */
	V12(&v, EXCEPTION_BITMAP) = ~0u;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_MC, 0), HANDLE_IN_L0);
}

/* #PF (SDM 25.6.3): exits iff ((PFEC & mask) == match) == bit 14 of the exception bitmap. */
static void test_page_fault_mask_match(void)
{
	const uint32_t P = 1, W = 2, U = 4;
	reset();
	V12(&v, EXCEPTION_BITMAP) = 1u << VECTOR_PF;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, 0), REFLECT_TO_L1); /* mask = match = 0: every #PF */
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P | W | U), REFLECT_TO_L1);
	/* Bit 14 set: only the matching ones (here: present and written). */
	V12(&v, PAGE_FAULT_ERROR_CODE_MASK) = P | W;
	V12(&v, PAGE_FAULT_ERROR_CODE_MATCH) = P | W;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P | W), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P | W | U), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, W | U), HANDLE_IN_L0);
	/* Bit 14 clear: only the ones that do not match. */
	V12(&v, EXCEPTION_BITMAP) = 0;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P | W), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, 0), REFLECT_TO_L1);
	/* Bit 14 clear, mask = match = 0: no #PF exits. */
	V12(&v, PAGE_FAULT_ERROR_CODE_MASK) = 0;
	V12(&v, PAGE_FAULT_ERROR_CODE_MATCH) = 0;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P | W | U), HANDLE_IN_L0);
	/* A match that can never hold: bit 14 set means none, clear means all. */
	V12(&v, PAGE_FAULT_ERROR_CODE_MATCH) = P;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P), REFLECT_TO_L1);
	V12(&v, EXCEPTION_BITMAP) = 1u << VECTOR_PF;
	CU_ASSERT_EQUAL(ask_event(INTR_TYPE_HW_EXCEPTION, VECTOR_PF, P), HANDLE_IN_L0);
}

/* A CR-access qualification (SDM 28.2.1): CR number, access type, GPR, LMSW source. */
static uint64_t cr_qual(unsigned cr, unsigned type, uint64_t lmsw_src)
{
	return cr | (type << 4) | (lmsw_src << 16);
}

static enum reflect_decision ask_mov_to_cr(unsigned cr, uint64_t value)
{
	struct reflect_input in = {
		.reason = EXIT_REASON_CR_ACCESS, .qualification = cr_qual(cr, 0, 0), .cr_value = value, .l1mem = &l1,
	};
	return nested_reflect(&v, &in);
}

static void test_cr0_cr4_writes(void)
{
	reset();
	V12(&v, CR0_GUEST_HOST_MASK) = CR0_PE | CR0_PG;
	V12(&v, CR0_READ_SHADOW) = CR0_PE | CR0_PG | CR0_NE;
	/* Owned bits as in the shadow: L2 changes only bits it owns itself. */
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PE | CR0_PG), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PE | CR0_PG | CR0_WP | CR0_MP), HANDLE_IN_L0);
	/* An owned bit differs from the shadow. */
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PE), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PG), REFLECT_TO_L1);
	/* An owned bit set that the shadow has clear. */
	V12(&v, CR0_GUEST_HOST_MASK) |= CR0_WP;
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PE | CR0_PG | CR0_WP), REFLECT_TO_L1);
	/* Nothing owned: no write exits. */
	V12(&v, CR0_GUEST_HOST_MASK) = 0;
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, 0), HANDLE_IN_L0);

	V12(&v, CR4_GUEST_HOST_MASK) = CR4_VMXE | CR4_PAE;
	V12(&v, CR4_READ_SHADOW) = CR4_PAE;
	CU_ASSERT_EQUAL(ask_mov_to_cr(4, CR4_PAE | CR4_PGE), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_mov_to_cr(4, CR4_PAE | CR4_VMXE), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_mov_to_cr(4, 0), REFLECT_TO_L1);
	/* CR0's mask does not govern CR4 and the reverse. */
	V12(&v, CR0_GUEST_HOST_MASK) = ~0ull;
	CU_ASSERT_EQUAL(ask_mov_to_cr(4, CR4_PAE), HANDLE_IN_L0);
	V12(&v, CR4_GUEST_HOST_MASK) = ~0ull;
	V12(&v, CR0_GUEST_HOST_MASK) = 0;
	CU_ASSERT_EQUAL(ask_mov_to_cr(0, CR0_PG), HANDLE_IN_L0);
}

static void test_clts_and_lmsw(void)
{
	const uint64_t TS = 1ull << 3;
	reset();
	/* CLTS: TS set in both the mask and the shadow. */
	V12(&v, CR0_GUEST_HOST_MASK) = TS;
	V12(&v, CR0_READ_SHADOW) = TS;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 2, 0)), REFLECT_TO_L1);
	V12(&v, CR0_READ_SHADOW) = 0;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 2, 0)), HANDLE_IN_L0);
	V12(&v, CR0_GUEST_HOST_MASK) = 0;
	V12(&v, CR0_READ_SHADOW) = TS;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 2, 0)), HANDLE_IN_L0);

	/* LMSW sets PE that L1 owns and shows clear. */
	V12(&v, CR0_GUEST_HOST_MASK) = CR0_PE;
	V12(&v, CR0_READ_SHADOW) = 0;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, CR0_PE)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, 0)), HANDLE_IN_L0);
	/* LMSW cannot clear PE: a source with PE clear never differs in that bit. */
	V12(&v, CR0_READ_SHADOW) = CR0_PE;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, 0)), HANDLE_IN_L0);
	/* Bits 3:1: any owned difference. */
	V12(&v, CR0_GUEST_HOST_MASK) = CR0_MP;
	V12(&v, CR0_READ_SHADOW) = 0;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, CR0_MP)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, TS)), HANDLE_IN_L0);
	V12(&v, CR0_READ_SHADOW) = CR0_MP;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, CR0_MP)), HANDLE_IN_L0);
	/* LMSW reaches only CR0[3:0]: owning PG or NE does not make it exit. */
	V12(&v, CR0_GUEST_HOST_MASK) = CR0_PG | CR0_NE | (1ull << 4) /* ET */;
	V12(&v, CR0_READ_SHADOW) = 0;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 3, 0xfff0)), HANDLE_IN_L0);
}

static void test_cr3_cr8(void)
{
	reset();
	CU_ASSERT_EQUAL(ask_mov_to_cr(3, 0x5000), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(3, 1, 0)), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_mov_to_cr(8, 1), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(8, 1, 0)), HANDLE_IN_L0);
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_CR3_LOAD_EXITING | CPU_CR8_STORE_EXITING;
	CU_ASSERT_EQUAL(ask_mov_to_cr(3, 0x5000), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(3, 1, 0)), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_mov_to_cr(8, 1), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(8, 1, 0)), REFLECT_TO_L1);
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING;
	CU_ASSERT_EQUAL(ask_mov_to_cr(3, 0x5000), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(3, 1, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_mov_to_cr(8, 1), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(8, 1, 0)), HANDLE_IN_L0);
	/* Reads of CR0/CR4 never exit by any control of L1. */
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = ~0ull;
	V12(&v, CR0_GUEST_HOST_MASK) = ~0ull;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(0, 1, 0)), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_CR_ACCESS, cr_qual(4, 1, 0)), HANDLE_IN_L0);
}

/* An I/O qualification (SDM 28.2.1): size-1 in bits 2:0 (1, 2 or 4 bytes), IN in bit 3, port in 31:16. */
static uint64_t io_qual(unsigned port, unsigned size, int in)
{
	return (uint64_t)(size - 1) | (in ? 8u : 0) | ((uint64_t)port << 16);
}

static void test_io_without_bitmaps(void)
{
	reset();
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x3f8, 1, 0)), HANDLE_IN_L0);
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_UNCOND_IO_EXITING;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x3f8, 1, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xcf8, 4, 1)), REFLECT_TO_L1);
}

static void test_io_bitmaps(void)
{
	reset();
	/* With bitmaps, "unconditional I/O exiting" is ignored. */
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_USE_IO_BITMAPS | CPU_UNCOND_IO_EXITING;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x60, 1, 1)), HANDLE_IN_L0);
	set_bit(IO_A, 0x60);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x60, 1, 1)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x61, 1, 1)), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x5f, 1, 1)), HANDLE_IN_L0);
	/* Bitmap B holds ports 8000-FFFF at bit port-8000. */
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x8060, 1, 0)), HANDLE_IN_L0);
	set_bit(IO_B, 0x60);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x8060, 1, 0)), REFLECT_TO_L1);
	set_bit(IO_B, 0x7fff);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xffff, 1, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xfffe, 1, 0)), HANDLE_IN_L0);
}

/* A multi-byte access exits if the bit of any byte's port is set. */
static void test_io_straddling(void)
{
	reset();
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_USE_IO_BITMAPS;
	set_bit(IO_A, 0x403);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x400, 4, 1)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x400, 2, 1)), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x402, 2, 1)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x404, 4, 1)), HANDLE_IN_L0);
	/* Across a byte of the bitmap: ports 0x7 and 0x8 are bits 7 of byte 0 and 0 of byte 1. */
	set_bit(IO_A, 0x8);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7, 2, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x6, 2, 0)), HANDLE_IN_L0);
	/* Across bitmaps A and B: port 7FFF in A, 8000 in B. */
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7ffe, 4, 0)), HANDLE_IN_L0);
	set_bit(IO_B, 0x1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7ffe, 4, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7ffe, 2, 0)), HANDLE_IN_L0);
	set_bit(IO_A, 0x7fff);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7ffe, 2, 0)), REFLECT_TO_L1);
	/* Wrapping past FFFF always exits, even with every bit clear. */
	memset(l1_bytes + IO_A, 0, 0x2000);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xffff, 2, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xfffd, 4, 0)), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xfffc, 4, 0)), HANDLE_IN_L0);
}

static void test_io_bitmap_outside_l1(void)
{
	reset();
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_USE_IO_BITMAPS;
	V12(&v, IO_BITMAP_A) = L1_SIZE;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x60, 1, 0)), REFLECT_TO_L1);
	/* The last byte of L1's memory is readable, the next is not. */
	V12(&v, IO_BITMAP_A) = L1_SIZE - 0x1000;
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0x7fff, 1, 0)), HANDLE_IN_L0);
	V12(&v, IO_BITMAP_B) = ~0ull - 0x10; /* wraps around the address space */
	CU_ASSERT_EQUAL(ask(EXIT_REASON_IO_INSTRUCTION, io_qual(0xf000, 1, 0)), REFLECT_TO_L1);
}

static enum reflect_decision ask_msr(int write, uint32_t msr)
{
	struct reflect_input in = {
		.reason = write ? EXIT_REASON_MSR_WRITE : EXIT_REASON_MSR_READ, .msr = msr, .l1mem = &l1,
	};
	return nested_reflect(&v, &in);
}

static void test_msr_bitmaps(void)
{
	reset();
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_USE_MSR_BITMAPS;
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_SYSENTER_CS), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_SYSENTER_CS), HANDLE_IN_L0);
	/* Read-low quarter: bytes 0-1023. */
	set_bit(MSRS, MSR_IA32_SYSENTER_CS);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_SYSENTER_CS), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_SYSENTER_CS), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_SYSENTER_ESP), HANDLE_IN_L0);
	/* Write-low quarter: bytes 2048-3071. */
	set_bit(MSRS + 2048, MSR_IA32_PAT);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_PAT), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_PAT), HANDLE_IN_L0);
	/* Read-high quarter (bytes 1024-2047) for C0000000-C0001FFF. */
	set_bit(MSRS + 1024, MSR_IA32_EFER - 0xc0000000u);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_EFER), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_EFER), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(0, 0x80), HANDLE_IN_L0); /* same bit in the low quarter: clear */
	/* Write-high quarter: bytes 3072-4095. */
	set_bit(MSRS + 3072, MSR_IA32_GS_BASE - 0xc0000000u);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_GS_BASE), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_FS_BASE), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_GS_BASE), HANDLE_IN_L0);
	/* The ends of both ranges, and MSRs outside them: always. */
	CU_ASSERT_EQUAL(ask_msr(0, 0x1fff), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(1, 0xc0001fffu), HANDLE_IN_L0);
	set_bit(MSRS + 3072, 0x1fff);
	CU_ASSERT_EQUAL(ask_msr(1, 0xc0001fffu), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(0, 0x2000), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, 0x40000000u), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(0, 0xbfffffffu), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(0, 0xc0002000u), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, 0xffffffffu), REFLECT_TO_L1);
	/* Without "use MSR bitmaps", every access. */
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = 0;
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_SYSENTER_ESP), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_FS_BASE), REFLECT_TO_L1);
}

static void test_msr_bitmap_outside_l1(void)
{
	reset();
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = CPU_USE_MSR_BITMAPS;
	V12(&v, MSR_BITMAP) = L1_SIZE - 2048; /* the write quarters lie past L1's memory */
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_SYSENTER_CS), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(0, MSR_IA32_EFER), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_SYSENTER_CS), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_msr(1, MSR_IA32_EFER), REFLECT_TO_L1);
}

static enum reflect_decision ask_vmcs_access(int write, uint64_t field)
{
	struct reflect_input in = {
		.reason = write ? EXIT_REASON_VMWRITE : EXIT_REASON_VMREAD, .vmcs_field = field, .l1mem = &l1,
	};
	return nested_reflect(&v, &in);
}

/* With VMCS shadowing (SDM 26.1.3), VMREAD/VMWRITE exit per field through L1's bitmaps. */
static void test_vmread_vmwrite_with_shadowing(void)
{
	reset();
	CU_ASSERT_EQUAL(ask_vmcs_access(0, VMCS_GUEST_RIP), REFLECT_TO_L1);
	set_controls(0, CPU_ACTIVATE_SECONDARY, SEC_VMCS_SHADOWING);
	CU_ASSERT_EQUAL(ask_vmcs_access(0, VMCS_GUEST_RIP), HANDLE_IN_L0);
	CU_ASSERT_EQUAL(ask_vmcs_access(1, VMCS_GUEST_RIP), HANDLE_IN_L0);
	set_bit(VMREADS, VMCS_GUEST_RIP);
	CU_ASSERT_EQUAL(ask_vmcs_access(0, VMCS_GUEST_RIP), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_vmcs_access(1, VMCS_GUEST_RIP), HANDLE_IN_L0);
	set_bit(VMWRITES, VMCS_EXIT_QUALIFICATION);
	CU_ASSERT_EQUAL(ask_vmcs_access(1, VMCS_EXIT_QUALIFICATION), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_vmcs_access(0, VMCS_EXIT_QUALIFICATION), HANDLE_IN_L0);
	/* Encodings with bits 63:15 set always exit. */
	CU_ASSERT_EQUAL(ask_vmcs_access(0, 0x8000), REFLECT_TO_L1);
	CU_ASSERT_EQUAL(ask_vmcs_access(1, 1ull << 40), REFLECT_TO_L1);
	/* Shadowing without activated secondary controls is no shadowing. */
	set_controls(0, 0, SEC_VMCS_SHADOWING);
	CU_ASSERT_EQUAL(ask_vmcs_access(1, VMCS_GUEST_RIP), REFLECT_TO_L1);
	/* A bitmap outside L1's memory. */
	set_controls(0, CPU_ACTIVATE_SECONDARY, SEC_VMCS_SHADOWING);
	V12(&v, VMREAD_BITMAP) = L1_SIZE;
	CU_ASSERT_EQUAL(ask_vmcs_access(0, VMCS_GUEST_CR0), REFLECT_TO_L1);
}

/* SDM Table 6-5: which exception during which delivery is a double or a triple fault. */
static void test_exception_during_delivery(void)
{
	const uint32_t hw = intr_info_event(INTR_TYPE_HW_EXCEPTION, 0), ext_int = intr_info_event(INTR_TYPE_EXT_INTR, 0),
		       nmi = intr_info_event(INTR_TYPE_NMI, VECTOR_NMI);
	CU_ASSERT_EQUAL(nested_combine_events(0, VECTOR_GP), DELIVER_SECOND);           /* nothing being delivered */
	CU_ASSERT_EQUAL(nested_combine_events(ext_int | 0x20, VECTOR_PF), DELIVER_SECOND); /* an interrupt is benign */
	CU_ASSERT_EQUAL(nested_combine_events(nmi, VECTOR_GP), DELIVER_SECOND);
	CU_ASSERT_EQUAL(nested_combine_events(intr_info_event(INTR_TYPE_SW_EXCEPTION, VECTOR_BP), VECTOR_GP),
			DELIVER_SECOND); /* INT3 */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_DB, VECTOR_GP), DELIVER_SECOND);      /* benign first */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_GP, VECTOR_NP), DELIVER_DOUBLE_FAULT); /* contributory twice */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_DE, VECTOR_GP), DELIVER_DOUBLE_FAULT);
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_GP, VECTOR_PF), DELIVER_SECOND);     /* contributory, then #PF */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_PF, VECTOR_PF), DELIVER_DOUBLE_FAULT); /* #PF, then #PF */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_PF, VECTOR_GP), DELIVER_DOUBLE_FAULT); /* #PF, then contributory */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_PF, VECTOR_UD), DELIVER_SECOND);      /* #PF, then benign */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_DF, VECTOR_GP), TRIPLE_FAULT);        /* during #DF */
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_DF, VECTOR_PF), TRIPLE_FAULT);
	CU_ASSERT_EQUAL(nested_combine_events(hw | VECTOR_DF, VECTOR_DB), DELIVER_SECOND);
}

void register_suite_nested_reflect(void)
{
	CU_pSuite s = CU_add_suite("nested_reflect", NULL, NULL);
	CU_add_test(s, "unconditional exits go to L1", test_unconditional_exits_go_to_l1);
	CU_add_test(s, "timer, SMIs, machine checks stay; EPT goes to shadow EPT", test_own_exits_stay_in_l0);
	CU_add_test(s, "exits governed by one control", test_exits_by_one_control);
	CU_add_test(s, "secondary controls need activation", test_secondary_needs_activation);
	CU_add_test(s, "INVPCID needs INVLPG exiting and enable INVPCID", test_invpcid_needs_both_controls);
	CU_add_test(s, "exception bitmap and NMI exiting", test_exceptions_and_nmi);
	CU_add_test(s, "#PF error-code mask and match", test_page_fault_mask_match);
	CU_add_test(s, "MOV to CR0/CR4: owned bits against the read shadow", test_cr0_cr4_writes);
	CU_add_test(s, "CLTS and LMSW", test_clts_and_lmsw);
	CU_add_test(s, "CR3 and CR8 loads and stores", test_cr3_cr8);
	CU_add_test(s, "I/O without bitmaps", test_io_without_bitmaps);
	CU_add_test(s, "I/O bitmaps A and B", test_io_bitmaps);
	CU_add_test(s, "I/O accesses straddling ports, bytes and bitmaps; wrap-around", test_io_straddling);
	CU_add_test(s, "I/O bitmap outside L1's memory exits", test_io_bitmap_outside_l1);
	CU_add_test(s, "MSR bitmap quarters and ranges", test_msr_bitmaps);
	CU_add_test(s, "MSR bitmap outside L1's memory exits", test_msr_bitmap_outside_l1);
	CU_add_test(s, "VMREAD/VMWRITE bitmaps under VMCS shadowing", test_vmread_vmwrite_with_shadowing);
	CU_add_test(s, "an exception during delivery: serial, double or triple fault", test_exception_during_delivery);
}
