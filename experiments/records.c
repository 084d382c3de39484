/* COM1 text → records and console text; see records.h. */
#include "records.h"
#include "nestlab/records.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A bad line longer than this is kept truncated: enough to see what went wrong. */
#define BAD_LINE_KEEP 4096

enum nl_line_kind nl_line_classify(const char *line, size_t len)
{
	if (len > 0 && line[0] == '{')
		return NL_LINE_RECORD;
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return NL_LINE_CONSOLE;
	return NL_LINE_BLANK;
}

json_t *nl_record_parse_line(const char *line, size_t len, char *err, size_t cap)
{
	json_error_t je;
	/* Duplicate keys would make "the order received" ambiguous: refuse them. */
	json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!obj) {
		snprintf(err, cap, "invalid JSON at column %d: %s", je.column, je.text);
		return NULL;
	}
	const char *why = NULL;
	if (!json_is_object(obj))
		why = "not a JSON object";
	else if (!json_is_string(json_object_get(obj, NL_KEY_PATH)))
		why = "no string member \"path\"";
	else if (!json_is_string(json_object_get(obj, NL_KEY_TYPE)))
		why = "no string member \"type\"";
	if (why) {
		snprintf(err, cap, "%s", why);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

void nl_records_init(struct nl_records *rs)
{
	memset(rs, 0, sizeof *rs);
}

void nl_records_free(struct nl_records *rs)
{
	for (size_t i = 0; i < rs->count; i++)
		json_decref(rs->items[i]);
	free(rs->items);
	free(rs->console);
	memset(rs, 0, sizeof *rs);
}

static int push_item(struct nl_records *rs, json_t *item)
{
	if (!item) {
		rs->oom = 1;
		return -1;
	}
	if (rs->count == rs->cap) {
		size_t ncap = rs->cap ? rs->cap * 2 : 256;
		json_t **n = realloc(rs->items, ncap * sizeof *n);
		if (!n) {
			json_decref(item);
			rs->oom = 1;
			return -1;
		}
		rs->items = n;
		rs->cap = ncap;
	}
	rs->items[rs->count++] = item;
	return 0;
}

static int console_append(struct nl_records *rs, const char *s, size_t len)
{
	if (rs->console_len + len + 1 > rs->console_cap) {
		size_t ncap = rs->console_cap ? rs->console_cap : 4096;
		while (ncap < rs->console_len + len + 1)
			ncap *= 2;
		char *n = realloc(rs->console, ncap);
		if (!n) {
			rs->oom = 1;
			return -1;
		}
		rs->console = n;
		rs->console_cap = ncap;
	}
	memcpy(rs->console + rs->console_len, s, len);
	rs->console_len += len;
	rs->console[rs->console_len] = '\0';
	return 0;
}

/* A JSON string of raw bytes that may not be UTF-8: such bytes become '?'. */
static json_t *lossy_string(const char *s, size_t len)
{
	json_t *str = json_stringn(s, len);
	if (str)
		return str;
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		copy[i] = (c == 0 || c >= 0x80) ? '?' : (char)c;
	}
	str = json_stringn(copy, len);
	free(copy);
	return str;
}

static int add_bad_line(struct nl_records *rs, const char *line, size_t len, const char *err)
{
	json_t *bad = json_object();
	if (!bad) {
		rs->oom = 1;
		return -1;
	}
	size_t keep = len > BAD_LINE_KEEP ? BAD_LINE_KEEP : len;
	int fail = json_object_set_new(bad, "path", json_string(NL_REC_HOST_PATH));
	fail |= json_object_set_new(bad, "type", json_string(NL_REC_BAD_LINE));
	fail |= json_object_set_new(bad, "line", json_integer((json_int_t)rs->lines));
	fail |= json_object_set_new(bad, "error", lossy_string(err, strlen(err)));
	fail |= json_object_set_new(bad, "text", lossy_string(line, keep));
	if (fail) {
		json_decref(bad);
		rs->oom = 1;
		return -1;
	}
	if (push_item(rs, bad))
		return -1;
	rs->bad_lines++;
	return 0;
}

/* A console record's text goes to the human console too, tagged with its path. */
static int console_from_record(struct nl_records *rs, const json_t *rec)
{
	const char *text = nl_record_str(rec, NL_KEY_TEXT);
	if (!text || !nl_record_is(rec, NULL, NL_REC_CONSOLE))
		return 0;
	const char *path = nl_record_str(rec, NL_KEY_PATH);
	size_t tlen = strlen(text);
	while (tlen && (text[tlen - 1] == '\n' || text[tlen - 1] == '\r'))
		tlen--;
	int fail = console_append(rs, "[", 1);
	fail |= console_append(rs, path, strlen(path));
	fail |= console_append(rs, "] ", 2);
	fail |= console_append(rs, text, tlen);
	fail |= console_append(rs, "\n", 1);
	return fail ? -1 : 0;
}

static int take_line(struct nl_records *rs, const char *line, size_t len)
{
	/* Terminal-minded writers (GRUB) end lines "\n\r": a CR at either end is no content. */
	while (len && line[len - 1] == '\r')
		len--;
	while (len && line[0] == '\r') {
		line++;
		len--;
	}
	rs->lines++;
	switch (nl_line_classify(line, len)) {
	case NL_LINE_BLANK:
		return 0;
	case NL_LINE_CONSOLE:
		if (console_append(rs, line, len) || console_append(rs, "\n", 1))
			return -1;
		return 0;
	case NL_LINE_RECORD:
		break;
	}
	char err[256];
	json_t *rec = nl_record_parse_line(line, len, err, sizeof err);
	if (!rec)
		return add_bad_line(rs, line, len, err);
	if (push_item(rs, rec))
		return -1;
	rs->records++;
	return console_from_record(rs, rec);
}

int nl_records_parse(struct nl_records *rs, const char *text, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		if (take_line(rs, text + start, i - start))
			return -1;
		start = i + 1;
	}
	if (start < len && take_line(rs, text + start, len - start))
		return -1;
	return rs->oom ? -1 : 0;
}

const char *nl_record_str(const json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

json_t *nl_record_body(const json_t *rec)
{
	if (!rec)
		return json_null();
	json_t *body = json_object();
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)rec, key, val) {
		if (strcmp(key, NL_KEY_PATH) && strcmp(key, NL_KEY_TYPE) && strcmp(key, NL_KEY_TSC))
			json_object_set_new(body, key, json_deep_copy(val));
	}
	return body;
}

int nl_record_is(const json_t *rec, const char *path, const char *type)
{
	const char *t = nl_record_str(rec, NL_KEY_TYPE);
	if (!t || strcmp(t, type))
		return 0;
	if (!path)
		return 1;
	const char *p = nl_record_str(rec, NL_KEY_PATH);
	return p && !strcmp(p, path);
}

int nl_record_is_bad_line(const json_t *item)
{
	return nl_record_is(item, NL_REC_HOST_PATH, NL_REC_BAD_LINE);
}

const json_t *nl_records_last(const struct nl_records *rs, const char *path, const char *type)
{
	for (size_t i = rs->count; i-- > 0;)
		if (!nl_record_is_bad_line(rs->items[i]) && nl_record_is(rs->items[i], path, type))
			return rs->items[i];
	return NULL;
}

const json_t *nl_records_first(const struct nl_records *rs, const char *type)
{
	for (size_t i = 0; i < rs->count; i++)
		if (!nl_record_is_bad_line(rs->items[i]) && nl_record_is(rs->items[i], NULL, type))
			return rs->items[i];
	return NULL;
}

int nl_records_write_jsonl(const struct nl_records *rs, FILE *out)
{
	for (size_t i = 0; i < rs->count; i++) {
		if (json_dumpf(rs->items[i], out, JSON_PRESERVE_ORDER | JSON_COMPACT) < 0)
			return -1;
		if (fputc('\n', out) == EOF)
			return -1;
	}
	return ferror(out) ? -1 : 0;
}
