/* The description-field table (desc_fields.def) and what is done with a row. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "desc.h"
#include "desc_fields.h"

const struct nl_desc_enum nl_desc_sched_policies[] = {
	{ "rr", NL_SCHED_RR },
	{ NULL, 0 },
};

const struct nl_desc_enum nl_desc_expectations[] = {
	{ "exit", NL_EXPECT_EXIT },
	{ "fault", NL_EXPECT_FAULT },
	{ "timeout", NL_EXPECT_TIMEOUT },
	{ NULL, 0 },
};

const struct nl_desc_enum nl_desc_apic_modes[] = {
	{ "x2apic", NL_LEAF_X2APIC },
	{ "xapic", NL_LEAF_XAPIC },
	{ NULL, 0 },
};

const struct nl_desc_enum nl_desc_irq_sources[] = {
	{ "rtc", NL_IRQ_SRC_RTC },
	{ "pit", NL_IRQ_SRC_PIT },
	{ "periodic", NL_IRQ_SRC_PERIODIC },
	{ "poisson", NL_IRQ_SRC_POISSON },
	{ "burst", NL_IRQ_SRC_BURST },
	{ NULL, 0 },
};

#define AT(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define NOWHERE 0, 0

static const struct nl_desc_field_info table[NL_DF_COUNT] = {
#define NL_FIELD(id_, kind_, xml_, json_, type_, req_, min_, max_, dflt_, where_, aux_, phrase_) \
	[NL_DF_##id_] = { NL_DF_##id_, NL_DK_##kind_, xml_, json_, NL_FT_##type_, req_, min_, max_,  \
			  dflt_, where_, { aux_ }, phrase_ },
#include "desc_fields.def"
#undef NL_FIELD
};

const struct nl_desc_field_info *nl_desc_field(enum nl_desc_field f)
{
	return &table[(unsigned)f < NL_DF_COUNT ? f : NL_DF_EXPERIMENT];
}

int nl_desc_kind_in_vm(enum nl_desc_kind k, unsigned vm)
{
	switch (k) {
	case NL_DK_VM:
	case NL_DK_FEATURES:
	case NL_DK_WORKLOAD:
		return 1;
	case NL_DK_SCHEDULER:
		return vm != NL_DESC_TOP;
	default:
		return 0;
	}
}

int nl_desc_kind_is_item(enum nl_desc_kind k)
{
	return k == NL_DK_IRQ || k == NL_DK_ROUTE;
}

unsigned nl_desc_item_slot(enum nl_desc_kind k)
{
	return k == NL_DK_ROUTE;
}

enum nl_desc_field nl_desc_whole_of(enum nl_desc_kind k)
{
	for (unsigned f = 0; f < NL_DF_COUNT; f++)
		if (table[f].kind == k && table[f].type == NL_FT_WHOLE)
			return table[f].id;
	return NL_DF_EXPERIMENT;
}

int nl_desc_type_is_nested(enum nl_desc_type t)
{
	return t == NL_FT_GROUP || t == NL_FT_LIST || t == NL_FT_ITEMS;
}

const struct nl_desc_field_info *nl_desc_group_row(enum nl_desc_kind k, unsigned vm)
{
	enum nl_desc_kind parent = nl_desc_kind_in_vm(k, vm) && k != NL_DK_VM ? NL_DK_VM : NL_DK_EXPERIMENT;

	if (k == NL_DK_EXPERIMENT)
		return NULL;
	if (k == NL_DK_VM)
		return &table[vm == NL_DESC_TOP ? NL_DF_VMS : NL_DF_VM_CHILDREN];
	for (unsigned f = 0; f < NL_DF_COUNT; f++)
		if (table[f].kind == parent && table[f].type == NL_FT_GROUP && table[f].child == k)
			return &table[f];
	return NULL;
}

void *nl_desc_base(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm)
{
	struct nl_vm_desc *v = vm < NL_MAX_VMS ? &exp->vms[vm] : &exp->vms[0];

	switch (k) {
	case NL_DK_EXPERIMENT:
		return exp;
	case NL_DK_IRQ:
		return &exp->irqs[vm < NL_IRQ_MAX ? vm : 0];
	case NL_DK_ROUTE:
		return &exp->routes[vm < NL_IRQ_MAX ? vm : 0];
	case NL_DK_BACKEND:
		return &exp->backend;
	case NL_DK_SCHEDULER:
		return vm == NL_DESC_TOP ? &exp->sched : &v->sched;
	case NL_DK_WORKLOAD:
		return &v->workload;
	default: /* the VM and its features: struct nl_vm_desc */
		return v;
	}
}

int nl_desc_type_is_uint(enum nl_desc_type t)
{
	return t == NL_FT_UINT || t == NL_FT_U32 || t == NL_FT_MIB;
}

int nl_desc_type_is_string(enum nl_desc_type t)
{
	return t == NL_FT_NAME || t == NL_FT_BACKEND || t == NL_FT_CPU || t == NL_FT_ENUM;
}

#define MIB (1024ull * 1024ull)

/*
 * An item's fields without a default have no value that could stand for
 * "not given" (0 is a line, UINT32_MAX what a huge value saturates to), so
 * the item keeps a bit per field: bit (field - the kind's WHOLE row).
 * 0 for fields that keep none.
 */
static int given_bit(const struct nl_desc_field_info *r, size_t *at, uint32_t *bit)
{
	if (r->dflt || r->type == NL_FT_WHOLE || !nl_desc_kind_is_item(r->kind))
		return 0;
	*at = r->kind == NL_DK_IRQ ? offsetof(struct nl_irq_desc, given) : offsetof(struct nl_route_desc, given);
	*bit = 1u << (r->id - nl_desc_whole_of(r->kind));
	return 1;
}

_Static_assert(NL_DF_IRQ_SPACING - NL_DF_IRQ < 32 && NL_DF_ROUTE_AT - NL_DF_ROUTE < 32,
	       "an item's given bits fit in 32");

static void note_given(const struct nl_desc_field_info *r, void *base)
{
	uint32_t bit, bits;
	size_t at;

	if (!given_bit(r, &at, &bit))
		return;
	memcpy(&bits, (unsigned char *)base + at, sizeof bits);
	bits |= bit;
	memcpy((unsigned char *)base + at, &bits, sizeof bits);
}

int nl_desc_has_value(const struct nl_desc_field_info *r, const void *base)
{
	uint32_t bit, bits;
	size_t at;

	if (!given_bit(r, &at, &bit))
		return 1;
	memcpy(&bits, (const unsigned char *)base + at, sizeof bits);
	return (bits & bit) != 0;
}

void nl_desc_store_uint(const struct nl_desc_field_info *r, void *base, uint64_t v)
{
	unsigned char *at = (unsigned char *)base + r->offset;

	if (r->type == NL_FT_U32) {
		uint32_t n = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		memcpy(at, &n, sizeof n);
	} else {
		if (r->type == NL_FT_MIB)
			v = nl_desc_mib_to_bytes(v);
		memcpy(at, &v, sizeof v);
	}
	note_given(r, base);
}

void nl_desc_store_flag(const struct nl_desc_field_info *r, void *base, int on)
{
	uint32_t bits;

	memcpy(&bits, (unsigned char *)base + r->offset, sizeof bits);
	bits = on ? bits | r->bit : bits & ~r->bit;
	memcpy((unsigned char *)base + r->offset, &bits, sizeof bits);
	note_given(r, base);
}

/* The value of an integer row, in the unit its range is written in (MiB for MIB rows). */
static uint64_t load_uint(const struct nl_desc_field_info *r, const void *base)
{
	const unsigned char *at = (const unsigned char *)base + r->offset;
	uint64_t v;

	if (r->type == NL_FT_U32) {
		uint32_t n;
		memcpy(&n, at, sizeof n);
		return n;
	}
	memcpy(&v, at, sizeof v);
	return r->type == NL_FT_MIB ? v / MIB : v;
}

static void enum_list(const struct nl_desc_enum *names, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; names[i].name && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i].name);
}

const char *nl_desc_enum_name(const struct nl_desc_enum *names, uint32_t value)
{
	for (unsigned i = 0; names[i].name; i++)
		if (names[i].value == value)
			return names[i].name;
	return "?";
}

static const char *string_problem(const struct nl_desc_field_info *r, const char *s)
{
	switch (r->type) {
	case NL_FT_NAME: return nl_desc_name_problem(s);
	case NL_FT_BACKEND: return nl_desc_backend_problem(s);
	case NL_FT_CPU: return nl_desc_cpu_problem(s);
	default: return NULL;
	}
}

const char *nl_desc_store_text(const struct nl_desc_field_info *r, void *base, const char *text,
			       char *why, size_t cap)
{
	unsigned char *at = (unsigned char *)base + r->offset;
	const char *bad;
	uint64_t v;

	if (nl_desc_type_is_uint(r->type)) {
		bad = nl_desc_parse_uint(text, &v);
		if (!bad)
			nl_desc_store_uint(r, base, v);
		return bad;
	}
	if (r->type == NL_FT_FLAG) {
		/* on/off (features) or true/false/1/0 (xs:boolean), the spellings the schema allows. */
		if (!strcmp(text, "on") || !strcmp(text, "true") || !strcmp(text, "1"))
			nl_desc_store_flag(r, base, 1);
		else if (!strcmp(text, "off") || !strcmp(text, "false") || !strcmp(text, "0"))
			nl_desc_store_flag(r, base, 0);
		else
			return "is neither on/true/1 nor off/false/0";
		return NULL;
	}
	if (r->type == NL_FT_ENUM) {
		char list[128];

		for (unsigned i = 0; r->names[i].name; i++) {
			if (!strcmp(text, r->names[i].name)) {
				memcpy(at, &r->names[i].value, sizeof r->names[i].value);
				note_given(r, base);
				return NULL;
			}
		}
		enum_list(r->names, list, sizeof list);
		nl_desc_fmt(why, cap, "is not one of: %s", list);
		return why;
	}
	bad = string_problem(r, text);
	if (!bad) {
		nl_desc_copy_str((char *)at, r->size, text);
		note_given(r, base);
	}
	return bad;
}

const char *nl_desc_value_problem(const struct nl_desc_field_info *r, const void *base, char *msg,
				  size_t cap)
{
	if (nl_desc_type_is_uint(r->type) && r->max) {
		unsigned long long v = load_uint(r, base);
		char value[128];

		if (v >= r->min && v <= r->max)
			return NULL;
		/* phrase comes from the table: one %llu, for the value. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		nl_desc_fmt(value, sizeof value, r->phrase ? r->phrase : "%llu", v);
#pragma GCC diagnostic pop
		if (r->min == 0)
			nl_desc_fmt(msg, cap, "%s; at most %llu", value, r->max);
		else
			nl_desc_fmt(msg, cap, "%s is outside %llu..%llu", value, r->min, r->max);
		return msg;
	}
	if (nl_desc_type_is_string(r->type) && r->type != NL_FT_ENUM) {
		const char *s = (const char *)base + r->offset;
		const char *why = string_problem(r, s);

		if (!why)
			return NULL;
		nl_desc_fmt(msg, cap, "'%s' %s", s, why);
		return msg;
	}
	if (r->type == NL_FT_ENUM) {
		uint32_t v;

		memcpy(&v, (const char *)base + r->offset, sizeof v);
		if (strcmp(nl_desc_enum_name(r->names, v), "?"))
			return NULL;
		nl_desc_fmt(msg, cap, "unknown value %u", v);
		return msg;
	}
	return NULL;
}

void nl_desc_begin(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm)
{
	void *base = nl_desc_base(exp, k, vm);
	char why[16];

	for (unsigned f = 0; f < NL_DF_COUNT; f++)
		if (table[f].kind == k && table[f].dflt)
			nl_desc_store_text(&table[f], base, table[f].dflt, why, sizeof why);
	/* Every level's slice defaults to the experiment's quantum-us (read before any scheduler). */
	if (k == NL_DK_SCHEDULER)
		((struct nl_sched_desc *)base)->quantum_us = exp->quantum_us;
	if (k == NL_DK_ROUTE)
		((struct nl_route_desc *)base)->as = NL_ROUTE_AS_UNSET;
}

void nl_desc_names_of(enum nl_desc_kind k, int xml, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned f = 0; f < NL_DF_COUNT && used < cap; f++) {
		const struct nl_desc_field_info *r = &table[f];

		if (r->kind != k || r->type == NL_FT_WHOLE || (xml && nl_desc_type_is_nested(r->type)))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
					 xml ? r->xml : r->json);
	}
}

void nl_desc_begin_given(struct nl_experiment *exp, enum nl_desc_kind k, unsigned vm)
{
	nl_desc_begin(exp, k, vm);
	if (k == NL_DK_SCHEDULER)
		((struct nl_sched_desc *)nl_desc_base(exp, k, vm))->given = 1;
}

int nl_desc_kind_of_xml(const char *element)
{
	if (!strcmp(element, table[NL_DF_EXPERIMENT].xml))
		return NL_DK_EXPERIMENT;
	for (unsigned f = 0; f < NL_DF_COUNT; f++)
		if (nl_desc_type_is_nested(table[f].type) && !strcmp(element, table[f].xml))
			return (int)table[f].child;
	return -1;
}
