/* x86 architectural facts shared by every level, the host tool and the tests. */
#ifndef NESTLAB_LIB_X86_H
#define NESTLAB_LIB_X86_H

#include <stdint.h>

/* Canonical for 48-bit linear addresses: bits 63:47 all equal (SDM Vol. 1 3.3.7.1). */
static inline int x86_canonical(uint64_t a)
{
	uint64_t top = a >> 47;
	return top == 0 || top == 0x1ffff;
}

#define X86_EXCEPTION_VECTORS 32
#define X86_IDT_VECTORS       256

/* A 64-bit IDT gate (SDM Vol. 3 6.14.1) and the LIDT operand: the VMM's, the leaf's and the hostile guest's IDTs. */
struct __attribute__((packed)) x86_idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct x86_idt_gate) == 16, "64-bit IDT gate layout");

struct __attribute__((packed)) x86_idt_pointer {
	uint16_t limit;
	uint64_t base;
};

#define X86_GATE_INTERRUPT_64 0x8eu /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */

/* An interrupt gate to handler through code segment cs on IST stack ist (0: the current stack). */
static inline struct x86_idt_gate x86_interrupt_gate(void (*handler)(void), uint16_t cs, unsigned ist)
{
	uint64_t off = (uint64_t)(uintptr_t)handler;
	return (struct x86_idt_gate){
		.offset_low = (uint16_t)off,
		.selector = cs,
		.ist = (uint8_t)(ist & 7),
		.type_attr = X86_GATE_INTERRUPT_64,
		.offset_mid = (uint16_t)(off >> 16),
		.offset_high = (uint32_t)(off >> 32),
	};
}

/* "#PF" and "page fault" for vector 14; "?" and "unknown vector" past 31. */
const char *x86_exception_mnemonic(unsigned vector);
const char *x86_exception_description(unsigned vector);

#endif
