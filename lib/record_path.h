/*
 * Whose record is this line?  A child VMM forwards whole record lines
 * (its own and its VMs') to its parent, "path" included, so the parent must
 * check that the path is the child's own or lies below it before it
 * passes the line on: otherwise a child could speak for L0 or for a
 * sibling.  Pure logic, tested on the host.
 */
#ifndef NESTLAB_LIB_RECORD_PATH_H
#define NESTLAB_LIB_RECORD_PATH_H

#include <stddef.h>

/*
 * 1 if line[0..len) is an object whose first member is "path" with a string
 * value equal to own_path or to own_path + "/" + names ([A-Za-z0-9_-]+
 * joined by single "/"), written without escapes, and no other top-level
 * key of the object is "path" (escaped or not); 0 otherwise.  Meant for a
 * line that json_check_object() has already accepted; it stays within len
 * whatever the line holds.
 */
int record_path_allowed(const char *line, size_t len, const char *own_path);

#endif
