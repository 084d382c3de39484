/* Interrupt lines on the host (irq_table.h). */
#include <stdio.h>
#include <string.h>

#include "irq_table.h"
#include "nestlab/records.h"

/* The columns, in irq.csv's order; those a record may lack become null. */
static const char *const columns[] = {
	"path", "line", "source", "route", "asserted", "delivered", "taken_by_vmm", "coalesced",
	"lat_min", "lat_p50", "lat_p99", "lat_max",
};
#define NCOLUMNS (sizeof columns / sizeof columns[0])

static json_t *copy_int(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);
	return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static json_t *copy_str(const json_t *rec, const char *key, const char *dflt)
{
	const char *s = nl_record_str(rec, key);
	return json_string(s ? s : dflt);
}

/* A VMM's line: what its multiplexer did with each assertion. */
static json_t *vmm_row(const json_t *rec)
{
	json_t *row = json_object();
	json_object_set_new(row, "path", copy_str(rec, NL_KEY_PATH, "?"));
	json_object_set_new(row, "line", copy_int(rec, "line"));
	json_object_set_new(row, "source", copy_str(rec, "source", "?"));
	json_object_set_new(row, "route", copy_str(rec, "route", "?"));
	static const char *const counts[] = { "asserted", "delivered", "taken_by_vmm", "coalesced", "masked" };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		json_object_set_new(row, counts[i], copy_int(rec, counts[i]));
	static const char *const lat[] = { "lat_min", "lat_p50", "lat_p99", "lat_max" };
	for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++)
		json_object_set_new(row, lat[i], json_null());
	return row;
}

/* A leaf's line: what reached its handler, and how late. */
static json_t *guest_row(const json_t *rec)
{
	json_t *row = json_object();
	json_object_set_new(row, "path", copy_str(rec, NL_KEY_PATH, "?"));
	json_object_set_new(row, "line", copy_int(rec, "line"));
	json_object_set_new(row, "source", json_string("routed"));
	json_object_set_new(row, "route", json_string("handler"));
	json_object_set_new(row, "asserted", json_null());
	json_object_set_new(row, "delivered", copy_int(rec, "count"));
	json_object_set_new(row, "taken_by_vmm", json_null());
	json_object_set_new(row, "coalesced", json_null());
	json_object_set_new(row, "masked", json_null());
	json_object_set_new(row, "lat_min", copy_int(rec, "min"));
	json_object_set_new(row, "lat_p50", copy_int(rec, "p50"));
	json_object_set_new(row, "lat_p99", copy_int(rec, "p99"));
	json_object_set_new(row, "lat_max", copy_int(rec, "max"));
	return row;
}

json_t *nl_irq_rows(const struct nl_records *rs)
{
	json_t *rows = json_array();
	for (size_t i = 0; i < rs->count && rows; i++) {
		const json_t *rec = rs->items[i];
		if (nl_record_is_bad_line(rec))
			continue;
		if (nl_record_is(rec, NULL, NL_REC_IRQ))
			json_array_append_new(rows, vmm_row(rec));
		else if (nl_record_is(rec, NULL, NL_REC_IRQ_GUEST))
			json_array_append_new(rows, guest_row(rec));
	}
	return rows;
}

json_t *nl_irq_rows_of(const json_t *rows, const char *path)
{
	json_t *mine = json_array();
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row) {
		const char *p = json_string_value(json_object_get(row, "path"));
		if (p && !strcmp(p, path))
			json_array_append(mine, (json_t *)row);
	}
	return mine;
}

/* A CSV field: integers as they are, strings quoted when they hold a comma, quote or newline. */
static void write_field(FILE *f, const json_t *v)
{
	if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
		return;
	}
	const char *s = json_string_value(v);
	if (!s)
		return;
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int nl_irq_write_csv(const char *dir, const json_t *rows, char *err, size_t cap)
{
	char file[4096];
	snprintf(file, sizeof file, "%s/%s", dir, NL_IRQ_CSV);
	FILE *f = fopen(file, "w");
	if (!f) {
		snprintf(err, cap, "%s: cannot write", file);
		return -1;
	}
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(f, "%s%s", c ? "," : "", columns[c]);
	fputc('\n', f);
	size_t i;
	const json_t *row;
	json_array_foreach(rows, i, row) {
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (c)
				fputc(',', f);
			write_field(f, json_object_get(row, columns[c]));
		}
		fputc('\n', f);
	}
	if (fclose(f)) {
		snprintf(err, cap, "%s: cannot write", file);
		return -1;
	}
	return 0;
}
