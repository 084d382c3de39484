/*
 * experiments/results.c and iso.c's pure parts: the run's status from the
 * record stream and what the host saw, summary.json built from synthetic
 * records, and grub.cfg.
 */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "iso.h"
#include "model.h"
#include "records.h"
#include "results.h"

/* L0 runs vm0 and vm1 (leaves) and hv (a child VMM) whose own VM is rt. */
static void model(struct nl_experiment *exp);
static void facts_exited(struct nl_run_facts *f, int status);
static void parse(struct nl_records *rs, const char *text);

#define STOP(vm, by, state, st) \
	"{\"path\":\"" by "\",\"type\":\"vm_stop\",\"vm\":\"" vm "\",\"state\":\"" state "\",\"exit_status\":" st \
	",\"reason\":\"r\"}\n"

static void test_status_needs_every_vm(void)
{
	struct nl_experiment exp;
	struct nl_run_facts f;
	struct nl_outcome o;
	struct nl_records rs;
	static const char all_ok[] = STOP("L0/vm0", "L0", "exited", "0") STOP("L0/vm1", "L0", "exited", "0")
		STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0")
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\",\"reason\":\"fine\"}\n";
	static const char rt_missing[] = STOP("L0/vm0", "L0", "exited", "0") STOP("L0/vm1", "L0", "exited", "0")
		STOP("L0/hv", "L0", "exited", "0")
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\",\"reason\":\"fine\"}\n";
	/* A guest claiming its sibling exited is not believed. */
	static const char forged[] = STOP("L0/vm0", "L0", "exited", "0") STOP("L0/vm1", "L0/vm0", "exited", "0")
		STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0")
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"ok\",\"reason\":\"fine\"}\n";
	model(&exp);
	facts_exited(&f, 1);

	parse(&rs, all_ok);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);
	nl_records_free(&rs);

	parse(&rs, rt_missing);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "L0/hv/rt"));
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_EXPERIMENT);
	nl_records_free(&rs);

	parse(&rs, forged);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "L0/vm1"));
	nl_records_free(&rs);
}

static void model(struct nl_experiment *exp)
{
	static const struct {
		const char *name, *image;
		enum nl_vm_kind kind;
		int parent;
	} vms[] = {
		{ "vm0", "leaf", NL_VM_LEAF, -1 },
		{ "vm1", "leaf", NL_VM_LEAF, -1 },
		{ "hv", "nestlab-vmm", NL_VM_VMM, -1 },
		{ "rt", "rtleaf", NL_VM_LEAF, 2 },
	};
	memset(exp, 0, sizeof *exp);
	snprintf(exp->name, sizeof exp->name, "synthetic");
	snprintf(exp->backend.name, sizeof exp->backend.name, "bochs");
	for (unsigned i = 0; i < sizeof vms / sizeof vms[0]; i++) {
		snprintf(exp->vms[i].name, NL_NAME_MAX, "%s", vms[i].name);
		snprintf(exp->vms[i].image, NL_NAME_MAX, "%s", vms[i].image);
		exp->vms[i].kind = vms[i].kind;
		exp->vms[i].parent = vms[i].parent;
		exp->vms[i].memory_bytes = 4u << 20;
	}
	exp->vm_count = sizeof vms / sizeof vms[0];
}

static void facts_exited(struct nl_run_facts *f, int status)
{
	memset(f, 0, sizeof *f);
	f->description = "synthetic.xml";
	f->backend = "bochs";
	f->end = NL_BACKEND_EXITED;
	f->timeout_s = 30;
	f->wall_seconds = 1.23456;
	snprintf(f->detail, sizeof f->detail, "exited with status %d", status);
}

static void parse(struct nl_records *rs, const char *text)
{
	nl_records_init(rs);
	CU_ASSERT_EQUAL(nl_records_parse(rs, text, strlen(text)), 0);
}

/* The status and reason a stream and the facts give. */
static void decide(const char *text, const struct nl_run_facts *f, struct nl_outcome *o)
{
	struct nl_records rs;
	parse(&rs, text);
	nl_outcome_decide(&rs, f, o);
	nl_records_free(&rs);
}

#define BOOT "{\"path\":\"L0\",\"type\":\"boot\",\"tsc\":1}\n"
#define END_OK "{\"path\":\"L0\",\"type\":\"end\",\"tsc\":9,\"status\":\"ok\",\"reason\":\"every VM exited\"}\n"
#define END_FAILED "{\"path\":\"L0\",\"type\":\"end\",\"tsc\":9,\"status\":\"failed\",\"reason\":\"L0/vm0 faulted\"}\n"

static void test_status_ok_and_failed(void)
{
	struct nl_run_facts f;
	struct nl_outcome o;
	facts_exited(&f, 1);
	decide(BOOT END_OK, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);
	CU_ASSERT_STRING_EQUAL(o.reason, "every VM exited");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_SUCCESS);

	decide(BOOT END_FAILED, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0/vm0 faulted");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_EXPERIMENT);

	/* An end record from a guest is not L0's verdict. */
	decide(BOOT "{\"path\":\"L0/vm0\",\"type\":\"end\",\"status\":\"ok\"}\n", &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_CRASHED);

	/* An end status nobody defined is a failure, and says what it was. */
	decide(BOOT "{\"path\":\"L0\",\"type\":\"end\",\"status\":\"meh\"}\n", &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "meh"));
}

static void test_status_without_end_record(void)
{
	struct nl_run_facts f;
	struct nl_outcome o;
	facts_exited(&f, 1);
	decide(BOOT "{\"path\":\"L0\",\"type\":\"vm_start\",\"vm\":\"L0/vm0\"}\n", &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_CRASHED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "exited with status 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "vm_start"));
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_BACKEND);

	decide("", &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_CRASHED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "single record"));

	/* GRUB's complaint on COM1 (after its terminal set-up noise) is the reason. */
	decide("\033[H\033[J\n\r" NL_ISO_BOOT_FAILURE "/boot/nestlab-vmm.elf is not a multiboot2 kernel\n\r",
	       &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_CRASHED);
	CU_ASSERT_STRING_EQUAL(o.reason, "GRUB cannot boot: /boot/nestlab-vmm.elf is not a multiboot2 kernel");

	f.end = NL_BACKEND_TIMEOUT;
	decide(BOOT, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_TIMEOUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "30 s"));
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_BACKEND);

	/* The end record came, then the backend hung in shutdown: the experiment's verdict stands. */
	decide(BOOT END_OK, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);

	f.end = NL_BACKEND_INTERRUPTED;
	decide(BOOT, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_INTERRUPTED);
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_BACKEND);

	f.end = NL_BACKEND_NOT_STARTED;
	snprintf(f.detail, sizeof f.detail, "image build/images/leaf.elf: No such file or directory");
	decide("", &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_NOT_STARTED);
	CU_ASSERT_STRING_EQUAL(o.reason, f.detail);
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_BACKEND);
}

/* L0's refusals name the cause; its end record after them only says "failed". */
static void test_status_refusals(void)
{
	struct nl_run_facts f;
	struct nl_outcome o;
	facts_exited(&f, 1);
	decide(BOOT "{\"path\":\"L0\",\"type\":\"manifest_error\",\"tsc\":2,\"error\":\"checksum\","
		    "\"reason\":\"crc32 0x1 does not match 0x2\"}\n" END_FAILED, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_MANIFEST_REFUSED);
	CU_ASSERT_STRING_EQUAL(o.reason, "checksum: crc32 0x1 does not match 0x2");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_EXPERIMENT);

	/* Even when L0 then died without an end record. */
	decide(BOOT "{\"path\":\"L0\",\"type\":\"manifest_error\",\"error\":\"magic\",\"reason\":\"x\"}\n",
	       &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_MANIFEST_REFUSED);

	decide(BOOT "{\"path\":\"L0\",\"type\":\"vmx_unavailable\",\"tsc\":2,"
		    "\"reason\":\"CPUID.1:ECX.VMX is 0\"}\n" END_FAILED, &f, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_VMX_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(o.reason, "CPUID.1:ECX.VMX is 0");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_EXPERIMENT);
}

static const char full_stream[] =
	"nestlab L0: long mode, console up\n"
	BOOT
	"{\"path\":\"L0\",\"type\":\"vmx_caps\",\"tsc\":2,\"revision\":43,\"ept\":true}\n"
	"{\"path\":\"L0\",\"type\":\"vm_start\",\"tsc\":3,\"vm\":\"L0/vm0\"}\n"
	"{\"path\":\"L0/vm0\",\"type\":\"report\",\"status\":\"early\"}\n"
	"{\"path\":\"L0/vm1\",\"type\":\"report\",\"status\":\"vm1's\"}\n"
	"{\"path\":\"L0/vm0\",\"type\":\"report\",\"status\":\"ok\",\"hypercalls\":100}\n"
	"{\"path\":\"L0\",\"type\":\"vm_fault\",\"tsc\":4,\"vm\":\"L0/vm1\",\"exit_reason\":\"EPT_VIOLATION\"}\n"
	"{\"path\":\"L0\",\"type\":\"vm_stop\",\"tsc\":5,\"vm\":\"L0/vm1\",\"state\":\"faulted\","
	"\"exit_status\":-1,\"reason\":\"EPT violation\"}\n"
	"{\"path\":\"L0\",\"type\":\"vm_stop\",\"tsc\":6,\"vm\":\"L0/vm0\",\"state\":\"exited\","
	"\"exit_status\":0,\"reason\":\"the guest called EXIT\"}\n"
	"{\"path\":\"L0/hv\",\"type\":\"exits\",\"tsc\":7,\"vm\":\"L0/hv/rt\",\"total\":5,"
	"\"by_reason\":{\"VMCALL\":5}}\n"
	"{\"path\":\"L0\",\"type\":\"exits\",\"tsc\":8,\"vm\":\"L0/vm0\",\"total\":12,"
	"\"by_reason\":{\"VMCALL\":10,\"CPUID\":2},\"hypercalls\":{\"NOP\":9,\"EXIT\":1}}\n"
	"{\"path\":\"L0\",\"type\":\"exits\",\"tsc\":8,\"vm\":\"L0/vm1\",\"total\":4,"
	"\"by_reason\":{\"EPT_VIOLATION\":1,\"VMCALL\":3},\"hypercalls\":{\"NOP\":3}}\n"
	"{\"path\":\"L0/zz\",\"type\":\"exits\",\"vm\":\"L0/zz/q\",\"total\":1,\"by_reason\":{\"HLT\":1}}\n"
	/* A guest forging its sibling's fate: only the VM's own VMM (path L0) speaks about L0/vm1. */
	"{\"path\":\"L0/vm0\",\"type\":\"vm_stop\",\"vm\":\"L0/vm1\",\"state\":\"exited\",\"exit_status\":0}\n"
	"{not json\n"
	END_FAILED;

static json_t *summary_of(const char *text, struct nl_records *rs)
{
	struct nl_experiment exp;
	struct nl_run_facts f;
	struct nl_outcome o;
	model(&exp);
	facts_exited(&f, 1);
	parse(rs, text);
	nl_outcome_decide(rs, &f, &o);
	return nl_summary_build(&exp, rs, &f, &o);
}

static const json_t *find_by_path(const json_t *array, const char *path)
{
	size_t i;
	json_t *e;
	json_array_foreach(array, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "path")), path))
			return e;
	}
	return NULL;
}

static json_int_t count_at(const json_t *obj, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(obj, a), b));
}

static void test_summary_top_level(void)
{
	struct nl_records rs;
	json_t *s = summary_of(full_stream, &rs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "experiment")), "synthetic");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "description")), "synthetic.xml");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "backend")), "bochs");
	CU_ASSERT_PTR_NULL(json_object_get(s, "accel")); /* QEMU only */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "status")), NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "reason")), "L0/vm0 faulted");
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(s, "wall_seconds")), 1.235, 1e-9);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "records")), 15); /* 14 genuine, 1 forged (kept, but not believed) */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "bad_lines")), 1);
	/* The documented keys come in the documented order. */
	static const char *const order[] = { "experiment", "description", "backend", "status", "reason" };
	void *it = json_object_iter(s);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++, it = json_object_iter_next(s, it))
		CU_ASSERT_STRING_EQUAL(json_object_iter_key(it), order[i]);
	json_decref(s);
	nl_records_free(&rs);
}

static void test_summary_vms(void)
{
	struct nl_records rs;
	json_t *s = summary_of(full_stream, &rs);
	const json_t *vms = json_object_get(s, "vms");
	CU_ASSERT_EQUAL_FATAL(json_array_size(vms), 4);
	/* One entry per VM of the description, in its order, with the full path. */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(vms, 3), "path")), "L0/hv/rt");

	const json_t *vm0 = find_by_path(vms, "L0/vm0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(vm0, "state")), "exited");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(vm0, "exit_status")), 0);
	CU_ASSERT_TRUE(json_is_integer(json_object_get(vm0, "exit_status")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(vm0, "reason")), "the guest called EXIT");
	/* The last report of that VM, not an earlier one nor another VM's. */
	const json_t *report = json_object_get(vm0, "report");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(report, "status")), "ok");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "hypercalls")), 100);
	CU_ASSERT_EQUAL(count_at(vm0, "exits", "total"), 12);
	CU_ASSERT_EQUAL(count_at(json_object_get(vm0, "exits"), "by_reason", "CPUID"), 2);
	CU_ASSERT_TRUE(json_is_null(json_object_get(vm0, "fault")));

	const json_t *vm1 = find_by_path(vms, "L0/vm1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(vm1, "state")), "faulted");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(vm1, "exit_status")), -1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(vm1, "report"), "status")),
			       "vm1's");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(vm1, "fault"), "exit_reason")),
			       "EPT_VIOLATION");

	/* No vm_stop: state unknown, nothing made up. */
	const json_t *hv = find_by_path(vms, "L0/hv");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(hv, "state")), "unknown");
	CU_ASSERT_TRUE(json_is_null(json_object_get(hv, "exit_status")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(hv, "reason")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(hv, "report")));
	CU_ASSERT_TRUE(json_is_null(json_object_get(hv, "exits")));

	/* A VM counted by a level below L0 gets its exits from that level's record. */
	const json_t *rt = find_by_path(vms, "L0/hv/rt");
	CU_ASSERT_EQUAL(count_at(rt, "exits", "total"), 5);
	json_decref(s);
	nl_records_free(&rs);
}

static void test_summary_levels(void)
{
	struct nl_records rs;
	json_t *s = summary_of(full_stream, &rs);
	const json_t *levels = json_object_get(s, "levels");
	/* L0 first, then the description's VMMs, then any other level that counted exits. */
	CU_ASSERT_EQUAL_FATAL(json_array_size(levels), 3);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(levels, 0), "path")), "L0");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(levels, 1), "path")), "L0/hv");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(levels, 2), "path")), "L0/zz");

	/* L0's exits are the sum of its own exits records, reason by reason, in first-seen order. */
	const json_t *l0 = json_array_get(levels, 0);
	const json_t *exits = json_object_get(l0, "exits");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(exits, "total")), 16);
	const json_t *by = json_object_get(exits, "by_reason");
	CU_ASSERT_EQUAL(json_object_size(by), 3);
	CU_ASSERT_EQUAL(count_at(exits, "by_reason", "VMCALL"), 13);
	CU_ASSERT_EQUAL(count_at(exits, "by_reason", "CPUID"), 2);
	CU_ASSERT_EQUAL(count_at(exits, "by_reason", "EPT_VIOLATION"), 1);
	CU_ASSERT_STRING_EQUAL(json_object_iter_key(json_object_iter((json_t *)by)), "VMCALL");
	CU_ASSERT_EQUAL(count_at(exits, "hypercalls", "NOP"), 12);
	CU_ASSERT_EQUAL(count_at(exits, "hypercalls", "EXIT"), 1);
	/* The child level's exits stay its own. */
	CU_ASSERT_EQUAL(count_at(json_array_get(levels, 1), "exits", "total"), 5);

	/* vmx_caps: the record's members, without path, type and tsc. */
	const json_t *caps = json_object_get(l0, "vmx_caps");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(caps, "revision")), 43);
	CU_ASSERT_TRUE(json_is_true(json_object_get(caps, "ept")));
	CU_ASSERT_PTR_NULL(json_object_get(caps, "path"));
	CU_ASSERT_PTR_NULL(json_object_get(caps, "type"));
	CU_ASSERT_PTR_NULL(json_object_get(caps, "tsc"));
	CU_ASSERT_TRUE(json_is_null(json_object_get(json_array_get(levels, 1), "vmx_caps")));
	json_decref(s);
	nl_records_free(&rs);
}

/* A run with no records at all still has a complete summary (a crash, a missing image). */
static void test_summary_of_nothing(void)
{
	struct nl_records rs;
	json_t *s = summary_of("", &rs);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(s, "status")), NL_STATUS_CRASHED);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "records")), 0);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(s, "vms")), 4);
	const json_t *l0 = json_array_get(json_object_get(s, "levels"), 0);
	CU_ASSERT_EQUAL(count_at(l0, "exits", "total"), 0);
	CU_ASSERT_EQUAL(json_object_size(json_object_get(json_object_get(l0, "exits"), "by_reason")), 0);

	/* The human summary prints from it without tripping over the nulls. */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	nl_summary_print(f, s, "results/x");
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "synthetic: crashed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "L0/hv/rt"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "results: results/x\n"));
	free(text);
	json_decref(s);
	nl_records_free(&rs);
}

static void test_summary_print(void)
{
	struct nl_records rs;
	json_t *s = summary_of(full_stream, &rs);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	nl_summary_print(f, s, "/tmp/out");
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "synthetic: failed: L0/vm0 faulted"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "1 BAD LINES"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "report: status=ok hypercalls=100"));
	/* Exit reasons, the most frequent first. */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "16 VM exits: VMCALL 13, CPUID 2, EPT_VIOLATION 1"));
	free(text);
	json_decref(s);
	nl_records_free(&rs);
}

/* L0 → hv1 → hv2 → leaf, as configs/depth3.xml; the leaf expects what is given. */
static void depth3_model(struct nl_experiment *exp, uint32_t leaf_expect)
{
	static const char *const names[] = { "hv1", "hv2", "leaf" };
	memset(exp, 0, sizeof *exp);
	snprintf(exp->name, sizeof exp->name, "depth3");
	for (unsigned i = 0; i < 3; i++) {
		snprintf(exp->vms[i].name, NL_NAME_MAX, "%s", names[i]);
		exp->vms[i].kind = i < 2 ? NL_VM_VMM : NL_VM_LEAF;
		exp->vms[i].parent = (int)i - 1;
	}
	exp->vms[2].expect = leaf_expect;
	exp->vm_count = 3;
}

/* What the depth-3 run of issue #9 emitted when its leaf ran out of time (records.jsonl, trimmed). */
static const char leaf_timeout[] =
	"{\"path\":\"L0/hv1/hv2/leaf\",\"type\":\"phase\",\"phase\":\"compute\",\"count\":200000,\"ticks\":2600021}\n"
	STOP("L0/hv1/hv2/leaf", "L0/hv1/hv2", "timeout", "-1")
	"{\"path\":\"L0/hv1/hv2\",\"type\":\"end\",\"status\":\"failed\"}\n"
	"{\"path\":\"L0/hv1\",\"type\":\"vm_stop\",\"vm\":\"L0/hv1/hv2\",\"state\":\"exited\",\"exit_status\":1,"
	"\"reason\":\"the guest called EXIT\"}\n"
	"{\"path\":\"L0\",\"type\":\"vm_stop\",\"vm\":\"L0/hv1\",\"state\":\"exited\",\"exit_status\":1,"
	"\"reason\":\"the guest called EXIT\"}\n"
	"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"L0/hv1 exited: the guest called EXIT\"}\n";

/* The headline names the root cause (the leaf's timeout), and the leaf's phases survive. */
static void test_root_cause_and_phases(void)
{
	struct nl_experiment exp;
	struct nl_run_facts f;
	struct nl_outcome o;
	struct nl_records rs;
	depth3_model(&exp, NL_EXPECT_EXIT);
	facts_exited(&f, 1);
	parse(&rs, leaf_timeout);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0/hv1/hv2/leaf timeout: r");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_EXPERIMENT);

	json_t *s = nl_summary_build(&exp, &rs, &f, &o);
	const json_t *leaf = find_by_path(json_object_get(s, "vms"), "L0/hv1/hv2/leaf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
	const json_t *phases = json_object_get(leaf, "phases");
	CU_ASSERT_EQUAL_FATAL(json_array_size(phases), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(phases, 0), "phase")), "compute");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(phases, 0), "ticks")), 2600021);
	CU_ASSERT_PTR_NULL(json_object_get(json_array_get(phases, 0), "path"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(leaf, "expect")), "exit");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	nl_summary_print(out, s, "x");
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "depth3: failed: L0/hv1/hv2/leaf timeout"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "phases done: compute"));
	free(text);
	json_decref(s);

	/* The same run, the leaf expected to time out: every VMM's status 1 follows, the run is ok. */
	depth3_model(&exp, NL_EXPECT_TIMEOUT);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_SUCCESS);
	nl_records_free(&rs);
}

/* expect= per VM: ok when each VM ended so, failed naming the mismatch otherwise. */
static void test_expected_outcomes(void)
{
	struct nl_experiment exp;
	struct nl_run_facts f;
	struct nl_outcome o;
	struct nl_records rs;
	/* configs/ept-violation.xml's run: vm0 ("bad") faults, the others exit. */
	static const char faulted[] = STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0")
		"{\"path\":\"L0\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"L0/vm0 faulted: r\"}\n";
	static const char all_exited[] = STOP("L0/vm0", "L0", "exited", "0") STOP("L0/vm1", "L0", "exited", "0")
		STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0") END_OK;
	/* A hostile guest stopped as planned, whose own checks failed. */
	static const char checks_failed[] = "{\"path\":\"L0/vm0\",\"type\":\"report\",\"status\":\"failed\"}\n"
		STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0") END_FAILED;
	model(&exp);
	facts_exited(&f, 1);
	exp.vms[0].expect = NL_EXPECT_FAULT;

	parse(&rs, faulted);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);
	CU_ASSERT_STRING_EQUAL(o.reason, "every VM ended as its description expects");
	CU_ASSERT_EQUAL(nl_outcome_exit_code(&o), NL_EXIT_SUCCESS);
	nl_records_free(&rs);

	parse(&rs, all_exited);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0/vm0 exited, expected fault: r");
	nl_records_free(&rs);

	parse(&rs, checks_failed);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "its report says status \"failed\""));
	nl_records_free(&rs);

	/* A fault nobody expected is still one. */
	exp.vms[0].expect = NL_EXPECT_EXIT;
	parse(&rs, faulted);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0/vm0 faulted: r");
	nl_records_free(&rs);

	/* A VMM that crashed after its VMs ended as expected: failed, and its own end says why. */
	exp.vms[0].expect = NL_EXPECT_FAULT;
	parse(&rs, STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		   STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0")
		   "{\"path\":\"L0\",\"type\":\"exception\",\"vector\":14}\n"
		   "{\"path\":\"L0\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"exception #PF in the VMM\"}\n");
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0: exception #PF in the VMM");
	nl_records_free(&rs);
	/* ... the same for a child VMM, whose status 1 alone would look as expected. */
	exp.vms[3].expect = NL_EXPECT_FAULT; /* hv's rt */
	parse(&rs, STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		   STOP("L0/hv/rt", "L0/hv", "faulted", "-1")
		   "{\"path\":\"L0/hv\",\"type\":\"exception\",\"vector\":13}\n"
		   "{\"path\":\"L0/hv\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"exception #GP\"}\n"
		   STOP("L0/hv", "L0", "exited", "1") END_FAILED);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_STRING_EQUAL(o.reason, "L0/hv: exception #GP");
	nl_records_free(&rs);
	/* A leaf cannot pass for a crashed VMM: its "exception" record is only a guest's words. */
	parse(&rs, STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		   "{\"path\":\"L0/vm1\",\"type\":\"exception\"}\n"
		   STOP("L0/hv/rt", "L0/hv", "faulted", "-1") STOP("L0/hv", "L0", "exited", "1") END_FAILED);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_OK);
	nl_records_free(&rs);
	exp.vms[3].expect = NL_EXPECT_EXIT;

	/* A child VMM that exited 1 for a reason of its own: the headline gives that reason. */
	exp.vms[0].expect = NL_EXPECT_EXIT;
	parse(&rs, STOP("L0/vm0", "L0", "exited", "0") STOP("L0/vm1", "L0", "exited", "0")
		   "{\"path\":\"L0/hv\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"cannot schedule: x\"}\n"
		   STOP("L0/hv", "L0", "exited", "1") END_FAILED);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "L0/hv exited with status 1, expected 0: cannot schedule: x"));
	nl_records_free(&rs);

	/* A guest's words reach the headline as one line: no newline, no escape sequence. */
	exp.vms[0].expect = NL_EXPECT_FAULT;
	parse(&rs, "{\"path\":\"L0/vm0\",\"type\":\"report\",\"status\":\"\\u001b[2Jok\\nnestlab: ok\"}\n"
		   STOP("L0/vm0", "L0", "faulted", "-1") STOP("L0/vm1", "L0", "exited", "0")
		   STOP("L0/hv/rt", "L0/hv", "exited", "0") STOP("L0/hv", "L0", "exited", "0") END_FAILED);
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_FAILED);
	CU_ASSERT_PTR_NULL(strchr(o.reason, '\n'));
	CU_ASSERT_PTR_NULL(strchr(o.reason, '\x1b'));
	CU_ASSERT_PTR_NOT_NULL(strstr(o.reason, "?[2Jok?nestlab: ok"));
	nl_records_free(&rs);

	/* A refusal is never turned into ok by expectations. */
	exp.vms[0].expect = NL_EXPECT_FAULT;
	parse(&rs, BOOT "{\"path\":\"L0\",\"type\":\"manifest_error\",\"error\":\"magic\",\"reason\":\"x\"}\n");
	nl_outcome_decide(&rs, &f, &o);
	nl_outcome_check_vms(&exp, &rs, &o);
	CU_ASSERT_STRING_EQUAL(o.status, NL_STATUS_MANIFEST_REFUSED);
	nl_records_free(&rs);
}

/* summary.json's wall time: milliseconds, not the nearest double's 17 digits. */
static void test_wall_seconds_written(void)
{
	struct nl_records rs;
	struct nl_experiment exp;
	struct nl_run_facts f;
	struct nl_outcome o;
	model(&exp);
	facts_exited(&f, 0);
	f.wall_seconds = 3.0059999999999998;
	parse(&rs, BOOT END_OK);
	nl_outcome_decide(&rs, &f, &o);
	json_t *s = nl_summary_build(&exp, &rs, &f, &o);
	char *text = json_dumps(s, NL_SUMMARY_JSON_FLAGS);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"wall_seconds\": 3.006,"));
	free(text);
	json_decref(s);
	nl_records_free(&rs);
}

static void test_grub_cfg(void)
{
	struct nl_experiment exp;
	struct nl_iso_images imgs;
	char cfg[4096];
	model(&exp);
	nl_iso_images_of(&exp, &imgs);
	/* Each image once, in the order the VMs name them. */
	CU_ASSERT_EQUAL_FATAL(imgs.count, 3);
	CU_ASSERT_STRING_EQUAL(imgs.names[0], "leaf");
	CU_ASSERT_STRING_EQUAL(imgs.names[1], "nestlab-vmm");
	CU_ASSERT_STRING_EQUAL(imgs.names[2], "rtleaf");

	int len = nl_iso_grub_cfg("synthetic", &imgs, cfg, sizeof cfg);
	CU_ASSERT_TRUE_FATAL(len > 0);
	CU_ASSERT_EQUAL((size_t)len, strlen(cfg));
	CU_ASSERT_EQUAL(strncmp(cfg, "set timeout=0\nset default=0\n", 28), 0);
	const char *kernel = strstr(cfg, "multiboot2 /boot/nestlab-vmm.elf;");
	const char *manifest = strstr(cfg, "module2 /boot/manifest.bin manifest;");
	const char *leaf = strstr(cfg, "module2 /boot/leaf.elf leaf;");
	const char *vmm = strstr(cfg, "module2 /boot/nestlab-vmm.elf nestlab-vmm;");
	const char *rt = strstr(cfg, "module2 /boot/rtleaf.elf rtleaf;");
	const char *boot = strstr(cfg, "\tboot\n");
	CU_ASSERT_TRUE(kernel && manifest && leaf && vmm && rt && boot);
	CU_ASSERT_TRUE(kernel < manifest && manifest < leaf && leaf < vmm && vmm < rt && rt < boot);
	CU_ASSERT_PTR_NULL(strstr(leaf + 1, "module2 /boot/leaf.elf"));
	/* A failure is told on COM1 and powers off, never waits at a GRUB prompt. */
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "terminal_output serial"));
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg, "halt"));

	CU_ASSERT_EQUAL(nl_iso_grub_cfg("synthetic", &imgs, cfg, 64), -1);
}

void register_suite_results(void)
{
	CU_pSuite s = CU_add_suite("results", NULL, NULL);
	CU_add_test(s, "status from L0's end record", test_status_ok_and_failed);
	CU_add_test(s, "an ok end record stands only if every VM exited 0", test_status_needs_every_vm);
	CU_add_test(s, "status without an end record: crash, timeout, not started", test_status_without_end_record);
	CU_add_test(s, "manifest refused and VMX unavailable win", test_status_refusals);
	CU_add_test(s, "summary: the run as a whole", test_summary_top_level);
	CU_add_test(s, "summary: one entry per VM, from its records", test_summary_vms);
	CU_add_test(s, "summary: per-level exit sums and capabilities", test_summary_levels);
	CU_add_test(s, "summary: no records at all", test_summary_of_nothing);
	CU_add_test(s, "the human summary", test_summary_print);
	CU_add_test(s, "grub.cfg: kernel, manifest and each image once", test_grub_cfg);
	CU_add_test(s, "the headline names the root cause; a stopped leaf's phases kept", test_root_cause_and_phases);
	CU_add_test(s, "expected outcomes per VM: ok, or failed naming the mismatch", test_expected_outcomes);
	CU_add_test(s, "summary.json: wall_seconds without float noise", test_wall_seconds_written);
}
