/*
 * lib/jsonw.c: exact output for every member kind, escaping that a real
 * JSON parser (jansson) reads back to the original bytes, and overflow that
 * never yields a cut record.
 */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "jsonw.h"

static json_t *parse(const char *text, size_t flags)
{
	json_error_t err;
	json_t *j = json_loads(text, flags, &err);

	if (j == NULL)
		fprintf(stderr, "\n  jansson refused [%s]: %s at %d", text, err.text, err.position);
	return j;
}

static void test_empty_object(void)
{
	char buf[8];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	CU_ASSERT_STRING_EQUAL(jsonw_end(&w), "{}");
}

static void test_every_member_kind(void)
{
	char buf[512];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, "type", "phase");
	jsonw_u64(&w, "zero", 0);
	jsonw_u64(&w, "max", UINT64_MAX);
	jsonw_i64(&w, "neg", -42);
	jsonw_i64(&w, "min", INT64_MIN);
	jsonw_hex(&w, "hex", 0x1f);
	jsonw_hex(&w, "hex0", 0);
	jsonw_hex(&w, "hexmax", UINT64_MAX);
	jsonw_bool(&w, "yes", 1);
	jsonw_bool(&w, "no", 0);
	jsonw_strn(&w, "cut", "abcdef", 3);
	const char *out = jsonw_end(&w);
	CU_ASSERT_PTR_EQUAL(out, buf);
	CU_ASSERT_STRING_EQUAL(out, "{\"type\":\"phase\",\"zero\":0,\"max\":18446744073709551615,"
				    "\"neg\":-42,\"min\":-9223372036854775808,\"hex\":\"0x1f\","
				    "\"hex0\":\"0x0\",\"hexmax\":\"0xffffffffffffffff\","
				    "\"yes\":true,\"no\":false,\"cut\":\"abc\"}");
	CU_ASSERT_EQUAL(w.len, strlen(out));
}

/* jansson keeps integers as signed 64-bit: check the values it can hold. */
static void test_parses_back(void)
{
	char buf[512];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, "type", "report");
	jsonw_u64(&w, "ticks", 123456789012ull);
	jsonw_i64(&w, "min", INT64_MIN);
	jsonw_hex(&w, "sum", 0xdeadbeefcafeull);
	jsonw_bool(&w, "ok", 1);
	const char *out = jsonw_end(&w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);

	json_t *j = parse(out, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "type")), "report");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "ticks")), 123456789012ll);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "min")), INT64_MIN);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "sum")), "0xdeadbeefcafe");
	CU_ASSERT(json_is_true(json_object_get(j, "ok")));
	CU_ASSERT_EQUAL(json_object_size(j), 5);
	json_decref(j);
}

static void test_escaping(void)
{
	char buf[256];
	struct jsonw w;
	/* Quote, backslash, the named escapes, other controls, DEL, UTF-8 "é". */
	const char *nasty = "q\"b\\n\nr\rt\t\x01\x1f\x7f\xc3\xa9/";

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, nasty, nasty);
	const char *out = jsonw_end(&w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	const char *esc = "\"q\\\"b\\\\n\\nr\\rt\\t\\u0001\\u001f\x7f\xc3\xa9/\"";
	char want[256];
	snprintf(want, sizeof want, "{%s:%s}", esc, esc);
	CU_ASSERT_STRING_EQUAL(out, want);

	json_t *j = parse(out, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, nasty)), nasty);
	json_decref(j);
}

/* Every control character, each in its own string, round-trips. */
static void test_all_control_chars(void)
{
	for (int c = 1; c < 0x20; c++) {
		char val[4] = { 'a', (char)c, 'z', 0 };
		char buf[64];
		struct jsonw w;

		jsonw_begin(&w, buf, sizeof buf);
		jsonw_str(&w, "v", val);
		const char *out = jsonw_end(&w);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		for (const char *p = out; *p; p++)
			CU_ASSERT((unsigned char)*p >= 0x20);
		json_t *j = parse(out, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(j);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "v")), val);
		json_decref(j);
	}
}

/* A NUL inside a counted string becomes \u0000, not the end of the text. */
static void test_embedded_nul(void)
{
	char buf[64];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_strn(&w, "v", "a\0b", 3);
	const char *out = jsonw_end(&w);
	CU_ASSERT_STRING_EQUAL(out, "{\"v\":\"a\\u0000b\"}");
	json_t *j = parse(out, JSON_ALLOW_NUL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_t *v = json_object_get(j, "v");
	CU_ASSERT_EQUAL(json_string_length(v), 3);
	CU_ASSERT_EQUAL(memcmp(json_string_value(v), "a\0b", 3), 0);
	json_decref(j);
}

static void test_nesting(void)
{
	char buf[256];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, "type", "exits");
	jsonw_obj_begin(&w, "counts");
	jsonw_u64(&w, "VMCALL", 3);
	jsonw_obj_begin(&w, "inner");
	jsonw_obj_end(&w);
	jsonw_u64(&w, "HLT", 1);
	jsonw_obj_end(&w);
	jsonw_u64(&w, "total", 4);
	const char *out = jsonw_end(&w);
	CU_ASSERT_STRING_EQUAL(out, "{\"type\":\"exits\",\"counts\":{\"VMCALL\":3,\"inner\":{},\"HLT\":1},"
				    "\"total\":4}");
	json_t *j = parse(out, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	json_t *counts = json_object_get(j, "counts");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(counts, "HLT")), 1);
	CU_ASSERT(json_is_object(json_object_get(counts, "inner")));
	json_decref(j);
}

/* jsonw_end closes objects the caller left open: the output stays valid. */
static void test_end_closes_open_objects(void)
{
	char buf[64];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_obj_begin(&w, "a");
	jsonw_obj_begin(&w, "b");
	jsonw_u64(&w, "c", 1);
	CU_ASSERT_STRING_EQUAL(jsonw_end(&w), "{\"a\":{\"b\":{\"c\":1}}}");
}

/* Arrays: elements without keys, nested in objects and arrays, closed by end() with ']'. */
static void test_arrays(void)
{
	char buf[128];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_arr_begin(&w, "buckets");
	jsonw_arr_begin(&w, 0);
	jsonw_u64(&w, 0, 3);
	jsonw_u64(&w, 0, 17);
	jsonw_arr_end(&w);
	jsonw_arr_begin(&w, 0);
	jsonw_arr_end(&w);
	jsonw_obj_begin(&w, 0);
	jsonw_str(&w, "k", "v");
	jsonw_obj_end(&w);
	jsonw_arr_end(&w);
	jsonw_arr_begin(&w, "open");
	jsonw_bool(&w, 0, 1);
	const char *out = jsonw_end(&w);
	CU_ASSERT_STRING_EQUAL(out, "{\"buckets\":[[3,17],[],{\"k\":\"v\"}],\"open\":[true]}");
	json_t *j = parse(out, 0);
	CU_ASSERT_PTR_NOT_NULL(j);
	json_decref(j);
}

/* A key inside an array, none inside an object, or a close of the wrong kind: refused. */
static void test_array_misuse(void)
{
	char buf[128];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_arr_begin(&w, "a");
	jsonw_u64(&w, "key", 1);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
	jsonw_begin(&w, buf, sizeof buf);
	jsonw_u64(&w, 0, 1);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
	jsonw_begin(&w, buf, sizeof buf);
	jsonw_arr_begin(&w, "a");
	jsonw_obj_end(&w);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
	jsonw_begin(&w, buf, sizeof buf);
	jsonw_obj_begin(&w, "o");
	jsonw_arr_end(&w);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
	/* Deeper than JSONW_MAX_DEPTH: refused, not wrapped around. */
	char big[256];
	jsonw_begin(&w, big, sizeof big);
	for (int d = 0; d < JSONW_MAX_DEPTH + 2; d++)
		jsonw_arr_begin(&w, d ? 0 : "deep");
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
}

/* An obj_end with no nested object open is a bug: the record is refused. */
static void test_unbalanced_obj_end(void)
{
	char buf[64];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_u64(&w, "a", 1);
	jsonw_obj_end(&w);
	jsonw_u64(&w, "b", 2);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
}

static void test_raw_members(void)
{
	char buf[128];
	struct jsonw w;
	const char *raw = "\"x\":1,\"y\":[true,null]";

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_raw_members(&w, raw, strlen(raw));
	jsonw_raw_members(&w, "", 0);
	jsonw_str(&w, "z", "s");
	jsonw_raw_members(&w, "\"w\":{}", 6);
	const char *out = jsonw_end(&w);
	CU_ASSERT_STRING_EQUAL(out, "{\"x\":1,\"y\":[true,null],\"z\":\"s\",\"w\":{}}");
	json_t *j = parse(out, 0);
	CU_ASSERT_PTR_NOT_NULL(j);
	json_decref(j);

	/* Only the given length is copied, even when more text follows. */
	jsonw_begin(&w, buf, sizeof buf);
	jsonw_raw_members(&w, "\"a\":2,garbage", 5);
	CU_ASSERT_STRING_EQUAL(jsonw_end(&w), "{\"a\":2}");
}

/* The record every size of buffer must give: whole, or NULL — never cut. */
static void build_sample(struct jsonw *w, char *buf, size_t cap)
{
	jsonw_begin(w, buf, cap);
	jsonw_str(w, "type", "guest_start");
	jsonw_str(w, "name", "vm\"0\n");
	jsonw_obj_begin(w, "workload");
	jsonw_u64(w, "iterations", 1000000);
	jsonw_hex(w, "touch_addr", 0x40000000);
	jsonw_obj_end(w);
	jsonw_i64(w, "delta", -3);
	jsonw_bool(w, "ok", 1);
	jsonw_raw_members(w, "\"r\":1", 5);
}

static void test_overflow_every_size(void)
{
	char full[256];
	struct jsonw w;

	build_sample(&w, full, sizeof full);
	const char *whole = jsonw_end(&w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
	size_t len = strlen(whole);

	for (size_t cap = 0; cap <= len + 1; cap++) {
		char buf[256 + 1];
		memset(buf, '#', sizeof buf);
		build_sample(&w, buf, cap);
		const char *out = jsonw_end(&w);
		if (cap <= len) {
			CU_ASSERT_PTR_NULL(out);
			CU_ASSERT(w.overflow);
		} else {
			CU_ASSERT_PTR_NOT_NULL(out);
			if (out)
				CU_ASSERT_STRING_EQUAL(out, whole);
		}
		/* Nothing is written at or past cap. */
		CU_ASSERT_EQUAL(buf[cap], '#');
	}
}

/* Once overflowed, a short member that would fit does not revive it. */
static void test_overflow_is_sticky(void)
{
	char buf[16];
	struct jsonw w;

	jsonw_begin(&w, buf, sizeof buf);
	jsonw_str(&w, "long", "this does not fit in sixteen bytes");
	CU_ASSERT(w.overflow);
	jsonw_u64(&w, "a", 1);
	CU_ASSERT_PTR_NULL(jsonw_end(&w));
}

void register_suite_jsonw(void)
{
	CU_pSuite s = CU_add_suite("jsonw", NULL, NULL);

	CU_add_test(s, "empty object", test_empty_object);
	CU_add_test(s, "every member kind", test_every_member_kind);
	CU_add_test(s, "parses back with jansson", test_parses_back);
	CU_add_test(s, "string escaping", test_escaping);
	CU_add_test(s, "all control characters", test_all_control_chars);
	CU_add_test(s, "embedded NUL", test_embedded_nul);
	CU_add_test(s, "nested objects", test_nesting);
	CU_add_test(s, "end closes open objects", test_end_closes_open_objects);
	CU_add_test(s, "unbalanced obj_end refused", test_unbalanced_obj_end);
	CU_add_test(s, "raw members", test_raw_members);
	CU_add_test(s, "arrays", test_arrays);
	CU_add_test(s, "arrays misused", test_array_misuse);
	CU_add_test(s, "overflow at every buffer size", test_overflow_every_size);
	CU_add_test(s, "overflow is sticky", test_overflow_is_sticky);
}
