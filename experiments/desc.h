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

/*
 * The semantic checks' state (desc_check.c; the interrupt lines' in
 * desc_lines.c): they refuse through the source, which names the field in
 * the file's own spelling.
 */
struct nl_desc_checker {
	const char *file;
	const struct nl_experiment *exp;
	const struct nl_desc_source *src;
	const struct nl_image_set *images; /* NULL: images not checked */
	struct nl_diag *diag;
};

/* Fill *c->diag for field f of VM vm (or item vm, or NL_DESC_TOP); returns -1. */
int nl_desc_refuse(const struct nl_desc_checker *c, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The table's rules for every field of kind k's element/object of VM vm (or item vm, or NL_DESC_TOP). */
int nl_desc_check_values(const struct nl_desc_checker *c, enum nl_desc_kind k, unsigned vm);

/*
 * Interrupt lines (desc_lines.c).  Resolve what follows from the whole
 * tree: a burst's default size, a route's default VM line, the VM a route
 * names.  Then check every source and route against it.
 */
void nl_desc_resolve_lines(struct nl_experiment *exp);
int nl_desc_check_lines(const struct nl_desc_checker *c);

/* Fill every optional field of the experiment with its default (desc_fields.def). */
void nl_desc_defaults(struct nl_experiment *exp);

/*
 * Append a VM with its defaults (desc_fields.def) under parent (-1 for L0).
 * Returns its index, or -1 when the model already holds NL_MAX_VMS VMs.
 */
int nl_desc_add_vm(struct nl_experiment *exp, int parent, int line);
#define NL_DESC_TOO_MANY_VMS "more VMs than the 16 a manifest holds (NL_MAX_VMS)"

/*
 * Append an item of kind k (NL_DK_IRQ, NL_DK_ROUTE) with its defaults,
 * owned by L0 (-1) or by VM owner's VMM.  Returns its index in irqs[] or
 * routes[], or -1 when the model holds NL_IRQ_MAX items of both kinds.
 */
int nl_desc_add_item(struct nl_experiment *exp, enum nl_desc_kind k, int owner);
#define NL_DESC_TOO_MANY_ITEMS \
	"more interrupt-line items (sources and routes together) than the 64 a manifest holds (NL_IRQ_MAX)"

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
