/* What the backends share: lookup by name, path checks, log excerpts. */
#define _GNU_SOURCE
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#include "results.h"

const struct nl_backend *nl_backend_find(const char *name)
{
	static const struct nl_backend *const all[] = { &nl_backend_bochs, &nl_backend_qemu };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

int nl_backend_path_ok(const char *path, char *err, size_t cap)
{
	for (const char *p = path; *p; p++) {
		if (*p == ',' || *p == '"' || *p == '#') {
			nl_msgf(err, cap, "%s: the backend's configuration cannot carry a path with '%c' in it",
				 path, *p);
			return -1;
		}
		if (*p == '\n') {
			nl_msgf(err, cap, "the backend's configuration cannot carry a path with a newline in it");
			return -1;
		}
	}
	return 0;
}

/*
 * Print one line of a log or console, indented.  Control characters are
 * dropped: a guest's escape sequences must not clear or recolour the
 * user's terminal.
 */
static void print_line(FILE *out, const char *line, size_t len)
{
	fputs("  ", out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c >= 0x20 && c != 0x7f)
			fputc(c, out);
		else if (c == '\t')
			fputc(' ', out);
	}
	fputc('\n', out);
}

static int contains_any(const char *line, const char *const list[])
{
	for (const char *const *n = list; *n; n++)
		if (strcasestr(line, *n))
			return 1;
	return 0;
}

unsigned nl_backend_grep(const char *file, const char *const needles[], const char *const ignore[],
			 unsigned max, FILE *out)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return 0;
	char line[1024];
	unsigned shown = 0;
	while (shown < max && fgets(line, sizeof line, f)) {
		if (!contains_any(line, needles) || contains_any(line, ignore))
			continue;
		if (out)
			print_line(out, line, strcspn(line, "\n"));
		shown++;
	}
	fclose(f);
	return shown;
}

void nl_backend_tail(const char *file, unsigned n, FILE *out)
{
	char *data;
	size_t len;
	char err[256];
	if (nl_results_read(file, &data, &len, err, sizeof err))
		return;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	size_t start = len;
	for (unsigned lines = 0; start > 0; start--)
		if (data[start - 1] == '\n' && ++lines == n)
			break;
	for (size_t i = start; i < len;) {
		size_t end = i;
		while (end < len && data[end] != '\n')
			end++;
		print_line(out, data + i, end - i);
		i = end + 1;
	}
	free(data);
}
