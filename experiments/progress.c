/* Following COM1 while the backend runs; see progress.h. */
#include "progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "records.h"

void nl_progress_init(struct nl_progress *p, const char *com1_path, const char *label, int show)
{
	memset(p, 0, sizeof *p);
	p->com1_path = com1_path;
	p->label = label;
	p->show = show;
	p->fd = -1;
}

static void line_done(struct nl_progress *p, double elapsed)
{
	if (p->line_len && nl_line_classify(p->line, p->line_len) == NL_LINE_RECORD) {
		p->records++;
		char err[128];
		json_t *rec = p->line_too_long ? NULL :
			nl_record_parse_line(p->line, p->line_len, err, sizeof err);
		if (rec && nl_record_is(rec, "L0", NL_REC_END) && !p->end_seen) {
			p->end_seen = 1;
			p->end_seen_at = elapsed;
		}
		json_decref(rec);
	}
	p->line_len = 0;
	p->line_too_long = 0;
}

void nl_progress_poll(struct nl_progress *p, double elapsed)
{
	/* The backend creates the file only once it is up: keep trying until then. */
	if (p->fd < 0 && (p->fd = open(p->com1_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	char buf[8192];
	ssize_t got;
	while ((got = read(p->fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n') {
				line_done(p, elapsed);
			} else if (p->line_len < sizeof p->line - 1) {
				p->line[p->line_len++] = buf[i];
			} else {
				p->line_too_long = 1;
			}
		}
	}
}

void nl_progress_draw(struct nl_progress *p, double elapsed)
{
	if (!p->show)
		return;
	if (p->drawn && (long)elapsed == p->shown_seconds && p->records == p->shown_records)
		return;
	p->shown_seconds = (long)elapsed;
	p->shown_records = p->records;
	/* \r and "erase to end of line": the indicator rewrites itself in place. */
	fprintf(stderr, "\r\033[K%s: %ld s, %zu record%s%s", p->label, p->shown_seconds, p->records,
		p->records == 1 ? "" : "s", p->end_seen ? ", finishing" : "");
	fflush(stderr);
	p->drawn = 1;
}

void nl_progress_done(struct nl_progress *p)
{
	if (p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->drawn = 0;
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}
