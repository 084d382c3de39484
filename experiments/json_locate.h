/*
 * Line numbers for JSON values.  jansson keeps no positions, so after it has
 * accepted a file this walks the original text again with a minimal
 * tokenizer to find where a value sits.  Paths name object keys with dots
 * and array elements with [n]: "experiment.vms[1].workload.iterations".
 */
#ifndef NESTLAB_JSON_LOCATE_H
#define NESTLAB_JSON_LOCATE_H

#include <stddef.h>

/*
 * Line (from 1) of the value at path: for an object member the line of its
 * key, for an array element the line where it starts, for "" the root.
 * When part of the path does not exist, the line of the deepest part that
 * does (where a missing key belongs); 0 if the text is not JSON at all.
 */
int nl_json_locate(const char *text, size_t len, const char *path);

/* Like nl_json_locate for path + "." + key, but key may hold any character. */
int nl_json_locate_member(const char *text, size_t len, const char *object_path, const char *key);

#endif
