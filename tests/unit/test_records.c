/*
 * experiments/records.c: COM1 text split into records, console text and
 * bad lines, and records.jsonl written byte for byte the same every time.
 */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

/* Parse text into a fresh stream. */
static void parse(struct nl_records *rs, const char *text)
{
	nl_records_init(rs);
	CU_ASSERT_EQUAL(nl_records_parse(rs, text, strlen(text)), 0);
}

/* records.jsonl of a stream, as a malloc'd string. */
static char *jsonl(const struct nl_records *rs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(nl_records_write_jsonl(rs, f), 0);
	fclose(f);
	return buf;
}

static void test_classify(void)
{
	CU_ASSERT_EQUAL(nl_line_classify("", 0), NL_LINE_BLANK);
	CU_ASSERT_EQUAL(nl_line_classify(" \t\r", 3), NL_LINE_BLANK);
	CU_ASSERT_EQUAL(nl_line_classify("{\"path\":\"L0\"}", 13), NL_LINE_RECORD);
	CU_ASSERT_EQUAL(nl_line_classify("{ broken", 8), NL_LINE_RECORD);
	/* Only a '{' in the first column makes a record: indented JSON is console text. */
	CU_ASSERT_EQUAL(nl_line_classify(" {\"path\":\"L0\"}", 14), NL_LINE_CONSOLE);
	CU_ASSERT_EQUAL(nl_line_classify("nestlab L0: long mode", 21), NL_LINE_CONSOLE);
	/* The length counts, not a NUL: "{" beyond len is not looked at. */
	CU_ASSERT_EQUAL(nl_line_classify("x{", 1), NL_LINE_CONSOLE);
}

static void test_parse_line(void)
{
	char err[256];
	const char *good = "{\"path\":\"L0\",\"type\":\"boot\",\"tsc\":12}";
	json_t *rec = nl_record_parse_line(good, strlen(good), err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_STRING_EQUAL(nl_record_str(rec, "path"), "L0");
	CU_ASSERT_TRUE(nl_record_is(rec, "L0", "boot"));
	CU_ASSERT_TRUE(nl_record_is(rec, NULL, "boot"));
	CU_ASSERT_FALSE(nl_record_is(rec, "L0/vm0", "boot"));
	CU_ASSERT_FALSE(nl_record_is(rec, "L0", "end"));
	json_decref(rec);

	static const struct {
		const char *line;
		const char *why; /* a piece of the expected reason */
	} bad[] = {
		{ "{\"path\":\"L0\",\"type\":\"bo", "invalid JSON" },
		{ "{\"path\":\"L0\"}", "\"type\"" },
		{ "{\"type\":\"boot\"}", "\"path\"" },
		{ "{\"path\":7,\"type\":\"boot\"}", "\"path\"" },
		{ "{\"path\":\"L0\",\"type\":\"boot\",\"type\":\"end\"}", "invalid JSON" },
		{ "{\"path\":\"L0\",\"type\":\"boot\"} trailing", "invalid JSON" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		rec = nl_record_parse_line(bad[i].line, strlen(bad[i].line), err, sizeof err);
		CU_ASSERT_PTR_NULL(rec);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].why));
		json_decref(rec);
	}
}

static const char good_stream[] =
	"nestlab L0: long mode, console up\n"
	"{\"path\":\"L0\",\"type\":\"boot\",\"tsc\":100,\"level\":0}\n"
	"\n"
	"{\"path\":\"L0/vm0\",\"type\":\"console\",\"tsc\":150,\"text\":\"leaf vm0: starting\"}\n"
	"{\"path\":\"L0/vm0\",\"type\":\"report\",\"status\":\"ok\",\"hypercalls\":100}\n"
	"{\"path\":\"L0\",\"type\":\"end\",\"tsc\":300,\"status\":\"ok\",\"reason\":\"all done\"}\n";

static void test_good_stream(void)
{
	struct nl_records rs;
	parse(&rs, good_stream);
	CU_ASSERT_EQUAL(rs.records, 4);
	CU_ASSERT_EQUAL(rs.bad_lines, 0);
	CU_ASSERT_EQUAL(rs.count, 4);
	CU_ASSERT_EQUAL(rs.lines, 6);
	CU_ASSERT_TRUE(nl_record_is(rs.items[0], "L0", "boot"));
	CU_ASSERT_TRUE(nl_record_is(rs.items[3], "L0", "end"));
	/* The human console: plain lines as they were, console records tagged with their path. */
	CU_ASSERT_STRING_EQUAL(rs.console, "nestlab L0: long mode, console up\n[L0/vm0] leaf vm0: starting\n");
	CU_ASSERT_EQUAL(rs.console_len, strlen(rs.console));
	CU_ASSERT_PTR_EQUAL(nl_records_last(&rs, "L0", "end"), rs.items[3]);
	CU_ASSERT_PTR_EQUAL(nl_records_last(&rs, NULL, "report"), rs.items[2]);
	CU_ASSERT_PTR_NULL(nl_records_last(&rs, "L0", "report"));
	CU_ASSERT_PTR_EQUAL(nl_records_first(&rs, "boot"), rs.items[0]);
	CU_ASSERT_PTR_NULL(nl_records_first(&rs, "vmx_unavailable"));
	nl_records_free(&rs);
}

static void test_bad_line_kept_in_place(void)
{
	struct nl_records rs;
	parse(&rs, "{\"path\":\"L0\",\"type\":\"boot\"}\n"
		   "{\"path\":\"L0\",\"type\":\"vm_st\n"
		   "{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\"}\n");
	CU_ASSERT_EQUAL(rs.records, 2);
	CU_ASSERT_EQUAL(rs.bad_lines, 1);
	CU_ASSERT_EQUAL_FATAL(rs.count, 3);
	const json_t *bad = rs.items[1];
	CU_ASSERT_TRUE(nl_record_is_bad_line(bad));
	CU_ASSERT_FALSE(nl_record_is_bad_line(rs.items[0]));
	CU_ASSERT_STRING_EQUAL(nl_record_str(bad, "path"), NL_REC_HOST_PATH);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(bad, "line")), 2);
	CU_ASSERT_STRING_EQUAL(nl_record_str(bad, "text"), "{\"path\":\"L0\",\"type\":\"vm_st");
	CU_ASSERT_PTR_NOT_NULL(strstr(nl_record_str(bad, "error"), "invalid JSON"));
	/* A bad line is never mistaken for a record of the type it claims. */
	CU_ASSERT_PTR_NULL(nl_records_first(&rs, NL_REC_BAD_LINE));
	nl_records_free(&rs);
}

/* A crashed backend cuts the last line short: it is still looked at, not lost. */
static void test_unterminated_last_line(void)
{
	struct nl_records rs;
	parse(&rs, "{\"path\":\"L0\",\"type\":\"boot\"}\n{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\"}");
	CU_ASSERT_EQUAL(rs.records, 2);
	CU_ASSERT_PTR_NOT_NULL(nl_records_last(&rs, "L0", "end"));
	nl_records_free(&rs);

	parse(&rs, "{\"path\":\"L0\",\"type\":\"boot\"}\n{\"path\":\"L0\",\"ty");
	CU_ASSERT_EQUAL(rs.records, 1);
	CU_ASSERT_EQUAL(rs.bad_lines, 1);
	nl_records_free(&rs);

	parse(&rs, "panic: something\nlast words");
	CU_ASSERT_EQUAL(rs.count, 0);
	CU_ASSERT_STRING_EQUAL(rs.console, "panic: something\nlast words\n");
	nl_records_free(&rs);
}

static void test_crlf(void)
{
	struct nl_records rs;
	parse(&rs, "hello\r\n{\"path\":\"L0\",\"type\":\"boot\"}\r\n");
	CU_ASSERT_EQUAL(rs.records, 1);
	CU_ASSERT_EQUAL(rs.bad_lines, 0);
	CU_ASSERT_STRING_EQUAL(rs.console, "hello\n");
	nl_records_free(&rs);
}

/* Garbage bytes on the wire must not make records.jsonl invalid JSON. */
static void test_bad_line_with_binary_bytes(void)
{
	struct nl_records rs;
	const char text[] = "{\"path\":\xff\xfe\x01\n";
	nl_records_init(&rs);
	CU_ASSERT_EQUAL(nl_records_parse(&rs, text, sizeof text - 1), 0);
	CU_ASSERT_EQUAL_FATAL(rs.bad_lines, 1);
	char *out = jsonl(&rs);
	json_error_t je;
	json_t *back = json_loads(out, 0, &je);
	CU_ASSERT_PTR_NOT_NULL(back);
	CU_ASSERT_STRING_EQUAL(nl_record_str(back, "text"), "{\"path\":??\x01");
	json_decref(back);
	free(out);
	nl_records_free(&rs);
}

/*
 * records.jsonl keeps each record's members in the order they came (not
 * sorted, not hashed), compact, one per line; the same stream always gives
 * the same bytes, and writing what was read back changes nothing.
 */
static void test_jsonl_deterministic(void)
{
	static const char stream[] =
		"console text\n"
		"{\"path\":\"L0\", \"type\":\"exits\",\"vm\":\"L0/vm0\",\"total\":3,"
		"\"by_reason\":{\"VMCALL\":2,\"CPUID\":1},\"zeta\":1,\"alpha\":[1,2]}\n"
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\",\"reason\":\"\\u00e9t\\u00e9\"}\n"
		"{bad\n";
	static const char expected[] =
		"{\"path\":\"L0\",\"type\":\"exits\",\"vm\":\"L0/vm0\",\"total\":3,"
		"\"by_reason\":{\"VMCALL\":2,\"CPUID\":1},\"zeta\":1,\"alpha\":[1,2]}\n"
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\",\"reason\":\"\xc3\xa9t\xc3\xa9\"}\n"
		"{\"path\":\"host\",\"type\":\"bad_line\",\"line\":4,\"error\":";
	struct nl_records a, b, c;
	parse(&a, stream);
	parse(&b, stream);
	char *ja = jsonl(&a), *jb = jsonl(&b);
	CU_ASSERT_STRING_EQUAL(ja, jb);
	CU_ASSERT_EQUAL(strncmp(ja, expected, strlen(expected)), 0);
	/* Three lines, each a newline-terminated object. */
	size_t lines = 0;
	for (const char *p = ja; *p; p++)
		lines += *p == '\n';
	CU_ASSERT_EQUAL(lines, 3);
	/* Read back: the two records come out identical (the bad line then stands as a record). */
	parse(&c, ja);
	CU_ASSERT_EQUAL(c.records, 3);
	CU_ASSERT_EQUAL(c.bad_lines, 0);
	char *jc = jsonl(&c);
	CU_ASSERT_STRING_EQUAL(jc, ja);
	free(ja);
	free(jb);
	free(jc);
	nl_records_free(&a);
	nl_records_free(&b);
	nl_records_free(&c);
}

void register_suite_records(void)
{
	CU_pSuite s = CU_add_suite("records", NULL, NULL);
	CU_add_test(s, "line classification", test_classify);
	CU_add_test(s, "one line: records and what is not one", test_parse_line);
	CU_add_test(s, "a good stream: records, console, lookups", test_good_stream);
	CU_add_test(s, "a bad line is kept in place and counted", test_bad_line_kept_in_place);
	CU_add_test(s, "an unterminated last line is still read", test_unterminated_last_line);
	CU_add_test(s, "CRLF line ends", test_crlf);
	CU_add_test(s, "binary garbage stays valid JSON", test_bad_line_with_binary_bytes);
	CU_add_test(s, "records.jsonl is deterministic and order-preserving", test_jsonl_deterministic);
}
