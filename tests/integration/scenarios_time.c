/*
 * Integration scenarios of time and interrupts: timer wake-ups of a leaf at
 * depths 1, 2 and 3 (the leaf's x2APIC is its VMM's virtual one, each VMM
 * idles halted on the APIC beneath it), and the event window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static json_int_t member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/*
 * A leaf woke `wanted` times at 1 ms and its VMM delivered each timer
 * interrupt once; latencies sane (below the period), the histogram whole
 * and the cyclictest file written.  Returns the leaf's wakeup object.
 */
static json_t *check_wakeups(json_t *s, const char *dir, const char *path, json_int_t wanted)
{
	json_t *vm = vm_by_path(s, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
	CU_ASSERT_STRING_EQUAL(vm_state(vm), "exited");
	json_t *w = json_object_get(vm, "wakeup");
	CU_ASSERT_FATAL(json_is_object(w));
	CU_ASSERT_EQUAL(member(w, "wanted"), wanted);
	CU_ASSERT_EQUAL(member(w, "count"), wanted);
	CU_ASSERT_EQUAL(member(w, "overruns"), 0);
	json_int_t period = member(w, "period_ticks");
	CU_ASSERT(member(w, "min") > 0);
	CU_ASSERT(member(w, "min") <= member(w, "p50"));
	CU_ASSERT(member(w, "p50") <= member(w, "p99"));
	CU_ASSERT(member(w, "p99") <= member(w, "max"));
	CU_ASSERT(member(w, "max") < period);
	/* The histogram's buckets hold every sample (none over 1 ms: no overflow). */
	json_t *hist = json_object_get(w, "histogram");
	json_int_t in_buckets = 0;
	size_t i;
	json_t *pair;
	json_array_foreach(json_object_get(hist, "buckets"), i, pair)
		in_buckets += json_integer_value(json_array_get(pair, 1));
	CU_ASSERT_EQUAL(in_buckets, wanted);
	/* The VMM beneath saw as many timer interrupts as it delivered, and the leaf EOIed each. */
	json_t *lapic = json_object_get(vm, "lapic");
	CU_ASSERT_EQUAL(member(lapic, "timer_fires"), wanted);
	/* Injected by the VMM, or delivered by the processor from RVI under APIC virtualization. */
	CU_ASSERT_EQUAL(member(lapic, "injected") + member(lapic, "apicv_delivered"), wanted);
	CU_ASSERT_EQUAL(member(lapic, "eoi"), wanted);
	CU_ASSERT_EQUAL(member(lapic, "gp"), 0);
	/* cyclictest's -h layout, one file per VM. */
	char file[4600], total[64], name[256];
	snprintf(name, sizeof name, "wakeup-%s.hist", path);
	for (char *c = name + strlen("wakeup-"); *c; c++)
		if (*c == '/')
			*c = '.';
	snprintf(file, sizeof file, "%s/%s", dir, name);
	char *text = slurp(file, NULL);
	CU_ASSERT_PTR_NOT_NULL(text);
	snprintf(total, sizeof total, "# Total: %09lld\n", (long long)wanted);
	CU_ASSERT(text && !strncmp(text, "# Histogram\n", 12));
	CU_ASSERT(text && strstr(text, total) != NULL);
	CU_ASSERT(text && strstr(text, "# Histogram Overflows: 00000\n") != NULL);
	free(text);
	return w;
}

/* configs/wakeup.xml: a leaf at depth 1 beside one at depth 3, 200 wake-ups each. */
static void test_wakeups_depth1_and_3(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup", "configs/wakeup.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *w1 = check_wakeups(s, dir, "L0/rt1", 200);
	json_t *w3 = check_wakeups(s, dir, "L0/hv1/hv2/rt3", 200);
	/* Three levels of delivery cost more than one (here about 20 times). */
	CU_ASSERT(member(w3, "p50") > member(w1, "p50"));
	/* Each VMM above rt3 idled halted on the APIC its parent gave it, woken by its timer. */
	json_t *hv1 = vm_by_path(s, "L0/hv1"), *hv2 = vm_by_path(s, "L0/hv1/hv2");
	CU_ASSERT(member(json_object_get(hv1, "lapic"), "hlt_blocks") > 0);
	CU_ASSERT(member(json_object_get(hv1, "lapic"), "timer_fires") > 0);
	CU_ASSERT(member(json_object_get(hv2, "lapic"), "timer_fires") > 0);
	CU_ASSERT(level_sched(s, "L0/hv1/hv2", NULL, "idle_ticks") > 0);
	json_decref(s);
}

/* Depth 2: hv1 delivers its leaf's timer interrupts; L0 delivers hv1's. */
static void test_wakeups_depth2(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-d2", "tests/integration/configs/wakeup-d2.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	check_wakeups(s, dir, "L0/hv1/rt", 200);
	/* The leaf's HLTs are hv1's to handle: it blocked the leaf each time. */
	json_t *rt = vm_by_path(s, "L0/hv1/rt");
	CU_ASSERT_EQUAL(member(json_object_get(rt, "lapic"), "hlt_blocks"), 200);
	CU_ASSERT_EQUAL(level_exits(s, "L0/hv1", "HLT"), 200);
	CU_ASSERT(member(json_object_get(vm_by_path(s, "L0/hv1"), "lapic"), "injected") > 0);
	json_decref(s);
}

/*
 * The event window: with interrupts off around each deadline the VMM finds
 * the timer's interrupt pending with RFLAGS.IF = 0, asks for an
 * interrupt-window exit, and injects there; the wait is counted.
 */
static void test_wakeups_event_window(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-irq-off", "tests/integration/configs/wakeup-irq-off.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *w = check_wakeups(s, dir, "L0/rt", 200);
	json_t *lapic = json_object_get(vm_by_path(s, "L0/rt"), "lapic");
	CU_ASSERT_EQUAL(member(lapic, "window_asks"), 200);
	CU_ASSERT_EQUAL(member(lapic, "window_exits"), 200);
	CU_ASSERT_EQUAL(level_exits(s, "L0", "INTERRUPT_WINDOW"), 200);
	/* Half the 100 us section (50 us) lies between each deadline and its window. */
	json_int_t half = member(w, "irq_off_ticks") / 2;
	CU_ASSERT(member(w, "min") >= half);
	CU_ASSERT(member(lapic, "window_wait_ticks") >= 200 * (half - half / 5));
	json_decref(s);
}

/*
 * A timer storm (20 kHz) beside a 1 kHz timer VM: the storm's interrupts
 * cost the CPU, not the timer VM's deadlines.  Its p99 stays within a tenth
 * of its period (alone it is about 850 ticks of the 50000).
 */
static void test_wakeups_beside_a_storm(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-storm", "tests/integration/configs/wakeup-storm.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *w = check_wakeups(s, dir, "L0/rt", 200);
	CU_ASSERT(member(w, "p99") < member(w, "period_ticks") / 10);
	json_t *storm = json_object_get(vm_by_path(s, "L0/storm"), "wakeup");
	CU_ASSERT_EQUAL(member(storm, "count"), 8000);
	CU_ASSERT_EQUAL(member(json_object_get(vm_by_path(s, "L0/storm"), "lapic"), "injected"), 8000);
	json_decref(s);
}

/* The same description twice: the same records, byte for byte (time counts instructions). */
static void test_wakeups_deterministic(void)
{
	char a[4096], b[4096], fa[4200], fb[4200];
	json_t *s1 = run_config("wakeup-d2-again-1", "tests/integration/configs/wakeup-d2.xml", 0, a, sizeof a);
	json_t *s2 = run_config("wakeup-d2-again-2", "tests/integration/configs/wakeup-d2.xml", 0, b, sizeof b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
	snprintf(fa, sizeof fa, "%s/records.jsonl", a);
	snprintf(fb, sizeof fb, "%s/records.jsonl", b);
	size_t la = 0, lb = 0;
	char *ra = slurp(fa, &la), *rb = slurp(fb, &lb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
	CU_ASSERT(la > 1000);
	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT(la == lb && !memcmp(ra, rb, la));
	snprintf(fa, sizeof fa, "%s/wakeup-L0.hv1.rt.hist", a);
	snprintf(fb, sizeof fb, "%s/wakeup-L0.hv1.rt.hist", b);
	free(ra);
	free(rb);
	ra = slurp(fa, &la);
	rb = slurp(fb, &lb);
	CU_ASSERT(ra && rb && la == lb && !memcmp(ra, rb, la));
	free(ra);
	free(rb);
	json_decref(s1);
	json_decref(s2);
}

/* Single-stepped by RFLAGS.TF through its wake-ups: every one comes, each taken at one of the leaf's HLTs. */
static void test_wakeups_while_stepped(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-stepped", "tests/integration/configs/wakeup-stepped.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *rt = vm_by_path(s, "L0/rt");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	json_t *w = json_object_get(rt, "wakeup");
	CU_ASSERT_EQUAL(member(w, "count"), 100);
	json_t *step = json_object_get(rt, "single_step");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(step, "mechanism")), "rflags_tf");
	CU_ASSERT(member(step, "steps") > 10000); /* the wake-up loop was stepped, not only the start */
	json_t *lapic = json_object_get(rt, "lapic");
	CU_ASSERT_EQUAL(member(lapic, "hlt_passed") + member(lapic, "hlt_blocks"), 100);
	CU_ASSERT_EQUAL(member(lapic, "injected"), 100);
	json_decref(s);
}

/* 200 wake-ups of the leaf at path through its xAPIC page; its lapic record. */
static json_t *xapic_wakeups(json_t *s, const char *dir, const char *path)
{
	json_t *w = check_wakeups(s, dir, path, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(w, "apic")), "xapic");
	json_t *lapic = json_object_get(vm_by_path(s, path), "lapic");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(lapic, "mode")), "xapic");
	return lapic;
}

/* The same wake-ups through the xAPIC page: decoded MOVs, the same counts as through the MSRs. */
static void test_wakeups_xapic(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-xapic", "tests/integration/configs/wakeup-xapic.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *lapic = xapic_wakeups(s, dir, "L0/hv1/rt");
	/* Three set-up writes (SVR, TPR, LVT timer) and one EOI per wake-up; the deadline is an MSR. */
	CU_ASSERT_EQUAL(member(lapic, "xapic_accesses"), 3 + 200);
	CU_ASSERT_EQUAL(level_exits(s, "L0/hv1", "EPT_VIOLATION"), 3 + 200);
	json_decref(s);
}

/* Depth 1, the same wake-ups with the APIC emulated and virtualized: same counts, fewer exits. */
static void test_wakeups_apicv(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-apicv", "tests/integration/configs/wakeup-apicv.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_wakeups(s, dir, "L0/rt-emu", 200);
	check_wakeups(s, dir, "L0/rt-apicv", 200);
	json_t *emu = json_object_get(vm_by_path(s, "L0/rt-emu"), "lapic");
	json_t *v = json_object_get(vm_by_path(s, "L0/rt-apicv"), "lapic");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(emu, "apicv")), "off");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "apicv")), "on");
	/* The processor delivered every timer interrupt and did every EOI; the VMM injected none. */
	CU_ASSERT_EQUAL(member(v, "injected"), 0);
	CU_ASSERT_EQUAL(member(v, "apicv_delivered"), 200);
	CU_ASSERT_EQUAL(member(v, "apicv_eois"), 200);
	CU_ASSERT_EQUAL(member(emu, "injected"), 200);
	CU_ASSERT_EQUAL(member(emu, "apicv_eois"), 0);
	const char *same[] = { "accepted", "delivered", "eoi", "timer_fires", "hlt_blocks" };
	for (unsigned i = 0; i < sizeof same / sizeof same[0]; i++)
		CU_ASSERT_EQUAL(member(v, same[i]), member(emu, same[i]));
	/* No EOI WRMSR exits and no set-up TPR write: 201 fewer MSR writes (the TSC deadline still exits), the same HLTs. */
	CU_ASSERT_EQUAL(vm_exits(vm_by_path(s, "L0/rt-emu"), "MSR_WRITE") - vm_exits(vm_by_path(s, "L0/rt-apicv"), "MSR_WRITE"), 201);
	CU_ASSERT(vm_exits(vm_by_path(s, "L0/rt-apicv"), "MSR_WRITE") >= 200);
	CU_ASSERT_EQUAL(vm_exits(vm_by_path(s, "L0/rt-emu"), "HLT"), vm_exits(vm_by_path(s, "L0/rt-apicv"), "HLT"));
	CU_ASSERT_EQUAL(member(v, "eoi_exits") + member(v, "apic_write_exits") + member(v, "apic_access_exits"), 0);
	json_decref(s);
}

/* The xAPIC leaf with APIC virtualization at depth 1: no EPT violation, no decoded MOV. */
static void test_wakeups_apicv_xapic(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-apicv-xapic", "tests/integration/configs/wakeup-apicv-xapic.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *lapic = xapic_wakeups(s, dir, "L0/rt");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(lapic, "apicv")), "on");
	CU_ASSERT_EQUAL(member(lapic, "apicv_eois"), 200);
	CU_ASSERT_EQUAL(member(lapic, "xapic_accesses"), 0);
	CU_ASSERT_EQUAL(vm_exits(vm_by_path(s, "L0/rt"), "EPT_VIOLATION"), 0);
	/* The set-up writes of SVR and the LVT timer are APIC-write exits; the TPR write is virtualized. */
	CU_ASSERT_EQUAL(member(lapic, "apic_write_exits"), 2);
	CU_ASSERT_EQUAL(vm_exits(vm_by_path(s, "L0/rt"), "APIC_WRITE"), 2);
	json_decref(s);
}

/* Depth 2: hv1's virtual processor lacks the controls; it emulates and says so. */
static void test_wakeups_apicv_unavailable(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-apicv-d2", "tests/integration/configs/wakeup-apicv-d2.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_wakeups(s, dir, "L0/hv1/rt", 200);
	json_t *lapic = json_object_get(vm_by_path(s, "L0/hv1/rt"), "lapic");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(lapic, "apicv")), "unavailable");
	CU_ASSERT_EQUAL(member(lapic, "injected"), 200);
	CU_ASSERT_EQUAL(member(lapic, "apicv_delivered"), 0);
	json_decref(s);
}

/* The event window at depth 2: hv1's window toggles are hot entries at L0, and every window comes. */
static void test_wakeups_event_window_depth2(void)
{
	char dir[4096];
	json_t *s = run_config("wakeup-irq-off-d2", "tests/integration/configs/wakeup-irq-off-d2.xml", 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_wakeups(s, dir, "L0/hv1/rt", 200);
	json_t *lapic = json_object_get(vm_by_path(s, "L0/hv1/rt"), "lapic");
	CU_ASSERT_EQUAL(member(lapic, "window_exits"), 200);
	CU_ASSERT_EQUAL(level_exits(s, "L0/hv1", "INTERRUPT_WINDOW"), 200);
	/* 400 toggles of the window bit, yet VMCS12 was checked in full only at the first launch. */
	json_t *hv1 = vm_by_path(s, "L0/hv1");
	CU_ASSERT(nested_count(hv1, NULL, "entry_checks_full") < 5);
	CU_ASSERT(nested_count(hv1, NULL, "entry_checks_hot") >= 400);
	json_decref(s);
}

/* NMIs, each sent from the handler of the one before: held in the NMI window, all delivered. */
static void check_nmis(const char *name, const char *config, const char *path, const char *level)
{
	char dir[4096];
	json_t *s = run_config(name, config, 0, dir, sizeof dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(status_of(s), "ok");
	json_t *vm = vm_by_path(s, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vm);
	json_int_t taken = -1;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(vm, "phases"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "phase")), "nmis"))
			taken = member(p, "count");
	CU_ASSERT_EQUAL(taken, 50);
	json_t *lapic = json_object_get(vm, "lapic");
	CU_ASSERT_EQUAL(member(lapic, "nmi_taken"), 50);
	CU_ASSERT_EQUAL(member(lapic, "nmi_injected"), 50);
	/* Every NMI but the first was sent while its predecessor's handler ran. */
	CU_ASSERT_EQUAL(member(lapic, "nmi_window_asks"), 49);
	CU_ASSERT_EQUAL(member(lapic, "nmi_window_exits"), 49);
	CU_ASSERT_EQUAL(level_exits(s, level, "NMI_WINDOW"), 49);
	/* The first was sent in an STI shadow: it waited for the interrupt window, once. */
	CU_ASSERT_EQUAL(member(lapic, "window_asks"), 1);
	CU_ASSERT_EQUAL(member(lapic, "window_exits"), 1);
	json_decref(s);
}

static void test_nmis(void)
{
	check_nmis("nmi-d1", "tests/integration/configs/nmi-d1.xml", "L0/rt", "L0");
	check_nmis("nmi-d2-xapic", "tests/integration/configs/nmi-d2-xapic.xml", "L0/hv1/rt", "L0/hv1");
}

void register_time_scenarios(CU_pSuite s)
{
	CU_add_test(s, "timer wake-ups at depths 1 and 3 (configs/wakeup.xml)", test_wakeups_depth1_and_3);
	CU_add_test(s, "timer wake-ups at depth 2", test_wakeups_depth2);
	CU_add_test(s, "interrupts off around each deadline: the event window", test_wakeups_event_window);
	CU_add_test(s, "a 20 kHz timer storm beside a 1 kHz timer VM", test_wakeups_beside_a_storm);
	CU_add_test(s, "the same description twice: identical records", test_wakeups_deterministic);
	CU_add_test(s, "wake-ups while single-stepped by RFLAGS.TF", test_wakeups_while_stepped);
	CU_add_test(s, "wake-ups through the xAPIC page at depth 2", test_wakeups_xapic);
	CU_add_test(s, "NMIs and the NMI window at depths 1 and 2", test_nmis);
	CU_add_test(s, "wake-ups at depth 1, APIC virtualization on and off: same counts, no EOI exits", test_wakeups_apicv);
	CU_add_test(s, "wake-ups through the xAPIC page with APIC virtualization", test_wakeups_apicv_xapic);
	CU_add_test(s, "APIC virtualization asked for at depth 2: unavailable, emulated", test_wakeups_apicv_unavailable);
	CU_add_test(s, "the event window at depth 2: window toggles are hot entries", test_wakeups_event_window_depth2);
}
