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

#define IDT_VECTORS 32
#define GATE_INTERRUPT_64 0x8eu /* present, DPL 0, 64-bit interrupt gate: IF stays 0 */

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct idt_pointer {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t exc_stubs[IDT_VECTORS];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

void idt_install(void)
{
	uint16_t cs;

	/* The gates name the code segment the parent entered us with (NL_GUEST_CS). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint64_t target = exc_stubs[v];

		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)target,
			.selector = cs,
			.ist = 0,
			.type_attr = GATE_INTERRUPT_64,
			.offset_mid = (uint16_t)(target >> 16),
			.offset_high = (uint32_t)(target >> 32),
		};
	}
	struct idt_pointer p = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

void hostile_unexpected_exception(unsigned long vector, unsigned long error, unsigned long rip)
{
	console_printf("hostile: unexpected exception %lu (error code 0x%lx) at 0x%lx outside any probe\n",
		       vector, error, rip);
	hc_exit(HOSTILE_EXIT_EXCEPTION);
}
