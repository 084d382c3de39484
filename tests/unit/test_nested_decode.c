/* Decoding a VMX instruction's operand from the VM-exit instruction information (SDM 28.2.5). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nested.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
enum { ES, CS, SS, DS, FS, GS };
enum { ASZ16, ASZ32, ASZ64 };
#define NONE (-1)

/* Instruction information with the memory-operand bits laid out as the SDM's tables say. */
static uint32_t mem_info(unsigned scale_log2, unsigned asz, unsigned seg, int index, int base)
{
	uint32_t v = scale_log2 | (asz << 7) | (seg << 15);
	v |= index == NONE ? 1u << 22 : (uint32_t)index << 18;
	v |= base == NONE ? 1u << 27 : (uint32_t)base << 23;
	return v;
}

static uint64_t gprs[16];
static uint64_t bases[6];

static void setup(void)
{
	for (unsigned i = 0; i < 16; i++)
		gprs[i] = 0x1000ull * (i + 1);
	gprs[RBX] = 0x0000700000001000ull;
	gprs[RCX] = 3;
	gprs[RSI] = 0xfffffff0ull;
	for (unsigned i = 0; i < 6; i++)
		bases[i] = 0x100000ull * (i + 1);
}

static void test_base_only_64bit(void)
{
	struct vmx_operand op;
	CU_ASSERT_EQUAL(vmx_decode_mem_operand(mem_info(0, ASZ64, DS, NONE, RAX), 0, gprs, bases, 1, &op), 0);
	CU_ASSERT_EQUAL(op.linear, gprs[RAX]); /* DS base ignored in 64-bit mode */
	CU_ASSERT_EQUAL(op.addr_size, 8);
	CU_ASSERT_EQUAL(op.seg, DS);
	CU_ASSERT_FALSE(op.is_reg);
}

/* The inputs an address uses: a caller fetches only those registers. */
static void test_operand_inputs(void)
{
	CU_ASSERT_EQUAL(vmx_mem_operand_gprs(mem_info(3, ASZ64, DS, RCX, RBX)), (1u << RCX) | (1u << RBX));
	CU_ASSERT_EQUAL(vmx_mem_operand_gprs(mem_info(0, ASZ64, FS, NONE, R15)), 1u << R15);
	CU_ASSERT_EQUAL(vmx_mem_operand_gprs(mem_info(0, ASZ64, DS, NONE, NONE)), 0);
	CU_ASSERT_EQUAL(vmx_mem_operand_seg(mem_info(0, ASZ64, GS, NONE, RAX)), GS);
	/* Zeroed registers it does not name change nothing. */
	uint64_t only[16] = { 0 };
	struct vmx_operand a, b;
	only[RBX] = gprs[RBX];
	only[RCX] = gprs[RCX];
	vmx_decode_mem_operand(mem_info(3, ASZ64, DS, RCX, RBX), 0x40, gprs, bases, 1, &a);
	vmx_decode_mem_operand(mem_info(3, ASZ64, DS, RCX, RBX), 0x40, only, bases, 1, &b);
	CU_ASSERT_EQUAL(a.linear, b.linear);
}

static void test_base_index_scale_displacement(void)
{
	struct vmx_operand op;
	/* [rbx + rcx*8 + 0x40] */
	vmx_decode_mem_operand(mem_info(3, ASZ64, DS, RCX, RBX), 0x40, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[RBX] + 3 * 8 + 0x40);
	/* [rbx + rcx*2 - 8]: the qualification holds the displacement sign-extended */
	vmx_decode_mem_operand(mem_info(1, ASZ64, DS, RCX, RBX), (uint64_t)-8, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[RBX] + 6 - 8);
	/* index only: [r12*4 + 0x10] */
	vmx_decode_mem_operand(mem_info(2, ASZ64, DS, R12, NONE), 0x10, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[R12] * 4 + 0x10);
	/* displacement only (absolute disp32) */
	vmx_decode_mem_operand(mem_info(0, ASZ64, DS, NONE, NONE), 0x123000, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, 0x123000);
	/* r15 as base: register numbers above 7 */
	vmx_decode_mem_operand(mem_info(0, ASZ64, DS, NONE, R15), 0, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[R15]);
}

static void test_fs_gs_base_in_64bit_mode(void)
{
	struct vmx_operand op;
	vmx_decode_mem_operand(mem_info(0, ASZ64, FS, NONE, RAX), 8, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, bases[FS] + gprs[RAX] + 8);
	vmx_decode_mem_operand(mem_info(0, ASZ64, GS, NONE, RAX), 0, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, bases[GS] + gprs[RAX]);
	vmx_decode_mem_operand(mem_info(0, ASZ64, SS, NONE, RAX), 0, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[RAX]);
	vmx_decode_mem_operand(mem_info(0, ASZ64, ES, NONE, RAX), 0, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[RAX]);
}

static void test_address_size_truncates(void)
{
	struct vmx_operand op;
	/* 32-bit address size in 64-bit mode (0x67 prefix): the effective address wraps at 4 GiB. */
	vmx_decode_mem_operand(mem_info(0, ASZ32, DS, NONE, RSI), 0x20, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.addr_size, 4);
	CU_ASSERT_EQUAL(op.linear, 0x10);
	/* ... and FS's base is added after the wrap, to 64 bits */
	bases[FS] = 0x0000123400000000ull;
	vmx_decode_mem_operand(mem_info(0, ASZ32, FS, NONE, RSI), 0x20, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, 0x0000123400000010ull);
	bases[FS] = 0x500000;
	/* 16-bit address size: [bx + disp16] wraps at 64 KiB */
	gprs[RBX] = 0xfff0;
	vmx_decode_mem_operand(mem_info(0, ASZ16, DS, NONE, RBX), 0x20, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.addr_size, 2);
	CU_ASSERT_EQUAL(op.linear, bases[DS] + 0x10);
	/* a negative disp16, sign-extended in the qualification */
	vmx_decode_mem_operand(mem_info(0, ASZ16, DS, NONE, RBX), (uint64_t)(int64_t)-0x10, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.linear, bases[DS] + 0xffe0);
}

static void test_outside_64bit_mode_every_base_counts(void)
{
	struct vmx_operand op;
	gprs[RAX] = 0x2000;
	vmx_decode_mem_operand(mem_info(0, ASZ32, DS, NONE, RAX), 4, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.linear, bases[DS] + 0x2004);
	vmx_decode_mem_operand(mem_info(0, ASZ32, SS, NONE, RAX), 0, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.linear, bases[SS] + 0x2000);
	/* linear addresses are 32 bits there: base + offset wraps */
	bases[ES] = 0xfffff000ull;
	vmx_decode_mem_operand(mem_info(0, ASZ32, ES, NONE, RAX), 0, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.linear, 0x1000);
	/* bits 63:32 of a register do not take part in a 32-bit address */
	gprs[RDX] = 0xffffffff00003000ull;
	bases[DS] = 0;
	vmx_decode_mem_operand(mem_info(0, ASZ32, DS, NONE, RDX), 0, gprs, bases, 0, &op);
	CU_ASSERT_EQUAL(op.linear, 0x3000);
}

static void test_reserved_encodings_rejected(void)
{
	struct vmx_operand op;
	CU_ASSERT_EQUAL(vmx_decode_mem_operand(mem_info(0, 3, DS, NONE, RAX), 0, gprs, bases, 1, &op), -1);
	CU_ASSERT_EQUAL(vmx_decode_mem_operand(mem_info(0, ASZ64, 6, NONE, RAX), 0, gprs, bases, 1, &op), -1);
	CU_ASSERT_EQUAL(vmx_decode_mem_operand(mem_info(0, ASZ64, 7, NONE, RAX), 0, gprs, bases, 1, &op), -1);
}

static void test_vmread_vmwrite_registers(void)
{
	/* VMREAD rbx, r9 (register form): reg1 = rbx (bits 6:3), bit 10 set, reg2 = r9 (bits 31:28). */
	uint32_t info = (RBX << 3) | (1u << 10) | ((uint32_t)R9 << 28) | (ASZ64 << 7);
	CU_ASSERT_EQUAL(vmx_insn_reg1(info), RBX);
	CU_ASSERT_EQUAL(vmx_insn_reg2(info), R9);
	CU_ASSERT_TRUE(vmx_insn_reg1_is_reg(info));
	struct vmx_operand op;
	CU_ASSERT_EQUAL(vmx_decode_mem_operand(info | (1u << 22) | (1u << 27), 0, gprs, bases, 1, &op), 0);
	CU_ASSERT_TRUE(op.is_reg);
	CU_ASSERT_EQUAL(op.reg, RBX);

	/* VMWRITE [rax+8], r15: memory form, reg2 = r15, bit 10 clear. */
	info = mem_info(0, ASZ64, DS, NONE, RAX) | ((uint32_t)R15 << 28);
	CU_ASSERT_EQUAL(vmx_insn_reg2(info), R15);
	CU_ASSERT_FALSE(vmx_insn_reg1_is_reg(info));
	vmx_decode_mem_operand(info, 8, gprs, bases, 1, &op);
	CU_ASSERT_FALSE(op.is_reg);
	CU_ASSERT_EQUAL(op.linear, gprs[RAX] + 8);

	/* INVEPT rdx, [rcx]: the type register is reg2 too. */
	info = mem_info(0, ASZ64, DS, NONE, RCX) | ((uint32_t)RDX << 28);
	CU_ASSERT_EQUAL(vmx_insn_reg2(info), RDX);
	vmx_decode_mem_operand(info, 0, gprs, bases, 1, &op);
	CU_ASSERT_EQUAL(op.linear, gprs[RCX]);
}

void register_suite_nested_decode(void)
{
	/* setup runs before each test: tests change registers and bases freely. */
	CU_pSuite s = CU_add_suite_with_setup_and_teardown("nested_decode", NULL, NULL, setup, NULL);
	CU_add_test(s, "base only, 64-bit", test_base_only_64bit);
	CU_add_test(s, "only the registers an address uses", test_operand_inputs);
	CU_add_test(s, "base + index*scale + displacement", test_base_index_scale_displacement);
	CU_add_test(s, "FS/GS base in 64-bit mode", test_fs_gs_base_in_64bit_mode);
	CU_add_test(s, "address size truncates", test_address_size_truncates);
	CU_add_test(s, "outside 64-bit mode every base counts", test_outside_64bit_mode_every_base_counts);
	CU_add_test(s, "reserved encodings rejected", test_reserved_encodings_rejected);
	CU_add_test(s, "VMREAD/VMWRITE registers", test_vmread_vmwrite_registers);
}
