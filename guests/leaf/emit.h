/*
 * Records and console text from the leaf guest, through its VMM's
 * hypercalls.  A record is one JSON object built with lib/jsonw.h; the
 * guest writes "type" first and never "path", which the VMM prepends.
 */
#ifndef NESTLAB_LEAF_EMIT_H
#define NESTLAB_LEAF_EMIT_H

#include <stdint.h>

#include "jsonw.h"
#include "nestlab/hypercall.h"

struct record {
	struct jsonw w;
	const char *type;
	char buf[NL_HC_MAX_TEXT];
};

/* Starts {"type":TYPE ...; add members to r->w with jsonw_*. */
void record_begin(struct record *r, const char *type);

/*
 * Closes the record and hands it to the VMM.  A record that overflowed
 * its buffer is replaced by {"type":"record_overflow","of":TYPE}.
 * Returns 0 when the VMM accepted the whole record, otherwise -1.
 */
int record_emit(struct record *r);

/* Records that did not reach the VMM whole, so far. */
uint64_t emit_failures(void);

/* A formatted console line (the caller supplies the newline). */
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
