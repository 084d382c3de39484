/*
 * Exception entry for the hostile guest.  Its probes execute VMX
 * instructions that the parent answers with #UD or #GP on purpose, so the
 * guest needs an IDT (idt.c) and a way back: before each probe, probe.S
 * sets probe_recover_rip/probe_recover_rsp; an exception while they are set
 * records its vector in probe_vector and returns (IRETQ) to that point
 * instead of to the faulting instruction.  An exception with no recovery
 * point set is a bug or a parent misbehaving: it goes to
 * hostile_unexpected_exception(), which says so and exits.
 *
 * One stub per vector 0-31 pushes a dummy error code where the processor
 * pushes none, then the vector, so that exc_common sees one frame layout:
 *   0(%rsp) vector, 8 error code, 16 RIP, 24 CS, 32 RFLAGS, 40 RSP, 48 SS
 */
#include "nestlab/x2apic_isr.h"

#define FRAME_VECTOR 0
#define FRAME_ERROR  8
#define FRAME_RIP    16
#define FRAME_RSP    40

	.section .bss
	.balign 8
	.globl probe_recover_rip, probe_recover_rsp, probe_vector
probe_recover_rip:	.quad 0	/* 0: no probe running */
probe_recover_rsp:	.quad 0
probe_vector:		.quad 0	/* the vector of the last recovered exception */

	.text
/* Vectors for which the processor pushes an error code (SDM Vol. 3 Table 6-1). */
.macro exc_stub vec
exc_stub_\vec:
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp exc_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	exc_stub \v
	.endr

exc_common:
	cmpq $0, probe_recover_rip(%rip)
	je 1f
	/* A probe's exception: resume at its recovery point, once. */
	movq FRAME_VECTOR(%rsp), %rax
	movq %rax, probe_vector(%rip)
	movq probe_recover_rip(%rip), %rax
	movq %rax, FRAME_RIP(%rsp)
	movq probe_recover_rsp(%rip), %rax
	movq %rax, FRAME_RSP(%rsp)
	movq $0, probe_recover_rip(%rip)
	addq $16, %rsp
	iretq
1:	movq FRAME_VECTOR(%rsp), %rdi
	movq FRAME_ERROR(%rsp), %rsi
	movq FRAME_RIP(%rsp), %rdx
	andq $-16, %rsp
	call hostile_unexpected_exception
2:	hlt			/* it never returns */
	jmp 2b

/*
 * Its local APIC timer's interrupt, taken when the hostile VMM lets it in
 * (steps_interrupts.c): counted, EOIed (x2APIC EOI, WRMSR 0x80b), returned
 * from with the registers WRMSR uses kept.
 */
	.globl hostile_timer_irqs
	x2apic_counting_isr hostile_timer_isr, hostile_timer_irqs

	.section .bss
	.balign 8
hostile_timer_irqs:	.quad 0

	.section .rodata
	.balign 8
	.globl exc_stubs
exc_stubs:			/* const uint64_t exc_stubs[32]: idt.c's gate targets */
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits
