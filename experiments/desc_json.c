/*
 * The JSON reader: jansson parses the file (duplicate keys refused), and a
 * walk with strict key and type checks fills the model.  There is no schema
 * language here, so the walk is the schema: every key must be known, every
 * value of the right type, and required keys present, with the same rules
 * and defaults as configs/nestlab.xsd gives XML.  Lines come from
 * json_locate.c because jansson keeps none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "desc.h"
#include "json_locate.h"

#define VM_PATH_MAX 192

struct json_source {
	const char *file;
	char *text;
	size_t len;
	char vm_path[NL_MAX_VMS][VM_PATH_MAX];  /* "vms[0].vms[1]" */
	/* Each item's, by kind (nl_desc_item_slot) and index in the model: "vms[0].routes[1]". */
	char item_path[NL_DK_ITEM_KINDS][NL_IRQ_MAX][VM_PATH_MAX];
};

/*
 * The path of the object that holds kind k's fields for VM vm ("", "backend",
 * "vms[1]", "vms[1].workload"), or for item vm ("irqs[0]", "vms[1].routes[2]");
 * the locator's path is "experiment." + it.
 */
static void object_path(const struct json_source *s, enum nl_desc_kind k, unsigned vm, char *out,
			size_t cap)
{
	const char *vp = s->vm_path[vm < NL_MAX_VMS ? vm : 0];

	if (nl_desc_kind_is_item(k))
		nl_desc_fmt(out, cap, "%s", s->item_path[nl_desc_item_slot(k)][vm < NL_IRQ_MAX ? vm : 0]);
	else if (k == NL_DK_EXPERIMENT)
		nl_desc_fmt(out, cap, "%s", "");
	else if (k == NL_DK_VM)
		nl_desc_fmt(out, cap, "%s", vp);
	else if (nl_desc_kind_in_vm(k, vm))
		nl_desc_fmt(out, cap, "%s.%s", vp, nl_desc_group_row(k, vm)->json);
	else
		nl_desc_fmt(out, cap, "%s", nl_desc_group_row(k, vm)->json);
}

/* The path of field f as the user reads it ("vms[1].workload.iterations", "backend.ips", "duration_ms"). */
static void field_path(const struct json_source *s, unsigned vm, enum nl_desc_field f,
		       char *out, size_t cap)
{
	const struct nl_desc_field_info *r = nl_desc_field(f);
	char obj[VM_PATH_MAX + 32];

	if (f == NL_DF_EXPERIMENT) {
		nl_desc_fmt(out, cap, "experiment");
		return;
	}
	object_path(s, r->kind, vm, obj, sizeof obj);
	if (r->type == NL_FT_WHOLE)
		nl_desc_fmt(out, cap, "%s", obj);
	else
		nl_desc_fmt(out, cap, "%s%s%s", obj, obj[0] ? "." : "", r->json);
}

static int line_of_path(const struct json_source *s, const char *path)
{
	char full[VM_PATH_MAX + 64];

	nl_desc_fmt(full, sizeof full, "experiment%s%s", path[0] ? "." : "", path);
	return nl_json_locate(s->text, s->len, full);
}

static void json_locate(const struct nl_desc_source *src, unsigned vm, enum nl_desc_field f,
			char *field, size_t cap, int *line)
{
	const struct json_source *s = src->priv;
	char path[VM_PATH_MAX + 64];

	field_path(s, vm, f, path, sizeof path);
	nl_desc_fmt(field, cap, "%s", path);
	*line = line_of_path(s, f == NL_DF_EXPERIMENT ? "" : path);
}

static void json_release(struct nl_desc_source *src)
{
	struct json_source *s = src->priv;

	if (s) {
		free(s->text);
		free(s);
	}
	src->priv = NULL;
}

struct json_reader {
	struct nl_experiment *exp;
	struct nl_desc_source *src;
	struct json_source *s;
	struct nl_diag *diag;
};

static int fail(const struct json_reader *r, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(const struct json_reader *r, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
{
	char field[sizeof r->diag->field];
	char message[sizeof r->diag->message];
	int line = 0;
	va_list ap;

	json_locate(r->src, vm, f, field, sizeof field, &line);
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	nl_diag_set(r->diag, r->s->file, line, field, "%s", message);
	return -1;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/*
 * Refuse the first key (in file order) that an object of kind k may not
 * hold.
 */
static int check_keys(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_kind k)
{
	char obj_path[VM_PATH_MAX + 64], full[VM_PATH_MAX + 80], expected[256];
	const char *key, *worst = NULL;
	int worst_line = 0;
	json_t *v;

	object_path(r->s, k, vm, obj_path, sizeof obj_path);
	nl_desc_fmt(full, sizeof full, "experiment%s%s", obj_path[0] ? "." : "", obj_path);

	json_object_foreach(obj, key, v) {
		unsigned f;
		int line;

		for (f = 0; f < NL_DF_COUNT; f++) {
			const struct nl_desc_field_info *row = nl_desc_field(f);

			if (row->kind == k && row->type != NL_FT_WHOLE && !strcmp(key, row->json))
				break;
		}
		if (f < NL_DF_COUNT)
			continue;
		/* jansson's iteration order is not the file's: report the earliest. */
		line = nl_json_locate_member(r->s->text, r->s->len, full, key);
		if (!worst || line < worst_line) {
			worst = key;
			worst_line = line;
		}
	}
	if (!worst)
		return 0;
	nl_desc_names_of(k, 0, expected, sizeof expected);
	{
		char field[sizeof r->diag->field];

		nl_desc_fmt(field, sizeof field, "%s%s%s", obj_path, obj_path[0] ? "." : "", worst);
		nl_diag_set(r->diag, r->s->file, worst_line, field, "unknown key (expected one of: %s)",
			    expected);
	}
	return -1;
}

/* One member into the model, checked for its JSON type first. */
static int read_value(const struct json_reader *r, json_t *v, unsigned vm, const struct nl_desc_field_info *row,
		      void *base)
{
	char why[256];
	const char *bad;

	if (nl_desc_type_is_uint(row->type)) {
		if (json_is_integer(v)) {
			json_int_t i = json_integer_value(v);

			if (i < 0)
				return fail(r, vm, row->id, "%lld is negative; expected an unsigned integer",
					    (long long)i);
			nl_desc_store_uint(row, base, (uint64_t)i);
			return 0;
		}
		/* Strings carry hex addresses and values past 2^63, which JSON numbers cannot. */
		if (!json_is_string(v))
			return fail(r, vm, row->id,
				    "expected an unsigned integer (a number, or a string in decimal or 0x hex), got %s",
				    type_name(v));
	} else if (row->type == NL_FT_FLAG) {
		if (!json_is_boolean(v))
			return fail(r, vm, row->id, "expected true or false, got %s", type_name(v));
		nl_desc_store_flag(row, base, json_is_true(v));
		return 0;
	} else if (!json_is_string(v)) {
		return fail(r, vm, row->id, "expected a string, got %s", type_name(v));
	}
	bad = nl_desc_store_text(row, base, json_string_value(v), why, sizeof why);
	if (bad)
		return fail(r, vm, row->id, "'%s' %s", json_string_value(v), bad);
	return 0;
}

static int read_vms(struct json_reader *r, json_t *list, int parent, const char *list_path);
static int read_items(struct json_reader *r, json_t *list, enum nl_desc_kind k, int owner,
		      const char *list_path);

/* The keys, values, groups, items and child VMs of an object of kind k. */
static int read_object(struct json_reader *r, json_t *o, enum nl_desc_kind k, unsigned vm)
{
	void *base = nl_desc_base(r->exp, k, vm);

	if (check_keys(r, o, vm, k))
		return -1;
	/* Values first: a group's defaults may depend on them (a scheduler's quantum). */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned f = 0; f < NL_DF_COUNT; f++) {
			const struct nl_desc_field_info *row = nl_desc_field(f);
			int nested = nl_desc_type_is_nested(row->type);
			json_t *v;

			if (row->kind != k || row->type == NL_FT_WHOLE || nested != pass)
				continue;
			v = json_object_get(o, row->json);
			if (!v) {
				if (row->required)
					return fail(r, vm, row->id, "missing required key '%s'", row->json);
				continue;
			}
			if (row->type == NL_FT_GROUP) {
				if (!json_is_object(v))
					return fail(r, vm, row->id, "expected an object, got %s", type_name(v));
				nl_desc_begin_given(r->exp, row->child, vm);
				if (read_object(r, v, row->child, vm))
					return -1;
			} else if (nested) {
				char list_path[VM_PATH_MAX];
				int owner = vm == NL_DESC_TOP ? -1 : (int)vm;

				if (!json_is_array(v))
					return fail(r, vm, row->id, "expected an array, got %s", type_name(v));
				field_path(r->s, vm, row->id, list_path, sizeof list_path);
				if (row->type == NL_FT_LIST ? read_vms(r, v, owner, list_path) :
				    read_items(r, v, row->child, owner, list_path))
					return -1;
			} else if (read_value(r, v, vm, row, base)) {
				return -1;
			}
		}
	}
	return 0;
}

static int read_vm(struct json_reader *r, json_t *o, int parent, const char *path)
{
	int i = nl_desc_add_vm(r->exp, parent, line_of_path(r->s, path));

	if (i < 0) {
		nl_diag_set(r->diag, r->s->file, line_of_path(r->s, path), path, NL_DESC_TOO_MANY_VMS);
		return -1;
	}
	nl_desc_fmt(r->s->vm_path[i], sizeof r->s->vm_path[i], "%s", path);
	if (!json_is_object(o))
		return fail(r, i, NL_DF_VM, "expected an object, got %s", type_name(o));
	return read_object(r, o, NL_DK_VM, (unsigned)i);
}

static int read_vms(struct json_reader *r, json_t *list, int parent, const char *list_path)
{
	size_t k;
	json_t *o;

	json_array_foreach(list, k, o) {
		char path[VM_PATH_MAX];

		nl_desc_fmt(path, sizeof path, "%s[%zu]", list_path, k);
		if (read_vm(r, o, parent, path))
			return -1;
	}
	return 0;
}

/* The items of an "irqs" or "routes" array of the VMM of VM owner (-1: L0). */
static int read_items(struct json_reader *r, json_t *list, enum nl_desc_kind k, int owner,
		      const char *list_path)
{
	size_t n;
	json_t *o;

	json_array_foreach(list, n, o) {
		char path[VM_PATH_MAX];
		int i = nl_desc_add_item(r->exp, k, owner);

		nl_desc_fmt(path, sizeof path, "%s[%zu]", list_path, n);
		if (i < 0) {
			nl_diag_set(r->diag, r->s->file, line_of_path(r->s, path), path, NL_DESC_TOO_MANY_ITEMS);
			return -1;
		}
		nl_desc_fmt(r->s->item_path[nl_desc_item_slot(k)][i], VM_PATH_MAX, "%s", path);
		if (!json_is_object(o))
			return fail(r, (unsigned)i, nl_desc_whole_of(k),
				    "expected an object, got %s", type_name(o));
		if (read_object(r, o, k, (unsigned)i))
			return -1;
	}
	return 0;
}

/* The file is {"experiment": {...}} and nothing else. */
static int read_root(struct json_reader *r, json_t *root)
{
	const char *key;
	json_t *v, *o;

	json_object_foreach(root, key, v) {
		if (strcmp(key, "experiment")) {
			nl_diag_set(r->diag, r->s->file,
				    nl_json_locate_member(r->s->text, r->s->len, "", key), key,
				    "unknown key (the file holds one object: {\"experiment\": {...}})");
			return -1;
		}
	}
	o = json_object_get(root, "experiment");
	if (!o) {
		nl_diag_set(r->diag, r->s->file, nl_json_locate(r->s->text, r->s->len, ""), "experiment",
			    "missing required key 'experiment'");
		return -1;
	}
	if (!json_is_object(o))
		return fail(r, NL_DESC_TOP, NL_DF_EXPERIMENT, "expected an object, got %s", type_name(o));
	return read_object(r, o, NL_DK_EXPERIMENT, NL_DESC_TOP);
}

int nl_desc_read_json(const char *path, struct nl_experiment *exp, struct nl_desc_source *src,
		      struct nl_diag *diag)
{
	struct json_source *s;
	struct json_reader r;
	json_error_t err;
	json_t *root;
	size_t len;
	char *text = nl_desc_slurp(path, &len, diag);
	int rc;

	if (!text)
		return -1;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		/* JSON numbers stop at 2^63 in jansson; strings carry the rest. */
		nl_diag_set(diag, path, err.line > 0 ? err.line : 0, "syntax", "%s (column %d)%s",
			    err.text, err.column,
			    strstr(err.text, "too big integer") ?
			    "; write integers past 2^63 as strings, e.g. \"0xffffffffffffffff\"" : "");
		free(text);
		return -1;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		json_decref(root);
		free(text);
		nl_diag_set(diag, path, 0, "", "out of memory");
		return -1;
	}
	s->file = path;
	s->text = text;
	s->len = len;
	src->locate = json_locate;
	src->release = json_release;
	src->priv = s;
	r = (struct json_reader){ .exp = exp, .src = src, .s = s, .diag = diag };
	if (!json_is_object(root)) {
		nl_diag_set(diag, path, nl_json_locate(text, len, ""), "(top level)",
			    "expected an object {\"experiment\": {...}}, got %s", type_name(root));
		rc = -1;
	} else {
		rc = read_root(&r, root);
	}
	json_decref(root);
	if (rc)
		json_release(src);
	return rc;
}
