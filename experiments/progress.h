/*
 * Watching a run from outside: follow COM1's output file while the backend
 * writes it, count the records so far, notice L0's end record, and draw a
 * one-line indicator on a terminal.
 */
#ifndef NESTLAB_PROGRESS_H
#define NESTLAB_PROGRESS_H

#include <stddef.h>

#include "nestlab/records.h"

struct nl_progress {
	const char *com1_path;
	int fd;                  /* -1 until the backend has created the file */
	char line[NL_REC_MAX_LINE + 2];
	size_t line_len;
	int line_too_long;       /* the current line outgrew line[]: counted, not parsed */
	size_t records;          /* record lines completed so far */
	int end_seen;            /* L0's end record has arrived */
	double end_seen_at;      /* elapsed seconds when it did */
	int show;                /* draw the indicator (stderr is a terminal, not --quiet) */
	int drawn;               /* the indicator is on screen */
	long shown_seconds;      /* what it shows, to redraw only on change */
	size_t shown_records;
	const char *label;       /* "hello on bochs" */
};

void nl_progress_init(struct nl_progress *p, const char *com1_path, const char *label, int show);

/* Read what the backend wrote since the last call; elapsed stamps the end record. */
void nl_progress_poll(struct nl_progress *p, double elapsed);

/* Redraw the indicator (nothing unless show). */
void nl_progress_draw(struct nl_progress *p, double elapsed);

/* Erase the indicator and close the file. */
void nl_progress_done(struct nl_progress *p);

#endif
