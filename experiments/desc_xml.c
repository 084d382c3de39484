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
	/* The element of each kind per VM, the experiment's own at [NL_MAX_VMS]; NULL when omitted. */
	xmlNodePtr node[NL_MAX_VMS + 1][NL_DK_COUNT];
	/* The element of each item, by kind (nl_desc_item_slot) and index in the model. */
	xmlNodePtr item[NL_DK_ITEM_KINDS][NL_IRQ_MAX];
};

/* The slot of node[] for VM vm, or for the experiment's own elements. */
static unsigned slot_of(enum nl_desc_kind k, unsigned vm)
{
	return nl_desc_kind_in_vm(k, vm) && vm < NL_MAX_VMS ? vm : NL_MAX_VMS;
}

static int is_element(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name);
}

static int line_of(xmlNodePtr n)
{
	long line = n ? xmlGetLineNo(n) : 0;

	return line > 0 ? (int)line : 0;
}

/* An item's place among the siblings of its name, from 1 as XPath counts: irq[2]. */
static unsigned item_position(xmlNodePtr n)
{
	unsigned pos = 1;

	for (xmlNodePtr p = n->prev; p; p = p->prev)
		pos += is_element(p, (const char *)n->name);
	return pos;
}

static int is_item_element(xmlNodePtr n)
{
	int k = nl_desc_kind_of_xml((const char *)n->name);

	return k >= 0 && nl_desc_kind_is_item((enum nl_desc_kind)k);
}

/*
 * "experiment/vm[hv1]/vm[vm0]": element names from the root, VMs told apart
 * by name, items by position ("experiment/vm[hv1]/route[2]").
 */
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
	else if (is_item_element(n))
		used += (size_t)snprintf(buf + used, cap - used, "%s[%u]", (const char *)n->name,
					 item_position(n));
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

/* A field of item i: its element's path, and the element's line (an attribute has none of its own). */
static void item_locate(const struct xml_source *x, unsigned i, const struct nl_desc_field_info *r,
			char *field, size_t cap, int *line)
{
	xmlNodePtr n = x->item[nl_desc_item_slot(r->kind)][i < NL_IRQ_MAX ? i : 0];
	size_t used = element_path(n, field, cap);

	if (r->type != NL_FT_WHOLE && used < cap)
		snprintf(field + used, cap - used, "/@%s", r->xml);
	*line = line_of(n);
}

static void xml_locate(const struct nl_desc_source *src, unsigned vm, enum nl_desc_field f,
		       char *field, size_t cap, int *line)
{
	const struct xml_source *x = src->priv;
	const struct nl_desc_field_info *r = nl_desc_field(f);
	enum nl_desc_kind k = r->kind;
	unsigned at_slot = slot_of(k, vm);

	if (nl_desc_kind_is_item(k)) {
		item_locate(x, vm, r, field, cap, line);
		return;
	}
	/* The element that owns the field's element: a VM, or the experiment. */
	xmlNodePtr owner = k == NL_DK_VM || k == NL_DK_EXPERIMENT ? x->node[at_slot][k] :
		x->node[at_slot][nl_desc_kind_in_vm(k, vm) ? NL_DK_VM : NL_DK_EXPERIMENT];
	xmlNodePtr at = x->node[at_slot][k] ? x->node[at_slot][k] : owner;
	size_t used;

	used = element_path(owner, field, cap);
	/* A field of an element that is not there (a default): name it where it would be. */
	if (k != NL_DK_VM && k != NL_DK_EXPERIMENT && used < cap)
		used += (size_t)snprintf(field + used, cap - used, "/%s", nl_desc_group_row(k, vm)->xml);
	if (nl_desc_type_is_nested(r->type)) {
		xmlNodePtr child = r->type == NL_FT_LIST ? first_child_vm(at) :
			r->type == NL_FT_GROUP ? x->node[slot_of(r->child, vm)][r->child] : NULL;

		if (used < cap)
			snprintf(field + used, cap - used, "/%s", r->xml);
		if (child)
			at = child;
	} else if (r->type != NL_FT_WHOLE && used < cap) {
		snprintf(field + used, cap - used, "/@%s", r->xml);
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

/* Every attribute of kind k's element n into the model; an absent one keeps its default. */
static int read_values(const struct xml_reader *r, xmlNodePtr n, enum nl_desc_kind k, unsigned vm)
{
	void *base = nl_desc_base(r->exp, k, vm);

	for (unsigned f = 0; f < NL_DF_COUNT; f++) {
		const struct nl_desc_field_info *row = nl_desc_field(f);
		char *s, why[256];
		const char *bad;

		if (row->kind != k || row->type == NL_FT_WHOLE || nl_desc_type_is_nested(row->type))
			continue;
		s = (char *)xmlGetProp(n, (const xmlChar *)row->xml);
		if (!s)
			continue;
		bad = nl_desc_store_text(row, base, s, why, sizeof why);
		if (bad)
			fail(r, vm, f, "'%s' %s", s, bad);
		xmlFree(s);
		if (bad)
			return -1;
	}
	return 0;
}

static int read_vm(struct xml_reader *r, xmlNodePtr n, int parent);

/* An element past what a manifest holds (VMs, items): named by its path, as no field of it exists. */
static int too_many(const struct xml_reader *r, xmlNodePtr n, const char *message)
{
	char path[sizeof r->diag->field];

	element_path(n, path, sizeof path);
	nl_diag_set(r->diag, r->x->file, line_of(n), path, "%s", message);
	return -1;
}

/* An <irq> or <route> of the VMM of VM owner (-1: L0). */
static int read_item(struct xml_reader *r, xmlNodePtr n, enum nl_desc_kind k, int owner)
{
	int i = nl_desc_add_item(r->exp, k, owner);

	if (i < 0)
		return too_many(r, n, NL_DESC_TOO_MANY_ITEMS);
	r->x->item[nl_desc_item_slot(k)][i] = n;
	return read_values(r, n, k, (unsigned)i);
}

/* The GROUP, LIST or ITEMS row of kind k that child element c is, or NULL. */
static const struct nl_desc_field_info *nested_row(enum nl_desc_kind k, xmlNodePtr c)
{
	for (unsigned f = 0; c->type == XML_ELEMENT_NODE && f < NL_DF_COUNT; f++) {
		const struct nl_desc_field_info *row = nl_desc_field(f);

		if (row->kind == k && nl_desc_type_is_nested(row->type) &&
		    !xmlStrcmp(c->name, (const xmlChar *)row->xml))
			return row;
	}
	return NULL;
}

/*
 * The child elements of n (of kind k): groups of fields and items first,
 * child VMs after, so that a VMM's own items come before its VMs' however
 * the file interleaves them, as the JSON reader reads them.
 */
static int read_children(struct xml_reader *r, xmlNodePtr n, enum nl_desc_kind k, unsigned vm)
{
	int owner = vm == NL_DESC_TOP ? -1 : (int)vm;

	for (int vms = 0; vms < 2; vms++) {
		for (xmlNodePtr c = n->children; c; c = c->next) {
			const struct nl_desc_field_info *row = nested_row(k, c);
			int rc;

			if (!row || (row->type == NL_FT_LIST) != vms)
				continue;
			if (row->type == NL_FT_LIST) {
				rc = read_vm(r, c, owner);
			} else if (row->type == NL_FT_ITEMS) {
				rc = read_item(r, c, row->child, owner);
			} else {
				r->x->node[slot_of(row->child, vm)][row->child] = c;
				nl_desc_begin_given(r->exp, row->child, vm);
				rc = read_values(r, c, row->child, vm);
			}
			if (rc)
				return -1;
		}
	}
	return 0;
}

static int read_vm(struct xml_reader *r, xmlNodePtr n, int parent)
{
	int i = nl_desc_add_vm(r->exp, parent, line_of(n));

	if (i < 0)
		return too_many(r, n, NL_DESC_TOO_MANY_VMS);
	r->x->node[i][NL_DK_VM] = n;
	return read_values(r, n, NL_DK_VM, (unsigned)i) || read_children(r, n, NL_DK_VM, (unsigned)i) ?
		-1 : 0;
}

static int read_experiment(struct xml_reader *r, xmlNodePtr n)
{
	r->x->node[NL_MAX_VMS][NL_DK_EXPERIMENT] = n;
	return read_values(r, n, NL_DK_EXPERIMENT, NL_DESC_TOP) ||
	       read_children(r, n, NL_DK_EXPERIMENT, NL_DESC_TOP) ? -1 : 0;
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

/* An attribute the element may not have: say which it may, as the JSON reader does for keys. */
static void allowed_attributes(xmlNodePtr n, const xmlError *err, char *message, size_t cap)
{
	int k = n && n->type == XML_ELEMENT_NODE ? nl_desc_kind_of_xml((const char *)n->name) : -1;
	size_t used = strlen(message);
	char names[256];

	if (k < 0 || !err->message || !strstr(err->message, "attribute '") ||
	    !strstr(err->message, "is not allowed"))
		return;
	nl_desc_names_of((enum nl_desc_kind)k, 1, names, sizeof names);
	while (used > 0 && message[used - 1] == '.')
		message[--used] = '\0';
	if (used < cap)
		snprintf(message + used, cap - used, " (expected one of: %s)", names);
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
	allowed_attributes(n, err, message, sizeof message);
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
