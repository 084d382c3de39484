/* The scheduler core (sched/sched.c) through round robin, the timer multiplexer, and the policy table. */
#include <CUnit/CUnit.h>
#include "rr.h"
#include "sched_policy.h"
#include "timer_mux.h"

#define Q 100 /* quantum, in ticks */

static void test_rr_slices_and_alone(void)
{
	struct sched s;
	sched_rr_init(&s, 3, Q);
	CU_ASSERT_STRING_EQUAL(s.ops->name, "rr");
	CU_ASSERT_EQUAL(sched_pick(&s, 0), 0);
	CU_ASSERT_EQUAL(s.until, Q);
	CU_ASSERT_EQUAL(sched_pick(&s, Q - 1), 0); /* the choice stands inside the slice */
	CU_ASSERT_EQUAL(s.counts.decisions, 1);
	CU_ASSERT_EQUAL(sched_pick(&s, Q), 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 2 * Q), 2);
	CU_ASSERT_EQUAL(sched_pick(&s, 3 * Q), 0);
	CU_ASSERT_EQUAL(s.counts.decisions, 4);
	CU_ASSERT_EQUAL(s.counts.switches, 4);
	/* Alone on the CPU, an entity gets no end of slice. */
	sched_remove(&s, 1);
	sched_remove(&s, 2);
	CU_ASSERT_EQUAL(sched_pick(&s, 3 * Q + 1), 0);
	CU_ASSERT_EQUAL(s.until, SCHED_NEVER);
	CU_ASSERT_EQUAL(sched_next_event(&s), SCHED_NEVER);
	CU_ASSERT_EQUAL(sched_alive_count(&s), 1);
	sched_remove(&s, 0);
	CU_ASSERT_EQUAL(sched_pick(&s, 4 * Q), -1);
	CU_ASSERT_EQUAL(s.counts.idle, 0); /* nothing alive: not idle, finished */
}

static void test_yield_and_preempt_choose_again(void)
{
	struct sched s;
	sched_rr_init(&s, 2, Q);
	CU_ASSERT_EQUAL(sched_pick(&s, 0), 0);
	sched_yield(&s, 0);
	CU_ASSERT_EQUAL(sched_pick(&s, 1), 1);
	sched_preempt(&s, 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 2), 0);
	CU_ASSERT_EQUAL(s.counts.yields, 1);
	CU_ASSERT_EQUAL(s.counts.preemptions, 1);
	CU_ASSERT_EQUAL(s.counts.decisions, 3);
}

static void test_block_until_a_time(void)
{
	struct sched s;
	sched_rr_init(&s, 2, Q);
	CU_ASSERT_EQUAL(sched_pick(&s, 0), 0);
	sched_block(&s, 0, 500);
	CU_ASSERT_EQUAL(sched_runnable_count(&s), 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 10), 1);
	CU_ASSERT_EQUAL(s.until, SCHED_NEVER); /* alone while 0 sleeps */
	CU_ASSERT_EQUAL(sched_next_event(&s), 500); /* the wake-up brings the CPU back */
	CU_ASSERT_EQUAL(sched_pick(&s, 499), 1);
	/* At 500 entity 0 wakes: both runnable, round robin goes on from 1 to 0, with slices again. */
	CU_ASSERT_EQUAL(sched_pick(&s, 500), 0);
	CU_ASSERT_EQUAL(s.until, 500 + Q);
	CU_ASSERT_EQUAL(s.counts.blocks, 1);
	CU_ASSERT_EQUAL(s.counts.wakeups, 1);
	CU_ASSERT_EQUAL(s.state[0], SCHED_RUNNABLE);
}

static void test_block_until_an_event_and_idle(void)
{
	struct sched s;
	sched_rr_init(&s, 2, Q);
	sched_block(&s, 0, SCHED_NEVER);
	sched_block(&s, 1, 300);
	CU_ASSERT_EQUAL(sched_pick(&s, 0), -1);
	CU_ASSERT_EQUAL(s.counts.idle, 1);
	CU_ASSERT_EQUAL(sched_next_event(&s), 300);
	sched_wake(&s, 0); /* its event came */
	CU_ASSERT_EQUAL(sched_pick(&s, 1), 0);
	sched_wake(&s, 0); /* waking a runnable entity changes nothing */
	CU_ASSERT_EQUAL(s.counts.wakeups, 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 300), 1); /* 1's time came */
	/* A blocked entity that is removed no longer brings the CPU back. */
	sched_block(&s, 0, 1000);
	sched_remove(&s, 0);
	CU_ASSERT_EQUAL(s.next_wake, SCHED_NEVER);
	/* Out-of-range and removed entities are ignored. */
	sched_block(&s, 7, 1);
	sched_wake(&s, 0);
	CU_ASSERT_EQUAL(s.state[0], SCHED_GONE);
	CU_ASSERT_EQUAL(s.counts.blocks, 3);
}

/* A policy that hands back whatever it chose last, runnable or not: a bug the core must refuse. */
static int stubborn_pick(struct sched *s, uint64_t now, uint64_t *until)
{
	(void)now;
	*until = SCHED_NEVER;
	return s->policy.rr.last;
}

static unsigned removed_seen, preempted_seen;
static void note_removed(struct sched *s, unsigned e) { (void)s; removed_seen |= 1u << e; }
static void note_preempted(struct sched *s, unsigned e) { (void)s; preempted_seen |= 1u << e; }

static void test_bad_pick_refused_and_hooks(void)
{
	static const struct sched_ops stubborn = {
		.name = "stubborn", .pick = stubborn_pick, .removed = note_removed, .preempted = note_preempted,
	};
	struct sched s;
	sched_init(&s, &stubborn, 2);
	s.policy.rr.last = 1;
	CU_ASSERT_EQUAL(sched_pick(&s, 0), 1);
	sched_preempt(&s, 1);
	CU_ASSERT_EQUAL(preempted_seen, 2u);
	sched_remove(&s, 1);
	CU_ASSERT_EQUAL(removed_seen, 2u);
	CU_ASSERT_EQUAL(sched_pick(&s, 1), -1); /* 1 is gone: refused, never handed to the VMM */
	CU_ASSERT_EQUAL(s.counts.bad_picks, 1);
	sched_block(&s, 0, 50);
	s.policy.rr.last = 0;
	CU_ASSERT_EQUAL(sched_pick(&s, 2), -1); /* 0 sleeps */
	CU_ASSERT_EQUAL(s.counts.bad_picks, 2);
}

static void test_reblock_and_wake_by(void)
{
	struct sched s;
	sched_rr_init(&s, 2, Q);
	CU_ASSERT_TRUE(sched_block(&s, 0, 100));
	CU_ASSERT_TRUE(sched_block(&s, 0, 900)); /* blocked again, later: the new time stands */
	CU_ASSERT_EQUAL(s.next_wake, 900);
	CU_ASSERT_EQUAL(s.counts.blocks, 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 100), 1);
	CU_ASSERT_TRUE(sched_wake_by(&s, 0, 300)); /* its own timer falls due earlier */
	CU_ASSERT_EQUAL(s.next_wake, 300);
	CU_ASSERT_TRUE(sched_wake_by(&s, 0, 600)); /* a later one changes nothing */
	CU_ASSERT_EQUAL(s.wake_at[0], 300);
	CU_ASSERT_EQUAL(sched_pick(&s, 299), 1);
	CU_ASSERT_EQUAL(sched_pick(&s, 300), 0);
	CU_ASSERT_FALSE(sched_wake_by(&s, 0, 1)); /* runnable: nothing to move */
	sched_remove(&s, 1);
	CU_ASSERT_FALSE(sched_block(&s, 1, 5)); /* gone: never blocked */
	CU_ASSERT_EQUAL(s.state[1], SCHED_GONE);
}

/*
 * The one-compare fast path agrees with asking every time: two schedulers
 * take the same random blocks, wakes, yields, preemptions and removals,
 * one picked through sched_pick(), the other through sched_decide() alone.
 */
static void test_fast_path_matches_slow_path(void)
{
	struct sched fast, slow;
	unsigned x = 777;
	uint64_t now = 0;
	sched_rr_init(&fast, 5, Q);
	sched_rr_init(&slow, 5, Q);
	for (unsigned n = 0; n < 20000; n++) {
		x = x * 1103515245u + 12345u;
		unsigned e = (x >> 8) % 5, op = (x >> 16) % 16;
		now += (x >> 20) % 40;
		if (op == 0) {
			uint64_t until = (x >> 4) % 3 ? now + (x >> 12) % 400 : SCHED_NEVER;
			sched_block(&fast, e, until);
			sched_block(&slow, e, until);
		} else if (op == 1) {
			sched_wake(&fast, e);
			sched_wake(&slow, e);
		} else if (op == 2) {
			sched_yield(&fast, e);
			sched_yield(&slow, e);
		} else if (op == 3) {
			sched_preempt(&fast, e);
			sched_preempt(&slow, e);
		} else if (op == 4 && (x >> 24) % 8 == 0) {
			sched_remove(&fast, e);
			sched_remove(&slow, e);
		}
		CU_ASSERT_EQUAL_FATAL(sched_pick(&fast, now), sched_decide(&slow, now));
	}
	CU_ASSERT_EQUAL(fast.counts.decisions, slow.counts.decisions);
	CU_ASSERT_EQUAL(fast.counts.switches, slow.counts.switches);
	CU_ASSERT_EQUAL(fast.counts.wakeups, slow.counts.wakeups);
}

/* Brute force: the multiplexer's earliest time is the minimum over every set source, after any sequence of sets. */
static void test_timer_mux_earliest(void)
{
	struct timer_mux t;
	uint64_t want[TIMER_SOURCES][3];
	unsigned x = 12345;
	timer_mux_init(&t);
	for (unsigned s = 0; s < TIMER_SOURCES; s++)
		for (unsigned v = 0; v < 3; v++)
			want[s][v] = TIMER_NONE;
	for (unsigned n = 0; n < 5000; n++) {
		x = x * 1103515245u + 12345u;
		unsigned src = (x >> 8) % TIMER_SOURCES, vm = (x >> 16) % 3;
		uint64_t at = (x >> 20) % 4 == 0 ? TIMER_NONE : (x >> 4) % 1000;
		timer_mux_set(&t, (enum timer_source)src, vm, at);
		if (src < TIMER_FIRST_VM_SOURCE)
			for (unsigned v = 0; v < 3; v++)
				want[src][v] = at;
		else
			want[src][vm] = at;
		for (unsigned v = 0; v < 3; v++) {
			uint64_t e = TIMER_NONE;
			for (unsigned s = 0; s < TIMER_SOURCES; s++)
				if (want[s][v] < e)
					e = want[s][v];
			CU_ASSERT_EQUAL_FATAL(timer_mux_earliest(&t, v), e);
		}
	}
}

static void test_timer_mux_due_and_expired(void)
{
	struct timer_mux t;
	timer_mux_init(&t);
	CU_ASSERT_EQUAL(timer_mux_earliest(&t, 0), TIMER_NONE);
	timer_mux_set(&t, TIMER_RUN_DEADLINE, 0, 1000);
	timer_mux_set(&t, TIMER_CHILD_PREEMPTION, 2, 400);
	timer_mux_set(&t, TIMER_MTF_OWED, 3, 0);
	CU_ASSERT_EQUAL(timer_mux_earliest(&t, 1), 1000); /* another VM's times do not count */
	CU_ASSERT_EQUAL(timer_mux_earliest(&t, 2), 400);
	CU_ASSERT_EQUAL(timer_mux_earliest(&t, 3), 0);
	CU_ASSERT_FALSE(timer_mux_due(&t, TIMER_CHILD_PREEMPTION, 2, 399));
	CU_ASSERT_TRUE(timer_mux_due(&t, TIMER_CHILD_PREEMPTION, 2, 400));
	CU_ASSERT_FALSE(timer_mux_due(&t, TIMER_SCHED, 2, 5000)); /* never set */
	timer_mux_count_expired(&t, 2, 1000);
	CU_ASSERT_EQUAL(t.expired[TIMER_RUN_DEADLINE], 1);
	CU_ASSERT_EQUAL(t.expired[TIMER_CHILD_PREEMPTION], 1);
	CU_ASSERT_EQUAL(t.expired[TIMER_MTF_OWED], 0);
	timer_mux_set(&t, TIMER_CHILD_PREEMPTION, 2, TIMER_NONE);
	CU_ASSERT_EQUAL(timer_mux_earliest(&t, 2), 1000);
	CU_ASSERT_STRING_EQUAL(timer_source_name(TIMER_MTF_OWED), "mtf_owed");
}

static void test_policy_table(void)
{
	struct sched s;
	const char *why = 0;
	struct nl_sched_choice rr = { NL_SCHED_RR, 500 }, bad = { NL_SCHED_POLICY_MAX + 1, 500 };
	CU_ASSERT_EQUAL(policy_sched_setup(&s, &rr, 2, 50000, &why), 0);
	CU_ASSERT_PTR_EQUAL(s.ops, &sched_rr_ops);
	CU_ASSERT_EQUAL(s.policy.rr.quantum, 25000); /* 500 us at 50000 ticks per ms */
	CU_ASSERT_STRING_EQUAL(policy_sched_name(NL_SCHED_RR), "rr");
	CU_ASSERT_EQUAL(policy_sched_setup(&s, &bad, 2, 50000, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_PTR_NULL(policy_sched_name(0));
}

void register_suite_sched(void)
{
	CU_pSuite s = CU_add_suite("sched", NULL, NULL);
	CU_add_test(s, "round robin: slices, and none alone", test_rr_slices_and_alone);
	CU_add_test(s, "yield and preemption choose again", test_yield_and_preempt_choose_again);
	CU_add_test(s, "block until a time, woken by it", test_block_until_a_time);
	CU_add_test(s, "block until an event, idle, removal", test_block_until_an_event_and_idle);
	CU_add_test(s, "a policy's pick of a gone or blocked entity is refused; hooks", test_bad_pick_refused_and_hooks);
	CU_add_test(s, "blocked again, and woken by an earlier own timer", test_reblock_and_wake_by);
	CU_add_test(s, "one-compare fast path = asking every time", test_fast_path_matches_slow_path);
	CU_add_test(s, "timer multiplexer: earliest vs brute force", test_timer_mux_earliest);
	CU_add_test(s, "timer multiplexer: due, expired, per VM", test_timer_mux_due_and_expired);
	CU_add_test(s, "policy table: rr and an unknown policy", test_policy_table);
}
