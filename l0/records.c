/*
 * Records: one JSON object a line (include/nestlab/records.h), built the
 * same way at every level; only the final write differs, and that is the
 * platform's (platform_write_record_line: COM1 at L0, the parent's
 * FORWARD_RECORD hypercall in a child).
 *
 * A record that does not fit its buffer must not reach the host cut short,
 * nor vanish: rec_emit() then writes a small record_overflow record naming
 * the type that overflowed.  jsonw's buffer may be unusable by then, so
 * rec_begin() keeps a copy of path and type on the side, per writer.
 */
#include "cpu.h"
#include "fmt.h"
#include "nestlab/records.h"
#include "platform.h"

#define NAME_COPY 128

/* Records may nest (one is built while another is open); a few slots suffice. */
#define OPEN_RECORDS 4

struct open_record {
	const struct jsonw *w;
	char path[NAME_COPY];
	char type[NAME_COPY];
};

static struct open_record open_records[OPEN_RECORDS];
static unsigned next_slot;

static void copy_name(char *dst, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i < NAME_COPY - 1; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

static struct open_record *slot_of(const struct jsonw *w)
{
	for (unsigned i = 0; i < OPEN_RECORDS; i++)
		if (open_records[i].w == w)
			return &open_records[i];
	return NULL;
}

void rec_begin(struct jsonw *w, char *buf, size_t cap, const char *path, const char *type)
{
	struct open_record *r = slot_of(w);
	if (!r) {
		r = &open_records[next_slot];
		next_slot = (next_slot + 1) % OPEN_RECORDS;
	}
	r->w = w;
	copy_name(r->path, path);
	copy_name(r->type, type);

	jsonw_begin(w, buf, cap);
	jsonw_str(w, NL_KEY_PATH, path);
	jsonw_str(w, NL_KEY_TYPE, type);
	jsonw_u64(w, NL_KEY_TSC, rdtsc());
}

static size_t line_length(const char *line)
{
	size_t n = 0;
	while (line[n])
		n++;
	return n;
}

void rec_emit(struct jsonw *w)
{
	struct open_record *r = slot_of(w);
	const char *line = jsonw_end(w);
	/* The host reads lines up to NL_REC_MAX_LINE; a caller's bigger buffer does not change that. */
	size_t n = line ? line_length(line) : 0;
	if (line && n <= NL_REC_MAX_LINE) {
		platform_write_record_line(line, n);
	} else {
		char buf[3 * NAME_COPY + 96];
		struct jsonw o;
		jsonw_begin(&o, buf, sizeof buf);
		jsonw_str(&o, NL_KEY_PATH, r ? r->path : platform_path());
		jsonw_str(&o, NL_KEY_TYPE, NL_REC_OVERFLOW);
		jsonw_u64(&o, NL_KEY_TSC, rdtsc());
		jsonw_str(&o, NL_KEY_OVERFLOW_OF, r ? r->type : "unknown");
		line = jsonw_end(&o);
		if (line)
			platform_write_record_line(line, line_length(line));
	}
	if (r)
		r->w = NULL;
}

void platform_finish(int ok, const char *reason)
{
	/* Static: this may run on a nearly exhausted stack (an exception), and never returns. */
	static char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_END);
	jsonw_str(&w, NL_KEY_STATUS, ok ? "ok" : "failed");
	jsonw_str(&w, NL_KEY_REASON, reason);
	rec_emit(&w);
	platform_shutdown(ok ? NL_EXIT_OK : NL_EXIT_FAILED);
}

void platform_fail(const char *what, const char *why)
{
	char reason[256];
	nl_snprintf(reason, sizeof reason, "%s: %s", what, why);
	platform_finish(0, reason);
}

void platform_boot_record(const struct platform_boot_summary *b)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_BOOT);
	jsonw_u64(&w, "level", platform_level());
	jsonw_u64(&w, "memory_bytes", b->memory_bytes);
	jsonw_u64(&w, "free_bytes", b->free_bytes);
	jsonw_u64(&w, "modules", b->modules);
	if (b->modules_dropped)
		jsonw_u64(&w, "modules_dropped", b->modules_dropped);
	if (b->regions_dropped)
		jsonw_u64(&w, "memory_regions_dropped", b->regions_dropped);
	if (b->cmdline)
		jsonw_str(&w, "cmdline", b->cmdline);
	rec_emit(&w);
}
