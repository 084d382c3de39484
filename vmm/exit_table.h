/*
 * The exit table: one row per basic exit reason with everything the VMM
 * knows about it.  The rows are written once, in
 * include/nestlab/vmx_exit_reasons.def; vmm/exit_table.c turns them into
 * this array.  The host's unit tests link it too (the reflection rules are
 * host-tested); there the handler column is empty, the handlers being
 * bare-metal code.
 */
#ifndef NESTLAB_VMM_EXIT_TABLE_H
#define NESTLAB_VMM_EXIT_TABLE_H

#include <stdint.h>
#include "nestlab/vmx.h"
#include "nested.h"
#include "vmm.h"

struct exit_reason_row {
	exit_handler_fn handler;     /* the exit of this VMM's own VM; none: the VM is stopped (vmm/exits.c) */
	struct reflect_rule reflect; /* is an exit of L2 L1's? (nested/reflect.c) */
	uint8_t has_qualification;   /* the SDM defines an exit qualification: read it (vmm_main.c) */
	uint8_t l0_completes;        /* this VMM may complete the instruction for L2 (nested/nested_mtf.c) */
};

/* Indexed by basic exit reason; a reason nestlab does not name has an all-zero row. */
extern const struct exit_reason_row exit_reasons[EXIT_REASON_MAX];

/* The row of a basic exit reason, or NULL past the last reason nestlab knows. */
static inline const struct exit_reason_row *exit_reason_row(uint32_t basic_reason)
{
	return basic_reason < EXIT_REASON_MAX ? &exit_reasons[basic_reason] : 0;
}

#endif
