/* Integration scenarios of nested VMX: depth 2 and 3, VMCS shadowing, the hostile child VMM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Run a nested stack and check the leaf at leaf_path completed its workload. */
static json_t *run_nested(const char *name, const char *config, const char *leaf_path)
{
	char dir[4096];
	json_t *s = run_config(name, config, 0, dir, sizeof dir);
	if (!s)
		return NULL;
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *leaf = vm_by_path(s, leaf_path);
	CU_ASSERT_PTR_NOT_NULL(leaf);
	if (leaf) {
		CU_ASSERT_STRING_EQUAL(vm_state(leaf), "exited");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(leaf, "exit_status")), 0);
		/* A leaf stopped before its report has none: say so rather than compare a NULL. */
		const char *status = json_string_value(json_object_get(json_object_get(leaf, "report"), "status"));
		CU_ASSERT_PTR_NOT_NULL(status);
		CU_ASSERT_STRING_EQUAL(status ? status : "(no report)", "ok");
		json_t *report = json_object_get(leaf, "report");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(report, "mismatches")), 0);
	}
	return s;
}

/* Depth 2: L0 → hv1 (nestlab VMM, virtual VMX from L0) → leaf. */
static void test_depth2(void)
{
	json_t *s = run_nested("depth2", "configs/depth2.xml", "L0/hv1/leaf");
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
	/* ... with a scheduler of its own, the one its sub-manifest named, which reported. */
	CU_ASSERT_STRING_EQUAL(level_sched_policy(s, "L0/hv1"), "rr");
	CU_ASSERT(level_sched(s, "L0/hv1", NULL, "decisions") >= 1);
	json_decref(s);
}

/* Depth 3: L0 → hv1 → hv2 → leaf; hv1 virtualises VMX for hv2 on top of L0's virtual VMX. */
static void test_depth3(void)
{
	json_t *s = run_nested("depth3", "configs/depth3.xml", "L0/hv1/hv2/leaf");
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
	json_t *s = run_nested("depth2-shadow", "tests/integration/configs/depth2-shadow.xml", "L0/hv1/leaf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT(json_is_true(json_object_get(json_object_get(hv1, "nested"), "vmcs_shadowing")));
	CU_ASSERT(nested_count(hv1, NULL, "shadow_syncs_in") >= 100);
	/* L1 changes only RIP between its leaf's hypercalls: those entries need only the hot checks. */
	CU_ASSERT(nested_count(hv1, NULL, "entry_checks_hot") >= 100);
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

/*
 * A VMM's VMREAD/VMWRITE that still exited to its parent, per field: set-up
 * touches each field a few times, a field accessed around every exit would
 * show once per exit (the run has at least 50).
 */
static void assert_accesses_are_set_up_only(json_t *vm, const char *kind)
{
	const char *field;
	json_t *count;
	json_t *traps = json_object_get(json_object_get(vm, "vmcs_traps"), kind);
	CU_ASSERT_PTR_NOT_NULL(traps);
	json_object_foreach(traps, field, count) {
		if (json_integer_value(count) > 10)
			fprintf(stderr, "\n  %s's %s of %s trapped %lld times\n", json_string_value(json_object_get(vm, "path")),
				kind, field, (long long)json_integer_value(count));
		CU_ASSERT(json_integer_value(count) <= 10);
	}
}

static void test_depth3_vmcs_shadowing(void)
{
	json_t *s = run_nested("depth3-shadow", "tests/integration/configs/depth3-shadow.xml", "L0/hv1/hv2/leaf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *hv1 = vm_by_path(s, "L0/hv1"), *hv2 = vm_by_path(s, "L0/hv1/hv2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv2);
	CU_ASSERT(json_is_true(json_object_get(json_object_get(hv1, "nested"), "vmcs_shadowing")));
	/*
	 * hv1 shadows hv2 on the shadowing L0 offers it: hv2's VMREAD/VMWRITE
	 * around each exit are served by L0 from hv1's shadow VMCS, and reach
	 * hv1 only for set-up (fields hv1 does not shadow).
	 */
	CU_ASSERT(json_is_true(json_object_get(json_object_get(hv2, "nested"), "vmcs_shadowing")));
	json_int_t hv2_reflected = nested_count(hv2, NULL, "reflected_total");
	json_int_t served = nested_count(hv1, "served_for_l2", "vmread") + nested_count(hv1, "served_for_l2", "vmwrite");
	CU_ASSERT(hv2_reflected >= 50);
	CU_ASSERT(served >= hv2_reflected);
	assert_accesses_are_set_up_only(hv2, "vmread");
	assert_accesses_are_set_up_only(hv2, "vmwrite");
	/*
	 * hv1 emulates a VM exit for hv2 on every reflected exit, loading hv2's
	 * host state into its VMCS: L0 shadows those fields for reading, and hv1
	 * writes only what changed, so its VMREAD/VMWRITE exits are set-up only.
	 */
	CU_ASSERT(nested_count(hv1, NULL, "reflected_total") >= 100);
	/*
	 * hv1 switches VMCS12s with VMPTRLD before almost every VMRESUME; L0
	 * keeps the active ones, so those entries still need only the hot checks.
	 */
	CU_ASSERT(nested_count(hv1, "emulated", "VMPTRLD") >= 100);
	CU_ASSERT(nested_count(hv1, NULL, "entry_checks_hot") >= 100);
	CU_ASSERT(nested_count(hv1, NULL, "entry_checks_full") <= 10);
	assert_accesses_are_set_up_only(hv1, "vmread");
	assert_accesses_are_set_up_only(hv1, "vmwrite");
	json_decref(s);
}

/* Two leaves under one child VMM, whose VMCS12s it switches between: both finish, in both modes. */
static void run_two_leaves(const char *name, const char *config, json_int_t hv1_quantum_us)
{
	json_t *s = run_nested(name, config, "L0/hv1/a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *b = vm_by_path(s, "L0/hv1/b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(vm_state(b), "exited");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(b, "report"), "status")), "ok");
	json_t *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT(nested_count(hv1, "emulated", "VMPTRLD") >= 4); /* it really switched */
	/* Each level ran the scheduler its description chose: L0 the experiment's quantum, hv1 its own. */
	CU_ASSERT_EQUAL(level_sched(s, "L0", NULL, "quantum_us"), 1000);
	CU_ASSERT_EQUAL(level_sched(s, "L0/hv1", NULL, "quantum_us"), hv1_quantum_us);
	CU_ASSERT(level_sched(s, "L0/hv1", NULL, "switches") >= 4); /* between a and b */
	json_decref(s);
}

static void test_two_leaves_under_a_child_vmm(void)
{
	run_two_leaves("depth2-two-leaves", "tests/integration/configs/depth2-two-leaves.xml", 1000);
	/* This one gives hv1 a scheduler of its own (<scheduler quantum-us="500"/>). */
	run_two_leaves("depth2-two-leaves-shadow", "tests/integration/configs/depth2-two-leaves-shadow.xml", 500);
}

/* The duration at depth 2: the child VMM stops its leaf and reports it before L0's deadline. */
static void test_nested_duration(void)
{
	char dir[4096];
	json_t *s = run_config("nested-endless", "tests/integration/configs/nested-endless.xml", 1, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *spin = vm_by_path(s, "L0/hv1/spin"), *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(spin);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hv1);
	CU_ASSERT_STRING_EQUAL(vm_state(spin), "timeout");
	CU_ASSERT_STRING_EQUAL(vm_state(hv1), "exited"); /* it ended on its own, having reported */
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(hv1, "exit_status")), 1);
	json_decref(s);
}

/* The hostile VMM's checks of its NMIs and interrupts while its L2 runs without the exiting controls, or NMI exits. */
static int is_l2_event_check(const char *name)
{
	static const char *const names[] = {
		"nmi_exit_info", "nmi_exit_rip_after_the_ipi", "nmi_through_l2_idt_handled_twice",
		"nmi_blocked_until_handler_iret", "intr_through_l2_idt_handled", "intr_through_l2_idt_in_service",
		"intr_l2_eoi_retires", "intr_after_sti_shadow",
	};
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

/*
 * What L0 reports of them (its lapic record for the hostile VMM): one NMI
 * exit; two NMIs through L2's IDT, the second after an NMI window of L0's
 * own in VMCS02 (L2's handler held it until its IRET); two interrupts
 * through L2's IDT, the second after an interrupt window of L0's own (L2's
 * IF was 0 when it came); and every check of it ran and passed.
 */
static void assert_l1_events_through_l2(json_t *lapic, int checks_seen)
{
	CU_ASSERT_EQUAL(checks_seen, 8);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l1_nmi_exits")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l2_nmi_injected")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l2_injected")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l2_window_asks")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l2_window_exits")), 2);
	/* None of them reached the hostile VMM's own IDT: it takes no NMI, and only the one interrupt it lets in. */
	CU_ASSERT_FALSE(json_integer_value(json_object_get(lapic, "nmi_injected")));
}

/*
 * The hostile child: a guest VMM that misuses VMX on purpose checks every
 * outcome against the SDM (its "check" records), then aims EPT12 outside its
 * memory; L0 stops it alone while a sibling leaf runs to the end.
 */
static void run_hostile(const char *name, const char *config, int expect_rc, const char *expect_status)
{
	char dir[4096], path[4200];
	json_t *s = run_config(name, config, expect_rc, dir, sizeof dir); /* completed; one VM stopped on purpose */
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), expect_status);
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
	int checks = 0, bad = 0, after_good_entry = 0, interrupt_exits = 0, interrupts_through_l2 = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *r = json_loads(line, 0, NULL);
		const char *t = json_string_value(json_object_get(r, "type"));
		if (t && !strcmp(t, "check")) {
			checks++;
			const char *name = json_string_value(json_object_get(r, "name"));
			/* Entries after a good one, where the parent checks only what changed. */
			if (name && (!strcmp(name, "vmresume_noncanonical_rip") ||
				     !strcmp(name, "vmresume_reserved_event_type")))
				after_good_entry++;
			/* Its APIC timer while L2 ran: external-interrupt exits with and without acknowledge. */
			if (name && (!strcmp(name, "ext_intr_exit_acked_info") ||
				     !strcmp(name, "ext_intr_exit_unacked_info_invalid") ||
				     !strcmp(name, "ext_intr_unacked_exits_again") ||
				     !strcmp(name, "ext_intr_unacked_taken_through_idt")))
				interrupt_exits++;
			if (name && is_l2_event_check(name))
				interrupts_through_l2++;
			if (!json_is_true(json_object_get(r, "ok"))) {
				bad++;
				fprintf(stderr, "\n  check failed: %s\n", line);
			}
		}
		json_decref(r);
	}
	free(text);
	CU_ASSERT(checks >= 40);
	CU_ASSERT_EQUAL(after_good_entry, 2);
	CU_ASSERT_EQUAL(interrupt_exits, 4);
	/* L0 made those exits up from the hostile VMM's virtual APIC, once acknowledged and twice not. */
	json_t *lapic = json_object_get(evil, "lapic");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l1_exits")), 3);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(lapic, "l1_exits_acked")), 1);
	assert_l1_events_through_l2(lapic, interrupts_through_l2);
	/* ... and L0 did check those two entries (at least) by the hot checks alone. */
	CU_ASSERT(nested_count(evil, NULL, "entry_checks_hot") >= 2);
	CU_ASSERT(nested_count(evil, NULL, "entry_checks_full") >= 5);
	CU_ASSERT_EQUAL(bad, 0);
	json_decref(s);
}

static void test_hostile_child(void)
{
	run_hostile("hostile", "configs/hostile.xml", 0, "ok"); /* it says evil is expected to fault */
}

static void test_hostile_child_vmcs_shadowing(void)
{
	/* No expectation stated: evil's fault makes the run failed, as an unexpected fault must. */
	run_hostile("hostile-shadow", "tests/integration/configs/hostile-shadow.xml", 1, "failed");
}

/* A VM's single_step summary field (how its VMM stepped it), as a string or integer. */
static const char *step_str(json_t *vm, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(vm, "single_step"), key));
	return s ? s : "(absent)";
}
static json_int_t step_int(json_t *vm, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(vm, "single_step"), key));
}

/* Every step taken, and by the mechanism expected; the path (RIP hash) is returned for comparison. */
static const char *assert_stepped(json_t *vm, const char *mechanism, json_int_t steps)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
	CU_ASSERT_EQUAL(step_int(vm, "wanted"), steps);
	CU_ASSERT_EQUAL(step_int(vm, "steps"), steps);
	CU_ASSERT_STRING_EQUAL(step_str(vm, "mechanism"), mechanism);
	CU_ASSERT(json_is_true(json_object_get(json_object_get(vm, "single_step"), "complete")));
	CU_ASSERT(step_int(vm, "ticks_per_step") > 0);
	/* Entered at 0x100000: the first step ends after the first instruction, not before it. */
	CU_ASSERT_STRING_NOT_EQUAL(step_str(vm, "first_rip"), "0x100000");
	CU_ASSERT_STRING_NOT_EQUAL(step_str(vm, "rip_hash"), "(absent)");
	return step_str(vm, "rip_hash");
}

/*
 * Single-stepping (the monitor trap flag) at depths 1, 2 and 3: L0 steps
 * its own leaf with RFLAGS.TF (Bochs's skylake_x has no MTF), hv1 and hv2
 * use the MTF their parent offers, which L0 emulates.  The same leaf must
 * take the same path under each: one RIP hash over 2000 steps.
 */
static void test_single_step(void)
{
	const json_int_t steps = 2000;
	json_t *s = run_nested("single-step", "configs/single-step.xml", "L0/hv1/leaf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *leaf1 = vm_by_path(s, "L0/leaf"), *hv1 = vm_by_path(s, "L0/hv1"), *leaf2 = vm_by_path(s, "L0/hv1/leaf");
	CU_ASSERT_STRING_EQUAL(vm_state(leaf1), "exited");
	const char *hash1 = assert_stepped(leaf1, "rflags_tf", steps);
	const char *hash2 = assert_stepped(leaf2, "monitor_trap_flag", steps);
	CU_ASSERT_STRING_EQUAL(hash1, hash2);
	CU_ASSERT_STRING_EQUAL(step_str(leaf1, "last_rip"), step_str(leaf2, "last_rip"));
	/* One #DB exit per step at L0; hv1 saw exactly its steps as MTF exits, each one made up by L0. */
	CU_ASSERT_EQUAL(vm_exits(leaf1, "EXCEPTION_NMI"), steps);
	CU_ASSERT_EQUAL(level_exits(s, "L0/hv1", "MONITOR_TRAP_FLAG"), steps);
	CU_ASSERT_EQUAL(nested_count(hv1, "reflected", "MONITOR_TRAP_FLAG"), steps);
	CU_ASSERT_EQUAL(nested_count(hv1, NULL, "mtf_made_up"), steps);
	CU_ASSERT(json_is_null(json_object_get(hv1, "single_step")));
	/* Stepping is over after 2000 instructions: the rest of the workload ran free. */
	CU_ASSERT(nested_count(hv1, "reflected", "VMCALL") >= 20);

	json_t *d3 = run_nested("depth3-single-step", "tests/integration/configs/depth3-single-step.xml",
				"L0/hv1/hv2/leaf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d3);
	json_t *d3hv1 = vm_by_path(d3, "L0/hv1"), *d3hv2 = vm_by_path(d3, "L0/hv1/hv2");
	const char *hash3 = assert_stepped(vm_by_path(d3, "L0/hv1/hv2/leaf"), "monitor_trap_flag", steps);
	CU_ASSERT_STRING_EQUAL(hash1, hash3);
	/* hv1 passes hv2's MTF to the MTF L0 offers it (no emulation of its own); L0 emulates it. */
	CU_ASSERT_EQUAL(nested_count(d3hv2, "reflected", "MONITOR_TRAP_FLAG"), steps);
	CU_ASSERT_EQUAL(nested_count(d3hv2, NULL, "mtf_made_up"), 0);
	CU_ASSERT_EQUAL(nested_count(d3hv1, NULL, "mtf_made_up"), steps);
	CU_ASSERT_EQUAL(level_exits(d3, "L0/hv1/hv2", "MONITOR_TRAP_FLAG"), steps);
	json_decref(d3);
	json_decref(s);
}

void register_nested_scenarios(CU_pSuite s)
{
	CU_add_test(s, "two leaves under a child VMM, VMCS shadowing off and on", test_two_leaves_under_a_child_vmm);
	CU_add_test(s, "the duration at depth 2 is reported by the child VMM", test_nested_duration);
	CU_add_test(s, "depth 2: a nestlab VMM runs a leaf on L0's virtual VMX", test_depth2);
	CU_add_test(s, "depth 3: a VMM inside a VMM inside L0", test_depth3);
	CU_add_test(s, "depth 2 with VMCS shadowing", test_depth2_vmcs_shadowing);
	CU_add_test(s, "depth 3 with VMCS shadowing", test_depth3_vmcs_shadowing);
	CU_add_test(s, "single-stepping at depths 1, 2 and 3: one path", test_single_step);
	CU_add_test(s, "hostile child VMM: SDM outcomes, parent survives, sibling runs", test_hostile_child);
	CU_add_test(s, "hostile child VMM with VMCS shadowing", test_hostile_child_vmcs_shadowing);
}
