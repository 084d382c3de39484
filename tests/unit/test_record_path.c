/*
 * The path check on record lines a child VMM forwards (lib/record_path.c):
 * a child may speak for itself and the VMs below it, never for its parent,
 * a sibling, or a VM whose name merely starts like its own.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "json_check.h"
#include "record_path.h"

static int allowed(const char *line, const char *own)
{
	return record_path_allowed(line, strlen(line), own);
}

/* What the forwarding hypercall does: the grammar check first, then the path check. */
static int forwardable(const char *line, const char *own)
{
	return json_check_object(line, strlen(line), NULL) == 0 && allowed(line, own);
}

static void test_own_and_below(void)
{
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1\",\"type\":\"boot\",\"level\":1}", "L0/hv1"));
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1/leaf\",\"type\":\"console\",\"text\":\"hi\"}", "L0/hv1"));
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1/hv2/rt\",\"type\":\"report\"}", "L0/hv1"));
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1\"}", "L0/hv1"));
	/* Whitespace that json_check accepts between tokens. */
	CU_ASSERT_TRUE(forwardable("{ \"path\" :\t\"L0/hv1/x-y_2\" , \"type\" : \"end\" }", "L0/hv1"));
	/* Nested values, arrays and strings holding quotes, braces and "path" are skipped whole. */
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1\",\"o\":{\"path\":\"L0\",\"a\":[1,{\"b\":\"}\\\"\"}]},"
				   "\"s\":\"\\\"path\\\":\\\"L0\\\"\",\"n\":-1.5e3,\"t\":true}",
				   "L0/hv1"));
}

static void test_other_levels_refused(void)
{
	/* The parent, a sibling, a sibling whose name extends ours, an empty path. */
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv2\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv10\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv10/leaf\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"\",\"type\":\"end\"}", "L0/hv1"));
	/* Path components that are not names: empty, dot-dot, trailing slash. */
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1/\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1//x\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1/../hv2\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1/a b\",\"type\":\"end\"}", "L0/hv1"));
}

static void test_path_not_first_or_not_a_string(void)
{
	CU_ASSERT_FALSE(forwardable("{\"type\":\"end\",\"path\":\"L0/hv1\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":7,\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":null}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":[\"L0/hv1\"]}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":{\"x\":\"L0/hv1\"}}", "L0/hv1"));
	/* Not an object at all, or not one line of JSON. */
	CU_ASSERT_FALSE(forwardable("[\"path\",\"L0/hv1\"]", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\"}\n{\"path\":\"L0\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("", "L0/hv1"));
}

static void test_escaped_tricks(void)
{
	/* An escaped slash, or any escape in the value: refused, even where it decodes to an allowed path. */
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0\\/hv1\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\\/x\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\\u002fx\",\"type\":\"end\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\\u0000\",\"type\":\"end\"}", "L0/hv1"));
	/* The first key spelt with an escape is not taken for "path". */
	CU_ASSERT_FALSE(forwardable("{\"pat\\u0068\":\"L0/hv1\",\"type\":\"end\"}", "L0/hv1"));
	/* A second top-level "path" (the host would take the last one), plain or escaped. */
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\",\"path\":\"L0\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\",\"type\":\"x\",\"pat\\u0068\":\"L0\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\",\"o\":{\"a\":1},\"\\u0070ath\":\"L0\"}", "L0/hv1"));
	CU_ASSERT_FALSE(forwardable("{\"path\":\"L0/hv1\",\"p\\u0061th\":\"L0\"}", "L0/hv1"));
	/* ...but a key that only starts or ends like "path" is just a key. */
	CU_ASSERT_TRUE(forwardable("{\"path\":\"L0/hv1\",\"paths\":\"L0\",\"xpath\":\"L0\"}", "L0/hv1"));
}

static void test_bounds(void)
{
	static const char line[] = "{\"path\":\"L0/hv1\",\"type\":\"end\"}";
	/* A length short of the whole line: never read past it, never accept a cut record. */
	for (size_t n = 0; n < sizeof line - 1; n++)
		CU_ASSERT_FALSE(record_path_allowed(line, n, "L0/hv1"));
	CU_ASSERT_TRUE(record_path_allowed(line, sizeof line - 1, "L0/hv1"));
	CU_ASSERT_FALSE(record_path_allowed(NULL, 0, "L0/hv1"));
	CU_ASSERT_FALSE(record_path_allowed(line, sizeof line - 1, NULL));
	/* An empty own path would allow everything below nothing: refused. */
	CU_ASSERT_FALSE(record_path_allowed(line, sizeof line - 1, ""));
}

void register_suite_record_path(void)
{
	CU_pSuite s = CU_add_suite("record_path", NULL, NULL);

	CU_add_test(s, "own path and paths below it", test_own_and_below);
	CU_add_test(s, "parent, sibling and look-alike paths refused", test_other_levels_refused);
	CU_add_test(s, "path not first, not a string", test_path_not_first_or_not_a_string);
	CU_add_test(s, "escapes and duplicate path keys", test_escaped_tricks);
	CU_add_test(s, "bounds", test_bounds);
}
