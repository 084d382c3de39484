/* The timer multiplexer (timer_mux.h). */
#include "nestlab/records.h"
#include "timer_mux.h"

/* The record's names, in enum timer_source's order (nestlab/records.h). */
#define NAME(n) #n,
static const char *const source_names[] = { NL_TIMER_SOURCES(NAME) };
#undef NAME
_Static_assert(sizeof source_names / sizeof source_names[0] == TIMER_SOURCES, "a name per timer source");

const char *timer_source_name(enum timer_source src)
{
	return src < TIMER_SOURCES ? source_names[src] : "?";
}

void timer_mux_init(struct timer_mux *t)
{
	*t = (struct timer_mux){ .vmm_earliest = TIMER_NONE };
	for (unsigned s = 0; s < TIMER_FIRST_VM_SOURCE; s++)
		t->vmm_at[s] = TIMER_NONE;
	for (unsigned v = 0; v < SCHED_MAX_ENTITIES; v++) {
		t->vm_earliest[v] = TIMER_NONE;
		for (unsigned s = 0; s < TIMER_SOURCES - TIMER_FIRST_VM_SOURCE; s++)
			t->vm_at[v][s] = TIMER_NONE;
	}
}

static uint64_t earliest_of(const uint64_t *at, unsigned n)
{
	uint64_t e = TIMER_NONE;
	for (unsigned i = 0; i < n; i++)
		if (at[i] < e)
			e = at[i];
	return e;
}

void timer_mux_set(struct timer_mux *t, enum timer_source src, unsigned vm, uint64_t at)
{
	if (src < TIMER_FIRST_VM_SOURCE) {
		t->vmm_at[src] = at;
		t->vmm_earliest = earliest_of(t->vmm_at, TIMER_FIRST_VM_SOURCE);
	} else if (src < TIMER_SOURCES && vm < SCHED_MAX_ENTITIES) {
		t->vm_at[vm][src - TIMER_FIRST_VM_SOURCE] = at;
		t->vm_earliest[vm] = earliest_of(t->vm_at[vm], TIMER_SOURCES - TIMER_FIRST_VM_SOURCE);
	}
}

void timer_mux_count_expired(struct timer_mux *t, unsigned vm, uint64_t now)
{
	for (unsigned s = 0; s < TIMER_SOURCES; s++)
		if (timer_mux_due(t, (enum timer_source)s, vm, now))
			t->expired[s]++;
}
