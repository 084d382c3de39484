/*
 * The VMM image's second entry: started by a parent nestlab VMM, not by
 * GRUB.  The parent finds this address in the child-entry marker
 * (l1/main.c) and enters here with the contract of
 * include/nestlab/guest_boot.h: 64-bit mode, paging on with its identity
 * map of [0, 1 GiB), interrupts off, RSP at the top of our memory and RDI
 * holding the address of struct nl_guest_boot.
 *
 * Zero .bss (the parent's loader did, but boot.S does not rely on that
 * either), move to the image's own boot stack so the parent's stack area
 * stays untouched, and call l1_main(boot).
 */
	.section .text, "ax"
	.code64
	.globl l1_entry64
	.type l1_entry64, @function
l1_entry64:
	cli
	cld
	mov %rdi, %rbx			/* the boot information; rep stosb needs RDI */
	mov $__bss_start, %rdi
	mov $__bss_end, %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb

	mov $boot_stack_top, %rsp
	xor %ebp, %ebp			/* terminates frame-pointer walks */
	mov %rbx, %rdi
	call l1_main
	/* l1_main never returns; stop rather than run off into whatever follows. */
1:	cli
	hlt
	jmp 1b
	.size l1_entry64, . - l1_entry64

	.section .note.GNU-stack, "", @progbits
