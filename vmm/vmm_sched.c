/*
 * The VMM's one scheduler instance and one timer multiplexer (vmm_sched.h),
 * kept in step with the VMs' own states: RUNNABLE and BLOCKED in struct vm
 * are what the scheduler says, set here and nowhere else.
 */
#include "cpu.h"
#include "jsonw.h"
#include "nestlab/records.h"
#include "platform.h"
#include "sched_policy.h"
#include "vmm.h"
#include "vmm_sched.h"

struct vmm_sched vmm_sched;
static struct nl_sched_choice choice;
static struct sched *const sched = &vmm_sched.sched;
static struct timer_mux *const timers = &vmm_sched.timers;
static int started;

int vmm_sched_start(const struct nl_manifest_view *m, struct vm *vms, unsigned count, const char **why)
{
	choice = m->hdr->sched;
	if (policy_sched_setup(sched, &choice, count, m->hdr->tsc_khz, why))
		return -1;
	vmm_sched.vms = vms;
	started = 1;
	for (unsigned i = 0; i < count; i++) {
		vms[i].slot = i;
		if (!vm_alive(&vms[i]))
			sched_remove(sched, i); /* it failed to build */
	}
	return 0;
}

void vmm_timers_start(uint64_t run_deadline)
{
	timer_mux_init(timers);
	timer_mux_set(timers, TIMER_RUN_DEADLINE, 0, run_deadline);
}

struct vm *vmm_sched_decide(uint64_t now)
{
	uint64_t t0 = rdtsc();
	int e = sched_decide(sched, now);
	sched->counts.ticks_deciding += rdtsc() - t0;
	timer_mux_set(timers, TIMER_SCHED, 0, sched_next_event(sched));
	/* A VM the scheduler woke is runnable again for every part of the VMM. */
	for (unsigned i = 0; i < sched->count; i++)
		if (vmm_sched.vms[i].state == VM_BLOCKED && sched->state[i] == SCHED_RUNNABLE)
			vmm_sched.vms[i].state = VM_RUNNABLE;
	vmm_sched.current = e < 0 ? 0 : &vmm_sched.vms[e];
	return vmm_sched.current;
}

int vmm_sched_any_alive(void)
{
	return sched_alive_count(sched) != 0;
}

void vmm_sched_yield(struct vm *vm)
{
	sched_yield(sched, vm->slot);
}

void vmm_sched_preempt(struct vm *vm)
{
	sched_preempt(sched, vm->slot);
}

void vmm_sched_block_until(struct vm *vm, uint64_t until)
{
	/* Its own timers (a child's L2 preemption timer, an MTF exit owed) wake it too: they count in HLT. */
	uint64_t own = timer_mux_earliest_own(timers, vm->slot);
	if (own < until)
		until = own;
	if (started && sched_block(sched, vm->slot, until))
		vm->state = VM_BLOCKED; /* a stopped VM stays stopped */
}

void vmm_sched_own_timer_set(const struct vm *vm, uint64_t at)
{
	if (started && vm->state == VM_BLOCKED)
		sched_wake_by(sched, vm->slot, at);
}

void vmm_sched_wake(struct vm *vm)
{
	if (!started)
		return;
	sched_wake(sched, vm->slot);
	if (vm->state == VM_BLOCKED && sched->state[vm->slot] == SCHED_RUNNABLE)
		vm->state = VM_RUNNABLE;
}

void vmm_sched_removed(struct vm *vm)
{
	if (started)
		sched_remove(sched, vm->slot);
}

void vmm_timer_expired(const struct vm *vm, uint64_t now)
{
	/* The timer counts in units of 2^rate TSC ticks, rounded down: it may fire up to one unit early. */
	timer_mux_count_expired(timers, vm->slot, now + (1ull << vmm_caps->preempt_rate));
}

void vmm_sched_record(void)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	const struct sched_counters *c = &sched->counts;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_SCHED);
	jsonw_str(&w, "policy", sched->ops->name);
	jsonw_u64(&w, "quantum_us", choice.quantum_us);
	/* Zeros left out: every byte costs emulated time at the end of a run (nestlab/records.h). */
#define COUNTER(n)                              \
	if (c->n)                               \
		jsonw_u64(&w, #n, c->n);
	NL_SCHED_COUNTERS(COUNTER)
#undef COUNTER
	jsonw_obj_begin(&w, NL_KEY_TIMER_EXPIRED);
	for (unsigned s = 0; s < TIMER_SOURCES; s++)
		if (timers->expired[s])
			jsonw_u64(&w, timer_source_name((enum timer_source)s), timers->expired[s]);
	jsonw_obj_end(&w);
	rec_emit(&w);
}
