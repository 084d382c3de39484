/*
 * Checks: each compares what the SDM says must happen with what the
 * parent made happen, and becomes one record
 *   {"type":"check","name":...,"expected":...,"got":...,"ok":true|false}
 * through NL_HC_EMIT_RECORD.  The counts feed the final report.
 */
#ifndef NESTLAB_HOSTILE_CHECK_H
#define NESTLAB_HOSTILE_CHECK_H

#include "nestlab/records.h"
#include "outcome.h"

/* The record type; "report" is the shared NL_REC_GUEST_REPORT. */
#define HOSTILE_REC_CHECK NL_REC_GUEST_CHECK

/* Emits the record; returns 1 when got equals expected. */
int check_outcome(const char *name, struct outcome expected, struct outcome got);

/* A check whose outcomes are not VMX outcomes (CPUID bits, MSR values): the caller decides ok. */
int check_text(const char *name, const char *expected, const char *got, int ok);

/* An integer outcome (a count, a hypercall's result), both printed in decimal: 1 when they are equal. */
int check_int(const char *name, int64_t expected, int64_t got);

unsigned checks_run(void);
unsigned checks_failed(void);

#endif
