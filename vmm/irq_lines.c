/* This VMM's interrupt lines (irq_lines.h). */
#include "cpu.h"
#include "fmt.h"
#include "fnv1a.h"
#include "idt.h"
#include "apicv_vm.h"
#include "irq_devices.h"
#include "lapic_timer.h"
#include "irq_lines.h"
#include "irq_route.h"
#include "irq_source.h"
#include "nestlab/irq_lines.h"
#include "nestlab/records.h"
#include "platform.h"
#include "vm_events.h"
#include "vmm_sched.h"

/* What drives one of this VMM's lines. */
struct line_driver {
	uint32_t source;          /* enum nl_irq_source; 0: none of its own (its parent's routed line, or nothing) */
	struct irq_source gen;    /* generators */
	uint64_t acks;            /* device: interrupts taken and acknowledged at it */
};

static struct {
	int on;                                  /* some line has a source or a route, or comes from the parent */
	struct vm *vms;
	unsigned nvms;
	uint64_t tsc_khz;
	struct irq_routes routes;
	struct line_driver line[NL_IRQ_LINES];
	/* Each VM's view: its redirection table and its page, by scheduler slot. */
	struct irq_redir redir[NL_MAX_VMS];
	uint64_t page_gpa[NL_MAX_VMS];
	/* A child VMM: its lines come from its parent, asserted when the page it registered there says. */
	struct nl_irq_page *from_parent;
	uint64_t hits_seen[NL_IRQ_LINES];
	uint64_t wake_seen;                      /* lapic_wake_interrupts when the lines were last looked at */
	/* For the record: the manifest's route entries, in order. */
	struct nl_manifest_irq route_entry[NL_IRQ_ROUTES_PER_VMM];
	unsigned nroute_entries;
} L;

/* l0/isr.S: line N's interrupts taken in the idle halt. */
extern uint64_t irq_line_hits[NL_IRQ_LINES];
uint64_t irq_line_hits[NL_IRQ_LINES];
extern void (*const irq_line_isr_table[NL_IRQ_LINES])(void);

static const char *const source_names[NL_IRQ_SRC_MAX + 1] = {
	[0] = "none",
	[NL_IRQ_SRC_RTC] = "rtc",
	[NL_IRQ_SRC_PIT] = "pit",
	[NL_IRQ_SRC_PERIODIC] = "periodic",
	[NL_IRQ_SRC_POISSON] = "poisson",
	[NL_IRQ_SRC_BURST] = "burst",
};

static uint64_t us_to_ticks(uint64_t us)
{
	uint64_t t = us * L.tsc_khz / 1000;
	return t ? t : 1;
}

/* This VMM's VM of manifest entry index, or NULL. */
static struct vm *vm_of_index(int32_t index)
{
	for (unsigned k = 0; k < L.nvms; k++)
		if (L.vms[k].index == (unsigned)index)
			return &L.vms[k];
	return NULL;
}

/* The next time a generator asserts or a route changes: TIMER_IRQ. */
static void arm(void)
{
	uint64_t next = irq_routes_next_change(&L.routes);
	for (unsigned l = 0; l < NL_IRQ_LINES; l++) {
		const struct line_driver *d = &L.line[l];
		if (d->source >= NL_IRQ_SRC_PERIODIC && irq_source_next(&d->gen) < next)
			next = irq_source_next(&d->gen);
	}
	vmm_timer_set(TIMER_IRQ, 0, next == UINT64_MAX ? TIMER_NONE : next);
}

static int start_source(const struct nl_manifest_irq *e, uint64_t seed, const char **why)
{
	struct line_driver *d = &L.line[e->line];
	d->source = e->source;
	if (nl_irq_source_is_device(e->source)) {
		if (platform_level() != 0) {
			*why = "a device line below L0";
			return -1;
		}
		return irq_device_start(e->source, e->rate, NL_IRQ_LINE_VECTOR(e->line), why);
	}
	static const enum irq_source_kind kinds[] = {
		[NL_IRQ_SRC_PERIODIC] = IRQ_SOURCE_PERIODIC,
		[NL_IRQ_SRC_POISSON] = IRQ_SOURCE_POISSON,
		[NL_IRQ_SRC_BURST] = IRQ_SOURCE_BURST,
	};
	uint64_t period = us_to_ticks(e->rate);
	/* One stream per line of each VMM (its path mixed in), from the experiment's seed: the same times on every run. */
	uint64_t h = fnv1a_str(FNV1A_OFFSET, platform_path());
	uint64_t now = rdtsc(), start = vmm_run_start();
	uint64_t first = start + period > now ? start + period : now + period;
	if (irq_source_init(&d->gen, kinds[e->source], period, e->burst ? e->burst : 1, us_to_ticks(e->spacing_us),
			    seed ^ h ^ (0x9e3779b97f4a7c15ull * (e->line + 1u)), first)) {
		*why = "a generator's timing the source cannot keep";
		return -1;
	}
	return 0;
}

/* A route change of the manifest into changes[], and kept for the record. */
static int add_route(const struct nl_manifest_irq *e, struct irq_route_change *changes, const char **why)
{
	struct irq_target t = { .to = IRQ_TO_VMM };
	if (L.nroute_entries >= NL_IRQ_ROUTES_PER_VMM) {
		*why = "too many route changes";
		return -1;
	}
	if (e->to_vm != NL_IRQ_TO_VMM) {
		const struct vm *vm = vm_of_index(e->to_vm);
		if (!vm) {
			*why = "a route to a VM this VMM does not run";
			return -1;
		}
		t = (struct irq_target){ .to = IRQ_TO_VM, .vm = (uint8_t)vm->slot, .vm_line = e->to_line };
	}
	changes[L.nroute_entries] = (struct irq_route_change){
		.at = e->at_ms ? vmm_run_start() + e->at_ms * L.tsc_khz : 0, .line = e->line, .target = t };
	L.route_entry[L.nroute_entries++] = *e;
	return 0;
}

/* A child VMM takes its lines from its parent: every line to its own vector, the page to read their times in. */
static int lines_from_parent(const char **why)
{
	L.from_parent = (struct nl_irq_page *)(uintptr_t)platform_alloc(4096, 4096);
	if (!L.from_parent) {
		*why = "no page for the lines' times";
		return -1;
	}
	for (unsigned l = 0; l < NL_IRQ_LINES; l++)
		idt_set_gate(NL_IRQ_LINE_VECTOR(l), irq_line_isr_table[l], 0);
	if (platform_parent_irq_setup((uint64_t)(uintptr_t)L.from_parent, NL_IRQ_LINE_VECTOR_BASE, NL_IRQ_ALL_LINES)) {
		*why = "the parent refused the lines' setup";
		return -1;
	}
	return 0;
}

int irq_lines_start(const struct nl_manifest_view *m, struct vm *vms, unsigned count, const char **why)
{
	struct irq_route_change changes[NL_IRQ_ROUTES_PER_VMM];
	L.vms = vms;
	L.nvms = count;
	L.tsc_khz = m->hdr->tsc_khz;
	for (unsigned k = 0; k < NL_MAX_VMS; k++)
		irq_redir_init(&L.redir[k]);
	for (uint32_t i = 0; i < m->hdr->irq_count; i++) {
		const struct nl_manifest_irq *e = &m->irqs[i];
		if (e->owner != -1)
			continue; /* a child VMM's: in its sub-manifest */
		L.on = 1;
		if (e->item != NL_IRQ_ITEM_SOURCE) {
			if (add_route(e, changes, why))
				return -1;
			continue;
		}
		if (start_source(e, m->hdr->seed, why))
			return -1;
		if (nl_irq_source_is_device(e->source))
			idt_set_gate(NL_IRQ_LINE_VECTOR(e->line), irq_line_isr_table[e->line], 0);
	}
	if (irq_routes_init(&L.routes, changes, L.nroute_entries, count, vmm_run_start(), why))
		return -1;
	if ((m->hdr->flags & NL_MF_LINES_FROM_PARENT) && lines_from_parent(why))
		return -1;
	/* Device and parent lines end with an x2APIC EOI, and the idle halt that they end needs the APIC's timer. */
	int interrupting = L.from_parent != 0;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++)
		interrupting |= nl_irq_source_is_device(L.line[l].source);
	if (interrupting && !lapic_timer_usable()) {
		*why = "interrupt lines need the local APIC in x2APIC mode with the TSC deadline";
		return -1;
	}
	L.on |= L.from_parent != 0;
	arm();
	return 0;
}

/* n assertions of line (the first at `at`), as the line's multiplexer decides each now. */
static void assert_line(unsigned line, uint64_t at, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		unsigned slot, vector;
		if (irq_assert(&L.routes, L.redir, line, &slot, &vector) != IRQ_FOR_VM)
			continue;
		struct vm *vm = &L.vms[slot];
		if (!vm_alive(vm)) {
			L.routes.count[line].masked++; /* a VM that has stopped takes nothing: as if masked */
			continue;
		}
		apicv_vm_pull(vm); /* with APIC virtualization, what the guest did in its page first (a no-op otherwise) */
		enum vlapic_accept got = vlapic_set_irq(&vm->ev.lapic, vector, VLAPIC_EDGE);
		if (got == VLAPIC_REJECTED) {
			L.routes.count[line].masked++; /* its APIC is software-disabled: it takes nothing, as if masked */
			continue;
		}
		int coalesced = got == VLAPIC_COALESCED;
		irq_count_delivery(&L.routes, line, coalesced);
		if (coalesced)
			continue;
		uint64_t gpa = L.page_gpa[slot];
		if (gpa) {
			struct nl_irq_page *p = vm_gpa_ptr(vm, gpa);
			p->asserted_tsc[L.routes.now[line].vm_line] = at; /* the later ones of a late look coalesce into it */
		}
		vm_events_poke(vm); /* wakes it if it is halted */
	}
}

void irq_lines_run(uint64_t now)
{
	irq_routes_apply(&L.routes, now);
	for (unsigned l = 0; l < NL_IRQ_LINES; l++) {
		struct line_driver *d = &L.line[l];
		if (d->source < NL_IRQ_SRC_PERIODIC || irq_source_next(&d->gen) > now)
			continue;
		uint64_t first = 0, n = irq_source_advance(&d->gen, now, &first);
		assert_line(l, first, n);
	}
	arm();
}

/* Line l's interrupt came (a device's at L0, the parent's below): acknowledge it there and assert the line. */
static void line_interrupt(unsigned l, uint64_t now)
{
	uint64_t at = now;
	if (nl_irq_source_is_device(L.line[l].source)) {
		irq_device_ack(L.line[l].source);
		L.line[l].acks++;
	} else if (L.from_parent) {
		at = L.from_parent->asserted_tsc[l];
	} else {
		return; /* a vector nobody drives: nothing to assert */
	}
	irq_routes_apply(&L.routes, now);
	assert_line(l, at, 1);
}

int irq_lines_exit_vector(unsigned vector, uint64_t now)
{
	unsigned l = vector - NL_IRQ_LINE_VECTOR_BASE;
	if (!L.on || l >= NL_IRQ_LINES)
		return 0;
	line_interrupt(l, now);
	return 1;
}

void irq_lines_after_idle(uint64_t now)
{
	/* One compare on the way to the timer that mostly ended the halt: this is every wake-up's latency path. */
	uint64_t woken = lapic_wake_interrupts;
	if (woken == L.wake_seen)
		return;
	L.wake_seen = woken;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++) {
		/* Each count is one interrupt its handler took (and ended): one assertion of the line each. */
		uint64_t hits = __atomic_load_n(&irq_line_hits[l], __ATOMIC_RELAXED);
		for (; L.hits_seen[l] != hits; L.hits_seen[l]++)
			line_interrupt(l, now);
	}
}

int64_t irq_lines_hc_program(struct vm *vm, uint64_t line, uint64_t vector, uint64_t masked)
{
	/* The table's own checks take unsigned: what would not fit is refused here first. */
	if (line >= NL_IRQ_LINES || vector > 0xff || masked > 1 ||
	    irq_redir_program(&L.redir[vm->slot], (unsigned)line, (unsigned)vector, (int)masked))
		return NL_HC_EINVAL;
	return NL_HC_OK;
}

int64_t irq_lines_hc_setup(struct vm *vm, uint64_t page_gpa, uint64_t vector_base, uint64_t unmask)
{
	if (vector_base < IRQ_VECTOR_MIN || vector_base > 0x100 - NL_IRQ_LINES || (unmask & ~(uint64_t)NL_IRQ_ALL_LINES))
		return NL_HC_EINVAL;
	if (page_gpa % 4096 || (page_gpa && !vm_gpa_range_ok(vm, page_gpa, sizeof(struct nl_irq_page))))
		return NL_HC_EFAULT;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++)
		irq_redir_program(&L.redir[vm->slot], l, (unsigned)vector_base + l, !(unmask & (1u << l)));
	L.page_gpa[vm->slot] = page_gpa;
	return NL_HC_OK;
}

static void route_text(unsigned line, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < L.nroute_entries && used < cap; i++) {
		const struct nl_manifest_irq *e = &L.route_entry[i];
		if (e->line != line)
			continue;
		const struct vm *to = e->to_vm == NL_IRQ_TO_VMM ? NULL : vm_of_index(e->to_vm);
		if (!to)
			used += (size_t)nl_snprintf(out + used, cap - used, "%svmm@%llums", used ? ";" : "",
						    (unsigned long long)e->at_ms);
		else
			used += (size_t)nl_snprintf(out + used, cap - used, "%s%s:%u@%llums", used ? ";" : "", to->name,
						    e->to_line, (unsigned long long)e->at_ms);
	}
}

void irq_lines_record(void)
{
	if (!L.on)
		return;
	for (unsigned l = 0; l < NL_IRQ_LINES; l++) {
		const struct irq_line_counters *c = &L.routes.count[l];
		char route[160];
		route_text(l, route, sizeof route);
		if (!L.line[l].source && !route[0] && !c->asserted)
			continue;
		char buf[NL_REC_MAX_LINE];
		struct jsonw w;
		rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_IRQ);
		jsonw_u64(&w, "line", l);
		jsonw_str(&w, "source", L.line[l].source ? source_names[L.line[l].source] :
					L.from_parent ? "parent" : "none");
		jsonw_str(&w, "route", route[0] ? route : "vmm");
		jsonw_u64(&w, "asserted", c->asserted);
		jsonw_u64(&w, "delivered", c->delivered);
		jsonw_u64(&w, "taken_by_vmm", c->taken_by_vmm);
		jsonw_u64(&w, "coalesced", c->coalesced);
		jsonw_u64(&w, "masked", c->masked);
		if (nl_irq_source_is_device(L.line[l].source))
			jsonw_u64(&w, "device_acks", L.line[l].acks);
		rec_emit(&w);
	}
}
