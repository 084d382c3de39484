/*
 * An interrupt of the hostile VMM's own, from the local APIC its parent
 * gives it, that comes while its L2 runs (SDM Vol. 3 26.2, 27.2.2): with
 * "external-interrupt exiting" it must end L2's run with a VM exit of basic
 * reason 1 whatever L2's RFLAGS.IF, at the instruction boundary L2 had
 * reached.  With "acknowledge interrupt on exit" the exit's
 * interruption information holds the vector (valid, type external
 * interrupt) and the interrupt is in service (ISR); without it the field
 * is invalid and the interrupt stays requested (IRR), so that the next
 * entry of L2 exits again at once, until this VMM takes it through its IDT.
 */
#include <stdint.h>

#include "../leaf/emit.h"
#include "../leaf/x2apic.h"
#include "check.h"
#include "l2.h"
#include "nestlab/vmx.h"
#include "steps.h"
#include "vmx_do.h"

extern volatile uint64_t hostile_timer_irqs; /* trap.S */

#define TIMER_DELAY_TICKS 20000 /* far enough to be past the VMRESUME, near enough not to wait long */

static uint64_t rdtsc_now(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Whether vector v's bit is set in the x2APIC register array at base (ISR 0x810, IRR 0x820). */
static int apic_bit(uint32_t base, unsigned v)
{
	return (int)((leaf_rdmsr(base + v / 32) >> (v % 32)) & 1);
}

static void check_bit(const char *name, uint32_t base, unsigned v, int want)
{
	int got = apic_bit(base, v);
	check_text(name, want ? "set" : "clear", got ? "set" : "clear", got == want);
}

/* L2 spins; this VMM's timer fires TIMER_DELAY_TICKS later: the exit it gets. */
static struct outcome run_until_interrupt(uint64_t spin)
{
	do_vmwrite(VMCS_GUEST_RIP, spin);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2); /* IF = 0: it holds back L2's interrupts, not L1's exits */
	x2apic_deadline(rdtsc_now() + TIMER_DELAY_TICKS);
	return do_vmresume();
}

void step_l2_external_interrupts(struct hostile *h, uint64_t hlt_rip)
{
	const unsigned v = LEAF_TIMER_VECTOR;
	const uint64_t spin = l2_code_gpa(l2_spin_probe);
	uint32_t exit_may1 = (uint32_t)(h->vmx.exit >> 32);
	if (!check_text("ack_interrupt_on_exit_offered", "offered",
			exit_may1 & EXIT_ACK_INTR_ON_EXIT ? "offered" : "not offered", exit_may1 & EXIT_ACK_INTR_ON_EXIT))
		return;
	const char *why = x2apic_start();
	if (!check_text("x2apic_timer_available", "available", why ? why : "available", !why))
		return;
	uint64_t pin = 0, exitc = 0;
	do_vmread(VMCS_PIN_BASED_VM_EXEC_CONTROL, &pin);
	do_vmread(VMCS_VM_EXIT_CONTROLS, &exitc);
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin | PIN_EXT_INTR_EXITING);

	/* Acknowledged on exit: the vector in the exit, the interrupt in service until this VMM's EOI. */
	do_vmwrite(VMCS_VM_EXIT_CONTROLS, exitc | EXIT_ACK_INTR_ON_EXIT);
	if (check_outcome("ext_intr_exit_acked", vm_exit(EXIT_REASON_EXTERNAL_INTERRUPT), run_until_interrupt(spin))) {
		check_field("ext_intr_exit_acked_info", VMCS_VM_EXIT_INTR_INFO, intr_info_event(INTR_TYPE_EXT_INTR, v));
		check_field("ext_intr_exit_acked_rip", VMCS_GUEST_RIP, spin);
		check_bit("ext_intr_acked_in_service", 0x810, v, 1);
		check_bit("ext_intr_acked_not_requested", 0x820, v, 0);
		x2apic_eoi();
		check_bit("ext_intr_acked_eoi_retires", 0x810, v, 0);
	}

	/* Not acknowledged: the field invalid, the interrupt still requested; every entry exits at once. */
	do_vmwrite(VMCS_VM_EXIT_CONTROLS, exitc & ~(uint64_t)EXIT_ACK_INTR_ON_EXIT);
	if (check_outcome("ext_intr_exit_unacked", vm_exit(EXIT_REASON_EXTERNAL_INTERRUPT), run_until_interrupt(spin))) {
		uint64_t info = 0;
		do_vmread(VMCS_VM_EXIT_INTR_INFO, &info);
		check_text("ext_intr_exit_unacked_info_invalid", "invalid",
			   intr_info_valid((uint32_t)info) ? "valid" : "invalid", !intr_info_valid((uint32_t)info));
		check_bit("ext_intr_unacked_still_requested", 0x820, v, 1);
		check_bit("ext_intr_unacked_not_in_service", 0x810, v, 0);
		check_outcome("ext_intr_unacked_exits_again", vm_exit(EXIT_REASON_EXTERNAL_INTERRUPT), do_vmresume());
		/* This VMM takes it: interrupts on for one instruction, its handler EOIs. */
		uint64_t before = hostile_timer_irqs;
		__asm__ volatile("sti; nop; cli" ::: "memory");
		check_text("ext_intr_unacked_taken_through_idt", "taken", hostile_timer_irqs == before + 1 ? "taken" : "not taken",
			   hostile_timer_irqs == before + 1);
		check_bit("ext_intr_unacked_gone", 0x820, v, 0);
		check_outcome("ext_intr_unacked_then_l2_runs", vm_exit(EXIT_REASON_HLT),
			      (do_vmwrite(VMCS_GUEST_RIP, hlt_rip), do_vmresume()));
	}
	do_vmwrite(VMCS_VM_EXIT_CONTROLS, exitc);
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
	(void)h;
}
