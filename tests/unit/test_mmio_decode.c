/*
 * vmm/mmio_decode.c against hand-assembled instructions (as GNU as encodes
 * them, checked with objdump), and every kind of refusal.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "mmio_decode.h"

struct good_case {
	const char *what;
	uint8_t code[MMIO_INSN_MAX];
	unsigned n;
	struct mmio_insn want;
};

static const struct good_case good[] = {
	{ "mov %eax,0xfee000b0 (SIB, no base, disp32)", { 0x89, 0x04, 0x25, 0xb0, 0x00, 0xe0, 0xfe }, 7,
	  { .len = 7, .size = 4, .store = 1, .reg = 0 } },
	{ "mov 0x20(%rbx),%ecx", { 0x8b, 0x4b, 0x20 }, 3, { .len = 3, .size = 4, .store = 0, .reg = 1 } },
	{ "mov %r9d,(%rax)", { 0x44, 0x89, 0x08 }, 3, { .len = 3, .size = 4, .store = 1, .reg = 9 } },
	{ "mov %rax,0x10(%rdx)", { 0x48, 0x89, 0x42, 0x10 }, 4, { .len = 4, .size = 8, .store = 1, .reg = 0 } },
	{ "mov %ax,(%rdi)", { 0x66, 0x89, 0x07 }, 3, { .len = 3, .size = 2, .store = 1, .reg = 0 } },
	{ "movl $0x1ff,0xf0(%rsi)", { 0xc7, 0x86, 0xf0, 0x00, 0x00, 0x00, 0xff, 0x01, 0x00, 0x00 }, 10,
	  { .len = 10, .size = 4, .store = 1, .has_imm = 1, .imm = 0x1ff } },
	{ "movq $-1,(%rax)", { 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff }, 7,
	  { .len = 7, .size = 8, .store = 1, .has_imm = 1, .imm = ~0ull } },
	{ "movb $0x5,(%rcx)", { 0xc6, 0x01, 0x05 }, 3, { .len = 3, .size = 1, .store = 1, .has_imm = 1, .imm = 5 } },
	{ "mov %ah,(%rax)", { 0x88, 0x20 }, 2, { .len = 2, .size = 1, .store = 1, .reg = 0, .high_byte = 1 } },
	{ "mov %spl,(%rax) (REX: SPL, not AH)", { 0x40, 0x88, 0x20 }, 3, { .len = 3, .size = 1, .store = 1, .reg = 4 } },
	{ "mov 0x0(%rip),%eax", { 0x8b, 0x05, 0x00, 0x00, 0x00, 0x00 }, 6, { .len = 6, .size = 4, .store = 0, .reg = 0 } },
	{ "mov %gs:0x10(%rax,%rbx,4),%r15", { 0x65, 0x4c, 0x8b, 0x7c, 0x98, 0x10 }, 6,
	  { .len = 6, .size = 8, .store = 0, .reg = 15 } },
	{ "addr32 mov (%eax),%edx", { 0x67, 0x8b, 0x10 }, 3, { .len = 3, .size = 4, .store = 0, .reg = 2 } },
	{ "mov (%rbp),%eax is disp8 0", { 0x8b, 0x45, 0x00 }, 3, { .len = 3, .size = 4, .store = 0, .reg = 0 } },
	{ "movabs %eax,0xfee000b0 (A3 moffs64)", { 0xa3, 0xb0, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 9,
	  { .len = 9, .size = 4, .store = 1, .reg = 0 } },
	{ "movabs 0xfee00030,%rax (REX.W A1)", { 0x48, 0xa1, 0x30, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00 }, 10,
	  { .len = 10, .size = 8, .store = 0, .reg = 0 } },
	{ "addr32 movabs 0xfee00020,%al (67 A0 moffs32)", { 0x67, 0xa0, 0x20, 0x00, 0xe0, 0xfe }, 6,
	  { .len = 6, .size = 1, .store = 0, .reg = 0 } },
	{ "movw $0x1234,(%rax) (66 C7: imm16)", { 0x66, 0xc7, 0x00, 0x34, 0x12 }, 5,
	  { .len = 5, .size = 2, .store = 1, .has_imm = 1, .imm = 0x1234 } },
	{ "movabs 0xfee00030,%ax (66 A1)", { 0x66, 0xa1, 0x30, 0x00, 0xe0, 0xfe, 0, 0, 0, 0 }, 10,
	  { .len = 10, .size = 2, .store = 0, .reg = 0 } },
	{ "movq $1,(%rax) (66 48 C7: REX.W wins)", { 0x66, 0x48, 0xc7, 0x00, 0x01, 0, 0, 0 }, 8,
	  { .len = 8, .size = 8, .store = 1, .has_imm = 1, .imm = 1 } },
	{ "mov (%rax),%ah", { 0x8a, 0x20 }, 2, { .len = 2, .size = 1, .store = 0, .reg = 0, .high_byte = 1 } },
	/* More bytes than the instruction: the length is its own. */
	{ "mov %eax,(%rcx) then other bytes", { 0x89, 0x01, 0x90, 0x90, 0xcc }, 5, { .len = 2, .size = 4, .store = 1 } },
};

static void test_good(void)
{
	for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct mmio_insn got;
		int rc = mmio_decode(good[i].code, good[i].n, &got);
		if (rc || memcmp(&got, &good[i].want, sizeof got))
			fprintf(stderr, "\n  %s: rc %d len %u size %u store %d imm %d reg %u high %d\n", good[i].what, rc,
				got.len, got.size, got.store, got.has_imm, got.reg, got.high_byte);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(got.len, good[i].want.len);
		CU_ASSERT_EQUAL(got.size, good[i].want.size);
		CU_ASSERT_EQUAL(got.store, good[i].want.store);
		CU_ASSERT_EQUAL(got.has_imm, good[i].want.has_imm);
		CU_ASSERT_EQUAL(got.imm, good[i].want.imm);
		CU_ASSERT_EQUAL(got.reg, good[i].want.reg);
		CU_ASSERT_EQUAL(got.high_byte, good[i].want.high_byte);
	}
}

static void test_refused(void)
{
	static const struct {
		const char *what;
		uint8_t code[MMIO_INSN_MAX];
		unsigned n;
	} bad[] = {
		{ "mov %eax,%ebx (register operand)", { 0x89, 0xc3 }, 2 },
		{ "add %eax,(%rcx) (not MOV)", { 0x01, 0x01 }, 2 },
		{ "C7 /1 (not MOV)", { 0xc7, 0x08, 0, 0, 0, 0 }, 6 },
		{ "truncated disp32", { 0x89, 0x04, 0x25, 0xb0, 0x00 }, 5 },
		{ "truncated immediate", { 0xc7, 0x00, 0xff, 0xff }, 4 },
		{ "truncated moffs64", { 0xa3, 0xb0, 0x00, 0xe0, 0xfe }, 5 },
		{ "opcode missing", { 0x66, 0x48 }, 2 },
		{ "nothing", { 0 }, 0 },
		{ "prefixes past 15 bytes", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
					      0x66, 0x66 }, 15 },
		{ "REX not right before the opcode", { 0x48, 0x66, 0x89, 0x00 }, 4 },
	};
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct mmio_insn got;
		int rc = mmio_decode(bad[i].code, bad[i].n, &got);
		if (rc != -1)
			fprintf(stderr, "\n  %s: accepted\n", bad[i].what);
		CU_ASSERT_EQUAL(rc, -1);
	}
}

void register_suite_mmio_decode(void)
{
	CU_pSuite s = CU_add_suite("mmio_decode", NULL, NULL);
	CU_add_test(s, "MOV to and from memory, every form", test_good);
	CU_add_test(s, "anything else refused", test_refused);
}
