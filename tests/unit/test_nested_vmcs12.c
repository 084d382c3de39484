/* VMCS12: the documented layout, field lookup by encoding, access widths. */
#include <CUnit/CUnit.h>
#include <stddef.h>
#include <string.h>

#include "nested.h"

static const uint32_t all_encodings[] = {
#define X(name, enc, attrs) enc,
#include "nestlab/vmcs_fields.def"
#undef X
};
#define NENC (sizeof all_encodings / sizeof all_encodings[0])

static void test_layout_is_the_documented_one(void)
{
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, revision), 0);
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, abort), 4);
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, launch_state), 8);
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, layout), 12);
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, field), VMCS12_FIELDS_OFFSET);
	CU_ASSERT(sizeof(struct vmcs12) <= VMCS12_SIZE);
	CU_ASSERT_EQUAL(VMCS12_NFIELDS, NENC);
	/* Field i of the .def list sits at 64 + 8 i. */
	CU_ASSERT_EQUAL(offsetof(struct vmcs12, field[VMCS12_IDX_GUEST_RIP]), 64 + 8 * VMCS12_IDX_GUEST_RIP);
	/* The revision is no real processor's and is not a shadow-VMCS revision. */
	CU_ASSERT_EQUAL(VMCS12_REVISION & 0x80000000u, 0);
}

static void test_every_listed_encoding_has_its_index(void)
{
	for (size_t i = 0; i < NENC; i++)
		CU_ASSERT_EQUAL(vmcs12_index_of(all_encodings[i]), (int)i);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_GUEST_RIP), VMCS12_IDX_GUEST_RIP);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_VIRTUAL_PROCESSOR_ID), VMCS12_IDX_VIRTUAL_PROCESSOR_ID);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_HOST_RIP), VMCS12_IDX_HOST_RIP);
}

static void test_unknown_encodings(void)
{
	CU_ASSERT_EQUAL(vmcs12_index_of(0x0002), -1);     /* posted-interrupt vector: not kept */
	CU_ASSERT_EQUAL(vmcs12_index_of(0xffffffffu), -1);
	CU_ASSERT_EQUAL(vmcs12_index_of(0x00010000u | VMCS_GUEST_RIP), -1); /* reserved bits set */
	CU_ASSERT_EQUAL(vmcs12_index_of(0x1000u | VMCS_GUEST_RIP), -1);     /* bit 12 reserved */
	/* The high access type exists only for 64-bit fields. */
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_PIN_BASED_VM_EXEC_CONTROL | 1), -1);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_GUEST_RIP | 1), -1);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_GUEST_CS_SELECTOR | 1), -1);
}

static void test_high_access_names_the_same_64bit_field(void)
{
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_IO_BITMAP_A | 1), VMCS12_IDX_IO_BITMAP_A);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_EPT_POINTER | 1), VMCS12_IDX_EPT_POINTER);
	CU_ASSERT_EQUAL(vmcs12_index_of(VMCS_GUEST_PHYSICAL_ADDRESS | 1), VMCS12_IDX_GUEST_PHYSICAL_ADDRESS);

	struct vmcs12 v;
	memset(&v, 0, sizeof v);
	vmcs12_set(&v, VMCS_TSC_OFFSET, 0x1111222233334444ull);
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_TSC_OFFSET | 1), 0x11112222ull);
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_TSC_OFFSET), 0x1111222233334444ull);
	/* A high write replaces bits 63:32 only, with the low 32 bits of the value. */
	vmcs12_set(&v, VMCS_TSC_OFFSET | 1, 0xdeadbeefcafef00dull);
	CU_ASSERT_EQUAL(V12(&v, TSC_OFFSET), 0xcafef00d33334444ull);
}

static void test_widths_mask_values(void)
{
	struct vmcs12 v;
	memset(&v, 0xa5, sizeof v);
	vmcs12_set(&v, VMCS_GUEST_CS_SELECTOR, 0x123456789ull);
	CU_ASSERT_EQUAL(V12(&v, GUEST_CS_SELECTOR), 0x6789ull); /* stored zero-extended */
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_GUEST_CS_SELECTOR), 0x6789ull);

	vmcs12_set(&v, VMCS_PIN_BASED_VM_EXEC_CONTROL, 0xffffffff00000016ull);
	CU_ASSERT_EQUAL(V12(&v, PIN_BASED_VM_EXEC_CONTROL), 0x16ull);

	vmcs12_set(&v, VMCS_VMCS_LINK_POINTER, ~0ull);
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_VMCS_LINK_POINTER), ~0ull);

	vmcs12_set(&v, VMCS_GUEST_RIP, 0xffffffff80001000ull); /* natural width = 64 bits */
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_GUEST_RIP), 0xffffffff80001000ull);

	/* A narrow field whose stored word has stray high bits still reads at its width. */
	V12(&v, VIRTUAL_PROCESSOR_ID) = 0xffff0001ull;
	CU_ASSERT_EQUAL(vmcs12_get(&v, VMCS_VIRTUAL_PROCESSOR_ID), 1);
}

static void test_unknown_fields_are_inert(void)
{
	struct vmcs12 v, before;
	memset(&v, 0x5a, sizeof v);
	before = v;
	vmcs12_set(&v, 0x0002, 7);
	vmcs12_set(&v, VMCS_GUEST_RIP | 1, 7);
	CU_ASSERT_EQUAL(memcmp(&v, &before, sizeof v), 0);
	CU_ASSERT_EQUAL(vmcs12_get(&v, 0x0002), 0);
}

void register_suite_nested_vmcs12(void)
{
	CU_pSuite s = CU_add_suite("nested_vmcs12", NULL, NULL);
	CU_add_test(s, "layout is the documented one", test_layout_is_the_documented_one);
	CU_add_test(s, "every listed encoding has its index", test_every_listed_encoding_has_its_index);
	CU_add_test(s, "unknown encodings", test_unknown_encodings);
	CU_add_test(s, "high access names the 64-bit field", test_high_access_names_the_same_64bit_field);
	CU_add_test(s, "widths mask values", test_widths_mask_values);
	CU_add_test(s, "unknown fields are inert", test_unknown_fields_are_inert);
}
