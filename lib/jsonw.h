/*
 * A JSON object writer into a fixed buffer, for records.  Objects and arrays
 * nest up to JSONW_MAX_DEPTH; a member with a key inside an array, one
 * without inside an object, or a close of the wrong kind is a bug that
 * refuses the record, as an overflow does.  No allocation; an
 * overflow is sticky and jsonw_end() then returns NULL, so a truncated
 * record is never emitted as if it were whole.
 */
#ifndef NESTLAB_LIB_JSONW_H
#define NESTLAB_LIB_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 31

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;
	int need_comma;
	int depth;
	uint32_t arrays; /* bit d: nesting level d is an array, not an object */
	int overflow;
};

void jsonw_begin(struct jsonw *w, char *buf, size_t cap);     /* writes "{" */
void jsonw_str(struct jsonw *w, const char *key, const char *val); /* escaped */
void jsonw_strn(struct jsonw *w, const char *key, const char *val, size_t len);
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_i64(struct jsonw *w, const char *key, int64_t v);
void jsonw_hex(struct jsonw *w, const char *key, uint64_t v);  /* "0x1f" as a string */
void jsonw_bool(struct jsonw *w, const char *key, int v);
void jsonw_obj_begin(struct jsonw *w, const char *key);        /* "key":{ */
void jsonw_obj_end(struct jsonw *w);
/* "key":[ ... ]; inside an array every writer above takes key NULL for an element. */
void jsonw_arr_begin(struct jsonw *w, const char *key);
void jsonw_arr_end(struct jsonw *w);
/* Splice raw members (already valid JSON "k":v pairs, no braces). */
void jsonw_raw_members(struct jsonw *w, const char *members, size_t len);
/* Closes the object; returns buf (NUL-terminated) or NULL after an overflow. */
const char *jsonw_end(struct jsonw *w);

#endif
