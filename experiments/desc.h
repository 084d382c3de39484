/*
 * Inside the description loader: what the XML and JSON readers share with
 * the semantic checks of desc_check.c.  Not part of the model's API.
 *
 * A reader fills struct nl_experiment and hands back a source: a way to name
 * any field of the model in that format's own spelling, with its line in
 * the file.  The semantic checks are then written once, against the model,
 * and still point the user at the exact place in whichever file they wrote.
 */
#ifndef NESTLAB_DESC_H
#define NESTLAB_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "desc_fields.h"
#include "model.h"

struct nl_desc_source {
	/*
	 * Name field f of VM vm (NL_DESC_TOP for the experiment's own fields
	 * and L0's scheduler; ignored for fields that only the experiment has)
	 * in the file's own spelling into field[cap], and give its line (0
	 * when unknown).
	 */
	void (*locate)(const struct nl_desc_source *src, unsigned vm, enum nl_desc_field f,
		       char *field, size_t cap, int *line);
	/* Free what the reader kept for locate; safe on a source never filled. */
	void (*release)(struct nl_desc_source *src);
	void *priv;
};

/* Readers: 0, or -1 with *diag filled.  On success the caller releases src. */
int nl_desc_read_xml(const char *path, struct nl_experiment *exp, struct nl_desc_source *src,
		     struct nl_diag *diag);
int nl_desc_read_json(const char *path, struct nl_experiment *exp, struct nl_desc_source *src,
		      struct nl_diag *diag);

/* Fill every optional field of the experiment with its default (desc_fields.def). */
void nl_desc_defaults(struct nl_experiment *exp);

/*
 * Append a VM with its defaults (desc_fields.def) under parent (-1 for L0).
 * Returns its index, or -1 when the model already holds NL_MAX_VMS VMs.
 */
int nl_desc_add_vm(struct nl_experiment *exp, int parent, int line);
#define NL_DESC_TOO_MANY_VMS "more VMs than the 16 a manifest holds (NL_MAX_VMS)"

/*
 * An unsigned integer in decimal or 0x hex, nothing else (no sign, no
 * spaces).  Returns NULL and sets *out, or the reason it is not one.
 */
const char *nl_desc_parse_uint(const char *s, uint64_t *out);

/* Why s cannot be a name ([A-Za-z0-9_-]{1,31}), or NULL when it can. */
const char *nl_desc_name_problem(const char *s);

/* Why s cannot name a backend ("bochs" or "qemu"), or NULL. */
const char *nl_desc_backend_problem(const char *s);

/* Why s cannot be a Bochs CPU model ([a-z0-9_]{1,31}), or NULL. */
const char *nl_desc_cpu_problem(const char *s);

/* Copy a string the matching *_problem function accepted into dst[cap]. */
void nl_desc_copy_str(char *dst, size_t cap, const char *src);

/* MiB to bytes, saturating so that an absurd size fails the range check instead of wrapping. */
uint64_t nl_desc_mib_to_bytes(uint64_t mib);

/*
 * The whole file at path, NUL terminated (*len excludes the NUL), or NULL
 * with *diag naming the system error.  The caller frees it.
 */
char *nl_desc_slurp(const char *path, size_t *len, struct nl_diag *diag);

/*
 * snprintf for field paths and messages, where cutting a too-long text
 * short is the right outcome (it also keeps -Wformat-truncation quiet).
 */
void nl_desc_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fill *d; fmt is printf-like. */
void nl_diag_set(struct nl_diag *d, const char *file, int line, const char *field,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
