/*
 * The host side of the record stream (include/nestlab/records.h): COM1's
 * text split into records and console text.  Pure functions over memory, so
 * the unit tests feed them synthetic COM1 output.
 *
 * A line that starts with '{' must be a record: a JSON object with string
 * members "path" and "type".  One that is not is kept in the stream, at its
 * place, as a record {"path":"host","type":"bad_line","line":N,"error":...,
 * "text":...} and counted, so a broken producer is never silently ignored.
 */
#ifndef NESTLAB_HOST_RECORDS_H
#define NESTLAB_HOST_RECORDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define NL_REC_HOST_PATH "host"     /* "path" of records the host tool makes */
#define NL_REC_BAD_LINE  "bad_line" /* a '{' line that is not a valid record */

enum nl_line_kind {
	NL_LINE_BLANK,   /* empty or only whitespace */
	NL_LINE_RECORD,  /* starts with '{' */
	NL_LINE_CONSOLE, /* anything else: free console text */
};

/* What kind of line line[0..len) is (no newline in it). */
enum nl_line_kind nl_line_classify(const char *line, size_t len);

/*
 * Parse one record line.  Returns a new object, or NULL with the reason in
 * err[cap] (JSON syntax with its column, not an object, no "path"/"type").
 */
json_t *nl_record_parse_line(const char *line, size_t len, char *err, size_t cap);

/* The stream, in the order COM1 delivered it. */
struct nl_records {
	json_t **items;    /* records and bad_line entries, owned */
	size_t count;      /* items */
	size_t cap;
	size_t records;    /* items that are real records */
	size_t bad_lines;  /* items that are bad_line entries */
	size_t lines;      /* lines seen, for numbering */
	char *console;     /* human console: plain lines and "[path] text" of console records */
	size_t console_len;
	size_t console_cap;
	int oom;           /* sticky: memory ran out, the stream is incomplete */
};

void nl_records_init(struct nl_records *rs);
void nl_records_free(struct nl_records *rs);

/*
 * Parse the whole COM1 output.  It may end in the middle of a line (a
 * crashed backend): that piece counts as a last line of its own.
 * Returns 0, -1 if memory ran out (what was parsed so far stays).
 */
int nl_records_parse(struct nl_records *rs, const char *text, size_t len);

/* Is item a bad_line entry (as opposed to a record from the stack)? */
int nl_record_is_bad_line(const json_t *item);

/* Member lookups that tolerate anything: NULL / fallback when absent or of another type. */
const char *nl_record_str(const json_t *rec, const char *key);
int nl_record_is(const json_t *rec, const char *path, const char *type); /* path NULL: any */

/* A copy of rec without the stream's own "path", "type" and "tsc"; NULL rec gives JSON null. */
json_t *nl_record_body(const json_t *rec);

/* The last record of that type (and path, unless NULL), or NULL. */
const json_t *nl_records_last(const struct nl_records *rs, const char *path, const char *type);
/* The first record of that type (any path), or NULL. */
const json_t *nl_records_first(const struct nl_records *rs, const char *type);

/*
 * records.jsonl: every item, one compact JSON object a line, members in the
 * order received — byte for byte the same for the same stream.
 */
int nl_records_write_jsonl(const struct nl_records *rs, FILE *out);

#endif
