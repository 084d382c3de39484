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
 *
 * And the same events without the exiting controls, and its NMIs (SDM
 * 26.2, 26.3): with "NMI exiting" an NMI exit (basic reason 0, vector 2,
 * type NMI); without it the NMI goes through L2's IDT, a second one held
 * by blocking by NMI until the handler's IRET; without "external-interrupt
 * exiting" the interrupt goes through L2's IDT once L2's RFLAGS.IF and
 * STI blocking allow, in service at this VMM's APIC from its delivery to
 * the EOI L2's handler writes through the MSR bitmap.
 */
#include <stdint.h>
#include <string.h>

#include "../leaf/emit.h"
#include "../leaf/x2apic.h"
#include "check.h"
#include "fmt.h"
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

/* L2 writes the x2APIC ICR and EOI itself: the MSR bitmap leaves those two writes to this VMM's APIC. */
static uint8_t msr_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void msr_bitmap_pass_write(uint32_t msr)
{
	const unsigned writes_low = 2048; /* the write bitmap of MSRs 0-1FFFH (SDM 25.6.9) */
	msr_bitmap[writes_low + msr / 8] &= (uint8_t)~(1u << (msr % 8));
}

static uint64_t vmread_of(uint32_t field)
{
	uint64_t v = 0;
	do_vmread(field, &v);
	return v;
}

static void check_count(const char *name, uint64_t gpa, uint64_t want)
{
	check_int(name, (int64_t)want, (int64_t)l2_read_u64(gpa)); /* counts: far below 2^63 */
}

/* The RIP L2's handler found interrupted: the first quadword of the frame at L2's RSP (identity-mapped). */
static void check_pushed_rip(const char *name, uint64_t want)
{
	uint64_t got = l2_read_u64(vmread_of(VMCS_GUEST_RSP));
	char w[GOT_MAX], g[GOT_MAX];
	nl_snprintf(w, sizeof w, "0x%llx", (unsigned long long)want);
	nl_snprintf(g, sizeof g, "0x%llx", (unsigned long long)got);
	check_text(name, w, g, got == want);
}

/* L2 entered at rip with rflags and an empty stack. */
static struct outcome enter_l2(uint64_t rip, uint64_t rflags)
{
	do_vmwrite(VMCS_GUEST_RIP, rip);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RFLAGS, rflags);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	return do_vmresume();
}

/* This VMM's NMIs stay blocked after an NMI exit until an IRET (SDM 27.1): one to the next instruction. */
static void iret_to_here(void)
{
	__asm__ volatile("mov %%ss, %%eax\n\t"
			 "pushq %%rax\n\t"
			 "leaq 8(%%rsp), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "pushfq\n\t"
			 "mov %%cs, %%eax\n\t"
			 "pushq %%rax\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "iretq\n"
			 "1:" ::: "rax", "memory");
}

/* L1's NMIs while L2 runs, with "NMI exiting" and without it (pin: the controls L2 runs with). */
static void l2_nmis(uint64_t pin)
{
	const uint64_t probe = l2_code_gpa(l2_nmi_probe), sent = l2_code_gpa(l2_nmi_probe_sent);
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin | PIN_NMI_EXITING);
	if (check_outcome("nmi_exit", vm_exit(EXIT_REASON_EXCEPTION_NMI), enter_l2(probe, 0x2))) {
		check_field("nmi_exit_info", VMCS_VM_EXIT_INTR_INFO, intr_info_event(INTR_TYPE_NMI, VECTOR_NMI));
		check_field("nmi_exit_rip_after_the_ipi", VMCS_GUEST_RIP, sent);
		check_field("nmi_exit_no_idt_vectoring", VMCS_IDT_VECTORING_INFO_FIELD, 0);
		iret_to_here();
	}
	/* Without NMI exiting: L2's own handler, twice; the second NMI waits for the first one's IRET. */
	l2_write_u64(L2_NMI_COUNT_GPA, 0);
	l2_write_u64(L2_NMI_SEEN_GPA, 0);
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin & ~(uint64_t)(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS));
	if (check_outcome("nmi_through_l2_idt_then_hlt", vm_exit(EXIT_REASON_HLT), enter_l2(probe, 0x2))) {
		check_count("nmi_through_l2_idt_handled_twice", L2_NMI_COUNT_GPA, 2);
		check_count("nmi_blocked_until_handler_iret", L2_NMI_SEEN_GPA, 1);
		check_field("nmi_through_l2_idt_back_at_probe", VMCS_GUEST_RIP, sent + 1);
		uint64_t blocking = vmread_of(VMCS_GUEST_INTERRUPTIBILITY_INFO);
		check_text("nmi_through_l2_idt_unblocked_by_iret", "clear",
			   blocking & INTERRUPTIBILITY_NMI ? "set" : "clear", !(blocking & INTERRUPTIBILITY_NMI));
	}
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
}

/* L1's timer vector without "external-interrupt exiting": through L2's IDT, in L1's ISR until L2's EOI. */
static void l2_interrupts(uint64_t pin)
{
	const unsigned v = LEAF_TIMER_VECTOR;
	const uint64_t spin = l2_code_gpa(l2_spin_probe), handler_hlt = l2_code_gpa(l2_intr_handler_eoi);
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin & ~(uint64_t)PIN_EXT_INTR_EXITING);
	l2_write_u64(L2_INTR_COUNT_GPA, 0);
	x2apic_deadline(rdtsc_now() + TIMER_DELAY_TICKS);
	if (check_outcome("intr_through_l2_idt", vm_exit(EXIT_REASON_HLT), enter_l2(spin, 0x2 | RFLAGS_IF))) {
		check_count("intr_through_l2_idt_handled", L2_INTR_COUNT_GPA, 1);
		check_field("intr_through_l2_idt_in_handler", VMCS_GUEST_RIP, handler_hlt - 1);
		check_pushed_rip("intr_through_l2_idt_interrupted_spin", spin);
		check_bit("intr_through_l2_idt_in_service", 0x810, v, 1);
		check_bit("intr_through_l2_idt_not_requested", 0x820, v, 0);
		/* L2's handler EOIs through the MSR bitmap, straight to this VMM's APIC. */
		do_vmwrite(VMCS_GUEST_RIP, handler_hlt);
		if (check_outcome("intr_l2_eoi_then_hlt", vm_exit(EXIT_REASON_HLT), do_vmresume()))
			check_bit("intr_l2_eoi_retires", 0x810, v, 0);
	}
	/* IF = 0 while the interrupt comes: it waits for L2's STI and the instruction STI shields. */
	l2_write_u64(L2_INTR_COUNT_GPA, 0);
	x2apic_deadline(rdtsc_now() + TIMER_DELAY_TICKS);
	if (check_outcome("intr_after_sti", vm_exit(EXIT_REASON_HLT), enter_l2(l2_code_gpa(l2_cli_sti_probe), 0x2))) {
		check_count("intr_after_sti_handled", L2_INTR_COUNT_GPA, 1);
		check_field("intr_after_sti_in_handler", VMCS_GUEST_RIP, handler_hlt - 1);
		check_pushed_rip("intr_after_sti_shadow", l2_code_gpa(l2_cli_sti_probe_hlt));
		check_bit("intr_after_sti_in_service", 0x810, v, 1);
		x2apic_eoi();
		check_bit("intr_after_sti_eoi_retires", 0x810, v, 0);
	}
	do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
}

/* L1's events delivered to L2 or made exits of L2, as the pin-based controls say; L2 gets an IDT and the MSR bitmap. */
static void l2_takes_l1_events(uint64_t pin, uint64_t hlt_rip)
{
	uint64_t proc = vmread_of(VMCS_CPU_BASED_VM_EXEC_CONTROL), idt_base = vmread_of(VMCS_GUEST_IDTR_BASE);
	uint64_t idt_limit = vmread_of(VMCS_GUEST_IDTR_LIMIT), bitmap = vmread_of(VMCS_MSR_BITMAP);
	memset(msr_bitmap, 0xff, sizeof msr_bitmap);
	msr_bitmap_pass_write(X2APIC_MSR(APIC_REG_ICR_LO));
	msr_bitmap_pass_write(X2APIC_MSR(APIC_REG_EOI));
	do_vmwrite(VMCS_MSR_BITMAP, pa_of(msr_bitmap));
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc | CPU_USE_MSR_BITMAPS);
	l2_write_u64(0x08, L2_CODE64_DESCRIPTOR);
	l2_write_u64(0x10, L2_DATA_DESCRIPTOR);
	l2_put_gate(VECTOR_NMI, l2_code_gpa(l2_nmi_handler));
	l2_put_gate(LEAF_TIMER_VECTOR, l2_code_gpa(l2_intr_handler));
	do_vmwrite(VMCS_GUEST_IDTR_BASE, L2_IDT_GPA);
	do_vmwrite(VMCS_GUEST_IDTR_LIMIT, 16 * (LEAF_TIMER_VECTOR + 1) - 1);
	l2_nmis(pin);
	l2_interrupts(pin);
	do_vmwrite(VMCS_GUEST_IDTR_BASE, idt_base);
	do_vmwrite(VMCS_GUEST_IDTR_LIMIT, idt_limit);
	do_vmwrite(VMCS_MSR_BITMAP, bitmap);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
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
	l2_takes_l1_events(pin, hlt_rip);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
	(void)h;
}
