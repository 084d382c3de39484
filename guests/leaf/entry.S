/*
 * The leaf guest's first instructions.  The VMM enters here in 64-bit mode
 * with paging on, interrupts off, RSP at the top of guest memory and RDI
 * holding the guest-physical address of struct nl_guest_boot
 * (include/nestlab/guest_boot.h), which is already leaf_main's first
 * argument under the System V ABI.
 */
#include "nestlab/hypercall.h"
#include "exit_status.h"

	.section .text.entry, "ax"
	.globl leaf_entry
	.type leaf_entry, @function
leaf_entry:
	xorl %ebp, %ebp		/* end of the frame-pointer chain for debuggers */
	andq $-16, %rsp		/* the ABI wants RSP 16-aligned at each call */
	call leaf_main

	movl $NL_HC_EXIT, %eax
	movl $LEAF_EXIT_RETURNED, %edi
	vmcall
1:	hlt			/* NL_HC_EXIT never returns; if a VMM resumes us anyway, stay put */
	jmp 1b
	.size leaf_entry, . - leaf_entry

	.section .note.GNU-stack, "", @progbits
