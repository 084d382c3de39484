/*
 * The IDT.  All 256 gates exist so the table can later take interrupt
 * handlers; only the 32 exception vectors are present today.  L0 runs with
 * interrupts disabled, so anything that arrives on another vector is a bug
 * and shows up as a #NP naming that vector in its error code.
 */
#include "idt.h"
#include "gdt.h"
#include "nestlab/vmx.h" /* VECTOR_DF */

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate layout");

#define GATE_INTERRUPT_PRESENT 0x8e /* P, DPL 0, 64-bit interrupt gate: IF cleared on entry */

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

extern void (*const isr_stub_table[IDT_EXCEPTIONS])(void);

void idt_set_gate(unsigned vector, void (*handler)(void), unsigned ist)
{
	uint64_t off = (uint64_t)(uintptr_t)handler;
	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)off,
		.selector = GDT_KERNEL_CS,
		.ist = (uint8_t)(ist & 7),
		.type_attr = GATE_INTERRUPT_PRESENT,
		.offset_mid = (uint16_t)(off >> 16),
		.offset_high = (uint32_t)(off >> 32),
		.reserved = 0,
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_EXCEPTIONS; v++) {
		/* A double fault often means the stack is gone: give it a known-good one. */
		unsigned ist = v == VECTOR_DF ? IST_DOUBLE_FAULT : 0;
		idt_set_gate(v, isr_stub_table[v], ist);
	}
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ptr) : "memory");
}

uint64_t idt_base(void)
{
	return (uint64_t)(uintptr_t)idt;
}
