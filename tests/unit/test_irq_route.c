/*
 * policy/irq_route.c: timed route changes against a brute-force model
 * (the last change at or before t, in the order given, wins), refusals,
 * the guest's redirection rules, and the counters adding up.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "irq_route.h"

static uint64_t rnd(uint64_t *x)
{
	*x = *x * 6364136223846793005ull + 1442695040888963407ull;
	return *x >> 33;
}

/* The value line has at time t by the brute-force rule: every change with at <= t, in order, the last one wins. */
static struct irq_target model(const struct irq_route_change *c, unsigned n, unsigned line, uint64_t t)
{
	struct irq_target v = { .to = IRQ_TO_VMM };
	uint64_t best = 0;
	int found = 0;
	for (unsigned i = 0; i < n; i++)
		if (c[i].line == line && c[i].at <= t && (!found || c[i].at >= best)) {
			v = c[i].target;
			best = c[i].at;
			found = 1;
		}
	return v;
}

static void test_timed_changes_brute_force(void)
{
	uint64_t x = 7;
	for (int round = 0; round < 300; round++) {
		struct irq_route_change c[IRQ_ROUTE_CHANGES];
		unsigned n = (unsigned)(rnd(&x) % (IRQ_ROUTE_CHANGES + 1)), nvms = 1 + (unsigned)(rnd(&x) % 4);
		for (unsigned i = 0; i < n; i++) {
			c[i].at = rnd(&x) % 50; /* many equal times */
			c[i].line = (uint8_t)(rnd(&x) % 4);
			c[i].target = rnd(&x) % 3 ? (struct irq_target){ IRQ_TO_VM, (uint8_t)(rnd(&x) % nvms),
									(uint8_t)(rnd(&x) % IRQ_LINES) }
						  : (struct irq_target){ .to = IRQ_TO_VMM };
		}
		static struct irq_routes r;
		const char *why = 0;
		CU_ASSERT_EQUAL_FATAL(irq_routes_init(&r, c, n, nvms, 0, &why), 0);
		for (uint64_t t = 0; t < 60; t++) {
			if (irq_routes_next_change(&r) <= t)
				irq_routes_apply(&r, t);
			CU_ASSERT(irq_routes_next_change(&r) > t);
			for (unsigned l = 0; l < 4; l++) {
				struct irq_target want = model(c, n, l, t), got = r.now[l];
				CU_ASSERT_EQUAL(got.to, want.to);
				if (want.to == IRQ_TO_VM) {
					CU_ASSERT_EQUAL(got.vm, want.vm);
					CU_ASSERT_EQUAL(got.vm_line, want.vm_line);
				}
			}
		}
		CU_ASSERT_EQUAL(irq_routes_next_change(&r), UINT64_MAX);
	}
}

static void test_refused(void)
{
	static struct irq_routes r;
	const char *why = 0;
	struct irq_route_change bad_line = { 0, IRQ_LINES, { .to = IRQ_TO_VMM } };
	struct irq_route_change bad_vm = { 0, 1, { IRQ_TO_VM, 2, 0 } };
	struct irq_route_change bad_vm_line = { 0, 1, { IRQ_TO_VM, 0, IRQ_LINES } };
	struct irq_route_change bad_kind = { 0, 1, { 7, 0, 0 } };
	CU_ASSERT_EQUAL(irq_routes_init(&r, &bad_line, 1, 2, 0, &why), -1);
	CU_ASSERT_EQUAL(irq_routes_init(&r, &bad_vm, 1, 2, 0, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(why && strstr(why, "does not exist"));
	CU_ASSERT_EQUAL(irq_routes_init(&r, &bad_vm_line, 1, 2, 0, &why), -1);
	CU_ASSERT_EQUAL(irq_routes_init(&r, &bad_kind, 1, 2, 0, &why), -1);
	struct irq_route_change many[IRQ_ROUTE_CHANGES + 1] = { 0 };
	CU_ASSERT_EQUAL(irq_routes_init(&r, many, IRQ_ROUTE_CHANGES + 1, 2, 0, &why), -1);
	CU_ASSERT_EQUAL(irq_routes_init(&r, many, IRQ_ROUTE_CHANGES, 2, 0, &why), 0);
}

static void test_redirection(void)
{
	struct irq_redir d;
	irq_redir_init(&d);
	for (unsigned l = 0; l < IRQ_LINES; l++)
		CU_ASSERT(d.masked[l]); /* masked at power-up */
	CU_ASSERT_EQUAL(irq_redir_program(&d, 3, 0x51, 0), 0);
	CU_ASSERT_EQUAL(d.vector[3], 0x51);
	CU_ASSERT_FALSE(d.masked[3]);
	CU_ASSERT_EQUAL(irq_redir_program(&d, 3, 31, 0), -1); /* an exception's vector */
	CU_ASSERT_EQUAL(irq_redir_program(&d, 3, 256, 0), -1);
	CU_ASSERT_EQUAL(irq_redir_program(&d, IRQ_LINES, 0x60, 0), -1);
	CU_ASSERT_EQUAL(d.vector[3], 0x51); /* refusals change nothing */
	CU_ASSERT_FALSE(d.masked[3]);
}

/* A line to a VM, to another VM's line, masked there, then to the VMM at 100: counts split at the switch. */
static void test_assert_and_counters(void)
{
	static struct irq_routes r;
	struct irq_redir vms[2];
	irq_redir_init(&vms[0]);
	irq_redir_init(&vms[1]);
	irq_redir_program(&vms[1], 2, 0x52, 0);
	struct irq_route_change c[] = {
		{ 0, 8, { IRQ_TO_VM, 1, 2 } },   /* line 8 -> VM 1's line 2 */
		{ 100, 8, { .to = IRQ_TO_VMM } }, /* rerouted to the VMM */
		{ 0, 9, { IRQ_TO_VM, 0, 5 } },   /* line 9 -> VM 0's line 5, which VM 0 keeps masked */
	};
	const char *why = 0;
	CU_ASSERT_EQUAL_FATAL(irq_routes_init(&r, c, 3, 2, 0, &why), 0);
	unsigned vm = 99, vector = 0;
	for (uint64_t t = 0; t < 200; t += 10) {
		irq_routes_apply(&r, t);
		enum irq_outcome o = irq_assert(&r, vms, 8, &vm, &vector);
		if (t < 100) {
			CU_ASSERT_EQUAL(o, IRQ_FOR_VM);
			CU_ASSERT_EQUAL(vm, 1);
			CU_ASSERT_EQUAL(vector, 0x52);
			irq_count_delivery(&r, 8, t == 50); /* one found its vector still pending */
		} else {
			CU_ASSERT_EQUAL(o, IRQ_TAKEN_BY_VMM);
		}
		CU_ASSERT_EQUAL(irq_assert(&r, vms, 9, &vm, &vector), IRQ_MASKED);
	}
	CU_ASSERT_EQUAL(irq_assert(&r, vms, IRQ_LINES, &vm, &vector), IRQ_NO_LINE);
	const struct irq_line_counters *l8 = &r.count[8], *l9 = &r.count[9];
	CU_ASSERT_EQUAL(l8->asserted, 20);
	CU_ASSERT_EQUAL(l8->delivered, 9);
	CU_ASSERT_EQUAL(l8->coalesced, 1);
	CU_ASSERT_EQUAL(l8->taken_by_vmm, 10);
	CU_ASSERT_EQUAL(l8->asserted, l8->delivered + l8->coalesced + l8->taken_by_vmm + l8->masked);
	CU_ASSERT_EQUAL(l9->asserted, 20);
	CU_ASSERT_EQUAL(l9->masked, 20);
}

void register_suite_irq_route(void)
{
	CU_pSuite s = CU_add_suite("irq_route", NULL, NULL);
	CU_add_test(s, "timed route changes against a brute-force model", test_timed_changes_brute_force);
	CU_add_test(s, "routes to lines or VMs that do not exist refused", test_refused);
	CU_add_test(s, "the guest's redirection: masked at power-up, vectors from 32", test_redirection);
	CU_add_test(s, "assertions: to a VM, masked, rerouted to the VMM; counters add up", test_assert_and_counters);
}
