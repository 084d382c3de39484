/*
 * What L2 runs: CPUID (an exit its VMM always gets, SDM Vol. 3 25.1.2),
 * then HLT (an exit because the hostile VMM sets HLT exiting).  Position
 * independent bytes, copied into L2's code page by l2.c; never executed by
 * the hostile guest itself, hence in .rodata.
 */
	.section .rodata
	.globl l2_code_start, l2_code_end, l2_dr7_probe
l2_code_start:
	cpuid
1:	hlt
	jmp 1b
/*
 * Entered at this label: DR7 := 0x500, HLT; resumed past the HLT, it
 * stores DR7 as it finds it at L2_DR7_SLOT_GPA and halts for good.
 */
l2_dr7_probe:
	mov $0x500, %eax
	mov %rax, %dr7
	hlt
	mov %dr7, %rax
	mov %rax, 0x5ff8
2:	hlt
	jmp 2b
l2_code_end:

	.section .note.GNU-stack, "", @progbits
