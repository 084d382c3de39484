/*
 * What both description readers share: defaults, value syntax (integers,
 * names, backend and CPU names) and diagnostics.  Keeping the rules here
 * makes an XML file and a JSON file with the same content fail with the
 * same words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"

#define MIB (1024ull * 1024ull)

void nl_desc_fmt(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

void nl_diag_set(struct nl_diag *d, const char *file, int line, const char *field,
		 const char *fmt, ...)
{
	va_list ap;

	snprintf(d->file, sizeof d->file, "%s", file ? file : "");
	d->line = line;
	snprintf(d->field, sizeof d->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof d->message, fmt, ap);
	va_end(ap);
	nl_defang(d->file);
	nl_defang(d->field);
	nl_defang(d->message);
}

/* Descriptions are a few KiB; anything past this is not one. */
#define DESC_FILE_MAX (16u * 1024u * 1024u)

char *nl_desc_slurp(const char *path, size_t *len, struct nl_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t used = 0, cap = 0;

	if (!f) {
		nl_diag_set(diag, path, 0, "", "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (cap - used < 4096) {
			char *bigger;

			cap = cap ? cap * 2 : 16384;
			bigger = cap <= DESC_FILE_MAX ? realloc(text, cap + 1) : NULL;
			if (!bigger) {
				nl_diag_set(diag, path, 0, "", cap > DESC_FILE_MAX ?
					    "larger than 16 MiB: not an experiment description" :
					    "out of memory reading it");
				goto fail;
			}
			text = bigger;
		}
		got = fread(text + used, 1, cap - used, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		nl_diag_set(diag, path, 0, "", "cannot read: %s", strerror(errno));
		goto fail;
	}
	fclose(f);
	text[used] = '\0';
	*len = used;
	return text;
fail:
	free(text);
	fclose(f);
	return NULL;
}

/* The table's defaults; the XML schema repeats them as attribute defaults (test_desc_fields.c). */
void nl_desc_defaults(struct nl_experiment *exp)
{
	nl_desc_begin(exp, NL_DK_EXPERIMENT, NL_DESC_TOP);
	nl_desc_begin(exp, NL_DK_BACKEND, NL_DESC_TOP);
}

int nl_desc_add_vm(struct nl_experiment *exp, int parent, int line)
{
	struct nl_vm_desc *vm;

	if (exp->vm_count >= NL_MAX_VMS)
		return -1;
	vm = &exp->vms[exp->vm_count];
	memset(vm, 0, sizeof *vm);
	vm->kind = NL_VM_LEAF;
	nl_desc_begin(exp, NL_DK_VM, exp->vm_count);
	nl_desc_begin(exp, NL_DK_FEATURES, exp->vm_count);
	nl_desc_begin(exp, NL_DK_WORKLOAD, exp->vm_count);
	vm->parent = parent;
	vm->line = line;
	/* A VM with children runs a VMM: the parent's kind follows from its first child. */
	if (parent >= 0)
		exp->vms[parent].kind = NL_VM_VMM;
	return (int)exp->vm_count++;
}

int nl_desc_add_item(struct nl_experiment *exp, enum nl_desc_kind k, int owner)
{
	unsigned *count = k == NL_DK_IRQ ? &exp->irq_count : &exp->route_count;
	unsigned i = *count;

	if (exp->irq_count + exp->route_count >= NL_IRQ_MAX)
		return -1;
	/* Zeroed whole, padding too: the models of two files are compared with memcmp. */
	if (k == NL_DK_IRQ) {
		memset(&exp->irqs[i], 0, sizeof exp->irqs[i]);
		exp->irqs[i].owner = owner;
	} else {
		memset(&exp->routes[i], 0, sizeof exp->routes[i]);
		exp->routes[i].owner = owner;
	}
	nl_desc_begin(exp, k, i);
	*count = i + 1;
	return (int)i;
}

const char *nl_desc_parse_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return "is not an unsigned integer (decimal or 0x hex)";
	for (; *p; p++) {
		unsigned digit;

		if (*p >= '0' && *p <= '9')
			digit = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			digit = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			digit = (unsigned)(*p - 'A' + 10);
		else
			return "is not an unsigned integer (decimal or 0x hex)";
		if (v > (UINT64_MAX - digit) / base)
			return "does not fit in 64 bits";
		v = v * base + digit;
	}
	*out = v;
	return NULL;
}

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

const char *nl_desc_name_problem(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return "is empty (a name has 1 to 31 characters from [A-Za-z0-9_-])";
	if (len > NL_NAME_MAX - 1)
		return "is longer than 31 characters";
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return "has a character outside [A-Za-z0-9_-]";
	return NULL;
}

int nl_desc_name_ok(const char *s)
{
	return nl_desc_name_problem(s) == NULL;
}

const char *nl_desc_backend_problem(const char *s)
{
	if (strcmp(s, "bochs") && strcmp(s, "qemu"))
		return "is not a backend (bochs or qemu)";
	return NULL;
}

const char *nl_desc_cpu_problem(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > NL_CPU_MODEL_MAX - 1)
		return "is not a CPU model name of 1 to 31 characters";
	/* It is written into a bochsrc line: nothing that could end or extend the option. */
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return "has a character outside [a-z0-9_]";
	return NULL;
}

void nl_desc_copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

/* Saturating: an absurd size must fail the range check, not wrap into a small one. */
uint64_t nl_desc_mib_to_bytes(uint64_t mib)
{
	return mib > UINT64_MAX / MIB ? UINT64_MAX : mib * MIB;
}
