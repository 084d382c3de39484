/*
 * What L2 runs: CPUID (an exit its VMM always gets, SDM Vol. 3 25.1.2),
 * then HLT (an exit because the hostile VMM sets HLT exiting).  Position
 * independent bytes, copied into L2's code page by l2.c; never executed by
 * the hostile guest itself, hence in .rodata.
 */
	.section .rodata
	.globl l2_code_start, l2_code_end
l2_code_start:
	cpuid
1:	hlt
	jmp 1b
l2_code_end:

	.section .note.GNU-stack, "", @progbits
