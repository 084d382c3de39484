/*
 * For assembly files only: an interrupt handler that counts the interrupt
 * in a 64-bit counter (and in a second one, where given), ends it with an x2APIC EOI (WRMSR of 0 to MSR 0x80b,
 * SDM Vol. 3 "x2APIC Register Address Space") and returns, keeping the
 * registers WRMSR uses.  The VMM's idle timer (l0/isr.S) and the hostile
 * guest's (guests/hostile/trap.S) are this handler.
 */
#ifndef NESTLAB_X2APIC_ISR_H
#define NESTLAB_X2APIC_ISR_H

.macro x2apic_counting_isr name, counter, also_counter
	.globl \name
	.balign 16
\name:
	.ifnb \also_counter
	incq \also_counter(%rip)
	.endif
	pushq %rax
	pushq %rcx
	pushq %rdx
	incq \counter(%rip)
	movl $0x80b, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	popq %rdx
	popq %rcx
	popq %rax
	iretq
.endm

#endif
