/* The IDT: every CPU exception is caught and reported (see exception.c). */
#ifndef NESTLAB_L0_IDT_H
#define NESTLAB_L0_IDT_H

#include <stdint.h>

#define IDT_VECTORS 256
#define IDT_EXCEPTIONS 32

/* Installs the 32 exception handlers and loads the IDT. Call after gdt_init(). */
void idt_init(void);

/* An interrupt gate for vector; ist 0 = stay on the current stack. */
void idt_set_gate(unsigned vector, void (*handler)(void), unsigned ist);

uint64_t idt_base(void);

/* What isr.S pushes before it calls l0_exception(); order fixed by isr.S. */
struct exception_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code; /* error_code is 0 for vectors without one */
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

__attribute__((noreturn)) void l0_exception(struct exception_frame *f);

#endif
