/*
 * The IDT.  The parent's contract gives a guest no IDT at all (a leaf
 * turns any exception into a triple fault); this guest provokes #UD and
 * #GP on purpose, and its parent intercepts no exception of a VMM, so it
 * must deliver them itself.
 */
#include <stdint.h>

#include "../leaf/emit.h"
#include "../leaf/hypercall.h"
#include "exit_status.h"
#include "idt.h"
#include "../leaf/x2apic.h"
#include "../../lib/x86.h" /* the gate layout; this folder's x86.h is another file */

#define IDT_VECTORS 32
extern const uint64_t exc_stubs[IDT_VECTORS];
void hostile_timer_isr(void); /* trap.S: its local APIC timer (steps_interrupts.c) */

/* Up to the timer's vector; the gates between the exceptions and it are not present. */
static struct x86_idt_gate idt[LEAF_TIMER_VECTOR + 1] __attribute__((aligned(16)));

void idt_install(void)
{
	uint16_t cs;

	/* The gates name the code segment the parent entered us with (NL_GUEST_CS). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt[v] = x86_interrupt_gate((void (*)(void))(uintptr_t)exc_stubs[v], cs, 0);
	}
	idt[LEAF_TIMER_VECTOR] = x86_interrupt_gate(hostile_timer_isr, cs, 0);
	struct x86_idt_pointer p = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void hostile_unexpected_exception(unsigned long vector, unsigned long error, unsigned long rip)
{
	console_printf("hostile: unexpected exception %lu (error code 0x%lx) at 0x%lx outside any probe\n",
		       vector, error, rip);
	hc_exit(HOSTILE_EXIT_EXCEPTION);
}
