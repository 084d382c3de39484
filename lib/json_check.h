/*
 * Checking that guest-supplied text is exactly one JSON object (RFC 8259
 * grammar, nesting at most JSON_CHECK_MAX_DEPTH, no raw control characters,
 * hence no line breaks) and that none of its top-level keys is reserved.
 * A VMM forwards such text as a record line; this check is what keeps a
 * guest from forging lines or the "path" of another level.
 */
#ifndef NESTLAB_LIB_JSON_CHECK_H
#define NESTLAB_LIB_JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_MAX_DEPTH 8

/* 0 if text[0..len) is one valid object with no reserved top-level key; -1 otherwise. */
int json_check_object(const char *text, size_t len, const char *const *reserved_keys);

#endif
