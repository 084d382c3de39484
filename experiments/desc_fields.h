/*
 * The description-field table (desc_fields.def) as data: what the readers,
 * the checks and the messages look a field up in.  Inside the description
 * loader only, like desc.h.
 */
#ifndef NESTLAB_DESC_FIELDS_H
#define NESTLAB_DESC_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The elements (XML) / objects (JSON) that hold fields. */
enum nl_desc_kind {
	NL_DK_EXPERIMENT,
	NL_DK_BACKEND,
	NL_DK_SCHEDULER,   /* on the experiment (L0's) or on a VM (that VMM's) */
	NL_DK_VM,
	NL_DK_FEATURES,
	NL_DK_WORKLOAD,
	/* Items: any number of each, in the experiment (L0's) or in a VM with child VMs (that VMM's). */
	NL_DK_IRQ,         /* a line's source */
	NL_DK_ROUTE,       /* a change of a line's route */
	NL_DK_COUNT
};
#define NL_DK_ITEM_KINDS 2 /* NL_DK_IRQ, NL_DK_ROUTE */

/* What a field holds, and so how it is read, stored and checked. */
enum nl_desc_type {
	NL_FT_WHOLE,    /* the element/object itself: only named in messages */
	NL_FT_GROUP,    /* a child element/object of another kind (.child) */
	NL_FT_LIST,     /* child VMs: <vm> elements / a "vms" array */
	NL_FT_ITEMS,    /* items of kind .child: <irq> elements / an "irqs" array */
	NL_FT_UINT,     /* uint64_t, decimal or 0x hex */
	NL_FT_U32,      /* uint32_t, saturating so that the range check sees a huge value as one */
	NL_FT_MIB,      /* given in MiB, stored in bytes (uint64_t, saturating) */
	NL_FT_FLAG,     /* a bit (.bit) of a uint32_t */
	NL_FT_NAME,     /* char[], [A-Za-z0-9_-]{1,31} */
	NL_FT_BACKEND,  /* char[], "bochs" or "qemu" */
	NL_FT_CPU,      /* char[], a Bochs CPU model */
	NL_FT_ENUM,     /* uint32_t, one of .names */
};

struct nl_desc_enum {
	const char *name;
	uint32_t value;
};
extern const struct nl_desc_enum nl_desc_sched_policies[]; /* ends with a NULL name */
extern const struct nl_desc_enum nl_desc_expectations[];
extern const struct nl_desc_enum nl_desc_apic_modes[];
extern const struct nl_desc_enum nl_desc_irq_sources[];

/* Every field of a description, whatever the format calls it. */
enum nl_desc_field {
#define NL_FIELD(id, ...) NL_DF_##id,
#include "desc_fields.def"
#undef NL_FIELD
	NL_DF_COUNT
};

struct nl_desc_field_info {
	enum nl_desc_field id;
	enum nl_desc_kind kind;
	const char *xml;
	const char *json;
	enum nl_desc_type type;
	int required;
	unsigned long long min, max;
	const char *dflt;
	size_t offset, size;      /* of the member in the kind's struct; size 0: none */
	union {
		uint32_t bit;
		const struct nl_desc_enum *names;
		enum nl_desc_kind child;
		int none;
	};
	const char *phrase;
};

/* The row of field f. */
const struct nl_desc_field_info *nl_desc_field(enum nl_desc_field f);

/* The WHOLE row of kind k (the element/object itself, for messages about all of it). */
enum nl_desc_field nl_desc_whole_of(enum nl_desc_kind k);

/*
 * Where an element/object of a kind sits: vm is a VM's index, or
 * NL_DESC_TOP for the experiment's own (its backend, L0's scheduler); for
 * an item, its index in the model's irqs[] or routes[].
 */
#define NL_DESC_TOP ((unsigned)-1)

/* Whether k is an item kind, and then its place among them (0 .. NL_DK_ITEM_KINDS - 1). */
int nl_desc_kind_is_item(enum nl_desc_kind k);
unsigned nl_desc_item_slot(enum nl_desc_kind k);

/* Whether a kind's element sits under a VM (vm must be an index) or may (the scheduler). */
int nl_desc_kind_in_vm(enum nl_desc_kind k, unsigned vm);

/* The GROUP/LIST row under which kind k appears (in a VM when vm is one); NULL for the experiment. */
const struct nl_desc_field_info *nl_desc_group_row(enum nl_desc_kind k, unsigned vm);

/* The model's struct of kind k for VM vm (or NL_DESC_TOP). */
void *nl_desc_base(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm);

/*
 * Start an element/object of kind k: its fields take their defaults (the
 * table's, and for a scheduler the experiment's quantum-us, read already).
 */
void nl_desc_begin(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm);

/*
 * Store a value of row r into base.  Each returns NULL, or why the value
 * cannot be stored, in words fit to follow the quoted value
 * ("'x' <why>"); why[cap] is room for the words when they are made up.
 */
const char *nl_desc_store_text(const struct nl_desc_field_info *r, void *base, const char *text,
			       char *why, size_t cap);
void nl_desc_store_uint(const struct nl_desc_field_info *r, void *base, uint64_t v);
void nl_desc_store_flag(const struct nl_desc_field_info *r, void *base, int on);

/*
 * Whether the field of row r in base holds a value: always, but for an
 * item's field without a default, which holds one only when the
 * description gave it (the store functions above note that).
 */
int nl_desc_has_value(const struct nl_desc_field_info *r, const void *base);

/* Is the row's value an integer (UINT, U32, MIB), a string (NAME, BACKEND, CPU, ENUM)? */
int nl_desc_type_is_uint(enum nl_desc_type t);
int nl_desc_type_is_string(enum nl_desc_type t);

/*
 * Check the value row r holds in base: range of integers, syntax of
 * strings.  NULL, or the whole message in msg[cap].
 */
const char *nl_desc_value_problem(const struct nl_desc_field_info *r, const void *base, char *msg,
				  size_t cap);

/* nl_desc_begin for an element/object the description has (a scheduler remembers it was given). */
void nl_desc_begin_given(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm);

/* Whether a row names child elements/objects (GROUP, LIST, ITEMS) rather than a value. */
int nl_desc_type_is_nested(enum nl_desc_type t);

/* The kind of an XML element by its name, or -1. */
int nl_desc_kind_of_xml(const char *element);

/* "a, b, c": the names of kind k's fields in one format (xml non-zero: XML attributes), for messages. */
void nl_desc_names_of(enum nl_desc_kind k, int xml, char *out, size_t cap);

/* The name of an enum value, or "?" */
const char *nl_desc_enum_name(const struct nl_desc_enum *names, uint32_t value);

#endif
