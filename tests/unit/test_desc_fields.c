/*
 * The description-field table (experiments/desc_fields.def) and the XML
 * schema (configs/nestlab.xsd) say the same: every attribute of every
 * element is a row of that element's kind with the same default and the
 * same "required", every child element a GROUP/LIST row, every enumeration
 * the row's names — and configs/README.md documents every field.
 */
#include <CUnit/CUnit.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc_fields.h"

static const char *src_file(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("NESTLAB_SRCDIR");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", rel);
	return path;
}

static int is_xs(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, (const xmlChar *)name);
}

/* A property as a C string that stays valid until the next call (NULL when absent). */
static const char *prop(xmlNodePtr n, const char *name)
{
	static char buf[256];
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	snprintf(buf, sizeof buf, "%s", (const char *)v);
	xmlFree(v);
	return buf;
}

static xmlNodePtr simple_type(xmlNodePtr schema, const char *name)
{
	for (xmlNodePtr c = schema->children; c; c = c->next) {
		const char *n = is_xs(c, "simpleType") ? prop(c, "name") : NULL;
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static const struct nl_desc_field_info *row_of(enum nl_desc_kind k, const char *xml, int nested)
{
	for (unsigned f = 0; f < NL_DF_COUNT; f++) {
		const struct nl_desc_field_info *r = nl_desc_field(f);
		int is_nested = nl_desc_type_is_nested(r->type);
		if (r->kind == k && r->type != NL_FT_WHOLE && is_nested == nested && !strcmp(r->xml, xml))
			return r;
	}
	return NULL;
}

static void expect_enum(xmlNodePtr schema, const char *type, const struct nl_desc_field_info *r)
{
	xmlNodePtr st = simple_type(schema, type);
	unsigned seen = 0, want = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	while (r->names[want].name)
		want++;
	for (xmlNodePtr c = st->children; c; c = c->next) {
		if (!is_xs(c, "restriction"))
			continue;
		for (xmlNodePtr e = c->children; e; e = e->next) {
			if (!is_xs(e, "enumeration"))
				continue;
			const char *v = prop(e, "value");
			CU_ASSERT(seen < want && !strcmp(v, r->names[seen].name));
			seen++;
		}
	}
	CU_ASSERT_EQUAL(seen, want);
}

/* The child elements of a sequence, and of the choices in it (VMs and items interleave): rows of kind k. */
static unsigned check_children(xmlNodePtr particle, enum nl_desc_kind k)
{
	unsigned covered = 0;
	for (xmlNodePtr e = particle->children; e; e = e->next) {
		if (is_xs(e, "choice")) {
			covered += check_children(e, k);
			continue;
		}
		if (!is_xs(e, "element"))
			continue;
		const struct nl_desc_field_info *r = row_of(k, prop(e, "name"), 1);
		CU_ASSERT_PTR_NOT_NULL(r);
		covered += r != NULL;
	}
	return covered;
}

/* One complexType against the rows of kind k; returns how many rows it covered. */
static unsigned check_type(xmlNodePtr schema, xmlNodePtr type, enum nl_desc_kind k)
{
	unsigned covered = 0;
	for (xmlNodePtr c = type->children; c; c = c->next) {
		if (is_xs(c, "attribute")) {
			char name[256], dflt[256] = "", use[256] = "", t[256] = "";
			snprintf(name, sizeof name, "%s", prop(c, "name"));
			if (prop(c, "default"))
				snprintf(dflt, sizeof dflt, "%s", prop(c, "default"));
			if (prop(c, "use"))
				snprintf(use, sizeof use, "%s", prop(c, "use"));
			snprintf(t, sizeof t, "%s", prop(c, "type"));
			const struct nl_desc_field_info *r = row_of(k, name, 0);
			if (!r) {
				fprintf(stderr, "\n  nestlab.xsd: attribute '%s' has no row in desc_fields.def\n", name);
				CU_FAIL("an XSD attribute without a row");
				continue;
			}
			covered++;
			CU_ASSERT_STRING_EQUAL(dflt, r->dflt ? r->dflt : "");
			CU_ASSERT_EQUAL(!strcmp(use, "required"), r->required);
			if (nl_desc_type_is_uint(r->type))
				CU_ASSERT_STRING_EQUAL(t, "uint");
			if (r->type == NL_FT_FLAG)
				CU_ASSERT(!strcmp(t, "onOff") || !strcmp(t, "xs:boolean"));
			if (r->type == NL_FT_NAME)
				CU_ASSERT_STRING_EQUAL(t, "name");
			if (r->type == NL_FT_ENUM)
				expect_enum(schema, t, r);
		} else if (is_xs(c, "sequence")) {
			covered += check_children(c, k);
		}
	}
	return covered;
}

static void test_xsd_agrees(void)
{
	xmlDocPtr doc = xmlReadFile(src_file("configs/nestlab.xsd"), NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	xmlNodePtr schema = xmlDocGetRootElement(doc);
	unsigned covered[NL_DK_COUNT] = { 0 }, types = 0;
	for (xmlNodePtr c = schema->children; c; c = c->next) {
		xmlNodePtr type = NULL;
		char name[256] = "";
		if (is_xs(c, "complexType")) {
			type = c;
			snprintf(name, sizeof name, "%s", prop(c, "name"));
		} else if (is_xs(c, "element")) {
			snprintf(name, sizeof name, "%s", prop(c, "name"));
			for (xmlNodePtr t = c->children; t; t = t->next)
				if (is_xs(t, "complexType"))
					type = t;
		}
		if (!type)
			continue;
		int k = nl_desc_kind_of_xml(name);
		CU_ASSERT_FATAL(k >= 0);
		covered[k] = check_type(schema, type, (enum nl_desc_kind)k);
		types++;
	}
	CU_ASSERT_EQUAL(types, NL_DK_COUNT);
	/* ... and no row is missing from the schema. */
	for (unsigned k = 0; k < NL_DK_COUNT; k++) {
		unsigned rows = 0;
		for (unsigned f = 0; f < NL_DF_COUNT; f++)
			rows += nl_desc_field(f)->kind == k && nl_desc_field(f)->type != NL_FT_WHOLE;
		CU_ASSERT_EQUAL(covered[k], rows);
	}
	xmlFreeDoc(doc);
}

/* configs/README.md's field table names every field in both spellings (items: `irq/@line`, `irqs[i].line`). */
static void test_readme_documents_every_field(void)
{
	FILE *f = fopen(src_file("configs/README.md"), "r");
	static char text[65536];
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	text[fread(text, 1, sizeof text - 1, f)] = '\0';
	fclose(f);
	for (unsigned i = 0; i < NL_DF_COUNT; i++) {
		const struct nl_desc_field_info *r = nl_desc_field(i);
		char xml[96], json[96];
		if (r->type == NL_FT_WHOLE || r->type == NL_FT_LIST)
			continue;
		snprintf(xml, sizeof xml, r->type == NL_FT_GROUP || r->type == NL_FT_ITEMS ? "%s/" : "@%s`", r->xml);
		snprintf(json, sizeof json, r->type == NL_FT_GROUP ? "%s." : r->type == NL_FT_ITEMS ? "%s[" : "%s`",
			 r->json);
		if (!strstr(text, xml) || !strstr(text, json))
			fprintf(stderr, "\n  configs/README.md does not document %s / %s\n", r->xml, r->json);
		CU_ASSERT_PTR_NOT_NULL(strstr(text, xml));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, json));
	}
}

void register_suite_desc_fields(void)
{
	CU_pSuite s = CU_add_suite("desc_fields", NULL, NULL);
	CU_add_test(s, "nestlab.xsd and the field table agree", test_xsd_agrees);
	CU_add_test(s, "configs/README.md documents every field", test_readme_documents_every_field);
}
