/* Integration scenarios of a single level: L0 and its leaf guests, the runner's failure paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* One leaf VM: it runs its whole workload and L0 counts what it did. */
static void test_hello_one_leaf(void)
{
	char dir[4096];
	json_t *s = run_config("hello-xml", "configs/hello.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *vm = vm_by_path(s, "L0/vm0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
	CU_ASSERT_STRING_EQUAL(vm_state(vm), "exited");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(vm, "exit_status")), 0);
	json_t *report = json_object_get(vm, "report");
	CU_ASSERT_PTR_NOT_NULL(report);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(report, "status")), "ok");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "hypercalls")), 100);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "pages_touched")), 16);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "mismatches")), 0);
	/* 100 NOP round trips plus console and record hypercalls, all through L0's VMCALL handler. */
	CU_ASSERT(level_exits(s, "L0", "VMCALL") >= 100);
	CU_ASSERT(level_exits(s, "L0", NULL) >= level_exits(s, "L0", "VMCALL"));
	CU_ASSERT(vm_exits(vm, "VMCALL") >= 100);
	/* L0 reported its VMX capabilities. */
	json_t *caps = find_record(dir, "vmx_caps", NULL);
	CU_ASSERT_PTR_NOT_NULL(caps);
	CU_ASSERT(json_is_true(json_object_get(caps, "ept")));
	json_decref(caps);
	json_decref(s);
}

/* The same experiment as JSON runs identically, and a second run of the XML gives the same bytes. */
static void test_json_twin_and_determinism(void)
{
	char a[4096], b[4096], c[4096], pa[4200], pb[4200], pc[4200];
	results_dir(a, sizeof a, "hello-xml");
	results_dir(b, sizeof b, "hello-json");
	results_dir(c, sizeof c, "hello-xml-again");
	CU_ASSERT_EQUAL(run_nestlab(b, (const char *[]){ "run", "configs/hello.json", "--out", b, "--quiet", NULL }), 0);
	CU_ASSERT_EQUAL(run_nestlab(c, (const char *[]){ "run", "configs/hello.xml", "--out", c, "--quiet", NULL }), 0);
	snprintf(pa, sizeof pa, "%s/records.jsonl", a);
	snprintf(pb, sizeof pb, "%s/records.jsonl", b);
	snprintf(pc, sizeof pc, "%s/records.jsonl", c);
	size_t la = 0, lb = 0, lc = 0;
	char *ra = slurp(pa, &la), *rb = slurp(pb, &lb), *rc = slurp(pc, &lc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	CU_ASSERT(la > 0);
	CU_ASSERT(la == lc && memcmp(ra, rc, la) == 0);
	CU_ASSERT(la == lb && memcmp(ra, rb, la) == 0);
	free(ra);
	free(rb);
	free(rc);
}

/* Two VMs share the CPU on the preemption timer; both finish. */
static void test_two_vms_share_cpu(void)
{
	char dir[4096];
	json_t *s = run_config("two-vms", "configs/two-vms.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *vm0 = vm_by_path(s, "L0/vm0"), *vm1 = vm_by_path(s, "L0/vm1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm1);
	CU_ASSERT_STRING_EQUAL(vm_state(vm0), "exited");
	CU_ASSERT_STRING_EQUAL(vm_state(vm1), "exited");
	/* Each was preempted at least twice: the CPU really was shared, not run one after the other. */
	CU_ASSERT(vm_exits(vm0, "PREEMPTION_TIMER") >= 2);
	CU_ASSERT(vm_exits(vm1, "PREEMPTION_TIMER") >= 2);
	/* L0's scheduler says the same: round robin, switching between the two on its slices. */
	CU_ASSERT_STRING_EQUAL(level_sched_policy(s, "L0"), "rr");
	CU_ASSERT(level_sched(s, "L0", NULL, "switches") >= 4);
	CU_ASSERT(level_sched(s, "L0", NULL, "decisions") >= level_sched(s, "L0", NULL, "switches"));
	CU_ASSERT(level_sched(s, "L0", NULL, "preemptions") >= 4);
	CU_ASSERT(level_sched(s, "L0", "timer_expired", "sched") >= 4); /* the slice ends were the scheduler's times */
	CU_ASSERT(level_sched(s, "L0", NULL, "ticks_deciding") > 0);
	CU_ASSERT_EQUAL(level_sched(s, "L0", NULL, "bad_picks"), 0);
	json_decref(s);
}

/* A guest touching memory outside its EPT is stopped; its sibling completes. */
static void test_ept_violation_isolated(void)
{
	char dir[4096];
	/* The description expects "bad" to fault: the run is ok when it does (an unexpected fault: hostile-shadow). */
	json_t *s = run_config("ept-violation", "configs/ept-violation.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *bad = vm_by_path(s, "L0/bad"), *good = vm_by_path(s, "L0/good");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	CU_ASSERT_STRING_EQUAL(vm_state(bad), "faulted");
	CU_ASSERT_EQUAL(vm_exits(bad, "EPT_VIOLATION"), 1);
	CU_ASSERT_STRING_EQUAL(vm_state(good), "exited");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(good, "exit_status")), 0);
	json_t *fault = find_record(dir, "vm_fault", "L0/bad");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fault);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fault, "exit_reason")), "EPT_VIOLATION");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fault, "gpa")), "0x20000000");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(fault, "access")), "write");
	json_decref(fault);
	json_decref(s);
}

/* L0 refuses a manifest whose checksum does not match, with a clear record. */
static void test_corrupted_manifest_refused(void)
{
	char dir[4096], mf[4200];
	results_dir(dir, sizeof dir, "bad-manifest");
	snprintf(mf, sizeof mf, "%s/corrupt-manifest.bin", work);
	CU_ASSERT_EQUAL_FATAL(run_nestlab(dir, (const char *[]){ "manifest", "configs/hello.xml", "-o", mf, NULL }), 0);
	size_t len = 0;
	char *bytes = slurp(mf, &len);
	CU_ASSERT_FATAL(bytes != NULL && len > 100);
	bytes[len - 20] ^= 0x40; /* inside the VM entry: only the checksum can tell */
	FILE *f = fopen(mf, "wb");
	CU_ASSERT_FATAL(f != NULL);
	fwrite(bytes, 1, len, f);
	fclose(f);
	free(bytes);
	int rc = run_nestlab(dir, (const char *[]){ "run", "configs/hello.xml", "--manifest", mf, "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 1);
	json_t *s = load_summary(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "manifest_refused");
	json_t *r = find_record(dir, "manifest_error", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r, "error")), "checksum");
	json_decref(r);
	/* No VM ran. */
	CU_ASSERT_PTR_NULL(find_record(dir, "vm_start", NULL));
	json_decref(s);
}

/* The experiment's duration stops a guest that would run far longer. */
static void test_duration_stops_guest(void)
{
	char dir[4096];
	json_t *s = run_config("duration", "tests/integration/configs/endless.xml", 1, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "failed");
	json_t *vm = vm_by_path(s, "L0/spin");
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
	CU_ASSERT_STRING_EQUAL(vm_state(vm), "timeout");
	json_decref(s);
}

/* A backend that outlives the wall-clock limit is killed; partial results remain. */
static void test_backend_timeout_partial_results(void)
{
	char dir[4096];
	results_dir(dir, sizeof dir, "wall-timeout");
	int rc = run_nestlab(dir, (const char *[]){ "run", "tests/integration/configs/hang.xml", "--timeout", "6",
						  "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 4);
	json_t *s = load_summary(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "timeout");
	/* What L0 said before it was killed is kept. */
	json_t *boot = find_record(dir, "boot", NULL);
	CU_ASSERT_PTR_NOT_NULL(boot);
	json_decref(boot);
	json_decref(s);
}

/* An invalid description: exit 3, a message naming file and line, no results folder. */
static void test_bad_description(void)
{
	char dir[4096], err[4200];
	struct stat st;
	results_dir(dir, sizeof dir, "bad-description");
	int rc = run_nestlab(dir, (const char *[]){ "run", "tests/integration/configs/bad-memory.xml", "--out", dir, NULL });
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_NOT_EQUAL(stat(dir, &st), 0);
	snprintf(err, sizeof err, "%s.stderr", dir);
	char *msg = slurp(err, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "bad-memory.xml:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "memory"));
	free(msg);
}

static int host_has_kvm_nested(void)
{
	char *p = slurp("/sys/module/kvm_intel/parameters/nested", NULL);
	int yes = p && (p[0] == 'Y' || p[0] == '1') && access("/dev/kvm", R_OK | W_OK) == 0;
	free(p);
	return yes;
}

/* QEMU: without KVM nested VMX it is TCG, which has no VMX, and L0 says so. */
static void test_qemu_backend(void)
{
	char dir[4096];
	results_dir(dir, sizeof dir, "qemu");
	int rc = run_nestlab(dir, (const char *[]){ "run", "configs/hello.xml", "--backend", "qemu", "--out", dir,
						  "--quiet", "--timeout", "120", NULL });
	json_t *s = load_summary(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	if (host_has_kvm_nested()) {
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	} else {
		CU_ASSERT_EQUAL(rc, 1);
		CU_ASSERT_STRING_EQUAL(status_of(s), "vmx_unavailable");
		json_t *r = find_record(dir, "vmx_unavailable", NULL);
		CU_ASSERT_PTR_NOT_NULL(r);
		json_decref(r);
		char err[4200];
		snprintf(err, sizeof err, "%s.stderr", dir);
		char *msg = slurp(err, NULL);
		CU_ASSERT(msg && strstr(msg, "VMX unavailable"));
		free(msg);
	}
	json_decref(s);
}

void register_l0_scenarios(CU_pSuite s)
{
	CU_add_test(s, "one leaf VM runs its workload", test_hello_one_leaf);
	CU_add_test(s, "JSON twin and second run give identical records", test_json_twin_and_determinism);
	CU_add_test(s, "two VMs share the CPU", test_two_vms_share_cpu);
	CU_add_test(s, "EPT violation stops only the guilty VM", test_ept_violation_isolated);
	CU_add_test(s, "corrupted manifest refused by L0", test_corrupted_manifest_refused);
	CU_add_test(s, "duration stops a long guest", test_duration_stops_guest);
	CU_add_test(s, "backend wall-clock timeout keeps partial results", test_backend_timeout_partial_results);
	CU_add_test(s, "invalid description refused before running", test_bad_description);
	CU_add_test(s, "qemu backend", test_qemu_backend);
}
