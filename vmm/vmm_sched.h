/*
 * This VMM's scheduler and timers, in one place every part of the VMM
 * reaches: the run loop asks whom to run and until when; exit handlers and
 * hypercalls say what a VM needs (yield, block until a time, wake); nested/
 * registers the times a child VMM's L2 must come back at.  The scheduler
 * itself is pure logic in sched/, chosen per level in policy/.
 */
#ifndef NESTLAB_VMM_VMM_SCHED_H
#define NESTLAB_VMM_VMM_SCHED_H

#include "nestlab/manifest.h"
#include "sched.h"
#include "timer_mux.h"
#include "vm.h"
#include "vmm.h"

/* The timers start empty but for the experiment's deadline (a TSC value): before any VM is built. */
void vmm_timers_start(uint64_t run_deadline);
/* Set up the level's scheduler (the manifest header's choice) over vms[0..count-1]; 0, or -1 with *why. */
int vmm_sched_start(const struct nl_manifest_view *m, struct vm *vms, unsigned count, const char **why);

/*
 * The one instance, for the inline hot paths below: the run loop asks at
 * every VM exit, where a function call is a cost each level above pays
 * again (under Bochs every instruction is a tick).  Only vmm_sched.c
 * changes it.
 */
struct vmm_sched {
	struct sched sched;
	struct timer_mux timers;
	struct vm *vms;          /* this VMM's VMs, the scheduler's entities in order */
	struct vm *current;      /* &vms[sched.current], or NULL */
};
extern struct vmm_sched vmm_sched;

/* The slow half of vmm_sched_pick(): a decision, timed and counted. */
struct vm *vmm_sched_decide(uint64_t now);

/* The VM to run at now; NULL when none is runnable. */
static inline struct vm *vmm_sched_pick(uint64_t now)
{
	return sched_choice_stands(&vmm_sched.sched, now) ? vmm_sched.current : vmm_sched_decide(now);
}
/* Whether some VM is still runnable or blocked. */
int vmm_sched_any_alive(void);

void vmm_sched_yield(struct vm *vm);
void vmm_sched_preempt(struct vm *vm);
/*
 * vm waits until the time until (SCHED_NEVER: until vmm_sched_wake()), or
 * until one of its own timers falls due, whichever comes first; nothing
 * for a VM that is stopped.
 */
void vmm_sched_block_until(struct vm *vm, uint64_t until);
/* One of a blocked VM's own timers was set to at: it wakes no later (vmm_timer_set() calls it). */
void vmm_sched_own_timer_set(const struct vm *vm, uint64_t at);
void vmm_sched_wake(struct vm *vm);
/* The VM stopped for good (vm_stop). */
void vmm_sched_removed(struct vm *vm);

/*
 * The timer multiplexer (sched/timer_mux.h) of this VMM; vm is NULL for
 * the VMM's own sources.  Inline, and a set to the value a source already
 * has costs a compare: every emulated VM entry and exit of a child sets
 * its L2's times, mostly to "none" again.
 */
/* The multiplexer's index of a source's owner: the VMM's own sources take none. */
static inline unsigned vmm_timer_owner(enum timer_source src, const struct vm *vm)
{
	return src < TIMER_FIRST_VM_SOURCE ? 0 : vm->slot;
}

static inline uint64_t vmm_timer_get(enum timer_source src, const struct vm *vm)
{
	return timer_mux_at(&vmm_sched.timers, src, vmm_timer_owner(src, vm));
}

static inline void vmm_timer_set(enum timer_source src, const struct vm *vm, uint64_t at)
{
	if (vmm_timer_get(src, vm) == at)
		return;
	timer_mux_set(&vmm_sched.timers, src, vmm_timer_owner(src, vm), at);
	if (src >= TIMER_FIRST_VM_SOURCE && vm->state == VM_BLOCKED)
		vmm_sched_own_timer_set(vm, at);
}

static inline int vmm_timer_due(enum timer_source src, const struct vm *vm, uint64_t now)
{
	return timer_at_due(vmm_timer_get(src, vm), now);
}
/* The earliest time that must bring the CPU back while vm runs. */
static inline uint64_t vmm_timer_earliest(const struct vm *vm)
{
	return timer_mux_earliest(&vmm_sched.timers, vm->slot);
}

/* Whether the experiment's duration is spent at now (the deadline is always set). */
static inline int vmm_run_deadline_passed(uint64_t now)
{
	return now >= vmm_sched.timers.vmm_at[TIMER_RUN_DEADLINE];
}

/* The earliest of the VMM's own times (the deadline, the scheduler's next event): when an idle VMM must look again. */
static inline uint64_t vmm_timer_earliest_own(void)
{
	return vmm_sched.timers.vmm_earliest;
}
/* Whether a time that ends the running VM's turn (the deadline, the scheduler's next event) has
 * come at now, with the preemption timer's rounding (it counts 2^rate TSC ticks). */
static inline int vmm_own_time_due(uint64_t now)
{
	const uint64_t *at = vmm_sched.timers.vmm_at;
	uint64_t t = now + (1ull << vmm_caps->preempt_rate);
	return at[TIMER_SCHED] <= t || at[TIMER_RUN_DEADLINE] <= t;
}
/* A VMX-preemption-timer exit of vm at now: count the sources whose time had come. */
void vmm_timer_expired(const struct vm *vm, uint64_t now);

/* The scheduler's record (NL_REC_SCHED): its policy, parameters and counters. */
void vmm_sched_record(void);

#endif
