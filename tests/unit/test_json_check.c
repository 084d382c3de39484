/* The guard on guest-supplied records. */
#include <CUnit/CUnit.h>
#include <string.h>
#include "json_check.h"

static const char *const reserved[] = { "path", "tsc", NULL };

static int check(const char *s)
{
	return json_check_object(s, strlen(s), reserved);
}

static void test_accepts_objects(void)
{
	CU_ASSERT_EQUAL(check("{}"), 0);
	CU_ASSERT_EQUAL(check("{\"type\":\"report\",\"n\":-12.5e3,\"ok\":true,\"x\":null}"), 0);
	CU_ASSERT_EQUAL(check("{\"a\":[1,2,{\"b\":\"c\\\"d\\u00e9\"}],\"e\":{}}"), 0);
	CU_ASSERT_EQUAL(check("{ \"a\" : 0 , \"b\" : false }"), 0);
	/* "path" below the top level is the guest's own business. */
	CU_ASSERT_EQUAL(check("{\"inner\":{\"path\":1}}"), 0);
}

static void test_refuses_malformed(void)
{
	CU_ASSERT_NOT_EQUAL(check(""), 0);
	CU_ASSERT_NOT_EQUAL(check("[]"), 0);
	CU_ASSERT_NOT_EQUAL(check("{"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":1,}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":01}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":tru}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\\x\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{}{}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":1} "), 0);
}

static void test_refuses_line_injection_and_forgery(void)
{
	/* A raw newline would let a guest start a record line of its own. */
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"x\ny\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":1,\n\"b\":2}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"path\":\"L0\",\"type\":\"end\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"type\":\"x\",\"tsc\":1}"), 0);
	/* What the host's parser would refuse is refused here, where the guest hears of it. */
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\\u0000\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\\ud800\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\\udc00\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\\ud800\\u0041\"}"), 0);
	CU_ASSERT_EQUAL(check("{\"a\":\"\\ud83d\\ude00\"}"), 0);
	CU_ASSERT_EQUAL(check("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\xc3\"}"), 0);        /* cut sequence */
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\xc0\xaf\"}"), 0);    /* overlong */
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\xed\xa0\x80\"}"), 0); /* a surrogate in UTF-8 */
	CU_ASSERT_NOT_EQUAL(check("{\"a\":\"\xff\"}"), 0);
	/* An escaped spelling of a reserved key is refused too. */
	CU_ASSERT_NOT_EQUAL(check("{\"pat\\u0068\":\"L0\"}"), 0);
	CU_ASSERT_NOT_EQUAL(check("{\"a\\\"b\":1}"), 0);
	/* Escaped, the same text is harmless. */
	CU_ASSERT_EQUAL(check("{\"a\":\"x\\ny\"}"), 0);
}

static void test_depth_limit(void)
{
	char deep[64] = "", tail[64] = "";
	for (int i = 0; i < JSON_CHECK_MAX_DEPTH + 1; i++) {
		strcat(deep, "{\"a\":");
		strcat(tail, "}");
	}
	char s[160];
	strcpy(s, deep);
	strcat(s, "1");
	strcat(s, tail);
	CU_ASSERT_NOT_EQUAL(check(s), 0);
}

void register_suite_json_check(void)
{
	CU_pSuite s = CU_add_suite("json_check", NULL, NULL);
	CU_add_test(s, "accepts well-formed objects", test_accepts_objects);
	CU_add_test(s, "refuses malformed text", test_refuses_malformed);
	CU_add_test(s, "refuses line injection and reserved keys", test_refuses_line_injection_and_forgery);
	CU_add_test(s, "nesting depth bounded", test_depth_limit);
}
