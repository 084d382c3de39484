/*
 * The timer multiplexer: every reason a VMM has to get the CPU back at a
 * given time registers here, and the run loop arms the VMX-preemption timer
 * from the earliest of them alone.
 *
 * A time belongs either to the VMM itself (its scheduler's next event, the
 * experiment's deadline) or to one of its VMs (a child VMM's emulated
 * preemption timer for its L2, an emulated monitor-trap-flag exit owed, its
 * virtual local APIC's timer).  A VM's times interrupt it only while it
 * runs: what fell due while it was runnable but not running is seen when it
 * next runs (and the delay counted); a blocked VM wakes at the earliest of
 * its own times (vmm_sched_block_until()).
 * Pure logic; times are TSC values (sched/README.md: one clock per VMM).
 */
#ifndef NESTLAB_SCHED_TIMER_MUX_H
#define NESTLAB_SCHED_TIMER_MUX_H

#include <stdint.h>
#include "sched.h"

enum timer_source {
	/* The VMM's own. */
	TIMER_RUN_DEADLINE,     /* the experiment's duration: every VM stops */
	TIMER_SCHED,            /* the scheduler's next event (end of slice, a wake-up) */
	TIMER_OUTPUT,           /* the platform's buffered output has room to go out (l0/serial.h) */
	TIMER_IRQ,              /* an interrupt line's generator asserts, or a route changes (vmm/irq_lines.h) */
	/* A VM's: counted only while it runs. */
	TIMER_CHILD_PREEMPTION, /* the VMX-preemption timer a child VMM gave its L2 (SDM 25.5.1) */
	TIMER_MTF_OWED,         /* an emulated monitor-trap-flag exit is owed right after an event's delivery */
	TIMER_LAPIC,            /* the VM's virtual local APIC timer (vmm/vm_events.c): it raises an interrupt */
	TIMER_SOURCES
};
#define TIMER_FIRST_VM_SOURCE TIMER_CHILD_PREEMPTION

#define TIMER_NONE SCHED_NEVER /* a source with no time set */

struct timer_mux {
	uint64_t vmm_at[TIMER_FIRST_VM_SOURCE];
	uint64_t vm_at[SCHED_MAX_ENTITIES][TIMER_SOURCES - TIMER_FIRST_VM_SOURCE];
	/* The earliest of each owner's times, kept as they are set: the run loop reads two values. */
	uint64_t vmm_earliest;
	uint64_t vm_earliest[SCHED_MAX_ENTITIES];
	uint64_t expired[TIMER_SOURCES]; /* times that had come when the VMM looked (timer_mux_count_expired) */
};

void timer_mux_init(struct timer_mux *t);
/* Set (at != TIMER_NONE) or clear (TIMER_NONE) a source's time; vm is ignored for the VMM's own sources. */
void timer_mux_set(struct timer_mux *t, enum timer_source src, unsigned vm, uint64_t at);
/*
 * A source's time, for a src and vm known to be valid (the VMM's callers,
 * with src a constant): no checks, since every emulated entry and exit of
 * a child asks.  timer_mux_get() is the checked form.
 */
static inline uint64_t timer_mux_at(const struct timer_mux *t, enum timer_source src, unsigned vm)
{
	return src < TIMER_FIRST_VM_SOURCE ? t->vmm_at[src] : t->vm_at[vm][src - TIMER_FIRST_VM_SOURCE];
}

/* Whether a time is set and has come at now. */
static inline int timer_at_due(uint64_t at, uint64_t now)
{
	return at != TIMER_NONE && at <= now;
}

/* A source's time (TIMER_NONE: not set, or no such source or VM). */
static inline uint64_t timer_mux_get(const struct timer_mux *t, enum timer_source src, unsigned vm)
{
	return src < TIMER_SOURCES && vm < SCHED_MAX_ENTITIES ? timer_mux_at(t, src, vm) : TIMER_NONE;
}

/* Whether a source's time is set and has come at now. */
static inline int timer_mux_due(const struct timer_mux *t, enum timer_source src, unsigned vm, uint64_t now)
{
	return timer_at_due(timer_mux_get(t, src, vm), now);
}

/* The earliest time among the VMM's own and VM vm's: what the run loop arms the timer for while vm runs. */
static inline uint64_t timer_mux_earliest(const struct timer_mux *t, unsigned vm)
{
	uint64_t a = t->vmm_earliest, b = t->vm_earliest[vm];
	return a < b ? a : b;
}

/* The earliest of VM vm's own times alone (not the VMM's). */
static inline uint64_t timer_mux_earliest_own(const struct timer_mux *t, unsigned vm)
{
	return t->vm_earliest[vm];
}

/* Count every source (the VMM's own and vm's) whose time has come at now; the caller does what each means. */
void timer_mux_count_expired(struct timer_mux *t, unsigned vm, uint64_t now);

/* The source's name for records ("run_deadline", "sched", "output", "child_preemption", ...). */
const char *timer_source_name(enum timer_source src);

#endif
