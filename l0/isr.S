/*
 * Entry stubs for the 32 exception vectors.  Each one makes the stack look
 * the same (a dummy 0 where the CPU pushes no error code, then the vector),
 * saves every general-purpose register and calls l0_exception(frame), which
 * reports and shuts down: nothing here ever returns to the faulting code.
 */

#include "nestlab/x2apic_isr.h"

	.text
	.altmacro

.macro exception_stub vector
	.balign 16
isr_stub_\vector:
	/* The CPU pushes an error code only for 8, 10-14, 17, 21, 29 and 30 (SDM 6.13). */
	.if !(\vector == 8 || (\vector >= 10 && \vector <= 14) || \vector == 17 || \vector == 21 || \vector == 29 || \vector == 30)
	pushq $0
	.endif
	pushq $\vector
	jmp isr_common
.endm

.set vec, 0
.rept 32
	exception_stub %vec
	.set vec, vec + 1
.endr

isr_common:
	cld
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	mov %rsp, %rdi
	and $-16, %rsp                  /* the ABI wants a 16-byte aligned stack at the call */
	xor %ebp, %ebp
	call l0_exception
1:	cli
	hlt
	jmp 1b

/*
 * The VMM's local APIC timer (lapic_timer.c): it only ends an idle halt.
 * Counted, ended with an x2APIC EOI (WRMSR 0x80b), returned from; the
 * registers WRMSR uses are kept.
 */
	x2apic_counting_isr isr_lapic_timer, lapic_timer_irqs

/* The local APIC's spurious vector: no EOI (SDM "Spurious Interrupt"), just back. */
	.globl isr_lapic_spurious
	.balign 16
isr_lapic_spurious:
	iretq

/*
 * The VMM's interrupt lines (vmm/irq_lines.c): line N's vector while the
 * VMM idles.  Each counts in irq_line_hits[N] and in lapic_wake_interrupts
 * (so the idle halt ends), ends the interrupt with an x2APIC EOI and
 * returns; the run loop handles the line after the halt.  The registers
 * WRMSR uses are kept.
 */
.macro line_isr line
	x2apic_counting_isr irq_line_isr_\line, irq_line_hits+8*\line, lapic_wake_interrupts
.endm

.set line, 0
.rept 16
	line_isr %line
	.set line, line + 1
.endr

/* The stub addresses, indexed by vector, for idt.c. */
.macro stub_address vector
	.quad isr_stub_\vector
.endm

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
.set vec, 0
.rept 32
	stub_address %vec
	.set vec, vec + 1
.endr

.macro line_isr_address line
	.quad irq_line_isr_\line
.endm

	.globl irq_line_isr_table
irq_line_isr_table:
.set line, 0
.rept 16
	line_isr_address %line
	.set line, line + 1
.endr

	.section .note.GNU-stack, "", @progbits
