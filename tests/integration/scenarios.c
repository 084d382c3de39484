/*
 * Integration scenarios: each boots a real stack under Bochs through the
 * `nestlab` tool and asserts on what the stack reported (summary.json and
 * records.jsonl).  Run as: integration-tests --nestlab PATH --work DIR.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *nestlab = "build/bin/nestlab";
static const char *work = "build/integration";

/* Run nestlab with args; stdout/stderr go to OUT.stdout/.stderr beside the results folder. */
static int run_nestlab(const char *out, const char *const *args)
{
	char so[4200], se[4200];
	snprintf(so, sizeof so, "%s.stdout", out);
	snprintf(se, sizeof se, "%s.stderr", out);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(so, "w", stdout) || !freopen(se, "w", stderr) || !freopen("/dev/null", "r", stdin))
			_exit(126);
		const char *argv[32];
		int n = 0;
		argv[n++] = nestlab;
		for (; *args && n < 31; args++)
			argv[n++] = *args;
		argv[n] = NULL;
		execv(nestlab, (char *const *)argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void results_dir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", work, name);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

static json_t *load_summary(const char *dir)
{
	char path[4200];
	json_error_t err;
	snprintf(path, sizeof path, "%s/summary.json", dir);
	json_t *j = json_load_file(path, 0, &err);
	if (!j)
		fprintf(stderr, "\n  cannot load %s: %s (line %d)\n", path, err.text, err.line);
	return j;
}

static void show_failure_context(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.stderr", dir);
	char *e = slurp(path, NULL);
	if (e && *e)
		fprintf(stderr, "\n  --- nestlab stderr (%s) ---\n%s\n", dir, e);
	free(e);
}

static const char *status_of(json_t *summary)
{
	return json_string_value(json_object_get(summary, "status"));
}

static json_t *vm_by_path(json_t *summary, const char *path)
{
	size_t i;
	json_t *vm;
	json_array_foreach(json_object_get(summary, "vms"), i, vm)
	{
		const char *p = json_string_value(json_object_get(vm, "path"));
		if (p && !strcmp(p, path))
			return vm;
	}
	return NULL;
}

static json_int_t level_exits(json_t *summary, const char *level, const char *reason)
{
	size_t i;
	json_t *lv;
	json_array_foreach(json_object_get(summary, "levels"), i, lv)
	{
		const char *p = json_string_value(json_object_get(lv, "path"));
		if (p && !strcmp(p, level)) {
			json_t *exits = json_object_get(lv, "exits");
			if (!reason)
				return json_integer_value(json_object_get(exits, "total"));
			return json_integer_value(json_object_get(json_object_get(exits, "by_reason"), reason));
		}
	}
	return -1;
}

static json_int_t vm_exits(json_t *vm, const char *reason)
{
	json_t *exits = json_object_get(vm, "exits");
	return json_integer_value(json_object_get(json_object_get(exits, "by_reason"), reason));
}

static const char *vm_state(json_t *vm)
{
	return json_string_value(json_object_get(vm, "state"));
}

/* The first record of the given type (and vm, if not NULL) in records.jsonl; caller decrefs. */
static json_t *find_record(const char *dir, const char *type, const char *vm)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/records.jsonl", dir);
	char *text = slurp(path, NULL);
	json_t *found = NULL;
	for (char *line = text ? strtok(text, "\n") : NULL; line && !found; line = strtok(NULL, "\n")) {
		json_t *r = json_loads(line, 0, NULL);
		if (!r)
			continue;
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *v = json_string_value(json_object_get(r, "vm"));
		if (t && !strcmp(t, type) && (!vm || (v && !strcmp(v, vm))))
			found = r;
		else
			json_decref(r);
	}
	free(text);
	return found;
}

/* One leaf VM: it runs its whole workload and L0 counts what it did. */
static void test_hello_one_leaf(void)
{
	char dir[4096];
	results_dir(dir, sizeof dir, "hello-xml");
	int rc = run_nestlab(dir, (const char *[]){ "run", "configs/hello.xml", "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		show_failure_context(dir);
	json_t *s = load_summary(dir);
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
	results_dir(dir, sizeof dir, "two-vms");
	int rc = run_nestlab(dir, (const char *[]){ "run", "configs/two-vms.xml", "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		show_failure_context(dir);
	json_t *s = load_summary(dir);
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
	json_decref(s);
}

/* A guest touching memory outside its EPT is stopped; its sibling completes. */
static void test_ept_violation_isolated(void)
{
	char dir[4096];
	results_dir(dir, sizeof dir, "ept-violation");
	int rc = run_nestlab(dir, (const char *[]){ "run", "configs/ept-violation.xml", "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 1); /* the experiment ran; one VM failed */
	json_t *s = load_summary(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "failed");
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
	results_dir(dir, sizeof dir, "duration");
	int rc = run_nestlab(dir, (const char *[]){ "run", "tests/integration/configs/endless.xml", "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 1);
	json_t *s = load_summary(dir);
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

/* The nested counters a level kept about one child VMM (the summary's vms[].nested). */
static json_int_t nested_count(json_t *vm, const char *group, const char *key)
{
	json_t *n = json_object_get(vm, "nested");
	json_t *g = group ? json_object_get(n, group) : n;
	return json_integer_value(json_object_get(g, key));
}

/* Run a nested stack and check the leaf at leaf_path completed its workload. */
static json_t *run_nested(const char *name, const char *config, const char *leaf_path, const char *extra)
{
	char dir[4096];
	results_dir(dir, sizeof dir, name);
	const char *args[] = { "run", config, "--out", dir, "--quiet", extra, NULL };
	int rc = run_nestlab(dir, args);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		show_failure_context(dir);
	json_t *s = load_summary(dir);
	if (!s)
		return NULL;
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *leaf = vm_by_path(s, leaf_path);
	CU_ASSERT_PTR_NOT_NULL(leaf);
	if (leaf) {
		CU_ASSERT_STRING_EQUAL(vm_state(leaf), "exited");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(leaf, "exit_status")), 0);
		json_t *report = json_object_get(leaf, "report");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(report, "status")), "ok");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "mismatches")), 0);
	}
	return s;
}

/* Depth 2: L0 → hv1 (nestlab VMM, virtual VMX from L0) → leaf. */
static void test_depth2(void)
{
	json_t *s = run_nested("depth2", "configs/depth2.xml", "L0/hv1/leaf", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT_STRING_EQUAL(vm_state(hv1), "exited");
	/* L0 emulated hv1's VMX instructions and reflected the leaf's hypercalls to hv1. */
	CU_ASSERT_EQUAL(nested_count(hv1, "emulated", "VMXON"), 1);
	CU_ASSERT(nested_count(hv1, "emulated", "VMLAUNCH") >= 1);
	CU_ASSERT(nested_count(hv1, "emulated", "VMRESUME") >= 100);
	CU_ASSERT(nested_count(hv1, "reflected", "VMCALL") >= 100);
	CU_ASSERT(nested_count(hv1, "ept02", "fills") > 0);
	/* hv1 handled its leaf's exits as a VMM of its own: a level of its own in the summary. */
	CU_ASSERT(level_exits(s, "L0/hv1", "VMCALL") >= 100);
	json_decref(s);
}

/* Depth 3: L0 → hv1 → hv2 → leaf; hv1 virtualises VMX for hv2 on top of L0's virtual VMX. */
static void test_depth3(void)
{
	json_t *s = run_nested("depth3", "configs/depth3.xml", "L0/hv1/hv2/leaf", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1"), *hv2 = vm_by_path(s, "L0/hv1/hv2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv2);
	CU_ASSERT_STRING_EQUAL(vm_state(hv2), "exited");
	CU_ASSERT(nested_count(hv2, "emulated", "VMLAUNCH") >= 1); /* hv1 emulated hv2's VMX */
	CU_ASSERT(nested_count(hv1, "reflected", "VMRESUME") >= 1); /* L0 reflected hv2's VMX exits to hv1 */
	CU_ASSERT(level_exits(s, "L0/hv1/hv2", "VMCALL") >= 50);
	/* Each VMM invalidates a new VM's EPTP and VPID; its parent translated and counted them by type. */
	CU_ASSERT(nested_count(hv1, "invept", "single_context") >= 1);
	CU_ASSERT(nested_count(hv2, "invvpid", "single_context") >= 1);
	json_decref(s);
}

/* The same stacks with VMCS shadowing: hv1's hot VMREAD/VMWRITE no longer exit to L0. */
static void test_depth2_vmcs_shadowing(void)
{
	char plain_dir[4096];
	results_dir(plain_dir, sizeof plain_dir, "depth2"); /* run by test_depth2 just before */
	json_t *plain = load_summary(plain_dir);
	json_t *s = run_nested("depth2-shadow", "tests/integration/configs/depth2-shadow.xml", "L0/hv1/leaf", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT(json_is_true(json_object_get(json_object_get(hv1, "nested"), "vmcs_shadowing")));
	CU_ASSERT(nested_count(hv1, NULL, "shadow_syncs_in") >= 100);
	CU_ASSERT(nested_count(hv1, "reflected", "VMCALL") >= 100);
	/* Per reflected hypercall, hv1's exit path now costs L0 no VMREAD/VMWRITE exits. */
	json_int_t reads = nested_count(hv1, "emulated", "VMREAD"), writes = nested_count(hv1, "emulated", "VMWRITE");
	CU_ASSERT(reads + writes < 200);
	if (plain) {
		json_t *hv1_plain = vm_by_path(plain, "L0/hv1");
		CU_ASSERT(nested_count(hv1_plain, "emulated", "VMREAD") > 4 * (reads + 1));
		json_decref(plain);
	}
	json_decref(s);
}

static void test_depth3_vmcs_shadowing(void)
{
	json_t *s = run_nested("depth3-shadow", "tests/integration/configs/depth3-shadow.xml", "L0/hv1/hv2/leaf", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1"), *hv2 = vm_by_path(s, "L0/hv1/hv2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv2);
	CU_ASSERT(json_is_true(json_object_get(json_object_get(hv1, "nested"), "vmcs_shadowing")));
	/* hv1 had no shadowing to give hv2: its VMREAD/VMWRITE were emulated by hv1. */
	CU_ASSERT(json_is_false(json_object_get(json_object_get(hv2, "nested"), "vmcs_shadowing")));
	CU_ASSERT(nested_count(hv2, "emulated", "VMREAD") > 0);
	json_decref(s);
}

/*
 * The hostile child: a guest VMM that misuses VMX on purpose checks every
 * outcome against the SDM (its "check" records), then aims EPT12 outside its
 * memory; L0 stops it alone while a sibling leaf runs to the end.
 */
static void run_hostile(const char *name, const char *config)
{
	char dir[4096], path[4200];
	results_dir(dir, sizeof dir, name);
	int rc = run_nestlab(dir, (const char *[]){ "run", config, "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, 1); /* the run completed; one VM was stopped, on purpose */
	json_t *s = load_summary(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "failed");
	json_t *evil = vm_by_path(s, "L0/evil"), *bystander = vm_by_path(s, "L0/bystander");
	CU_ASSERT_PTR_NOT_NULL_FATAL(evil);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bystander);
	json_t *report = json_object_get(evil, "report");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(report, "status")), "ok");
	CU_ASSERT(json_integer_value(json_object_get(report, "checks")) >= 40);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "failed")), 0);
	CU_ASSERT_STRING_EQUAL(vm_state(evil), "faulted");
	CU_ASSERT_PTR_NOT_NULL(strstr(json_string_value(json_object_get(evil, "reason")), "EPT12"));
	CU_ASSERT_STRING_EQUAL(vm_state(bystander), "exited");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(bystander, "exit_status")), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(bystander, "report"), "status")), "ok");

	/* Every check record, one by one: each names an SDM outcome and got it. */
	snprintf(path, sizeof path, "%s/records.jsonl", dir);
	char *text = slurp(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	int checks = 0, bad = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *r = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(r, "type"));
		if (t && !strcmp(t, "check")) {
			checks++;
			if (!json_is_true(json_object_get(r, "ok"))) {
				bad++;
				fprintf(stderr, "\n  check failed: %s\n", line);
			}
		}
		json_decref(r);
	}
	free(text);
	CU_ASSERT(checks >= 40);
	CU_ASSERT_EQUAL(bad, 0);
	json_decref(s);
}

static void test_hostile_child(void)
{
	run_hostile("hostile", "configs/hostile.xml");
}

static void test_hostile_child_vmcs_shadowing(void)
{
	run_hostile("hostile-shadow", "tests/integration/configs/hostile-shadow.xml");
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--nestlab"))
			nestlab = argv[i + 1];
		else if (!strcmp(argv[i], "--work"))
			work = argv[i + 1];
	}
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", work, work);
	if (system(cmd) != 0) {
		fprintf(stderr, "integration-tests: cannot prepare %s\n", work);
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("bochs_scenarios", NULL, NULL);
	CU_add_test(s, "one leaf VM runs its workload", test_hello_one_leaf);
	CU_add_test(s, "JSON twin and second run give identical records", test_json_twin_and_determinism);
	CU_add_test(s, "two VMs share the CPU", test_two_vms_share_cpu);
	CU_add_test(s, "EPT violation stops only the guilty VM", test_ept_violation_isolated);
	CU_add_test(s, "corrupted manifest refused by L0", test_corrupted_manifest_refused);
	CU_add_test(s, "duration stops a long guest", test_duration_stops_guest);
	CU_add_test(s, "backend wall-clock timeout keeps partial results", test_backend_timeout_partial_results);
	CU_add_test(s, "invalid description refused before running", test_bad_description);
	CU_add_test(s, "qemu backend", test_qemu_backend);
	CU_add_test(s, "depth 2: a nestlab VMM runs a leaf on L0's virtual VMX", test_depth2);
	CU_add_test(s, "depth 3: a VMM inside a VMM inside L0", test_depth3);
	CU_add_test(s, "depth 2 with VMCS shadowing", test_depth2_vmcs_shadowing);
	CU_add_test(s, "depth 3 with VMCS shadowing", test_depth3_vmcs_shadowing);
	CU_add_test(s, "hostile child VMM: SDM outcomes, parent survives, sibling runs", test_hostile_child);
	CU_add_test(s, "hostile child VMM with VMCS shadowing", test_hostile_child_vmcs_shadowing);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return (failed || run == 0) ? 1 : 0;
}
