/*
 * Experiment descriptions: both formats read into the same model and give
 * byte-identical manifests, and every bad input in tests/data/bad fails
 * with the expected line and field.  Files are found from the repository
 * root (the working directory of `make unit`) or from $NESTLAB_SRCDIR.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "desc.h"
#include "images.h"
#include "json_locate.h"
#include "model.h"

/*
 * The subcommands linked into this binary print their name from nl_prog,
 * which the tool's main.c defines.  Weak, so that another test file may
 * define it too without a clash.
 */
__attribute__((weak)) const char *nl_prog = "unit-tests";

#define MIB (1024ull * 1024ull)

static const char *src_path(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("NESTLAB_SRCDIR");

	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", rel);
	return path;
}

/* Load a file that must be valid; a failure shows the diag in the test log. */
static int load_ok(const char *rel, struct nl_experiment *exp)
{
	struct nl_diag diag;
	int rc = nl_desc_load(src_path(rel), exp, &diag);

	if (rc)
		nl_diag_print(stderr, &diag);
	return rc;
}

/* The model without what necessarily differs between files (path, lines). */
static void strip_origin(struct nl_experiment *exp)
{
	memset(exp->source_path, 0, sizeof exp->source_path);
	for (unsigned i = 0; i < exp->vm_count; i++)
		exp->vms[i].line = 0;
}

static void assert_same_model(const char *xml, const char *json)
{
	static struct nl_experiment a, b;

	CU_ASSERT_FATAL(load_ok(xml, &a) == 0);
	CU_ASSERT_FATAL(load_ok(json, &b) == 0);
	strip_origin(&a);
	strip_origin(&b);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof a), 0);
}

static void assert_same_manifest(const char *xml, const char *json, const char *backend)
{
	static struct nl_experiment a, b;
	_Alignas(8) static unsigned char ma[NL_MANIFEST_MAX_SIZE], mb[NL_MANIFEST_MAX_SIZE];
	struct nl_diag diag;
	size_t na, nb;

	CU_ASSERT_FATAL(load_ok(xml, &a) == 0);
	CU_ASSERT_FATAL(load_ok(json, &b) == 0);
	if (backend) {
		CU_ASSERT_FATAL(nl_experiment_set_backend(&a, backend, &diag) == 0);
		CU_ASSERT_FATAL(nl_experiment_set_backend(&b, backend, &diag) == 0);
	}
	na = nl_experiment_to_manifest(&a, ma, sizeof ma);
	nb = nl_experiment_to_manifest(&b, mb, sizeof mb);
	CU_ASSERT(na > 0);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT(na == nb && memcmp(ma, mb, na) == 0);
}

static void test_vmx_offer(void)
{
	static struct nl_experiment e;

	CU_ASSERT_FATAL(load_ok("tests/data/good/vmx-offer.xml", &e) == 0);
	CU_ASSERT_EQUAL(e.vm_count, 2);
	CU_ASSERT_EQUAL(e.vms[0].kind, NL_VM_VMM);
	CU_ASSERT_STRING_EQUAL(e.vms[0].image, "hostile");
	CU_ASSERT_EQUAL(e.vms[1].kind, NL_VM_LEAF);
	CU_ASSERT_STRING_EQUAL(e.vms[1].image, "leaf");
	assert_same_manifest("tests/data/good/vmx-offer.xml", "tests/data/good/vmx-offer.json", NULL);
}

static void test_hello_model(void)
{
	static struct nl_experiment e;
	char path[128];

	CU_ASSERT_FATAL(load_ok("configs/hello.xml", &e) == 0);
	CU_ASSERT_STRING_EQUAL(e.name, "hello");
	CU_ASSERT_EQUAL(e.seed, 42);
	CU_ASSERT_EQUAL(e.duration_ms, 2000);
	CU_ASSERT_EQUAL(e.quantum_us, 1000);
	CU_ASSERT_EQUAL(e.flags, 0);
	CU_ASSERT_STRING_EQUAL(e.backend.name, "bochs");
	CU_ASSERT_STRING_EQUAL(e.backend.cpu_model, "corei7_skylake_x");
	CU_ASSERT_EQUAL(e.backend.ips, 50000000);
	CU_ASSERT_EQUAL(e.backend.memory_mb, 256);
	CU_ASSERT_EQUAL(e.backend.timeout_s, 120);
	CU_ASSERT_EQUAL_FATAL(e.vm_count, 1);
	CU_ASSERT_STRING_EQUAL(e.vms[0].name, "vm0");
	CU_ASSERT_STRING_EQUAL(e.vms[0].image, "leaf");
	CU_ASSERT_EQUAL(e.vms[0].kind, NL_VM_LEAF);
	CU_ASSERT_EQUAL(e.vms[0].parent, -1);
	CU_ASSERT_EQUAL(e.vms[0].memory_bytes, 4 * MIB);
	CU_ASSERT_EQUAL(e.vms[0].features, NL_FEAT_EPT | NL_FEAT_VPID);
	CU_ASSERT_EQUAL(e.vms[0].workload.iterations, 200000);
	CU_ASSERT_EQUAL(e.vms[0].workload.hypercalls, 100);
	CU_ASSERT_EQUAL(e.vms[0].workload.touch_pages, 16);
	CU_ASSERT_EQUAL(e.vms[0].workload.touch_addr, 0);
	CU_ASSERT_EQUAL(e.vms[0].line, 5);
	CU_ASSERT_EQUAL(nl_experiment_tsc_khz(&e), 50000);
	nl_experiment_vm_path(&e, 0, path, sizeof path);
	CU_ASSERT_STRING_EQUAL(path, "L0/vm0");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.source_path, "configs/hello.xml"));
}

static void test_same_model_both_formats(void)
{
	assert_same_model("configs/hello.xml", "configs/hello.json");
	assert_same_model("configs/two-vms.xml", "configs/two-vms.json");
	assert_same_model("configs/ept-violation.xml", "tests/data/good/ept-violation.json");
	assert_same_model("tests/data/good/minimal.xml", "tests/data/good/minimal.json");
	assert_same_model("tests/data/good/nested-vmm.xml", "tests/data/good/nested-vmm.json");
	assert_same_model("configs/depth2.xml", "configs/depth2.json");
	assert_same_model("configs/depth3.xml", "configs/depth3.json");
	assert_same_model("configs/hostile.xml", "configs/hostile.json");
	assert_same_model("tests/data/good/scheduler.xml", "tests/data/good/scheduler.json");
	assert_same_model("configs/wakeup.xml", "configs/wakeup.json");
}

static void test_same_manifest_both_formats(void)
{
	assert_same_manifest("configs/hello.xml", "configs/hello.json", NULL);
	assert_same_manifest("configs/hello.xml", "configs/hello.json", "qemu");
	assert_same_manifest("configs/wakeup.xml", "configs/wakeup.json", NULL);
	assert_same_manifest("configs/two-vms.xml", "configs/two-vms.json", NULL);
	assert_same_manifest("configs/depth2.xml", "configs/depth2.json", NULL);
	assert_same_manifest("configs/depth3.xml", "configs/depth3.json", NULL);
	assert_same_manifest("configs/hostile.xml", "configs/hostile.json", NULL);
	assert_same_manifest("configs/ept-violation.xml", "tests/data/good/ept-violation.json", NULL);
}

/* The schema's defaults (XML) and the reader's (JSON) are one set: README's. */
static void test_defaults(void)
{
	static struct nl_experiment x, j;

	CU_ASSERT_FATAL(load_ok("tests/data/good/minimal.xml", &x) == 0);
	CU_ASSERT_FATAL(load_ok("tests/data/good/minimal.json", &j) == 0);
	for (int k = 0; k < 2; k++) {
		const struct nl_experiment *e = k ? &j : &x;

		CU_ASSERT_EQUAL(e->seed, 1);
		CU_ASSERT_EQUAL(e->quantum_us, 1000);
		CU_ASSERT_EQUAL(e->flags, 0);
		CU_ASSERT_STRING_EQUAL(e->backend.name, "bochs");
		CU_ASSERT_STRING_EQUAL(e->backend.cpu_model, "corei7_skylake_x");
		CU_ASSERT_EQUAL(e->backend.ips, 50000000);
		CU_ASSERT_EQUAL(e->backend.memory_mb, 256);
		CU_ASSERT_EQUAL(e->backend.timeout_s, 120);
		CU_ASSERT_EQUAL(e->vms[0].features, NL_FEAT_EPT | NL_FEAT_VPID);
		CU_ASSERT_EQUAL(e->vms[0].workload.iterations, 0);
		CU_ASSERT_EQUAL(e->vms[0].workload.hypercalls, 0);
		CU_ASSERT_EQUAL(e->vms[0].workload.touch_pages, 0);
		CU_ASSERT_EQUAL(e->vms[0].workload.touch_addr, 0);
	}
}

static void test_two_vms_and_hex(void)
{
	static struct nl_experiment e;
	char path[128];

	CU_ASSERT_FATAL(load_ok("configs/two-vms.json", &e) == 0);
	CU_ASSERT_EQUAL_FATAL(e.vm_count, 2);
	CU_ASSERT_STRING_EQUAL(e.vms[1].name, "vm1");
	CU_ASSERT_EQUAL(e.vms[1].memory_bytes, 8 * MIB);
	CU_ASSERT_EQUAL(e.vms[1].parent, -1);
	CU_ASSERT_EQUAL(e.vms[1].line, 15); /* the line of its opening brace */
	nl_experiment_vm_path(&e, 1, path, sizeof path);
	CU_ASSERT_STRING_EQUAL(path, "L0/vm1");

	CU_ASSERT_FATAL(load_ok("configs/ept-violation.xml", &e) == 0);
	CU_ASSERT_STRING_EQUAL(e.vms[0].name, "bad");
	CU_ASSERT_EQUAL(e.vms[0].workload.touch_addr, 0x20000000);
	CU_ASSERT_FATAL(load_ok("tests/data/good/ept-violation.json", &e) == 0);
	CU_ASSERT_EQUAL(e.vms[0].workload.touch_addr, 0x20000000);
	CU_ASSERT_EQUAL(e.vms[0].memory_bytes, 4 * MIB); /* "0x4" */
}

static const struct bad_case {
	const char *file;
	int line;
	const char *field;
	const char *words; /* part of the message */
} bad_cases[] = {
	{ "malformed.xml", 5, "syntax", "mismatch" },
	{ "unknown-attribute.xml", 4, "experiment/vm[vm1]/@colour", "not allowed" },
	/* ... and says which are, as the JSON reader does for keys. */
	{ "unknown-attribute.xml", 4, "experiment/vm[vm1]/@colour",
	  "(expected one of: name, image, memory-mb, vmx, expect)" },
	{ "unknown-element.xml", 5, "experiment/vm[vm0]/disk", "not expected" },
	{ "bad-integer.xml", 4, "experiment/vm[vm0]/@memory-mb", "'4MB' is not an unsigned integer" },
	{ "integer-overflow.xml", 5, "experiment/vm[vm0]/workload/@iterations", "64 bits" },
	{ "duplicate-vm.xml", 6, "experiment/vm[vm0]/@name", "duplicate VM name 'vm0'" },
	{ "memory-not-2mib.xml", 3, "experiment/vm[vm0]/@memory-mb", "multiple of 2 MiB" },
	{ "missing-duration.xml", 3, "experiment/@duration-ms", "required" },
	{ "ept-off.xml", 7, "experiment/vm[vm1]/features/@ept",
	  "ept=off needs shadow paging, not implemented yet (issue #3)" },
	{ "vmm-too-small.xml", 4, "experiment/vm[hv1]/vm[hv2]/@memory-mb",
	  "36 MiB is too small for a VMM: its child VMs need 22 MiB and the VMM keeps 16 MiB" },
	{ "vmcs-shadowing-leaf.xml", 6, "experiment/vm[hv1]/vm[vm0]/features/@vmcs-shadowing",
	  "only applies to a VM that runs a VMM" },
	{ "apicv-vmm.xml", 4, "experiment/vm[hv1]/features/@apicv", "keeps the emulated APIC" },
	{ "single-step-too-many.xml", 4, "experiment/vm[vm0]/features/@single-step",
	  "100001 instructions to single-step; at most 100000" },
	{ "single-step-too-many.json", 9, "vms[0].features.single_step",
	  "4294967296 instructions to single-step; at most 100000" },
	{ "vmm-image-alone.xml", 4, "experiment/vm[hv1]/@image", "needs child VMs" },
	{ "path-too-long.xml", 8,
	  "experiment/vm[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]/vm[bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb]/vm[ccccccccccccccccccccccccccccccc]/vm[leafx",
	  "at most 127 fit" },
	{ "bad-name.xml", 3, "experiment/vm[vm/0]/@name", "not a name" },
	{ "doctype.xml", 2, "DOCTYPE", "not allowed" },
	{ "touch-too-many.xml", 4, "experiment/vm[vm0]/workload/@touch-pages", "do not fit" },
	{ "malformed.json", 7, "syntax", "column" },
	{ "duplicate-key.json", 6, "syntax", "duplicate" },
	{ "unknown-key.json", 12, "vms[0].workload.iteratoins", "unknown key" },
	{ "wrong-type.json", 12, "vms[1].workload.hypercalls", "expected an unsigned integer" },
	{ "wrong-type-bool.json", 9, "vms[0].features.ept", "expected true or false, got a string" },
	{ "bad-integer.json", 4, "seed", "'0x12G4' is not an unsigned integer" },
	{ "negative.json", 5, "quantum_us", "negative" },
	{ "duplicate-vm.json", 10, "vms[2].name", "duplicate VM name 'vm1'" },
	{ "memory-not-2mib.json", 9, "vms[0].memory_mb", "multiple of 2 MiB" },
	{ "missing-duration.json", 2, "duration_ms", "missing required key" },
	{ "unknown-backend.json", 6, "backend.name", "not a backend" },
	{ "not-an-object.json", 1, "(top level)", "got an array" },
	{ "vmm-too-small.json", 6, "vms[0].memory_mb", "20 MiB is too small for a VMM" },
	{ "too-deep.json", 10, "vms[0].vms[0].vms[0].vms[0].vms", "at most 4 VMMs" },
	{ "too-many-vms.json", 23, "vms[16]", "NL_MAX_VMS" },
	/* A scheduler choice per level: only a VMM has one, in range, of a known policy. */
	{ "scheduler-leaf.xml", 4, "experiment/vm[vm0]/scheduler", "a leaf guest schedules nothing" },
	{ "scheduler-leaf.json", 3, "vms[0].scheduler", "a leaf guest schedules nothing" },
	{ "scheduler-quantum.xml", 4, "experiment/vm[hv1]/scheduler/@quantum-us",
	  "a quantum of 50 us is outside 100..1000000" },
	{ "scheduler-quantum.json", 2, "scheduler.quantum_us", "a quantum of 2000000 us is outside 100..1000000" },
	{ "scheduler-policy.json", 2, "scheduler.policy", "'edf' is not one of: rr" },
	{ "scheduler-key.json", 3, "vms[0].scheduler.quantum", "unknown key (expected one of: policy, quantum_us)" },
	/* An echoed value cannot forge a second "FILE:LINE:" line or a terminal escape. */
	{ "injected-name.json", 6, "vms[0].name", "'vm0?forged.json:1: vms[0]: fake?[31m'" },
	{ "injected-name.xml", 3, "experiment/vm[vm?forged.xml:1: x: fake?[31m]/@name", "not a name" },
	/* Timer wake-ups: periods the platform can keep, an interrupts-off section shorter than the period. */
	{ "wakeup-period-short.xml", 4, "experiment/vm[rt]/workload/@period-us",
	  "a wake-up period of 20 us is outside 50..1000000" },
	{ "wakeup-irq-off-long.xml", 4, "experiment/vm[rt]/workload/@irq-off-us",
	  "500 us with interrupts off is not shorter than the wake-up period of 500 us" },
	{ "wakeup-too-many.json", 9, "vms[0].workload.wakeups", "1000001 timer wake-ups; at most 1000000" },
	/* The expected outcome of a VM. */
	{ "expect-unknown.json", 3, "vms[0].expect", "'crash' is not one of: exit, fault, timeout" },
	{ "expect-unknown.xml", 3, "experiment/vm[vm0]/@expect", "'crash' is not an element of the set" },
	/* Interrupt lines: items named by their place among their kind (XML from 1, JSON from 0). */
	{ "irq-source.xml", 4, "experiment/irq[1]/@source", "'hpet' is not an element of the set" },
	{ "irq-source.json", 6, "irqs[0].source", "'hpet' is not one of: rtc, pit, periodic, poisson, burst" },
	{ "irq-rtc-line.xml", 5, "experiment/irq[2]/@line", "the RTC is ISA IRQ 8: its source goes on line 8, not 3" },
	{ "irq-rtc-line.json", 7, "irqs[1].line", "the RTC is ISA IRQ 8: its source goes on line 8, not 3" },
	{ "irq-rtc-vm.xml", 5, "experiment/vm[hv1]/irq[1]/@source", "the RTC is a device of the machine: only L0's" },
	{ "irq-rtc-vm.json", 7, "vms[0].irqs[0].source", "the RTC is a device of the machine: only L0's" },
	{ "irq-rtc-rate.xml", 4, "experiment/irq[1]/@rate-hz",
	  "1000 Hz is not a rate of the RTC: a power of two in 2..8192 Hz" },
	{ "irq-rtc-rate.json", 7, "irqs[0].rate_hz", "1000 Hz is not a rate of the RTC: a power of two in 2..8192 Hz" },
	{ "irq-pit-rate.xml", 4, "experiment/irq[1]/@rate-hz", "18 Hz is not a rate of the PIT: 19..10000 Hz" },
	{ "irq-period-short.xml", 4, "experiment/irq[1]/@period-us", "a period of 10 us is outside 20..1000000" },
	{ "irq-period-short.json", 7, "irqs[0].period_us", "a period of 19 us is outside 20..1000000" },
	{ "irq-period-missing.xml", 4, "experiment/irq[1]/@period-us", "missing: a burst source needs its period" },
	{ "irq-rate-generator.json", 6, "irqs[0].rate_hz", "a periodic source takes a period in us, not a rate" },
	{ "irq-burst-periodic.json", 7, "irqs[0].burst", "only a burst source has bursts, not a periodic one" },
	{ "irq-spacing-missing.json", 6, "irqs[0].spacing_us", "missing: a burst source needs the spacing" },
	{ "irq-burst-long.xml", 4, "experiment/irq[1]/@spacing-us",
	  "a burst of 6 assertions 20 us apart lasts 100 us: not less than its period of 100 us" },
	{ "irq-duplicate.xml", 6, "experiment/irq[2]/@line",
	  "line 3 of L0 already has a source (experiment/irq[1], line 4)" },
	{ "irq-duplicate.json", 7, "irqs[1].line", "line 3 of L0 already has a source (irqs[0], line 6)" },
	{ "irq-leaf.xml", 6, "experiment/vm[vm0]/route[1]",
	  "a leaf has no lines of its own; its VMM routes lines to it" },
	{ "irq-leaf.json", 7, "vms[0].irqs[0]", "a leaf has no lines of its own; its VMM routes lines to it" },
	{ "irq-not-object.json", 6, "irqs[0]", "expected an object, got an integer" },
	{ "route-to-unknown.xml", 8, "experiment/vm[hv1]/route[1]/@to",
	  "'vm2' is neither vmm nor one of L0/hv1's own VMs (vmm, vm0, vm1)" },
	{ "route-to-unknown.json", 10, "vms[0].routes[0].to",
	  "'vm2' is neither vmm nor one of L0/hv1's own VMs (vmm, vm0, vm1)" },
	{ "route-onto-source.xml", 4, "experiment/route[1]/@as",
	  "line 4 of hv1 has a source of its own (experiment/vm[hv1]/irq[1], line 6): a route cannot arrive on it too" },
	{ "route-line.xml", 5, "experiment/route[2]/@line", "line 16; at most 15" },
	{ "route-line.json", 7, "routes[1].line", "line 16; at most 15" },
	{ "route-as.xml", 4, "experiment/route[1]/@as", "line 16 of the VM; at most 15" },
	{ "route-as.json", 6, "routes[0].as", "line 16 of the VM; at most 15" },
	{ "route-as-vmm.json", 6, "routes[0].as", "a line routed to the VMM itself keeps its number" },
	{ "route-at.xml", 4, "experiment/route[1]/@at-ms",
	  "a change at 1000 ms comes too late: the experiment lasts 1000 ms" },
	{ "route-at.json", 7, "routes[0].at_ms", "a change at 1000 ms comes too late: the experiment lasts 1000 ms" },
	{ "route-vmm-ambiguous.xml", 4, "experiment/route[1]/@to",
	  "'vmm' is ambiguous: it names L0 itself and its VM vmm" },
	{ "route-same-time.json", 8, "routes[2].at_ms",
	  "line 1 of L0 already changes route at 5 ms (routes[0], line 6)" },
	{ "route-too-many.xml", 36, "experiment/route[33]", "more than 32 route changes for L0's lines" },
	{ "items-too-many.xml", 68, "experiment/route[49]", "than the 64 a manifest holds (NL_IRQ_MAX)" },
	{ "items-too-many.json", 72, "routes[48]", "than the 64 a manifest holds (NL_IRQ_MAX)" },
	{ "listen-too-long.json", 6, "vms[0].workload.listen_ms", "listening for 3600001 ms; at most 3600000" },
};

static void test_bad_inputs(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];
		static struct nl_experiment e;
		struct nl_diag d;
		char rel[256];
		int rc;

		snprintf(rel, sizeof rel, "tests/data/bad/%s", c->file);
		memset(&d, 0, sizeof d);
		rc = nl_desc_load(src_path(rel), &e, &d);
		CU_ASSERT_EQUAL(rc, -1);
		if (d.line != c->line || strcmp(d.field, c->field) || !strstr(d.message, c->words)) {
			fprintf(stderr, "\n  %s: expected line %d field '%s' with '%s', got: ", c->file,
				c->line, c->field, c->words);
			nl_diag_print(stderr, &d);
		}
		CU_ASSERT_EQUAL(d.line, c->line);
		CU_ASSERT_STRING_EQUAL(d.field, c->field);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.message, c->words));
		CU_ASSERT_PTR_NOT_NULL(strstr(d.file, c->file));
		/* Whatever a file holds, a diagnostic is one line of plain text. */
		for (const unsigned char *m = (const unsigned char *)d.message; *m; m++)
			CU_ASSERT_FATAL(*m >= 0x20 && *m != 0x7f);
		for (const unsigned char *m = (const unsigned char *)d.field; *m; m++)
			CU_ASSERT_FATAL(*m >= 0x20 && *m != 0x7f);
	}
}

/* Interrupt lines, both formats: the same model (defaults filled in), then the manifest's entries. */
static void test_irq_lines(void)
{
	static const char *const files[] = { "tests/data/good/irq-lines.xml", "tests/data/good/irq-lines.json" };
	for (unsigned f = 0; f < 2; f++) {
		static struct nl_experiment e;
		CU_ASSERT_FATAL(load_ok(files[f], &e) == 0);
		CU_ASSERT_EQUAL_FATAL(e.vm_count, 3); /* hv1, leaf, vm1 */
		CU_ASSERT_EQUAL_FATAL(e.irq_count, 5);
		CU_ASSERT_EQUAL_FATAL(e.route_count, 6);
		/* L0's own first, then hv1's, each in file order, however the XML interleaves them. */
		CU_ASSERT_EQUAL(e.irqs[0].owner, -1);
		CU_ASSERT_EQUAL(e.irqs[0].source, NL_IRQ_SRC_RTC);
		CU_ASSERT_EQUAL(e.irqs[0].rate_hz, 1024);
		CU_ASSERT_EQUAL(e.irqs[1].source, NL_IRQ_SRC_PIT);
		CU_ASSERT_EQUAL(e.irqs[2].period_us, 1000);
		CU_ASSERT_EQUAL(e.irqs[3].owner, 0);
		CU_ASSERT_EQUAL(e.irqs[3].source, NL_IRQ_SRC_BURST);
		CU_ASSERT_EQUAL(e.irqs[3].burst, 4);
		CU_ASSERT_EQUAL(e.irqs[3].spacing_us, 20);
		CU_ASSERT_EQUAL(e.irqs[4].source, NL_IRQ_SRC_POISSON);
		CU_ASSERT_EQUAL(e.irqs[4].burst, 0); /* only a burst has a burst size */
		CU_ASSERT_EQUAL(e.routes[0].to_vm, 0);        /* to="hv1" */
		CU_ASSERT_EQUAL(e.routes[0].as, 3);
		CU_ASSERT_EQUAL(e.routes[1].to_vm, NL_IRQ_TO_VMM);
		CU_ASSERT_EQUAL(e.routes[1].as, 0);           /* as defaults to line */
		CU_ASSERT_EQUAL(e.routes[2].to_vm, 2);        /* vm1 */
		CU_ASSERT_EQUAL(e.routes[2].at_ms, 50);
		CU_ASSERT_EQUAL(e.routes[3].owner, 0);
		CU_ASSERT_EQUAL(e.routes[3].to_vm, 1);        /* hv1's leaf */
		CU_ASSERT_EQUAL(e.routes[3].as, 3);
		CU_ASSERT_EQUAL(e.routes[5].at_ms, 100);
		CU_ASSERT_EQUAL(e.vms[1].workload.listen_ms, 400);
		CU_ASSERT_EQUAL(e.vms[2].workload.listen_ms, 0);

		static _Alignas(8) unsigned char buf[NL_MANIFEST_MAX_SIZE];
		struct nl_manifest_view view;
		size_t n = nl_experiment_to_manifest(&e, buf, sizeof buf);
		CU_ASSERT_FATAL(n > 0 && nl_manifest_decode(buf, n, &view, NULL) == 0);
		CU_ASSERT_EQUAL_FATAL(view.hdr->irq_count, 11);
		/* A device carries its rate, a generator its period; a source no route fields. */
		CU_ASSERT_EQUAL(view.irqs[0].item, NL_IRQ_ITEM_SOURCE);
		CU_ASSERT_EQUAL(view.irqs[0].line, 8);
		CU_ASSERT_EQUAL(view.irqs[0].rate, 1024);
		CU_ASSERT_EQUAL(view.irqs[0].to_vm, -1);
		CU_ASSERT_EQUAL(view.irqs[2].rate, 1000);
		CU_ASSERT_EQUAL(view.irqs[3].owner, 0);
		CU_ASSERT_EQUAL(view.irqs[3].rate, 500);
		CU_ASSERT_EQUAL(view.irqs[3].burst, 4);
		CU_ASSERT_EQUAL(view.irqs[3].spacing_us, 20);
		CU_ASSERT_EQUAL(view.irqs[4].burst, 0);
		/* Routes after the sources; the VMM takes a line as it is (to_line 0). */
		CU_ASSERT_EQUAL(view.irqs[5].item, NL_IRQ_ITEM_ROUTE);
		CU_ASSERT_EQUAL(view.irqs[5].to_vm, 0);
		CU_ASSERT_EQUAL(view.irqs[5].to_line, 3);
		CU_ASSERT_EQUAL(view.irqs[5].source, 0);
		CU_ASSERT_EQUAL(view.irqs[6].to_vm, NL_IRQ_TO_VMM);
		CU_ASSERT_EQUAL(view.irqs[6].to_line, 0);
		CU_ASSERT_EQUAL(view.irqs[7].at_ms, 50);
		CU_ASSERT_EQUAL(view.irqs[9].owner, 0);
		CU_ASSERT_EQUAL(view.irqs[9].to_vm, 1);
		CU_ASSERT_EQUAL(view.irqs[9].to_line, 6);
		CU_ASSERT_EQUAL(view.irqs[10].to_vm, NL_IRQ_TO_VMM);
		CU_ASSERT_EQUAL(view.irqs[10].at_ms, 100);
		CU_ASSERT_EQUAL(view.vms[1].workload.listen_ms, 400);
	}
	assert_same_model("tests/data/good/irq-lines.xml", "tests/data/good/irq-lines.json");
	assert_same_manifest("tests/data/good/irq-lines.xml", "tests/data/good/irq-lines.json", NULL);
}

/* A VM with children runs a VMM; images default by kind; paths name every level. */
static void test_nested(void)
{
	static struct nl_experiment e;
	char path[128];

	CU_ASSERT_FATAL(load_ok("tests/data/good/nested-vmm.xml", &e) == 0);
	CU_ASSERT_EQUAL_FATAL(e.vm_count, 4);
	CU_ASSERT_EQUAL(e.vms[0].kind, NL_VM_VMM);
	CU_ASSERT_STRING_EQUAL(e.vms[0].image, "nestlab-vmm");
	CU_ASSERT_EQUAL(e.vms[0].features, NL_FEAT_EPT | NL_FEAT_VPID | NL_FEAT_VMCS_SHADOW);
	CU_ASSERT_EQUAL(e.vms[1].kind, NL_VM_LEAF);
	CU_ASSERT_STRING_EQUAL(e.vms[1].image, "leaf");
	CU_ASSERT_EQUAL(e.vms[1].parent, 0);
	CU_ASSERT_EQUAL(e.vms[2].parent, 0);
	CU_ASSERT_EQUAL(e.vms[3].parent, -1);
	CU_ASSERT_STRING_EQUAL(e.vms[3].image, "leaf");
	nl_experiment_vm_path(&e, 1, path, sizeof path);
	CU_ASSERT_STRING_EQUAL(path, "L0/hv1/vm0");

	CU_ASSERT_FATAL(load_ok("configs/depth3.json", &e) == 0);
	CU_ASSERT_EQUAL_FATAL(e.vm_count, 3);
	CU_ASSERT_EQUAL(e.vms[0].kind, NL_VM_VMM);
	CU_ASSERT_EQUAL(e.vms[1].kind, NL_VM_VMM);
	CU_ASSERT_EQUAL(e.vms[2].kind, NL_VM_LEAF);
	CU_ASSERT_EQUAL(e.vms[1].memory_bytes, 48 * MIB);
	nl_experiment_vm_path(&e, 2, path, sizeof path);
	CU_ASSERT_STRING_EQUAL(path, "L0/hv1/hv2/leaf");
}

/* Single-stepping, in both formats: per VM, any level, 0 (off) unless asked. */
static void test_single_step(void)
{
	static const char *const files[] = { "configs/single-step.xml", "configs/single-step.json" };
	for (unsigned f = 0; f < 2; f++) {
		static struct nl_experiment e;
		CU_ASSERT_FATAL(load_ok(files[f], &e) == 0);
		CU_ASSERT_EQUAL_FATAL(e.vm_count, 3);
		CU_ASSERT_EQUAL(e.vms[0].single_steps, 2000); /* L0/leaf */
		CU_ASSERT_EQUAL(e.vms[1].single_steps, 0);    /* L0/hv1 */
		CU_ASSERT_EQUAL(e.vms[2].single_steps, 2000); /* L0/hv1/leaf */
		CU_ASSERT_EQUAL(e.vms[1].features, NL_FEAT_EPT | NL_FEAT_VPID | NL_FEAT_VMCS_SHADOW);
		/* It reaches the manifest (and, through the sub-manifest, the VMM that steps the VM). */
		static _Alignas(8) unsigned char buf[NL_MANIFEST_MAX_SIZE];
		struct nl_manifest_view view;
		size_t n = nl_experiment_to_manifest(&e, buf, sizeof buf);
		CU_ASSERT_FATAL(n > 0 && nl_manifest_decode(buf, n, &view, NULL) == 0);
		CU_ASSERT_EQUAL(view.vms[0].single_steps, 2000);
		/* Bochs 2.7's monitor trap flag does nothing: L0 is told to step with RFLAGS.TF. */
		CU_ASSERT(view.hdr->flags & NL_MF_MTF_UNRELIABLE);
		struct nl_diag d;
		CU_ASSERT_FATAL(nl_experiment_set_backend(&e, "qemu", &d) == 0); /* KVM's works */
		n = nl_experiment_to_manifest(&e, buf, sizeof buf);
		CU_ASSERT_FATAL(n > 0 && nl_manifest_decode(buf, n, &view, NULL) == 0);
		CU_ASSERT_FALSE(view.hdr->flags & NL_MF_MTF_UNRELIABLE);
		CU_ASSERT_EQUAL(view.vms[2].single_steps, 2000);
	}
}

/* Schedulers per level, both formats: the model, then the manifest's bytes. */
static void test_scheduler(void)
{
	static const char *const files[] = { "tests/data/good/scheduler.xml", "tests/data/good/scheduler.json" };
	for (unsigned f = 0; f < 2; f++) {
		static struct nl_experiment e;
		CU_ASSERT_FATAL(load_ok(files[f], &e) == 0);
		CU_ASSERT_EQUAL_FATAL(e.vm_count, 3);
		CU_ASSERT_EQUAL(e.quantum_us, 2000);
		CU_ASSERT_EQUAL(e.sched.policy, NL_SCHED_RR);
		CU_ASSERT_EQUAL(e.sched.quantum_us, 500);         /* L0's own */
		CU_ASSERT_EQUAL(e.vms[0].sched.quantum_us, 300);  /* hv1's own */
		CU_ASSERT_EQUAL(e.vms[1].sched.policy, NL_SCHED_RR);
		CU_ASSERT_EQUAL(e.vms[1].sched.quantum_us, 2000); /* hv2: the experiment's quantum-us */

		static _Alignas(8) unsigned char buf[NL_MANIFEST_MAX_SIZE];
		struct nl_manifest_view view;
		size_t n = nl_experiment_to_manifest(&e, buf, sizeof buf);
		CU_ASSERT_FATAL(n > 0 && nl_manifest_decode(buf, n, &view, NULL) == 0);
		CU_ASSERT_EQUAL(view.hdr->sched.policy, NL_SCHED_RR);
		CU_ASSERT_EQUAL(view.hdr->sched.quantum_us, 500);
		CU_ASSERT_EQUAL(view.vms[0].sched.policy, NL_SCHED_RR);
		CU_ASSERT_EQUAL(view.vms[0].sched.quantum_us, 300);
		CU_ASSERT_EQUAL(view.vms[1].sched.quantum_us, 2000);
		CU_ASSERT_EQUAL(view.vms[2].sched.policy, 0); /* a leaf schedules nothing */
		CU_ASSERT_EQUAL(view.vms[2].sched.quantum_us, 0);
	}
	assert_same_model("tests/data/good/scheduler.xml", "tests/data/good/scheduler.json");
	assert_same_manifest("tests/data/good/scheduler.xml", "tests/data/good/scheduler.json", NULL);

	/* Without a scheduler anywhere, every level runs round robin with the experiment's quantum. */
	static struct nl_experiment d;
	static _Alignas(8) unsigned char buf[NL_MANIFEST_MAX_SIZE];
	struct nl_manifest_view view;
	CU_ASSERT_FATAL(load_ok("configs/depth3.json", &d) == 0);
	size_t n = nl_experiment_to_manifest(&d, buf, sizeof buf);
	CU_ASSERT_FATAL(n > 0 && nl_manifest_decode(buf, n, &view, NULL) == 0);
	CU_ASSERT_EQUAL(view.hdr->sched.policy, NL_SCHED_RR);
	CU_ASSERT_EQUAL(view.hdr->sched.quantum_us, 1000);
	CU_ASSERT_EQUAL(view.vms[0].sched.quantum_us, 1000);
	CU_ASSERT_EQUAL(view.vms[1].sched.quantum_us, 1000);
	CU_ASSERT_EQUAL(view.vms[2].sched.policy, 0);
}

/* A VM's expected outcome, both formats; exit unless said. */
static void test_expect(void)
{
	static struct nl_experiment x, j;
	CU_ASSERT_FATAL(load_ok("configs/hostile.xml", &x) == 0);
	CU_ASSERT_FATAL(load_ok("configs/hostile.json", &j) == 0);
	CU_ASSERT_EQUAL(x.vms[0].expect, NL_EXPECT_FAULT);
	CU_ASSERT_EQUAL(x.vms[1].expect, NL_EXPECT_EXIT);
	CU_ASSERT_EQUAL(j.vms[0].expect, NL_EXPECT_FAULT);
	CU_ASSERT_FATAL(load_ok("tests/data/good/ept-violation.json", &j) == 0);
	CU_ASSERT_EQUAL(j.vms[0].expect, NL_EXPECT_FAULT);
	CU_ASSERT_EQUAL(j.vms[1].expect, NL_EXPECT_EXIT);
}

/* An image the images folder lacks is the description's error, naming the images there. */
static void test_unknown_image(void)
{
	static struct nl_experiment e;
	static struct nl_image_set set;
	struct nl_diag d;
	char dir[] = "/tmp/nestlab-images-XXXXXX", file[64];
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	static const char *const names[] = { "leaf.elf", "nestlab-vmm.elf", "notes.txt" };
	for (unsigned i = 0; i < 3; i++) {
		snprintf(file, sizeof file, "%s/%s", dir, names[i]);
		FILE *f = fopen(file, "w");
		CU_ASSERT_FATAL(f != NULL);
		fclose(f);
	}
	CU_ASSERT_FATAL(nl_images_list(dir, &set) == 0);
	CU_ASSERT_EQUAL(set.count, 2);
	CU_ASSERT_STRING_EQUAL(set.names[0], "leaf");
	CU_ASSERT_STRING_EQUAL(set.names[1], "nestlab-vmm");

	CU_ASSERT_EQUAL(nl_desc_load_for(src_path("configs/depth3.xml"), &set, &e, &d), 0);
	CU_ASSERT_EQUAL(nl_desc_load_for(src_path("configs/hostile.xml"), &set, &e, &d), -1);
	CU_ASSERT_EQUAL(d.line, 13);
	CU_ASSERT_STRING_EQUAL(d.field, "experiment/vm[evil]/@image");
	CU_ASSERT_PTR_NOT_NULL(strstr(d.message, "no image 'hostile'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.message, "there are: leaf, nestlab-vmm"));
	CU_ASSERT_EQUAL(nl_desc_load_for(src_path("configs/hostile.json"), &set, &e, &d), -1);
	CU_ASSERT_STRING_EQUAL(d.field, "vms[0].image");
	CU_ASSERT_EQUAL(d.line, 8);
	/* Without a set (no images folder to look in) the names are not checked. */
	CU_ASSERT_EQUAL(nl_desc_load_for(src_path("configs/hostile.xml"), NULL, &e, &d), 0);
	for (unsigned i = 0; i < 3; i++) {
		snprintf(file, sizeof file, "%s/%s", dir, names[i]);
		remove(file);
	}
	rmdir(dir);
	CU_ASSERT_EQUAL(nl_images_list(dir, &set), -1);
}

static void test_diag_print(void)
{
	struct nl_diag d;
	char out[1024] = "";
	FILE *f = fmemopen(out, sizeof out, "w");

	CU_ASSERT_FATAL(f != NULL);
	nl_diag_set(&d, "x.json", 12, "vms[1].workload.iterations", "expected %s", "an integer");
	nl_diag_print(f, &d);
	nl_diag_set(&d, "y.yaml", 0, "", "unknown");
	nl_diag_print(f, &d);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, "x.json:12: vms[1].workload.iterations: expected an integer\n"
				    "y.yaml: unknown\n");
}

static void test_unreadable_and_unknown_format(void)
{
	static struct nl_experiment e;
	struct nl_diag d;

	CU_ASSERT_EQUAL(nl_desc_load(src_path("configs/README.md"), &e, &d), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.file, "README.md"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.message, "unknown description format"));
	CU_ASSERT_EQUAL(nl_desc_load(src_path("tests/data/no-such-file.json"), &e, &d), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.file, "no-such-file.json"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.message, "cannot open"));
}

static void test_backend_override(void)
{
	static struct nl_experiment e;
	struct nl_diag d;

	CU_ASSERT_FATAL(load_ok("configs/hello.json", &e) == 0);
	CU_ASSERT_EQUAL(nl_experiment_set_backend(&e, "qemu", &d), 0);
	CU_ASSERT_STRING_EQUAL(e.backend.name, "qemu");
	CU_ASSERT_EQUAL(nl_experiment_tsc_khz(&e), 1000000);
	CU_ASSERT_EQUAL(nl_experiment_set_backend(&e, "vmware", &d), -1);
	CU_ASSERT_STRING_EQUAL(d.field, "--backend");
	CU_ASSERT_STRING_EQUAL(e.backend.name, "qemu");
	CU_ASSERT_EQUAL(nl_experiment_set_backend(&e, "bochs", &d), 0);
	CU_ASSERT_EQUAL(nl_experiment_tsc_khz(&e), 50000);
}

static void test_vm_path_nested(void)
{
	static struct nl_experiment e;
	char path[64];

	memset(&e, 0, sizeof e);
	strcpy(e.vms[0].name, "hv1");
	e.vms[0].parent = -1;
	strcpy(e.vms[1].name, "hv2");
	e.vms[1].parent = 0;
	strcpy(e.vms[2].name, "rt");
	e.vms[2].parent = 1;
	e.vm_count = 3;
	nl_experiment_vm_path(&e, 2, path, sizeof path);
	CU_ASSERT_STRING_EQUAL(path, "L0/hv1/hv2/rt");
	nl_experiment_vm_path(&e, 2, path, 8); /* cut short, still terminated */
	CU_ASSERT_STRING_EQUAL(path, "L0/hv1/");
}

static void test_parse_uint(void)
{
	uint64_t v = 7;

	CU_ASSERT_PTR_NULL(nl_desc_parse_uint("0", &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_PTR_NULL(nl_desc_parse_uint("0x1F", &v));
	CU_ASSERT_EQUAL(v, 31);
	CU_ASSERT_PTR_NULL(nl_desc_parse_uint("0XfF", &v));
	CU_ASSERT_EQUAL(v, 255);
	CU_ASSERT_PTR_NULL(nl_desc_parse_uint("18446744073709551615", &v));
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_PTR_NULL(nl_desc_parse_uint("0xffffffffffffffff", &v));
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	v = 7;
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("18446744073709551616", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("0x10000000000000000", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("0x", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("-1", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint(" 1", &v));
	CU_ASSERT_PTR_NOT_NULL(nl_desc_parse_uint("12a", &v));
	CU_ASSERT_EQUAL(v, 7); /* untouched on failure */
}

static void test_json_locate(void)
{
	static const char text[] =
		"{\n"                                       /* 1 */
		"  \"a\": [1, {\"x\": \"}]\\\"\"},\n"       /* 2 */
		"    {\n"                                   /* 3 */
		"      \"b\\u0063\": true,\n"               /* 4: key "bc" */
		"      \"d\": [[], {}, \"e\"]\n"            /* 5 */
		"    }],\n"                                 /* 6 */
		"  \"\\u00e9t\\u00e9\":\n"                  /* 7: key "été" */
		"    null\n"                                /* 8 */
		"}\n";
	size_t len = sizeof text - 1;

	CU_ASSERT_EQUAL(nl_json_locate(text, len, ""), 1);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a"), 2);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[1].x"), 2);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[2]"), 3);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[2].bc"), 4);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[2].d"), 5);
	/* Missing parts: the line of the deepest part that exists. */
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[2].zz"), 3);
	CU_ASSERT_EQUAL(nl_json_locate(text, len, "a[9]"), 2);
	CU_ASSERT_EQUAL(nl_json_locate_member(text, len, "", "\xc3\xa9t\xc3\xa9"), 7);
	CU_ASSERT_EQUAL(nl_json_locate_member(text, len, "a[2]", "d"), 5);
	/* Truncated text: no read past the end, best line so far. */
	CU_ASSERT_EQUAL(nl_json_locate(text, 30, "a[2].bc"), 2);
	CU_ASSERT_EQUAL(nl_json_locate("", 0, "a"), 0);
}

void register_suite_desc(void)
{
	CU_pSuite s = CU_add_suite("desc", NULL, NULL);

	CU_add_test(s, "hello.xml model", test_hello_model);
	CU_add_test(s, "vmx offers VMX to a VM without children", test_vmx_offer);
	CU_add_test(s, "XML and JSON give the same model", test_same_model_both_formats);
	CU_add_test(s, "XML and JSON give byte-identical manifests", test_same_manifest_both_formats);
	CU_add_test(s, "defaults agree across formats", test_defaults);
	CU_add_test(s, "two VMs, hex values", test_two_vms_and_hex);
	CU_add_test(s, "bad inputs: line and field", test_bad_inputs);
	CU_add_test(s, "nested VMMs, default images", test_nested);
	CU_add_test(s, "single-stepping per VM, both formats, into the manifest", test_single_step);
	CU_add_test(s, "a scheduler per level, both formats, into the manifest", test_scheduler);
	CU_add_test(s, "expected outcome per VM", test_expect);
	CU_add_test(s, "interrupt lines, both formats, into the manifest", test_irq_lines);
	CU_add_test(s, "an unknown image is a description error", test_unknown_image);
	CU_add_test(s, "diag format", test_diag_print);
	CU_add_test(s, "unreadable file, unknown format", test_unreadable_and_unknown_format);
	CU_add_test(s, "backend override", test_backend_override);
	CU_add_test(s, "VM paths", test_vm_path_nested);
	CU_add_test(s, "integer syntax", test_parse_uint);
	CU_add_test(s, "JSON locator", test_json_locate);
}
