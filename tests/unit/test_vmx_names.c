/* Names generated from the .def lists: the keys of exit counts in records. */
#include <CUnit/CUnit.h>
#include <string.h>
#include "nestlab/vmx.h"

static void test_exit_reason_names(void)
{
	CU_ASSERT_STRING_EQUAL(vmx_exit_reason_name(EXIT_REASON_VMCALL), "VMCALL");
	CU_ASSERT_STRING_EQUAL(vmx_exit_reason_name(48), "EPT_VIOLATION");
	CU_ASSERT_STRING_EQUAL(vmx_exit_reason_name(52), "PREEMPTION_TIMER");
	CU_ASSERT_PTR_NULL(vmx_exit_reason_name(35)); /* reserved by the SDM */
	CU_ASSERT_PTR_NULL(vmx_exit_reason_name(EXIT_REASON_MAX));
}

static void test_field_names_and_widths(void)
{
	CU_ASSERT_STRING_EQUAL(vmcs_field_name(VMCS_GUEST_RIP), "GUEST_RIP");
	CU_ASSERT_EQUAL(vmcs_field_width(VMCS_GUEST_RIP), VMCS_WNAT);
	CU_ASSERT_EQUAL(vmcs_field_width(VMCS_EPT_POINTER), VMCS_W64);
	CU_ASSERT_EQUAL(vmcs_field_width(VMCS_VM_EXIT_REASON), VMCS_W32);
	CU_ASSERT_EQUAL(vmcs_field_width(VMCS_VIRTUAL_PROCESSOR_ID), VMCS_W16);
	CU_ASSERT(vmcs_field_is_readonly(VMCS_VM_EXIT_REASON));
	CU_ASSERT(!vmcs_field_is_readonly(VMCS_GUEST_RIP));
	CU_ASSERT_PTR_NULL(vmcs_field_name(0x7fff));
}

static void test_adjust_controls(void)
{
	uint32_t missing;
	/* must-be-1 = 0x16, may-be-1 = 0x7f */
	CU_ASSERT_EQUAL(vmx_adjust_controls(0x40, 0x0000007f00000016ull, &missing), 0x56);
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT_EQUAL(vmx_adjust_controls(0x180, 0x0000007f00000016ull, &missing), 0x16);
	CU_ASSERT_EQUAL(missing, 0x180);
}

void register_suite_vmx_names(void)
{
	CU_pSuite s = CU_add_suite("vmx_names", NULL, NULL);
	CU_add_test(s, "exit reason names", test_exit_reason_names);
	CU_add_test(s, "VMCS field names and widths", test_field_names_and_widths);
	CU_add_test(s, "controls adjusted against capability MSRs", test_adjust_controls);
}
