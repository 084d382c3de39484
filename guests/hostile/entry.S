/*
 * The hostile guest's first instructions.  A parent enters here (the
 * address its child-entry marker names, see child_entry.c) in 64-bit mode
 * with paging on, interrupts off, RSP at the top of guest memory and RDI
 * holding the guest-physical address of struct nl_guest_boot, which is
 * already hostile_main's first argument under the System V ABI.
 */
#include "nestlab/hypercall.h"
#include "exit_status.h"

	.section .text.entry, "ax"
	.globl hostile_entry
	.type hostile_entry, @function
hostile_entry:
	xorl %ebp, %ebp		/* end of the frame-pointer chain for debuggers */
	andq $-16, %rsp		/* the ABI wants RSP 16-aligned at each call */
	call hostile_main

	movl $NL_HC_EXIT, %eax
	movl $HOSTILE_EXIT_RETURNED, %edi
	vmcall
1:	hlt			/* NL_HC_EXIT never returns; if a VMM resumes us anyway, stay put */
	jmp 1b
	.size hostile_entry, . - hostile_entry

	.section .note.GNU-stack, "", @progbits
