/*
 * One scheduler per VMM, behind one interface.
 *
 * The VMM core (vmm/vmm_sched.c) tells the scheduler what happens to its VMs
 * — an entity blocks until a time or an event, wakes, yields, has its slice
 * taken, is gone for good — and asks it whom to run now and until when.
 * The state every policy shares (runnable or blocked, wake-up times, the
 * current choice, the counters) lives here, in struct sched; what a policy
 * adds (its queue, its slices, later budgets and servers) lives behind
 * struct sched_ops and in the policy's member of the union.  Pure logic over
 * plain data: times are TSC values the caller passes in, so the host's unit
 * tests drive it with made-up clocks.
 *
 * Time base: every time here is a value of the TSC as the VMM reads it
 * (sched/README.md says why one clock serves every level).
 */
#ifndef NESTLAB_SCHED_SCHED_H
#define NESTLAB_SCHED_SCHED_H

#include <stdint.h>

#define SCHED_MAX_ENTITIES 16          /* NL_MAX_VMS: a VMM schedules at most its own VMs */
#define SCHED_NEVER        UINT64_MAX  /* no time: "until an event" or "no end of slice" */

enum sched_state {
	SCHED_GONE,     /* not scheduled (stopped, or never built) */
	SCHED_RUNNABLE,
	SCHED_BLOCKED,  /* waits for wake_at or for a wake-up, whichever comes first */
};

struct sched_counters {
	uint64_t decisions;      /* times the policy was asked whom to run */
	uint64_t switches;       /* decisions that changed the entity */
	uint64_t ticks_deciding; /* TSC ticks spent in decisions (measured by the VMM core) */
	uint64_t yields;         /* an entity gave up the rest of its slice */
	uint64_t preemptions;    /* a slice was taken (timer, external interrupt) */
	uint64_t blocks;
	uint64_t wakeups;        /* blocked entities made runnable, by time or by event */
	uint64_t idle;           /* decisions that found nothing runnable while something was blocked */
	uint64_t idle_ticks;     /* TSC ticks the VMM waited with nothing runnable (measured by the VMM core) */
	uint64_t bad_picks;      /* the policy chose an entity that is not runnable (a policy bug): refused */
};

struct sched;

/* What a scheduling policy provides; NULL hooks do nothing beyond the shared state change. */
struct sched_ops {
	const char *name; /* as the description names it: "rr" */
	/*
	 * Choose among the RUNNABLE entities at time now: return its index, or
	 * -1 when none is runnable, and set *until to when the choice must be
	 * made again even if nothing happens (the end of its slice), SCHED_NEVER
	 * for no such time.
	 */
	int (*pick)(struct sched *s, uint64_t now, uint64_t *until);
	void (*blocked)(struct sched *s, unsigned e);
	void (*woken)(struct sched *s, unsigned e);
	void (*yielded)(struct sched *s, unsigned e);
	void (*preempted)(struct sched *s, unsigned e);
	void (*removed)(struct sched *s, unsigned e); /* gone for good: drop it from the policy's own queues */
};

/* Round robin's own state (sched/rr.c). */
struct sched_rr_state {
	int last;          /* the entity chosen last, -1 before the first choice */
	uint64_t quantum;  /* TSC ticks of one slice */
};

struct sched {
	const struct sched_ops *ops;
	unsigned count;                            /* entities 0..count-1 */
	enum sched_state state[SCHED_MAX_ENTITIES];
	uint64_t wake_at[SCHED_MAX_ENTITIES];      /* a BLOCKED entity's wake-up time, SCHED_NEVER: event only */
	uint64_t next_wake;                        /* the earliest wake_at: one compare on the hot path */
	int current;                               /* the entity chosen last, -1: none */
	uint64_t until;                            /* when the current choice ends */
	int repick;                                /* something changed: ask the policy at the next pick */
	uint64_t stands_until;                     /* the current choice holds before this time: 0 when repick */
	struct sched_counters counts;
	union {
		struct sched_rr_state rr;
	} policy;
};

/* Every entity starts RUNNABLE; the policy's own state is the caller's to set after (see sched/rr.h). */
void sched_init(struct sched *s, const struct sched_ops *ops, unsigned count);

/* The slow half of sched_pick(): wake what is due, ask the policy. */
int sched_decide(struct sched *s, uint64_t now);

/* Whether the current choice stands at now: nothing changed, its slice goes on, no wake-up is due. */
static inline int sched_choice_stands(const struct sched *s, uint64_t now)
{
	return now < s->stands_until; /* one compare at every exit: min(until, next_wake), 0 after a change */
}

/*
 * The entity to run at now, -1 if none is runnable: the current one while
 * its choice stands (nothing changed and its slice has not ended), else the
 * policy's new choice.  Inline: the VMM asks at every VM exit.
 */
static inline int sched_pick(struct sched *s, uint64_t now)
{
	return sched_choice_stands(s, now) ? s->current : sched_decide(s, now);
}

/* When this scheduler next needs the CPU back without any other event: the end of the slice or a wake-up. */
uint64_t sched_next_event(const struct sched *s);

/*
 * Entity e waits until the time `until` (SCHED_NEVER: until sched_wake()).
 * Returns whether it is blocked now (not for a gone or unknown entity).  A
 * blocked entity blocked again waits until the new time.
 */
int sched_block(struct sched *s, unsigned e, uint64_t until);
/* A blocked entity's wake-up comes no later than t (a timer of its own fell due earlier); 0 if not blocked. */
int sched_wake_by(struct sched *s, unsigned e, uint64_t t);
/* A blocked entity becomes runnable (its event came); nothing for any other. */
void sched_wake(struct sched *s, unsigned e);
/* Entity e gives up the rest of its slice. */
void sched_yield(struct sched *s, unsigned e);
/* Entity e's slice was taken (its time ran out, an interrupt came): choose again. */
void sched_preempt(struct sched *s, unsigned e);
/* Entity e is gone for good (stopped). */
void sched_remove(struct sched *s, unsigned e);

/* How many entities are RUNNABLE / not GONE. */
unsigned sched_runnable_count(const struct sched *s);
unsigned sched_alive_count(const struct sched *s);

#endif
