/* The results folder's files; see results.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include "wakeups.h"
#include "results.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nl_pathf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void nl_msgf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	nl_defang(buf); /* a message is one line of text, whatever a guest or a description put in it */
}

int nl_results_path(char *buf, size_t cap, const char *dir, const char *name)
{
	return nl_pathf(buf, cap, "%s/%s", dir, name);
}

int nl_results_mkdirs(const char *path, char *err, size_t cap)
{
	char buf[NL_SOURCE_PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		nl_msgf(err, cap, "%s: path too long", path);
		return -1;
	}
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			nl_msgf(err, cap, "cannot create %s: %s", buf, strerror(errno));
			return -1;
		}
		*p = saved;
		if (!saved)
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		nl_msgf(err, cap, "%s is not a directory", path);
		return -1;
	}
	return 0;
}

/* Everything a run writes (the description copy aside, whose name varies). */
static const char *const run_outputs[] = {
	"summary.json", "records.jsonl", "console.txt", "com1.txt", "manifest.bin", "boot.iso",
	"grub-mkrescue.log", "bochsrc", "bochs.rc", "bochs.log", "bochs.out", "qemu.out",
};

static int is_histogram(const char *name);

int nl_results_is_output(const char *name)
{
	if (is_histogram(name))
		return 1;
	for (size_t i = 0; i < sizeof run_outputs / sizeof run_outputs[0]; i++)
		if (!strcmp(name, run_outputs[i]))
			return 1;
	return 0;
}

/* A wake-up histogram of an earlier run (experiments/wakeups.h). */
static int is_histogram(const char *name)
{
	size_t n = strlen(name), p = strlen(NL_WAKEUP_HIST_PREFIX), s = strlen(NL_WAKEUP_HIST_SUFFIX);
	return n > p + s && !strncmp(name, NL_WAKEUP_HIST_PREFIX, p) && !strcmp(name + n - s, NL_WAKEUP_HIST_SUFFIX);
}

void nl_results_clear(const char *dir)
{
	char path[NL_SOURCE_PATH_MAX + 64];
	for (size_t i = 0; i < sizeof run_outputs / sizeof run_outputs[0]; i++)
		if (!nl_results_path(path, sizeof path, dir, run_outputs[i]))
			unlink(path);
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));)
		if (is_histogram(e->d_name) && !nl_results_path(path, sizeof path, dir, e->d_name))
			unlink(path);
	closedir(d);
}

int nl_results_read(const char *path, char **buf, size_t *len, char *err, size_t cap)
{
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		nl_msgf(err, cap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	size_t have = 0, room = 65536;
	char *data = malloc(room);
	size_t got;
	while (data && (got = fread(data + have, 1, room - have, f)) > 0) {
		have += got;
		if (have == room) {
			char *bigger = realloc(data, room * 2);
			if (!bigger) {
				free(data);
				data = NULL;
				break;
			}
			data = bigger;
			room *= 2;
		}
	}
	const char *why = !data ? "out of memory" : ferror(f) ? strerror(errno) : NULL;
	fclose(f);
	if (why) {
		nl_msgf(err, cap, "cannot read %s: %s", path, why);
		free(data);
		return -1;
	}
	*buf = data;
	*len = have;
	return 0;
}

int nl_results_write(const char *path, const void *buf, size_t len, char *err, size_t cap)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		nl_msgf(err, cap, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	int bad = fwrite(buf, 1, len, f) != len;
	bad |= fclose(f) != 0;
	if (bad) {
		nl_msgf(err, cap, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int nl_results_copy(const char *from, const char *to, char *err, size_t cap)
{
	char *data;
	size_t len;
	if (nl_results_read(from, &data, &len, err, cap))
		return -1;
	int r = nl_results_write(to, data, len, err, cap);
	free(data);
	return r;
}

/* Create DIR/name for writing; path receives its name (for messages). NULL with err set on failure. */
static FILE *create_result_file(const char *dir, const char *name, char *path, size_t path_cap, char *err,
				size_t cap)
{
	if (nl_results_path(path, path_cap, dir, name)) {
		nl_msgf(err, cap, "%s: path too long", dir);
		return NULL;
	}
	FILE *f = fopen(path, "w");
	if (!f)
		nl_msgf(err, cap, "cannot create %s: %s", path, strerror(errno));
	return f;
}

int nl_results_write_records(const char *dir, const struct nl_records *rs, char *err, size_t cap)
{
	char path[NL_SOURCE_PATH_MAX + 64];
	FILE *f = create_result_file(dir, "records.jsonl", path, sizeof path, err, cap);
	if (!f)
		return -1;
	int bad = nl_records_write_jsonl(rs, f);
	bad |= fclose(f) != 0;
	if (bad) {
		nl_msgf(err, cap, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	nl_results_path(path, sizeof path, dir, "console.txt");
	return nl_results_write(path, rs->console ? rs->console : "", rs->console_len, err, cap);
}

int nl_results_write_summary(const char *dir, const json_t *summary, char *err, size_t cap)
{
	char path[NL_SOURCE_PATH_MAX + 64];
	FILE *f = create_result_file(dir, "summary.json", path, sizeof path, err, cap);
	if (!f)
		return -1;
	int bad = json_dumpf(summary, f, NL_SUMMARY_JSON_FLAGS) < 0;
	bad |= fputc('\n', f) == EOF;
	bad |= fclose(f) != 0;
	if (bad) {
		nl_msgf(err, cap, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
