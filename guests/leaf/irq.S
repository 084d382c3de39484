/*
 * The leaf's interrupt entry points (idt.c).  The timer's saves every
 * register the System V ABI lets a C function change, calls
 * leaf_timer_interrupt() and returns.  Five words of interrupt frame plus
 * nine pushes leave RSP 16-byte aligned at the call, as the ABI wants (the
 * processor aligns RSP to 16 before it pushes the frame in 64-bit mode).
 */
	.text
	.globl leaf_timer_isr
	.type leaf_timer_isr, @function
	.balign 16
leaf_timer_isr:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	cld
	call leaf_timer_interrupt
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq
	.size leaf_timer_isr, . - leaf_timer_isr

/* The NMI: the same frame, leaf_nmi_interrupt(); its IRETQ ends the NMI blocking. */
	.globl leaf_nmi_isr
	.type leaf_nmi_isr, @function
	.balign 16
leaf_nmi_isr:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	cld
	call leaf_nmi_interrupt
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq
	.size leaf_nmi_isr, . - leaf_nmi_isr

	.globl leaf_spurious_isr
	.type leaf_spurious_isr, @function
	.balign 16
leaf_spurious_isr:
	iretq
	.size leaf_spurious_isr, . - leaf_spurious_isr

	.section .note.GNU-stack, "", @progbits
