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
};

/* The key that holds each field, in its group's object. */
static const char *const json_key[NL_DF_COUNT] = {
	[NL_DF_NAME] = "name",
	[NL_DF_SEED] = "seed",
	[NL_DF_DURATION] = "duration_ms",
	[NL_DF_QUANTUM] = "quantum_us",
	[NL_DF_BENCH_NATIVE_LOOP] = "bench_native_loop",
	[NL_DF_BACKEND] = "backend",
	[NL_DF_BACKEND_NAME] = "name",
	[NL_DF_BACKEND_CPU] = "cpu",
	[NL_DF_BACKEND_IPS] = "ips",
	[NL_DF_BACKEND_MEMORY] = "memory_mb",
	[NL_DF_BACKEND_TIMEOUT] = "timeout_s",
	[NL_DF_VMS] = "vms",
	[NL_DF_VM_NAME] = "name",
	[NL_DF_VM_IMAGE] = "image",
	[NL_DF_VM_VMX] = "vmx",
	[NL_DF_VM_MEMORY] = "memory_mb",
	[NL_DF_VM_FEATURES] = "features",
	[NL_DF_VM_EPT] = "ept",
	[NL_DF_VM_VPID] = "vpid",
	[NL_DF_VM_VMCS_SHADOWING] = "vmcs_shadowing",
	[NL_DF_VM_SINGLE_STEP] = "single_step",
	[NL_DF_VM_WORKLOAD] = "workload",
	[NL_DF_VM_ITERATIONS] = "iterations",
	[NL_DF_VM_HYPERCALLS] = "hypercalls",
	[NL_DF_VM_TOUCH_PAGES] = "touch_pages",
	[NL_DF_VM_TOUCH_ADDR] = "touch_addr",
	[NL_DF_VM_CHILDREN] = "vms",
};

/* The keys each object may hold: the JSON counterpart of the schema. */
static const enum nl_desc_field experiment_keys[] = {
	NL_DF_NAME, NL_DF_SEED, NL_DF_DURATION, NL_DF_QUANTUM, NL_DF_BENCH_NATIVE_LOOP,
	NL_DF_BACKEND, NL_DF_VMS,
};
static const enum nl_desc_field backend_keys[] = {
	NL_DF_BACKEND_NAME, NL_DF_BACKEND_CPU, NL_DF_BACKEND_IPS, NL_DF_BACKEND_MEMORY,
	NL_DF_BACKEND_TIMEOUT,
};
static const enum nl_desc_field vm_keys[] = {
	NL_DF_VM_NAME, NL_DF_VM_IMAGE, NL_DF_VM_MEMORY, NL_DF_VM_VMX, NL_DF_VM_FEATURES, NL_DF_VM_WORKLOAD,
	NL_DF_VM_CHILDREN,
};
static const enum nl_desc_field features_keys[] = {
	NL_DF_VM_EPT, NL_DF_VM_VPID, NL_DF_VM_VMCS_SHADOWING, NL_DF_VM_SINGLE_STEP,
};
static const enum nl_desc_field workload_keys[] = {
	NL_DF_VM_ITERATIONS, NL_DF_VM_HYPERCALLS, NL_DF_VM_TOUCH_PAGES, NL_DF_VM_TOUCH_ADDR,
};
#define KEYS(a) (a), sizeof(a) / sizeof((a)[0])

/*
 * The path of field f as the user reads it ("vms[1].workload.iterations",
 * "backend.ips", "duration_ms"); the locator's path is "experiment." + it.
 */
static void field_path(const struct json_source *s, unsigned vm, enum nl_desc_field f,
		       char *out, size_t cap)
{
	const char *key = json_key[f];
	const char *vp = s->vm_path[vm < NL_MAX_VMS ? vm : 0];

	switch (f) {
	case NL_DF_EXPERIMENT:
		nl_desc_fmt(out, cap, "experiment");
		return;
	case NL_DF_BACKEND:
	case NL_DF_VMS:
		nl_desc_fmt(out, cap, "%s", key);
		return;
	case NL_DF_VM:
		nl_desc_fmt(out, cap, "%s", vp);
		return;
	case NL_DF_VM_FEATURES:
	case NL_DF_VM_WORKLOAD:
	case NL_DF_VM_CHILDREN:
		nl_desc_fmt(out, cap, "%s.%s", vp, key);
		return;
	default:
		break;
	}
	switch (nl_desc_group_of(f)) {
	case NL_DG_BACKEND:
		nl_desc_fmt(out, cap, "backend.%s", key);
		break;
	case NL_DG_VM:
		nl_desc_fmt(out, cap, "%s.%s", vp, key);
		break;
	case NL_DG_FEATURES:
		nl_desc_fmt(out, cap, "%s.features.%s", vp, key);
		break;
	case NL_DG_WORKLOAD:
		nl_desc_fmt(out, cap, "%s.workload.%s", vp, key);
		break;
	default:
		nl_desc_fmt(out, cap, "%s", key);
		break;
	}
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
 * Refuse the first key (in file order) that obj may not hold.  group_field
 * names obj itself (NL_DF_EXPERIMENT for the experiment object).
 */
static int check_keys(const struct json_reader *r, json_t *obj, unsigned vm,
		      enum nl_desc_field group_field, const enum nl_desc_field *allowed, size_t n)
{
	char obj_path[VM_PATH_MAX + 64], full[VM_PATH_MAX + 80], expected[256] = "";
	const char *key, *worst = NULL;
	int worst_line = 0;
	json_t *v;
	size_t used = 0;

	if (group_field == NL_DF_EXPERIMENT)
		obj_path[0] = '\0';
	else
		field_path(r->s, vm, group_field, obj_path, sizeof obj_path);
	nl_desc_fmt(full, sizeof full, "experiment%s%s", obj_path[0] ? "." : "", obj_path);

	json_object_foreach(obj, key, v) {
		size_t i;
		int line;

		for (i = 0; i < n && strcmp(key, json_key[allowed[i]]); i++)
			;
		if (i < n)
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
	for (size_t i = 0; i < n && used < sizeof expected; i++)
		used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%s",
					 i ? ", " : "", json_key[allowed[i]]);
	{
		char field[sizeof r->diag->field];

		nl_desc_fmt(field, sizeof field, "%s%s%s", obj_path, obj_path[0] ? "." : "", worst);
		nl_diag_set(r->diag, r->s->file, worst_line, field, "unknown key (expected one of: %s)",
			    expected);
	}
	return -1;
}

/* The member for field f, NULL when absent; *bad set when required but absent. */
static json_t *member(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_field f,
		      int required, int *bad)
{
	json_t *v = json_object_get(obj, json_key[f]);

	if (!v && required)
		*bad = fail(r, vm, f, "missing required key '%s'", json_key[f]);
	return v;
}

static int get_uint(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_field f,
		    int required, uint64_t *out)
{
	int bad = 0;
	json_t *v = member(r, obj, vm, f, required, &bad);
	const char *why;

	if (!v)
		return bad;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0)
			return fail(r, vm, f, "%lld is negative; expected an unsigned integer",
				    (long long)i);
		*out = (uint64_t)i;
		return 0;
	}
	/* Strings carry hex addresses and values past 2^63, which JSON numbers cannot. */
	if (json_is_string(v)) {
		why = nl_desc_parse_uint(json_string_value(v), out);
		if (why)
			return fail(r, vm, f, "'%s' %s", json_string_value(v), why);
		return 0;
	}
	return fail(r, vm, f,
		    "expected an unsigned integer (a number, or a string in decimal or 0x hex), got %s",
		    type_name(v));
}

static int get_u32(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_field f,
		   uint32_t *out)
{
	uint64_t v = *out;
	int rc = get_uint(r, obj, vm, f, 0, &v);

	/* Saturate: the range checks must see a too-large value as too large. */
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return rc;
}

static int get_str(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_field f,
		   int required, const char *(*problem)(const char *), char *dst, size_t cap)
{
	int bad = 0;
	json_t *v = member(r, obj, vm, f, required, &bad);
	const char *why;

	if (!v)
		return bad;
	if (!json_is_string(v))
		return fail(r, vm, f, "expected a string, got %s", type_name(v));
	why = problem(json_string_value(v));
	if (why)
		return fail(r, vm, f, "'%s' %s", json_string_value(v), why);
	nl_desc_copy_str(dst, cap, json_string_value(v));
	return 0;
}

static int get_flag(const struct json_reader *r, json_t *obj, unsigned vm, enum nl_desc_field f,
		    uint32_t *flags, uint32_t bit)
{
	json_t *v = json_object_get(obj, json_key[f]);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(r, vm, f, "expected true or false, got %s", type_name(v));
	if (json_is_true(v))
		*flags |= bit;
	else
		*flags &= ~bit;
	return 0;
}

/* An optional object member: NULL when absent, *bad set when present but not an object. */
static json_t *get_object(const struct json_reader *r, json_t *obj, unsigned vm,
			  enum nl_desc_field f, int *bad)
{
	json_t *v = json_object_get(obj, json_key[f]);

	if (v && !json_is_object(v)) {
		*bad = fail(r, vm, f, "expected an object, got %s", type_name(v));
		return NULL;
	}
	return v;
}

static int read_vms(struct json_reader *r, json_t *list, int parent, const char *list_path);

static int read_vm(struct json_reader *r, json_t *o, int parent, const char *path)
{
	uint32_t offer_vmx = 0;
	struct nl_vm_desc *vm;
	json_t *features, *workload, *children;
	uint64_t memory_mb = 0;
	int bad = 0;
	int i = nl_desc_add_vm(r->exp, parent, line_of_path(r->s, path));

	if (i < 0) {
		nl_diag_set(r->diag, r->s->file, line_of_path(r->s, path), path, NL_DESC_TOO_MANY_VMS);
		return -1;
	}
	vm = &r->exp->vms[i];
	nl_desc_fmt(r->s->vm_path[i], sizeof r->s->vm_path[i], "%s", path);
	if (!json_is_object(o))
		return fail(r, i, NL_DF_VM, "expected an object, got %s", type_name(o));
	if (check_keys(r, o, i, NL_DF_VM, KEYS(vm_keys)) ||
	    get_str(r, o, i, NL_DF_VM_NAME, 1, nl_desc_name_problem, vm->name, sizeof vm->name) ||
	    get_str(r, o, i, NL_DF_VM_IMAGE, 0, nl_desc_name_problem, vm->image, sizeof vm->image) ||
	    get_uint(r, o, i, NL_DF_VM_MEMORY, 1, &memory_mb) ||
	    get_flag(r, o, i, NL_DF_VM_VMX, &offer_vmx, 1))
		return -1;
	vm->memory_bytes = nl_desc_mib_to_bytes(memory_mb);
	if (offer_vmx)
		vm->kind = NL_VM_VMM;

	features = get_object(r, o, i, NL_DF_VM_FEATURES, &bad);
	if (bad)
		return -1;
	if (features &&
	    (check_keys(r, features, i, NL_DF_VM_FEATURES, KEYS(features_keys)) ||
	     get_flag(r, features, i, NL_DF_VM_EPT, &vm->features, NL_FEAT_EPT) ||
	     get_flag(r, features, i, NL_DF_VM_VPID, &vm->features, NL_FEAT_VPID) ||
	     get_flag(r, features, i, NL_DF_VM_VMCS_SHADOWING, &vm->features, NL_FEAT_VMCS_SHADOW) ||
	     get_uint(r, features, i, NL_DF_VM_SINGLE_STEP, 0, &vm->single_steps)))
		return -1;

	workload = get_object(r, o, i, NL_DF_VM_WORKLOAD, &bad);
	if (bad)
		return -1;
	if (workload &&
	    (check_keys(r, workload, i, NL_DF_VM_WORKLOAD, KEYS(workload_keys)) ||
	     get_uint(r, workload, i, NL_DF_VM_ITERATIONS, 0, &vm->workload.iterations) ||
	     get_uint(r, workload, i, NL_DF_VM_HYPERCALLS, 0, &vm->workload.hypercalls) ||
	     get_uint(r, workload, i, NL_DF_VM_TOUCH_PAGES, 0, &vm->workload.touch_pages) ||
	     get_uint(r, workload, i, NL_DF_VM_TOUCH_ADDR, 0, &vm->workload.touch_addr)))
		return -1;

	children = json_object_get(o, json_key[NL_DF_VM_CHILDREN]);
	if (children) {
		char list_path[VM_PATH_MAX];

		if (!json_is_array(children))
			return fail(r, i, NL_DF_VM_CHILDREN, "expected an array, got %s",
				    type_name(children));
		nl_desc_fmt(list_path, sizeof list_path, "%s.vms", path);
		return read_vms(r, children, i, list_path);
	}
	return 0;
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

static int read_backend(struct json_reader *r, json_t *o)
{
	struct nl_backend_desc *b = &r->exp->backend;

	return check_keys(r, o, 0, NL_DF_BACKEND, KEYS(backend_keys)) ||
	       get_str(r, o, 0, NL_DF_BACKEND_NAME, 0, nl_desc_backend_problem, b->name,
		       sizeof b->name) ||
	       get_str(r, o, 0, NL_DF_BACKEND_CPU, 0, nl_desc_cpu_problem, b->cpu_model,
		       sizeof b->cpu_model) ||
	       get_uint(r, o, 0, NL_DF_BACKEND_IPS, 0, &b->ips) ||
	       get_u32(r, o, 0, NL_DF_BACKEND_MEMORY, &b->memory_mb) ||
	       get_u32(r, o, 0, NL_DF_BACKEND_TIMEOUT, &b->timeout_s) ? -1 : 0;
}

static int read_experiment(struct json_reader *r, json_t *o)
{
	struct nl_experiment *e = r->exp;
	json_t *backend, *vms;
	int bad = 0;

	if (check_keys(r, o, 0, NL_DF_EXPERIMENT, KEYS(experiment_keys)) ||
	    get_str(r, o, 0, NL_DF_NAME, 1, nl_desc_name_problem, e->name, sizeof e->name) ||
	    get_uint(r, o, 0, NL_DF_SEED, 0, &e->seed) ||
	    get_uint(r, o, 0, NL_DF_DURATION, 1, &e->duration_ms) ||
	    get_uint(r, o, 0, NL_DF_QUANTUM, 0, &e->quantum_us) ||
	    get_flag(r, o, 0, NL_DF_BENCH_NATIVE_LOOP, &e->flags, NL_MF_BENCH_NATIVE_LOOP))
		return -1;
	backend = get_object(r, o, 0, NL_DF_BACKEND, &bad);
	if (bad || (backend && read_backend(r, backend)))
		return -1;
	vms = member(r, o, 0, NL_DF_VMS, 1, &bad);
	if (!vms)
		return -1;
	if (!json_is_array(vms))
		return fail(r, 0, NL_DF_VMS, "expected an array, got %s", type_name(vms));
	return read_vms(r, vms, -1, "vms");
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
		return fail(r, 0, NL_DF_EXPERIMENT, "expected an object, got %s", type_name(o));
	return read_experiment(r, o);
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
