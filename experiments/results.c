/* The run's status, summary.json and the human summary; see results.h (the files: results_folder.c). */
#include "results.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "iso.h"
#include "nestlab/records.h"
#include "wakeups.h"
#include "irq_table.h"

/* ---------------------------------------------------------------- status */

static const char *str_or(const json_t *rec, const char *key, const char *fallback)
{
	const char *s = nl_record_str(rec, key);
	return s && *s ? s : fallback;
}

/* The last record from the stack (not a bad line), to say where a crash happened. */
static const json_t *last_record(const struct nl_records *rs)
{
	for (size_t i = rs->count; i-- > 0;)
		if (!nl_record_is_bad_line(rs->items[i]))
			return rs->items[i];
	return NULL;
}

void nl_outcome_decide(const struct nl_records *rs, const struct nl_run_facts *facts,
		       struct nl_outcome *out)
{
	const json_t *rec;
	out->reason[0] = '\0';

	if (facts->end == NL_BACKEND_NOT_STARTED) {
		out->status = NL_STATUS_NOT_STARTED;
		nl_msgf(out->reason, sizeof out->reason, "%s", facts->detail);
		return;
	}
	/*
	 * L0's refusals come before its end record, which then only says
	 * "failed": the specific record names the cause, so it wins.  A child
	 * VMM's own refusal is that VM's failure, told by its vm_stop and by
	 * L0's end record, not the whole run's status.
	 */
	if ((rec = nl_records_last(rs, "L0", NL_REC_MANIFEST_ERROR))) {
		out->status = NL_STATUS_MANIFEST_REFUSED;
		nl_msgf(out->reason, sizeof out->reason, "%s: %s", str_or(rec, NL_KEY_ERROR, "error"),
			 str_or(rec, NL_KEY_REASON, "no reason given"));
		return;
	}
	if ((rec = nl_records_last(rs, "L0", NL_REC_VMX_UNAVAILABLE))) {
		out->status = NL_STATUS_VMX_UNAVAILABLE;
		nl_msgf(out->reason, sizeof out->reason, "%s", str_or(rec, NL_KEY_REASON, "no reason given"));
		return;
	}
	if ((rec = nl_records_last(rs, "L0", NL_REC_END))) {
		const char *st = nl_record_str(rec, NL_KEY_STATUS);
		if (st && !strcmp(st, "ok")) {
			out->status = NL_STATUS_OK;
			nl_msgf(out->reason, sizeof out->reason, "%s", str_or(rec, NL_KEY_REASON, ""));
		} else {
			out->status = NL_STATUS_FAILED;
			if (st && strcmp(st, "failed"))
				nl_msgf(out->reason, sizeof out->reason, "end record with status \"%s\": %s",
					 st, str_or(rec, NL_KEY_REASON, "no reason given"));
			else
				nl_msgf(out->reason, sizeof out->reason, "%s",
					 str_or(rec, NL_KEY_REASON, "no reason given"));
		}
		return;
	}
	if (facts->end == NL_BACKEND_TIMEOUT) {
		out->status = NL_STATUS_TIMEOUT;
		nl_msgf(out->reason, sizeof out->reason,
			 "no end record within the %u s wall-clock limit; the backend was stopped",
			 facts->timeout_s);
		return;
	}
	if (facts->end == NL_BACKEND_INTERRUPTED) {
		out->status = NL_STATUS_INTERRUPTED;
		nl_msgf(out->reason, sizeof out->reason, "nestlab was interrupted; the backend was stopped");
		return;
	}
	out->status = NL_STATUS_CRASHED;
	rec = last_record(rs);
	/* GRUB's own complaint, minus our "nestlab: " prefix, says more than any exit status. */
	const char *grub = rs->console ? strstr(rs->console, NL_ISO_BOOT_FAILURE) : NULL;
	if (grub && !rec) {
		grub += strlen("nestlab: ");
		nl_msgf(out->reason, sizeof out->reason, "%.*s", (int)strcspn(grub, "\n"), grub);
	} else if (rec) {
		nl_msgf(out->reason, sizeof out->reason,
			"the backend %s without an end record; the last record was \"%s\" from %s",
			facts->detail, str_or(rec, NL_KEY_TYPE, "?"), str_or(rec, NL_KEY_PATH, "?"));
	} else {
		nl_msgf(out->reason, sizeof out->reason,
			"the backend %s without emitting a single record", facts->detail);
	}
}

int nl_outcome_exit_code(const struct nl_outcome *o)
{
	if (!strcmp(o->status, NL_STATUS_OK))
		return NL_EXIT_SUCCESS;
	if (!strcmp(o->status, NL_STATUS_FAILED) || !strcmp(o->status, NL_STATUS_VMX_UNAVAILABLE) ||
	    !strcmp(o->status, NL_STATUS_MANIFEST_REFUSED))
		return NL_EXIT_EXPERIMENT;
	return NL_EXIT_BACKEND;
}

/* --------------------------------------------------------------- summary */

/*
 * Does an exits/vm_stop/vm_fault/nested record concern the VM at vm_path?
 * Only the VM's own VMM speaks about it: the record's path must be vm_path
 * without its last part, so a guest cannot write another VM's fate (a
 * guest's records carry its own path, set by its VMM).
 */
static int about_vm(const json_t *rec, const char *type, const char *vm_path)
{
	const char *vm = nl_record_str(rec, NL_KEY_VM);
	const char *path = nl_record_str(rec, NL_KEY_PATH);
	const char *slash = strrchr(vm_path, '/');
	if (!nl_record_is(rec, NULL, type) || !vm || !path || !slash || strcmp(vm, vm_path))
		return 0;
	size_t parent_len = (size_t)(slash - vm_path);
	return strlen(path) == parent_len && !strncmp(path, vm_path, parent_len);
}

const json_t *nl_records_about_vm(const struct nl_records *rs, const char *type, const char *vm_path)
{
	for (size_t i = rs->count; i-- > 0;)
		if (!nl_record_is_bad_line(rs->items[i]) && about_vm(rs->items[i], type, vm_path))
			return rs->items[i];
	return NULL;
}

/* A copy of what rec says, or JSON null when there is no such record. */
static json_t *copy_or_null(const json_t *rec)
{
	return rec ? json_deep_copy(rec) : json_null();
}

/* Members of an exits record that say which record it is rather than what it counted. */
static int is_envelope(const char *key)
{
	return !strcmp(key, NL_KEY_PATH) || !strcmp(key, NL_KEY_TYPE) || !strcmp(key, NL_KEY_TSC) || !strcmp(key, NL_KEY_VM);
}

static json_t *new_exits(void)
{
	json_t *e = json_object();
	json_object_set_new(e, "total", json_integer(0));
	json_object_set_new(e, "by_reason", json_object());
	return e;
}

/*
 * Add one exits record's counts into acc: integers add up, objects of
 * integers add up key by key (by_reason, and whatever else a level counts,
 * such as hypercalls by name); keys keep their first-seen order.
 */
static void add_counts(json_t *acc, const json_t *rec)
{
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)rec, key, val) {
		if (is_envelope(key))
			continue;
		json_t *have = json_object_get(acc, key);
		if (json_is_integer(val)) {
			/* Saturating: a hostile VMM's huge counts must not overflow the sum. */
			json_int_t sum;
			if (__builtin_add_overflow(json_integer_value(have), json_integer_value(val), &sum))
				sum = json_integer_value(val) > 0 ? INT64_MAX : INT64_MIN;
			json_object_set_new(acc, key, json_integer(sum));
		} else if (json_is_object(val)) {
			if (!json_is_object(have)) {
				have = json_object();
				json_object_set_new(acc, key, have);
			}
			add_counts(have, val);
		}
	}
}

/* A VM's exits as its VMM counted them, or null when no exits record came. */
static json_t *exits_of(const json_t *rec)
{
	if (!rec)
		return json_null();
	json_t *e = new_exits();
	add_counts(e, rec);
	return e;
}

/* A record's own fields, its envelope (path, type, tsc, the VM it is about) left out; null without one. */
static json_t *body_of(const json_t *rec)
{
	json_t *n = nl_record_body(rec);
	if (json_is_object(n))
		json_object_del(n, NL_KEY_VM);
	return n;
}

/* The guest's own phase records, in order, each without its envelope. */
static json_t *phases_of(const struct nl_records *rs, const char *path)
{
	json_t *phases = json_array();
	for (size_t i = 0; i < rs->count; i++)
		if (!nl_record_is_bad_line(rs->items[i]) && nl_record_is(rs->items[i], path, NL_REC_GUEST_PHASE))
			json_array_append_new(phases, body_of(rs->items[i]));
	return phases;
}

/* A counter the VMM left out because it was zero (nestlab/records.h) is 0 here. */
static void zero_if_absent(json_t *obj, const char *key)
{
	if (!json_object_get(obj, key))
		json_object_set_new(obj, key, json_integer(0));
}

static json_t *lapic_of(const json_t *rec)
{
	json_t *l = body_of(rec);
	if (json_is_null(l))
		return l;
#define ZERO(s, n) zero_if_absent(l, #n);
	NL_LAPIC_COUNTERS(ZERO, _)
	NL_EVENT_COUNTERS(ZERO, _)
	NL_APICV_COUNTERS(ZERO, _)
#undef ZERO
	if (!json_object_get(l, "apicv"))
		json_object_set_new(l, "apicv", json_string("off")); /* a VMM from before features/@apicv */
	return l;
}

static json_t *vm_entry(const struct nl_experiment *exp, const struct nl_records *rs, unsigned i)
{
	char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
	nl_experiment_vm_path(exp, i, path, sizeof path);
	const json_t *stop = nl_records_about_vm(rs, NL_REC_VM_STOP, path);
	const json_t *status = stop ? json_object_get(stop, NL_KEY_EXIT_STATUS) : NULL;
	const char *reason = stop ? nl_record_str(stop, NL_KEY_REASON) : NULL;

	json_t *vm = json_object();
	json_object_set_new(vm, "path", json_string(path));
	json_object_set_new(vm, "state", json_string(stop ? str_or(stop, NL_KEY_STATE, "unknown") : "unknown"));
	json_object_set_new(vm, "exit_status", json_is_integer(status) ? json_deep_copy(status) : json_null());
	json_object_set_new(vm, "reason", reason ? json_string(reason) : json_null());
	json_object_set_new(vm, "expect", json_string(nl_outcome_expect_name(exp->vms[i].expect)));
	json_object_set_new(vm, "report", copy_or_null(nl_records_last(rs, path, NL_REC_GUEST_REPORT)));
	/* The phases it completed: all that is left of a guest stopped before its report. */
	json_object_set_new(vm, "phases", phases_of(rs, path));
	json_object_set_new(vm, "exits", exits_of(nl_records_about_vm(rs, NL_REC_EXITS, path)));
	json_object_set_new(vm, "fault", copy_or_null(nl_records_about_vm(rs, NL_REC_VM_FAULT, path)));
	json_object_set_new(vm, "nested", body_of(nl_records_about_vm(rs, NL_REC_NESTED, path)));
	/* What the VM's VMM did to virtualise VMX for it (a child VMM), null for a leaf. */
	json_object_set_new(vm, "vmcs_traps", body_of(nl_records_about_vm(rs, NL_REC_VMCS_TRAPS, path)));
	/* How its VMM single-stepped it, null when its description asked for no steps. */
	json_object_set_new(vm, "single_step", body_of(nl_records_about_vm(rs, NL_REC_SINGLE_STEP, path)));
	/* Its timer wake-ups as the leaf measured them (wakeups.h), null when it ran none. */
	json_object_set_new(vm, "wakeup", nl_wakeup_summary(rs, path));
	/* Its local APIC as its VMM saw it: every counter, zero where the VMM left one out; null when silent. */
	json_object_set_new(vm, "lapic", lapic_of(nl_records_about_vm(rs, NL_REC_LAPIC, path)));
	return vm;
}

/* Every record of a type (exits, nested) a level produced, its counts summed. */
static json_t *level_sum(const struct nl_records *rs, const char *level, const char *type, json_t *acc)
{
	for (size_t i = 0; i < rs->count; i++) {
		const json_t *rec = rs->items[i];
		if (!nl_record_is_bad_line(rec) && nl_record_is(rec, level, type))
			add_counts(acc, rec);
	}
	return acc;
}

/* What a level did for the child VMMs it hosts, or null when it hosts none. */
static json_t *level_nested(const struct nl_records *rs, const char *level)
{
	for (size_t i = 0; i < rs->count; i++)
		if (!nl_record_is_bad_line(rs->items[i]) && nl_record_is(rs->items[i], level, NL_REC_NESTED))
			return level_sum(rs, level, NL_REC_NESTED, json_object());
	return json_null();
}


/* The level's sched record, every counter present; null if it never reported. */
static json_t *sched_of(const json_t *rec)
{
	json_t *sched = body_of(rec);
	if (json_is_null(sched))
		return sched;
#define ZERO(n) zero_if_absent(sched, #n);
	NL_SCHED_COUNTERS(ZERO)
	json_t *expired = json_object_get(sched, NL_KEY_TIMER_EXPIRED);
	if (!json_is_object(expired)) {
		expired = json_object();
		json_object_set_new(sched, NL_KEY_TIMER_EXPIRED, expired);
	}
#define ZERO_IN_EXPIRED(n) zero_if_absent(expired, #n);
	NL_TIMER_SOURCES(ZERO_IN_EXPIRED)
#undef ZERO
#undef ZERO_IN_EXPIRED
	return sched;
}

static json_t *level_entry(const struct nl_records *rs, const char *path)
{
	json_t *level = json_object();
	json_object_set_new(level, "path", json_string(path));
	json_object_set_new(level, "exits", level_sum(rs, path, NL_REC_EXITS, new_exits()));
	json_object_set_new(level, "nested", level_nested(rs, path));
	json_object_set_new(level, "vmx_caps", nl_record_body(nl_records_last(rs, path, NL_REC_VMX_CAPS)));
	/* The level's scheduler: its policy, quantum and counters (vmm/vmm_sched.c), null if it never reported. */
	json_object_set_new(level, "sched", sched_of(nl_records_last(rs, path, NL_REC_SCHED)));
	return level;
}

static int has_level(const json_t *levels, const char *path)
{
	size_t i;
	json_t *l;
	json_array_foreach(levels, i, l) {
		if (!strcmp(json_string_value(json_object_get(l, "path")), path))
			return 1;
	}
	return 0;
}

/*
 * The levels: L0, every VM of the description that runs a VMM, then any
 * other path that reported exits (a level the description did not expect
 * is worth seeing, not hiding).
 */
static json_t *levels_of(const struct nl_experiment *exp, const struct nl_records *rs)
{
	json_t *levels = json_array();
	json_array_append_new(levels, level_entry(rs, "L0"));
	for (unsigned i = 0; i < exp->vm_count; i++) {
		if (exp->vms[i].kind != NL_VM_VMM)
			continue;
		char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
		nl_experiment_vm_path(exp, i, path, sizeof path);
		if (!has_level(levels, path))
			json_array_append_new(levels, level_entry(rs, path));
	}
	for (size_t i = 0; i < rs->count; i++) {
		const json_t *rec = rs->items[i];
		if (nl_record_is_bad_line(rec) || !nl_record_is(rec, NULL, NL_REC_EXITS))
			continue;
		const char *path = nl_record_str(rec, NL_KEY_PATH);
		if (!has_level(levels, path))
			json_array_append_new(levels, level_entry(rs, path));
	}
	return levels;
}

/* Wall time to the millisecond: more digits would only be noise. */
static double round_ms(double s)
{
	return (double)(long long)(s * 1000.0 + 0.5) / 1000.0;
}

json_t *nl_summary_build(const struct nl_experiment *exp, const struct nl_records *rs,
			 const struct nl_run_facts *facts, const struct nl_outcome *o)
{
	json_t *s = json_object();
	if (!s)
		return NULL;
	json_object_set_new(s, "experiment", json_string(exp->name));
	json_object_set_new(s, "description", json_string(facts->description));
	json_object_set_new(s, "backend", json_string(facts->backend));
	if (facts->accel)
		json_object_set_new(s, "accel", json_string(facts->accel));
	json_object_set_new(s, "status", json_string(o->status));
	json_object_set_new(s, "reason", json_string(o->reason));
	json_object_set_new(s, "backend_result", json_string(facts->detail));
	json_object_set_new(s, "wall_seconds", json_real(round_ms(facts->wall_seconds)));
	json_object_set_new(s, "timeout_s", json_integer(facts->timeout_s));
	json_object_set_new(s, "records", json_integer((json_int_t)rs->records));
	json_object_set_new(s, "bad_lines", json_integer((json_int_t)rs->bad_lines));
	json_t *irq = nl_irq_rows(rs);
	json_t *vms = json_array();
	for (unsigned i = 0; i < exp->vm_count; i++) {
		json_t *vm = vm_entry(exp, rs, i);
		/* Its interrupt lines: a leaf's as its handlers counted them, a child VMM's as it routed them. */
		json_object_set_new(vm, "irq", nl_irq_rows_of(irq, json_string_value(json_object_get(vm, "path"))));
		json_array_append_new(vms, vm);
	}
	json_object_set_new(s, "vms", vms);
	json_object_set_new(s, "levels", levels_of(exp, rs));
	/* Every line of every level (irq_table.h), as irq.csv has them. */
	json_object_set_new(s, "irq", irq);
	return s;
}

/* ----------------------------------------------------- the human summary */

/* "k=v k=v ..." of a report's own members, cut to fit a terminal line. */
static void report_headline(const json_t *report, char *buf, size_t cap)
{
	size_t len = 0;
	const char *key;
	json_t *val;
	buf[0] = '\0';
	json_object_foreach((json_t *)report, key, val) {
		if (!strcmp(key, NL_KEY_PATH) || !strcmp(key, NL_KEY_TYPE) || !strcmp(key, NL_KEY_TSC))
			continue;
		char item[160];
		if (json_is_string(val))
			snprintf(item, sizeof item, "%s=%s", key, json_string_value(val));
		else if (json_is_integer(val))
			snprintf(item, sizeof item, "%s=%lld", key, (long long)json_integer_value(val));
		else if (json_is_real(val))
			snprintf(item, sizeof item, "%s=%g", key, json_real_value(val));
		else if (json_is_boolean(val))
			snprintf(item, sizeof item, "%s=%s", key, json_is_true(val) ? "true" : "false");
		else
			continue;
		size_t n = strlen(item);
		if (len + n + 1 + 4 >= cap) {
			snprintf(buf + len, cap - len, "%s...", len ? " " : "");
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? " " : "", item);
	}
}

struct reason_count {
	const char *name;
	json_int_t count;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct reason_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

#define TOP_REASONS 5

/* "VMCALL 100, CPUID 12, HLT 1" (the most frequent first). */
static void top_reasons(const json_t *by_reason, char *buf, size_t cap)
{
	size_t n = json_object_size(by_reason);
	buf[0] = '\0';
	if (!n)
		return;
	struct reason_count *rc = calloc(n, sizeof *rc);
	if (!rc)
		return;
	size_t k = 0;
	const char *key;
	json_t *val;
	json_object_foreach((json_t *)by_reason, key, val) {
		rc[k].name = key;
		rc[k].count = json_integer_value(val);
		k++;
	}
	qsort(rc, k, sizeof *rc, by_count_desc);
	size_t len = 0;
	for (size_t i = 0; i < k && i < TOP_REASONS && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s %lld", i ? ", " : "", rc[i].name,
					(long long)rc[i].count);
	if (k > TOP_REASONS && len < cap)
		snprintf(buf + len, cap - len, ", ... (%zu reasons)", k);
	free(rc);
}

/*
 * Every line of the human summary goes through here: what guests wrote
 * (report values, reasons, record keys) reaches the user's terminal only
 * without control characters, so no escape sequence of theirs runs there.
 */
static void safe_printf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void safe_printf(FILE *out, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* A line's own newline is the last character: any other came from a value, as '?'. */
	for (const unsigned char *c = (const unsigned char *)buf; *c; c++)
		fputc((*c >= 0x20 && *c != 0x7f) || (*c == '\n' && !c[1]) ? *c : '?', out);
}

/* "; phases done: compute, hypercalls" after line[len], for a VM stopped before its report. */
static void phase_names(const json_t *phases, char *line, size_t cap, size_t len)
{
	size_t i;
	json_t *p;
	json_array_foreach(phases, i, p) {
		const char *name = json_string_value(json_object_get(p, NL_KEY_PHASE));
		if (len < cap)
			len += (size_t)snprintf(line + len, cap - len, "%s%s", i ? ", " : "; phases done: ",
						name ? name : "?");
	}
}

void nl_summary_print(FILE *out, const json_t *s, const char *results_dir)
{
	const char *reason = json_string_value(json_object_get(s, "reason"));
	const char *accel = json_string_value(json_object_get(s, "accel"));
	safe_printf(out, "%s: %s%s%s  (%s%s%s, %.1f s, %lld records",
		json_string_value(json_object_get(s, "experiment")),
		json_string_value(json_object_get(s, "status")),
		reason && *reason ? ": " : "", reason ? reason : "",
		json_string_value(json_object_get(s, "backend")), accel ? "/" : "", accel ? accel : "",
		json_real_value(json_object_get(s, "wall_seconds")),
		(long long)json_integer_value(json_object_get(s, "records")));
	json_int_t bad = json_integer_value(json_object_get(s, "bad_lines"));
	if (bad)
		safe_printf(out, ", %lld BAD LINES", (long long)bad);
	safe_printf(out, ")\n");

	size_t i;
	json_t *vm;
	json_array_foreach(json_object_get(s, "vms"), i, vm) {
		const json_t *st = json_object_get(vm, "exit_status");
		const json_t *report = json_object_get(vm, "report");
		const char *why = json_string_value(json_object_get(vm, "reason"));
		char line[512], head[200];
		size_t len = (size_t)snprintf(line, sizeof line, "  %-20s %-8s",
					      json_string_value(json_object_get(vm, "path")),
					      json_string_value(json_object_get(vm, "state")));
		if (json_is_integer(st) && len < sizeof line)
			len += (size_t)snprintf(line + len, sizeof line - len, " exit status %lld",
						(long long)json_integer_value(st));
		if (json_is_object(report) && len < sizeof line) {
			report_headline(report, head, sizeof head);
			snprintf(line + len, sizeof line - len, "  report: %s", head);
		} else if (why && *why && len < sizeof line) {
			len += (size_t)snprintf(line + len, sizeof line - len, "  %s", why);
			phase_names(json_object_get(vm, "phases"), line, sizeof line, len);
		}
		len = strlen(line);
		while (len && line[len - 1] == ' ')
			line[--len] = '\0';
		safe_printf(out, "%s\n", line);
		const json_t *wk = json_object_get(vm, "wakeup");
		if (json_is_object(wk))
			safe_printf(out, "  %-20s wakeups %lld of %lld, latency in TSC ticks: min %lld p50 %lld p99 %lld max %lld\n",
				    "", (long long)json_integer_value(json_object_get(wk, "count")),
				    (long long)json_integer_value(json_object_get(wk, "wanted")),
				    (long long)json_integer_value(json_object_get(wk, "min")),
				    (long long)json_integer_value(json_object_get(wk, "p50")),
				    (long long)json_integer_value(json_object_get(wk, "p99")),
				    (long long)json_integer_value(json_object_get(wk, "max")));
		/* Which interrupt path the VM's VMM took, where it was asked for APIC virtualization. */
		const json_t *lapic = json_object_get(vm, "lapic");
		const char *apicv = json_is_object(lapic) ? json_string_value(json_object_get(lapic, "apicv")) : NULL;
		if (apicv && strcmp(apicv, "off"))
			safe_printf(out, "  %-20s APIC virtualization %s: %lld delivered, %lld EOIs by the processor; "
				    "%lld EOI, %lld APIC-write, %lld APIC-access exits\n", "", apicv,
				    (long long)json_integer_value(json_object_get(lapic, "apicv_delivered")),
				    (long long)json_integer_value(json_object_get(lapic, "apicv_eois")),
				    (long long)json_integer_value(json_object_get(lapic, "eoi_exits")),
				    (long long)json_integer_value(json_object_get(lapic, "apic_write_exits")),
				    (long long)json_integer_value(json_object_get(lapic, "apic_access_exits")));
	}
	json_t *level;
	json_array_foreach(json_object_get(s, "levels"), i, level) {
		const json_t *exits = json_object_get(level, "exits");
		char top[256];
		top_reasons(json_object_get(exits, "by_reason"), top, sizeof top);
		safe_printf(out, "  %-20s %lld VM exits%s%s\n", json_string_value(json_object_get(level, "path")),
			(long long)json_integer_value(json_object_get(exits, "total")), *top ? ": " : "", top);
	}
	safe_printf(out, "results: %s\n", results_dir);
}
