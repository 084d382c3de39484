/*
 * Interrupt lines as the host gives them back (issue #10 part 5): one row
 * per line of every VMM (its "irq" record: source, route, what became of
 * its assertions) and per line of every leaf that received any (its
 * "irq_guest" record: how many reached its handler, and the latency from
 * assertion to handler).  The rows are summary.json's "irq" (and each
 * VM's vms[].irq, the rows of its own path) and irq.csv, whose columns are
 *   path,line,source,route,asserted,delivered,taken_by_vmm,coalesced,
 *   lat_min,lat_p50,lat_p99,lat_max
 * A field that does not apply to a row is empty in the CSV and null in JSON:
 * a VMM does not see its guests' handlers; a leaf sees only what arrived.
 */
#ifndef NESTLAB_IRQ_TABLE_H
#define NESTLAB_IRQ_TABLE_H

#include <jansson.h>
#include <stddef.h>

#include "records.h"

#define NL_IRQ_CSV "irq.csv"

/* Every row, in record order; an empty array when no level has lines. */
json_t *nl_irq_rows(const struct nl_records *rs);

/* The rows whose path is path. */
json_t *nl_irq_rows_of(const json_t *rows, const char *path);

/* dir/irq.csv, header only when there are no rows; 0, or -1 with err. */
int nl_irq_write_csv(const char *dir, const json_t *rows, char *err, size_t cap);

#endif
