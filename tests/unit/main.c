/* The unit-test runner: every suite in suites.def, CUnit's basic interface. */
#include <CUnit/Basic.h>
#include <stdio.h>

#define X(name) void register_suite_##name(void);
#include "suites.def"
#undef X

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "unit-tests: cannot initialise CUnit\n");
		return 2;
	}
#define X(name) register_suite_##name();
#include "suites.def"
#undef X
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (run == 0) {
		fprintf(stderr, "unit-tests: no test ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
