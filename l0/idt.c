/*
 * The IDT.  All 256 gates exist so the table can later take interrupt
 * handlers; only the 32 exception vectors are present today.  L0 runs with
 * interrupts disabled, so anything that arrives on another vector is a bug
 * and shows up as a #NP naming that vector in its error code.
 */
#include "idt.h"
#include "gdt.h"
#include "nestlab/vmx.h" /* VECTOR_DF */
#include "x86.h"

static struct x86_idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

extern void (*const isr_stub_table[IDT_EXCEPTIONS])(void);

void idt_set_gate(unsigned vector, void (*handler)(void), unsigned ist)
{
	idt[vector] = x86_interrupt_gate(handler, GDT_KERNEL_CS, ist);
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_EXCEPTIONS; v++) {
		/* A double fault often means the stack is gone: give it a known-good one. */
		unsigned ist = v == VECTOR_DF ? IST_DOUBLE_FAULT : 0;
		idt_set_gate(v, isr_stub_table[v], ist);
	}
	struct x86_idt_pointer ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ptr) : "memory");
}

uint64_t idt_base(void)
{
	return (uint64_t)(uintptr_t)idt;
}
