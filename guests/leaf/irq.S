/*
 * The leaf's interrupt entry points (idt.c).  Each saves every register
 * the System V ABI lets a C function change, calls its C handler and
 * returns.  Five words of interrupt frame plus nine pushes leave RSP 16-byte
 * aligned at the call, as the ABI wants (the processor aligns RSP to 16
 * before it pushes the frame in 64-bit mode).
 */
.macro c_handler_isr name, handler, arg
	.globl \name
	.type \name, @function
	.balign 16
\name:
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
	.ifnb \arg
	movl $\arg, %edi
	.endif
	call \handler
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
	.size \name, . - \name
.endm

/* Line N's handler: leaf_line_interrupt(N) (lines.c). */
.macro line_isr line
	c_handler_isr leaf_line_isr_\line, leaf_line_interrupt, \line
.endm

.macro line_isr_address line
	.quad leaf_line_isr_\line
.endm

	.text
	.altmacro
.set line, 0
.rept 16
	line_isr %line
	.set line, line + 1
.endr

	.section .rodata
	.balign 8
	.globl leaf_line_isr_table
leaf_line_isr_table:
.set line, 0
.rept 16
	line_isr_address %line
	.set line, line + 1
.endr

	.text
	c_handler_isr leaf_timer_isr, leaf_timer_interrupt
	/* The NMI: its IRETQ ends the NMI blocking (with virtual NMIs, the VMM's NMI window). */
	c_handler_isr leaf_nmi_isr, leaf_nmi_interrupt

	.globl leaf_spurious_isr
	.type leaf_spurious_isr, @function
	.balign 16
leaf_spurious_isr:
	iretq
	.size leaf_spurious_isr, . - leaf_spurious_isr

	.section .note.GNU-stack, "", @progbits
