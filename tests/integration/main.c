/*
 * Integration scenarios: each boots a real stack under Bochs through the
 * `nestlab` tool and asserts on what the stack reported (summary.json and
 * records.jsonl).  Run as: integration-tests --nestlab PATH --work DIR.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--nestlab"))
			nestlab = argv[i + 1];
		else if (!strcmp(argv[i], "--work"))
			work = argv[i + 1];
	}
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", work, work);
	if (system(cmd) != 0) {
		fprintf(stderr, "integration-tests: cannot prepare %s\n", work);
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("bochs_scenarios", NULL, NULL);
	register_l0_scenarios(s);
	register_nested_scenarios(s);
	register_time_scenarios(s);
	register_lines_scenarios(s);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return (failed || run == 0) ? 1 : 0;
}
