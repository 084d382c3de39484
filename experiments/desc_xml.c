/*
 * The XML reader: libxml2 parses the file, the schema built into the binary
 * (configs/nestlab.xsd, see schema.S) validates it, and a walk of the tree
 * fills the model.  The tree is kept until the semantic checks are done so
 * that their complaints can name the element's line and its path, e.g.
 * "experiment/vm[vm0]/@memory-mb".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "desc.h"

/* configs/nestlab.xsd, embedded by experiments/schema.S. */
extern const char nl_schema_xsd[];
extern const char nl_schema_xsd_end[];

/* The schema's patterns, to turn libxml2's "[facet 'pattern']" messages into plain words. */
#define XSD_UINT_PATTERN "[0-9]+|0[xX][0-9a-fA-F]+"
#define XSD_NAME_PATTERN "[A-Za-z0-9_\\-]{1,31}"
#define XSD_CPU_PATTERN  "[a-z0-9_]{1,31}"

struct xml_source {
	const char *file;
	xmlDocPtr doc;
	xmlNodePtr experiment;
	xmlNodePtr backend;                /* NULL when omitted */
	xmlNodePtr vm[NL_MAX_VMS];
	xmlNodePtr features[NL_MAX_VMS];   /* NULL when omitted */
	xmlNodePtr workload[NL_MAX_VMS];   /* NULL when omitted */
};

/* The attribute that holds each field; groups say which element carries it. */
static const char *const xml_attr[NL_DF_COUNT] = {
	[NL_DF_NAME] = "name",
	[NL_DF_SEED] = "seed",
	[NL_DF_DURATION] = "duration-ms",
	[NL_DF_QUANTUM] = "quantum-us",
	[NL_DF_BENCH_NATIVE_LOOP] = "bench-native-loop",
	[NL_DF_BACKEND_NAME] = "name",
	[NL_DF_BACKEND_CPU] = "cpu",
	[NL_DF_BACKEND_IPS] = "ips",
	[NL_DF_BACKEND_MEMORY] = "memory-mb",
	[NL_DF_BACKEND_TIMEOUT] = "timeout-s",
	[NL_DF_VM_NAME] = "name",
	[NL_DF_VM_IMAGE] = "image",
	[NL_DF_VM_MEMORY] = "memory-mb",
	[NL_DF_VM_VMX] = "vmx",
	[NL_DF_VM_EPT] = "ept",
	[NL_DF_VM_VPID] = "vpid",
	[NL_DF_VM_VMCS_SHADOWING] = "vmcs-shadowing",
	[NL_DF_VM_SINGLE_STEP] = "single-step",
	[NL_DF_VM_ITERATIONS] = "iterations",
	[NL_DF_VM_HYPERCALLS] = "hypercalls",
	[NL_DF_VM_TOUCH_PAGES] = "touch-pages",
	[NL_DF_VM_TOUCH_ADDR] = "touch-addr",
};

static int is_element(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name);
}

static int line_of(xmlNodePtr n)
{
	long line = n ? xmlGetLineNo(n) : 0;

	return line > 0 ? (int)line : 0;
}

/* "experiment/vm[hv1]/vm[vm0]": element names from the root, VMs told apart by name. */
static size_t element_path(xmlNodePtr n, char *buf, size_t cap)
{
	size_t used = 0;
	xmlChar *name;

	if (!n || n->type != XML_ELEMENT_NODE)
		return 0;
	if (n->parent && n->parent->type == XML_ELEMENT_NODE) {
		used = element_path(n->parent, buf, cap);
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, "/");
	}
	if (used >= cap)
		return used;
	name = is_element(n, "vm") ? xmlGetProp(n, (const xmlChar *)"name") : NULL;
	if (name)
		used += (size_t)snprintf(buf + used, cap - used, "%s[%s]", (const char *)n->name,
					 (const char *)name);
	else
		used += (size_t)snprintf(buf + used, cap - used, "%s", (const char *)n->name);
	xmlFree(name);
	return used;
}

static xmlNodePtr first_child_vm(xmlNodePtr n)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_element(c, "vm"))
			return c;
	return NULL;
}

static void xml_locate(const struct nl_desc_source *src, unsigned vm, enum nl_desc_field f,
		       char *field, size_t cap, int *line)
{
	const struct xml_source *x = src->priv;
	xmlNodePtr at = x->experiment;  /* the element whose line we report */
	xmlNodePtr owner = x->experiment;
	const char *group = "";
	size_t used;

	if (vm >= NL_MAX_VMS)
		vm = 0;
	switch (nl_desc_group_of(f)) {
	case NL_DG_EXPERIMENT:
		break;
	case NL_DG_BACKEND:
		group = "/backend";
		if (x->backend) {
			at = x->backend;
			group = "";
			owner = x->backend;
		}
		break;
	case NL_DG_VM:
		at = owner = x->vm[vm];
		break;
	case NL_DG_FEATURES:
		at = owner = x->vm[vm];
		group = "/features";
		if (x->features[vm])
			at = x->features[vm];
		break;
	case NL_DG_WORKLOAD:
		at = owner = x->vm[vm];
		group = "/workload";
		if (x->workload[vm])
			at = x->workload[vm];
		break;
	}
	used = element_path(owner, field, cap);
	if (used < cap)
		used += (size_t)snprintf(field + used, cap - used, "%s", group);
	if (f == NL_DF_VMS || f == NL_DF_VM_CHILDREN) {
		if (used < cap)
			snprintf(field + used, cap - used, "/vm");
		if (first_child_vm(owner))
			at = first_child_vm(owner);
	} else if (xml_attr[f] && used < cap) {
		snprintf(field + used, cap - used, "/@%s", xml_attr[f]);
	}
	*line = line_of(at);
}

static void xml_release(struct nl_desc_source *src)
{
	struct xml_source *x = src->priv;

	if (x) {
		xmlFreeDoc(x->doc);
		free(x);
	}
	src->priv = NULL;
}

/* Reader state while the tree is walked. */
struct xml_reader {
	struct nl_experiment *exp;
	struct nl_desc_source *src;
	struct xml_source *x;
	struct nl_diag *diag;
};

static int fail(const struct xml_reader *r, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(const struct xml_reader *r, unsigned vm, enum nl_desc_field f, const char *fmt, ...)
{
	char field[sizeof r->diag->field];
	char message[sizeof r->diag->message];
	int line = 0;
	va_list ap;

	xml_locate(r->src, vm, f, field, sizeof field, &line);
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	nl_diag_set(r->diag, r->x->file, line, field, "%s", message);
	return -1;
}

/* An attribute's value, or NULL when absent; free with xmlFree. */
static char *attr(xmlNodePtr n, enum nl_desc_field f)
{
	return n ? (char *)xmlGetProp(n, (const xmlChar *)xml_attr[f]) : NULL;
}

/* An unsigned attribute into *out; an absent one leaves *out (the default) alone. */
static int get_uint(const struct xml_reader *r, xmlNodePtr n, unsigned vm, enum nl_desc_field f,
		    uint64_t *out)
{
	char *s = attr(n, f);
	const char *why;
	int rc = 0;

	if (!s)
		return 0;
	why = nl_desc_parse_uint(s, out);
	if (why)
		rc = fail(r, vm, f, "'%s' %s", s, why);
	xmlFree(s);
	return rc;
}

/* 32-bit fields saturate so that the range checks see a too-large value as one. */
static int get_u32(const struct xml_reader *r, xmlNodePtr n, unsigned vm, enum nl_desc_field f,
		   uint32_t *out)
{
	uint64_t v = *out;
	int rc = get_uint(r, n, vm, f, &v);

	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return rc;
}

/* A name-like attribute: problem() says what is wrong with a value, if anything. */
static int get_str(const struct xml_reader *r, xmlNodePtr n, unsigned vm, enum nl_desc_field f,
		   const char *(*problem)(const char *), char *dst, size_t cap)
{
	char *s = attr(n, f);
	const char *why;
	int rc = 0;

	if (!s)
		return 0;
	why = problem(s);
	if (why)
		rc = fail(r, vm, f, "'%s' %s", s, why);
	else
		nl_desc_copy_str(dst, cap, s);
	xmlFree(s);
	return rc;
}

/* on/off (features) or true/false/1/0 (xs:boolean); the schema has already checked which. */
static int get_flag(const struct xml_reader *r, xmlNodePtr n, unsigned vm, enum nl_desc_field f,
		    uint32_t *flags, uint32_t bit)
{
	char *s = attr(n, f);
	int rc = 0;

	if (!s)
		return 0;
	if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "1"))
		*flags |= bit;
	else if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "0"))
		*flags &= ~bit;
	else
		rc = fail(r, vm, f, "'%s' is neither on/true/1 nor off/false/0", s);
	xmlFree(s);
	return rc;
}

static int read_vm(struct xml_reader *r, xmlNodePtr n, int parent)
{
	struct nl_vm_desc *vm;
	uint64_t memory_mb = 0;
	uint32_t offer_vmx = 0;
	int i = nl_desc_add_vm(r->exp, parent, line_of(n));

	if (i < 0) {
		char path[sizeof r->diag->field];

		element_path(n, path, sizeof path);
		nl_diag_set(r->diag, r->x->file, line_of(n), path, NL_DESC_TOO_MANY_VMS);
		return -1;
	}
	vm = &r->exp->vms[i];
	r->x->vm[i] = n;
	if (get_str(r, n, i, NL_DF_VM_NAME, nl_desc_name_problem, vm->name, sizeof vm->name) ||
	    get_str(r, n, i, NL_DF_VM_IMAGE, nl_desc_name_problem, vm->image, sizeof vm->image) ||
	    get_uint(r, n, i, NL_DF_VM_MEMORY, &memory_mb) ||
	    get_flag(r, n, i, NL_DF_VM_VMX, &offer_vmx, 1))
		return -1;
	vm->memory_bytes = nl_desc_mib_to_bytes(memory_mb);
	if (offer_vmx)
		vm->kind = NL_VM_VMM;

	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (is_element(c, "features")) {
			r->x->features[i] = c;
			if (get_flag(r, c, i, NL_DF_VM_EPT, &vm->features, NL_FEAT_EPT) ||
			    get_flag(r, c, i, NL_DF_VM_VPID, &vm->features, NL_FEAT_VPID) ||
			    get_flag(r, c, i, NL_DF_VM_VMCS_SHADOWING, &vm->features,
				     NL_FEAT_VMCS_SHADOW) ||
			    get_uint(r, c, i, NL_DF_VM_SINGLE_STEP, &vm->single_steps))
				return -1;
		} else if (is_element(c, "workload")) {
			r->x->workload[i] = c;
			if (get_uint(r, c, i, NL_DF_VM_ITERATIONS, &vm->workload.iterations) ||
			    get_uint(r, c, i, NL_DF_VM_HYPERCALLS, &vm->workload.hypercalls) ||
			    get_uint(r, c, i, NL_DF_VM_TOUCH_PAGES, &vm->workload.touch_pages) ||
			    get_uint(r, c, i, NL_DF_VM_TOUCH_ADDR, &vm->workload.touch_addr))
				return -1;
		} else if (is_element(c, "vm")) {
			if (read_vm(r, c, i))
				return -1;
		}
	}
	return 0;
}

static int read_backend(struct xml_reader *r, xmlNodePtr n)
{
	struct nl_backend_desc *b = &r->exp->backend;

	r->x->backend = n;
	return get_str(r, n, 0, NL_DF_BACKEND_NAME, nl_desc_backend_problem, b->name,
		       sizeof b->name) ||
	       get_str(r, n, 0, NL_DF_BACKEND_CPU, nl_desc_cpu_problem, b->cpu_model,
		       sizeof b->cpu_model) ||
	       get_uint(r, n, 0, NL_DF_BACKEND_IPS, &b->ips) ||
	       get_u32(r, n, 0, NL_DF_BACKEND_MEMORY, &b->memory_mb) ||
	       get_u32(r, n, 0, NL_DF_BACKEND_TIMEOUT, &b->timeout_s) ? -1 : 0;
}

static int read_experiment(struct xml_reader *r, xmlNodePtr n)
{
	struct nl_experiment *e = r->exp;

	r->x->experiment = n;
	if (get_str(r, n, 0, NL_DF_NAME, nl_desc_name_problem, e->name, sizeof e->name) ||
	    get_uint(r, n, 0, NL_DF_SEED, &e->seed) ||
	    get_uint(r, n, 0, NL_DF_DURATION, &e->duration_ms) ||
	    get_uint(r, n, 0, NL_DF_QUANTUM, &e->quantum_us) ||
	    get_flag(r, n, 0, NL_DF_BENCH_NATIVE_LOOP, &e->flags, NL_MF_BENCH_NATIVE_LOOP))
		return -1;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (is_element(c, "backend") && read_backend(r, c))
			return -1;
		if (is_element(c, "vm") && read_vm(r, c, -1))
			return -1;
	}
	return 0;
}

/* The first error libxml2 reports, as a diag; later ones are usually its consequences. */
struct xml_errors {
	const char *file;
	struct nl_diag *diag;
	int seen;
};

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void on_parse_error(void *ctx, xmlErrorPtr err)
{
	struct xml_errors *e = ctx;

	if (e->seen || err->level < XML_ERR_ERROR)
		return;
	e->seen = 1;
	nl_diag_set(e->diag, e->file, err->line, "syntax", "%s",
		    err->message ? err->message : "malformed XML");
	chomp(e->diag->message);
}

/*
 * libxml2 says "Element 'vm', attribute 'memory-mb': <what>"; the field
 * already names the element and the attribute, so keep only <what>, in plain
 * words where it is one of our own patterns.
 */
static void schema_message(const xmlError *err, char *out, size_t cap)
{
	const char *msg = err->message ? err->message : "does not match the schema";
	const char *value = err->str1 ? err->str1 : "";
	const char *sep;

	if (err->str2 && strstr(msg, "[facet 'pattern']")) {
		if (!strcmp(err->str2, XSD_UINT_PATTERN)) {
			snprintf(out, cap, "'%s' is not an unsigned integer (decimal or 0x hex)", value);
			return;
		}
		if (!strcmp(err->str2, XSD_NAME_PATTERN)) {
			snprintf(out, cap, "'%s' is not a name (1 to 31 characters from [A-Za-z0-9_-])",
				 value);
			return;
		}
		if (!strcmp(err->str2, XSD_CPU_PATTERN)) {
			snprintf(out, cap, "'%s' is not a CPU model name (1 to 31 characters from [a-z0-9_])",
				 value);
			return;
		}
	}
	sep = !strncmp(msg, "Element '", 9) ? strstr(msg, "': ") : NULL;
	snprintf(out, cap, "%s", sep ? sep + 3 : msg);
	chomp(out);
}

static void on_schema_error(void *ctx, xmlErrorPtr err)
{
	struct xml_errors *e = ctx;
	char field[sizeof e->diag->field] = "";
	char message[sizeof e->diag->message];
	const char *a;
	size_t used;
	xmlNodePtr n = err->node;

	if (e->seen || err->level < XML_ERR_ERROR)
		return;
	e->seen = 1;
	if (n && n->type == XML_ATTRIBUTE_NODE)
		n = n->parent;
	used = element_path(n, field, sizeof field);
	/* Both "attribute 'x': ..." and "The attribute 'x' is required" name it this way. */
	a = err->message ? strstr(err->message, "attribute '") : NULL;
	if (a && used < sizeof field) {
		const char *end = strchr(a + 11, '\'');

		if (end)
			snprintf(field + used, sizeof field - used, "/@%.*s", (int)(end - (a + 11)),
				 a + 11);
	}
	schema_message(err, message, sizeof message);
	nl_diag_set(e->diag, e->file, n ? line_of(n) : err->line, field, "%s", message);
}

static int validate(const char *path, xmlDocPtr doc, struct nl_diag *diag)
{
	struct xml_errors errs = { .file = path, .diag = diag };
	xmlSchemaParserCtxtPtr pctx;
	xmlSchemaPtr schema = NULL;
	xmlSchemaValidCtxtPtr vctx = NULL;
	int rc = -1;

	pctx = xmlSchemaNewMemParserCtxt(nl_schema_xsd, (int)(nl_schema_xsd_end - nl_schema_xsd));
	if (pctx)
		schema = xmlSchemaParse(pctx);
	if (schema)
		vctx = xmlSchemaNewValidCtxt(schema);
	if (!vctx) {
		nl_diag_set(diag, path, 0, "", "internal error: the built-in schema does not load");
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vctx, on_schema_error, &errs);
	/* Fill in the schema's attribute defaults, so the schema is where XML defaults live. */
	xmlSchemaSetValidOptions(vctx, XML_SCHEMA_VAL_VC_I_CREATE);
	rc = xmlSchemaValidateDoc(vctx, doc);
	if (rc != 0) {
		if (!errs.seen)
			nl_diag_set(diag, path, 0, "", "does not match the schema");
		rc = -1;
	}
out:
	xmlSchemaFreeValidCtxt(vctx);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctx);
	return rc;
}

/* libxml2 keeps no line for the DTD: find "<!DOCTYPE" in the text. */
static int doctype_line(const char *text, size_t len)
{
	int line = 1;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			line++;
		else if (text[i] == '<' && len - i >= 9 && !memcmp(text + i, "<!DOCTYPE", 9))
			return line;
	}
	return 0;
}

static xmlDocPtr parse(const char *path, const char *text, size_t len, struct nl_diag *diag)
{
	struct xml_errors errs = { .file = path, .diag = diag };
	xmlParserCtxtPtr ctx;
	xmlDocPtr doc = NULL;

	if (len > INT32_MAX) {
		nl_diag_set(diag, path, 0, "", "too large");
		return NULL;
	}
	ctx = xmlNewParserCtxt();
	if (!ctx) {
		nl_diag_set(diag, path, 0, "", "out of memory");
		return NULL;
	}
	/* Silence libxml2's own printing: the first error becomes our diag instead. */
	xmlSetStructuredErrorFunc(&errs, on_parse_error);
	/* No network, no entity expansion, and line numbers past 65535 kept exact. */
	doc = xmlCtxtReadMemory(ctx, text, (int)len, path, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				XML_PARSE_BIG_LINES);
	xmlSetStructuredErrorFunc(NULL, NULL);
	if (!doc || !ctx->wellFormed) {
		if (!errs.seen)
			nl_diag_set(diag, path, 0, "syntax", "malformed XML");
		xmlFreeDoc(doc);
		doc = NULL;
	} else if (doc->intSubset) {
		/*
		 * A description has no use for a DTD, and entities are how XML
		 * smuggles in other files: refuse them instead of reasoning about them.
		 */
		nl_diag_set(diag, path, doctype_line(text, len), "DOCTYPE",
			    "DOCTYPE declarations are not allowed in a description");
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctx);
	return doc;
}

int nl_desc_read_xml(const char *path, struct nl_experiment *exp, struct nl_desc_source *src,
		     struct nl_diag *diag)
{
	struct xml_source *x;
	struct xml_reader r;
	size_t len;
	char *text = nl_desc_slurp(path, &len, diag);
	xmlDocPtr doc;

	if (!text)
		return -1;
	doc = parse(path, text, len, diag);
	free(text);
	if (!doc)
		return -1;
	if (validate(path, doc, diag)) {
		xmlFreeDoc(doc);
		return -1;
	}
	x = calloc(1, sizeof *x);
	if (!x) {
		xmlFreeDoc(doc);
		nl_diag_set(diag, path, 0, "", "out of memory");
		return -1;
	}
	x->file = exp->source_path[0] ? exp->source_path : path;
	x->doc = doc;
	src->locate = xml_locate;
	src->release = xml_release;
	src->priv = x;
	r = (struct xml_reader){ .exp = exp, .src = src, .x = x, .diag = diag };
	if (read_experiment(&r, xmlDocGetRootElement(doc))) {
		xml_release(src);
		return -1;
	}
	return 0;
}
