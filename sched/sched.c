/* The state every scheduling policy shares, and the decisions made through a policy's ops (sched.h). */
#include "sched.h"

void sched_init(struct sched *s, const struct sched_ops *ops, unsigned count)
{
	if (count > SCHED_MAX_ENTITIES)
		count = SCHED_MAX_ENTITIES;
	*s = (struct sched){ .ops = ops, .count = count, .next_wake = SCHED_NEVER, .current = -1, .repick = 1,
			     .stands_until = 0 };
	for (unsigned e = 0; e < SCHED_MAX_ENTITIES; e++) {
		s->state[e] = e < count ? SCHED_RUNNABLE : SCHED_GONE;
		s->wake_at[e] = SCHED_NEVER;
	}
}

/* Something changed that the policy must see: the next pick asks it. */
static void choose_again(struct sched *s)
{
	s->repick = 1;
	s->stands_until = 0;
}

static void recompute_next_wake(struct sched *s)
{
	uint64_t t = SCHED_NEVER;
	for (unsigned e = 0; e < s->count; e++)
		if (s->state[e] == SCHED_BLOCKED && s->wake_at[e] < t)
			t = s->wake_at[e];
	s->next_wake = t;
}

static void make_runnable(struct sched *s, unsigned e)
{
	s->state[e] = SCHED_RUNNABLE;
	s->wake_at[e] = SCHED_NEVER;
	s->counts.wakeups++;
	choose_again(s);
	if (s->ops->woken)
		s->ops->woken(s, e);
}

/* Blocked entities whose time has come are runnable again. */
static void wake_due(struct sched *s, uint64_t now)
{
	if (now < s->next_wake)
		return;
	for (unsigned e = 0; e < s->count; e++)
		if (s->state[e] == SCHED_BLOCKED && s->wake_at[e] <= now)
			make_runnable(s, e);
	recompute_next_wake(s);
}

int sched_decide(struct sched *s, uint64_t now)
{
	wake_due(s, now);
	int stays = !s->repick && s->current >= 0 && s->state[s->current] == SCHED_RUNNABLE && now < s->until;
	if (!stays) { /* else only the clock moved, and nothing was due */
		uint64_t until = SCHED_NEVER;
		int next = s->ops->pick(s, now, &until);
		s->counts.decisions++;
		if (next >= 0 && ((unsigned)next >= s->count || s->state[next] != SCHED_RUNNABLE)) {
			/* Never hand the VMM a stopped or sleeping VM: its VMCS may be cleared. */
			s->counts.bad_picks++;
			next = -1;
		}
		if (next < 0) {
			if (sched_alive_count(s))
				s->counts.idle++;
			until = SCHED_NEVER;
		} else if (next != s->current) {
			s->counts.switches++;
		}
		s->current = next;
		s->until = until;
		s->repick = 0;
	}
	s->stands_until = s->current < 0 ? 0 : sched_next_event(s);
	return s->current;
}

uint64_t sched_next_event(const struct sched *s)
{
	uint64_t t = s->next_wake;
	if (s->current >= 0 && s->until < t)
		t = s->until;
	return t;
}

static int valid(const struct sched *s, unsigned e)
{
	return e < s->count && s->state[e] != SCHED_GONE;
}

int sched_block(struct sched *s, unsigned e, uint64_t until)
{
	if (!valid(s, e))
		return 0;
	if (s->state[e] == SCHED_BLOCKED) {
		s->wake_at[e] = until; /* the new time stands, later or earlier */
		recompute_next_wake(s);
		choose_again(s);
		return 1;
	}
	s->state[e] = SCHED_BLOCKED;
	s->wake_at[e] = until;
	if (until < s->next_wake)
		s->next_wake = until;
	s->counts.blocks++;
	choose_again(s);
	if (s->ops->blocked)
		s->ops->blocked(s, e);
	return 1;
}

int sched_wake_by(struct sched *s, unsigned e, uint64_t t)
{
	if (!valid(s, e) || s->state[e] != SCHED_BLOCKED)
		return 0;
	if (t < s->wake_at[e]) {
		s->wake_at[e] = t;
		if (t < s->next_wake)
			s->next_wake = t;
		choose_again(s);
	}
	return 1;
}

void sched_wake(struct sched *s, unsigned e)
{
	if (!valid(s, e) || s->state[e] != SCHED_BLOCKED)
		return;
	make_runnable(s, e);
	recompute_next_wake(s);
}

void sched_yield(struct sched *s, unsigned e)
{
	if (!valid(s, e))
		return;
	s->counts.yields++;
	choose_again(s);
	if (s->ops->yielded)
		s->ops->yielded(s, e);
}

void sched_preempt(struct sched *s, unsigned e)
{
	if (!valid(s, e))
		return;
	s->counts.preemptions++;
	choose_again(s);
	if (s->ops->preempted)
		s->ops->preempted(s, e);
}

void sched_remove(struct sched *s, unsigned e)
{
	if (!valid(s, e))
		return;
	int was_blocked = s->state[e] == SCHED_BLOCKED;
	s->state[e] = SCHED_GONE;
	s->wake_at[e] = SCHED_NEVER;
	if (was_blocked)
		recompute_next_wake(s);
	choose_again(s);
	if (s->ops->removed)
		s->ops->removed(s, e);
}

static unsigned count_where(const struct sched *s, int runnable_only)
{
	unsigned n = 0;
	for (unsigned e = 0; e < s->count; e++)
		n += runnable_only ? s->state[e] == SCHED_RUNNABLE : s->state[e] != SCHED_GONE;
	return n;
}

unsigned sched_runnable_count(const struct sched *s)
{
	return count_where(s, 1);
}

unsigned sched_alive_count(const struct sched *s)
{
	return count_where(s, 0);
}
