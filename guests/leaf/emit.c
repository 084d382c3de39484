/* Records and console text through hypercalls (see emit.h). */
#include <stdarg.h>
#include <stddef.h>

#include "emit.h"
#include "fmt.h"
#include "hypercall.h"
#include "nestlab/records.h"

#define CONSOLE_LINE_MAX 256

static uint64_t failures;

void record_begin(struct record *r, const char *type)
{
	r->type = type;
	jsonw_begin(&r->w, r->buf, sizeof r->buf);
	jsonw_str(&r->w, NL_KEY_TYPE, type);
}

int record_emit(struct record *r)
{
	const char *json = jsonw_end(&r->w);

	if (json == NULL) {
		/* Say which record was lost rather than send a cut one. */
		const char *lost = r->type;

		failures++;
		record_begin(r, NL_REC_OVERFLOW);
		jsonw_str(&r->w, NL_KEY_OVERFLOW_OF, lost); /* the spelling a VMM uses too */
		json = jsonw_end(&r->w);
		if (json != NULL)
			hc_emit_record(json, r->w.len);
		return -1;
	}
	if (hc_emit_record(json, r->w.len) != NL_HC_OK) {
		failures++;
		return -1;
	}
	return 0;
}

uint64_t emit_failures(void)
{
	return failures;
}

void console_printf(const char *fmt, ...)
{
	char line[CONSOLE_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = nl_vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* A line too long for the buffer is sent cut short, ending in a newline. */
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	hc_console_write(line, (size_t)n);
}
