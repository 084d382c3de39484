/*
 * Did every VM end as its description expects?  L0's end record says
 * whether all its VMs exited 0; this turns that into the run's verdict and
 * names the root cause of a failure (see nl_outcome_check_vms in results.h).
 */
#include <stdio.h>
#include <string.h>

#include "desc_fields.h"
#include "nestlab/records.h"
#include "results.h"

const char *nl_outcome_expect_name(uint32_t expect)
{
	return nl_desc_enum_name(nl_desc_expectations, expect);
}

/* The vm_stop state an expectation names. */
static const char *expected_state(uint32_t expect)
{
	switch (expect) {
	case NL_EXPECT_FAULT: return NL_VM_STATE_FAULTED;
	case NL_EXPECT_TIMEOUT: return NL_VM_STATE_TIMEOUT;
	default: return NL_VM_STATE_EXITED;
	}
}

/*
 * Whether VM i and every VM below it are expected to exit: what makes a
 * VMM exit 0, since a VMM exits NL_EXIT_FAILED as soon as one of its VMs
 * did not exit 0 (vmm_main.c).
 */
static int expects_clean_exit(const struct nl_experiment *exp, unsigned i)
{
	if (exp->vms[i].expect != NL_EXPECT_EXIT)
		return 0;
	for (unsigned j = i + 1; j < exp->vm_count; j++)
		if (exp->vms[j].parent == (int)i && !expects_clean_exit(exp, j))
			return 0;
	return 1;
}

static unsigned depth_of(const struct nl_experiment *exp, unsigned i)
{
	unsigned d = 0;
	for (int p = exp->vms[i].parent; p >= 0 && d <= NL_MAX_VMS; p = exp->vms[p].parent)
		d++;
	return d;
}

/*
 * How VM i's end differs from the expected one, worst first: 3 it stopped
 * (faulted, timed out, failed) where that was not expected, 2 it exited
 * where it should not have, with the wrong status, or its report says it
 * failed, 1 no end was reported for it (its VMM died first), 0 as
 * expected.  why[cap] says how.
 */
static int judge(const struct nl_experiment *exp, const struct nl_records *rs, unsigned i, char *why,
		 size_t cap)
{
	char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
	const struct nl_vm_desc *vm = &exp->vms[i];
	nl_experiment_vm_path(exp, i, path, sizeof path);
	const json_t *stop = nl_records_about_vm(rs, NL_REC_VM_STOP, path);
	if (!stop) {
		nl_msgf(why, cap, "%s: its VMM reported no end for it", path);
		return 1;
	}
	const char *state = nl_record_str(stop, NL_KEY_STATE);
	const char *reason = nl_record_str(stop, NL_KEY_REASON);
	const char *want = expected_state(vm->expect);
	state = state && *state ? state : "unknown";
	reason = reason && *reason ? reason : "no reason given";
	if (strcmp(state, want)) {
		if (vm->expect == NL_EXPECT_EXIT)
			nl_msgf(why, cap, "%s %s: %s", path, state, reason);
		else
			nl_msgf(why, cap, "%s %s, expected %s: %s", path, state,
				nl_outcome_expect_name(vm->expect), reason);
		return strcmp(state, NL_VM_STATE_EXITED) ? 3 : 2;
	}
	if (vm->expect == NL_EXPECT_EXIT) {
		const json_t *st = json_object_get(stop, NL_KEY_EXIT_STATUS);
		json_int_t want_status = expects_clean_exit(exp, i) ? NL_EXIT_OK : NL_EXIT_FAILED;
		if (!json_is_integer(st) || json_integer_value(st) != want_status) {
			/* A VMM's own end record says why it ended so; its EXIT hypercall does not. */
			const json_t *own_end = vm->kind == NL_VM_VMM ? nl_records_last(rs, path, NL_REC_END) : NULL;
			const char *own = own_end ? nl_record_str(own_end, NL_KEY_REASON) : NULL;
			nl_msgf(why, cap, "%s exited with status %lld, expected %lld: %s", path,
				json_is_integer(st) ? (long long)json_integer_value(st) : -1LL,
				(long long)want_status, own && *own ? own : reason);
			return 2;
		}
		return 0;
	}
	/* A VM meant to be stopped (a hostile test guest) may still say how its checks went. */
	const json_t *report = nl_records_last(rs, path, NL_REC_GUEST_REPORT);
	const char *verdict = report ? nl_record_str(report, NL_KEY_STATUS) : NULL;
	if (report && (!verdict || strcmp(verdict, "ok"))) {
		nl_msgf(why, cap, "%s %s as expected, but its report says status \"%s\"", path, state,
			verdict ? verdict : "(none)");
		return 2;
	}
	return 0;
}

/*
 * A CPU exception in a VMM itself (l0/exception.c) ends its level, whatever
 * its VMs did: the first level, L0 or a VMM of the description, that
 * reported one, and why its end record says it ended.  Leaves are not
 * asked: a guest may only write records under its own path, and an
 * "exception" there is not a VMM's.
 */
static int vmm_exception(const struct nl_experiment *exp, const struct nl_records *rs, char *why, size_t cap)
{
	char path[NL_NAME_MAX * (NL_MAX_VMS + 1) + 8];
	for (int i = -1; i < (int)exp->vm_count; i++) {
		if (i >= 0 && exp->vms[i].kind != NL_VM_VMM)
			continue;
		if (i < 0)
			snprintf(path, sizeof path, "L0");
		else
			nl_experiment_vm_path(exp, (unsigned)i, path, sizeof path);
		if (!nl_records_last(rs, path, NL_REC_EXCEPTION))
			continue;
		const json_t *end = nl_records_last(rs, path, NL_REC_END);
		const char *reason = end ? nl_record_str(end, NL_KEY_REASON) : NULL;
		nl_msgf(why, cap, "%s: %s", path, reason && *reason ? reason : "a CPU exception in the VMM itself");
		return 1;
	}
	return 0;
}

void nl_outcome_check_vms(const struct nl_experiment *exp, const struct nl_records *rs, struct nl_outcome *o)
{
	int from_ok = !strcmp(o->status, NL_STATUS_OK);
	const json_t *end = nl_records_last(rs, "L0", NL_REC_END);
	const char *end_status = end ? nl_record_str(end, NL_KEY_STATUS) : NULL;
	/* Only L0's plain verdicts are judged; a refusal, a crash or an odd end status stands. */
	if (!from_ok && !(!strcmp(o->status, NL_STATUS_FAILED) && end_status && !strcmp(end_status, "failed")))
		return;
	/* A VMM that crashed failed the run, even where every VM had already ended as expected. */
	char crash[sizeof o->reason];
	if (vmm_exception(exp, rs, crash, sizeof crash)) {
		o->status = NL_STATUS_FAILED;
		nl_msgf(o->reason, sizeof o->reason, "%s", crash);
		return;
	}

	int worst = 0;
	unsigned worst_depth = 0;
	int all_clean = 1;
	for (unsigned i = 0; i < exp->vm_count; i++) {
		char why[sizeof o->reason];
		int bad = judge(exp, rs, i, why, sizeof why);
		unsigned depth = depth_of(exp, i);
		if (exp->vms[i].parent < 0 && !expects_clean_exit(exp, i))
			all_clean = 0;
		/* The root cause: the worst kind of difference, and of those the deepest VM. */
		if (bad > worst || (bad && bad == worst && depth > worst_depth)) {
			worst = bad;
			worst_depth = depth;
			o->status = NL_STATUS_FAILED;
			nl_msgf(o->reason, sizeof o->reason, "%s", why);
		}
	}
	if (worst || from_ok)
		return;
	/* L0 said failed, every VM ended as expected: ok if that is because some were meant not to exit. */
	if (!all_clean) {
		o->status = NL_STATUS_OK;
		nl_msgf(o->reason, sizeof o->reason, "every VM ended as its description expects");
	}
}
