/*
 * What L2 runs: CPUID (an exit its VMM always gets, SDM Vol. 3 25.1.2),
 * then HLT (an exit because the hostile VMM sets HLT exiting).  Position
 * independent bytes, copied into L2's code page by l2.c; never executed by
 * the hostile guest itself, hence in .rodata.
 */
	.section .rodata
	.globl l2_code_start, l2_code_end, l2_dr7_probe, l2_shadow_probe, l2_shadow_ept_probe, l2_mtf_probe
	.globl l2_window_probe, l2_icebp_probe, l2_out_probe, l2_isr, l2_ud_probe, l2_sti_cpuid_probe
	.globl l2_store_probe, l2_int_probe, l2_store_int_probe, l2_sti_jmp_probe, l2_spin_probe
	.globl l2_nmi_probe, l2_nmi_probe_sent, l2_nmi_handler, l2_intr_handler, l2_intr_handler_eoi
	.globl l2_cli_sti_probe, l2_cli_sti_probe_hlt
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
/*
 * Entered at this label with VMCS shadowing on (steps_shadow.c): field
 * encodings and the value to write come from L2_SHADOW_ARGS_GPA, what
 * happened goes to L2_SHADOW_RESULTS_GPA (l2.h): VMREAD into a register,
 * its RFLAGS, VMREAD into memory, its RFLAGS, VMWRITE's RFLAGS, an
 * unsupported field's RFLAGS.  The last VMREAD names a field whose
 * VMREAD-bitmap bit is set: it exits to the hostile VMM.
 */
l2_shadow_probe:
	mov 0x5e80, %rdx
	vmread %rdx, %rax
	mov %rax, 0x5e00
	pushfq
	popq 0x5e08
	vmread %rdx, 0x5e10
	pushfq
	popq 0x5e18
	mov 0x5e88, %rdx
	mov 0x5e90, %rax
	vmwrite %rax, %rdx
	pushfq
	popq 0x5e20
	mov 0x5e98, %rdx
	vmread %rdx, %rax
	pushfq
	popq 0x5e28
	mov 0x5ea0, %rdx
	vmread %rdx, %rax
3:	hlt
	jmp 3b
/* Single-stepped with the monitor trap flag (steps.c): two one-byte instructions, then a halt. */
l2_mtf_probe:
	nop
	nop
5:	hlt
	jmp 5b
/* Under the monitor trap flag (steps.c): ICEBP (#DB for L2's own handler), OUT (L0 emulates it), a handler. */
l2_icebp_probe:
	.byte 0xf1
7:	hlt
	jmp 7b
l2_ud_probe:
	ud2
10:	hlt
	jmp 10b
l2_sti_cpuid_probe:
	sti
	cpuid
11:	hlt
	jmp 11b
/* A store to L2_WATCHED_GPA (l2.h), where the MTF checks put a data breakpoint. */
l2_store_probe:
	movq $1, 0x5f08
	nop
12:	hlt
	jmp 12b
l2_int_probe:
	int $5
13:	hlt
	jmp 13b
l2_store_int_probe:
	movq $1, 0x5f08
	int $5
14:	hlt
	jmp 14b
l2_sti_jmp_probe:
	sti
15:	jmp 15b
l2_out_probe:
	out %al, $0x80
	nop
8:	hlt
	jmp 8b
l2_isr:
9:	hlt
	jmp 9b
/* Event windows (steps.c): STI opens the interrupt window after the next instruction. */
/* Spins on one instruction with interrupts off: only an external interrupt of L1 ends it (steps_interrupts.c). */
l2_spin_probe:
	jmp l2_spin_probe
l2_window_probe:
	sti
	nop
6:	hlt
	jmp 6b
/*
 * L1's NMIs and interrupts through L2 (steps_interrupts.c): an NMI IPI to
 * the APIC that L1's MSR bitmap lets L2 reach (ICR 0x830: destination APIC
 * ID 0, delivery mode NMI), then a halt.
 */
l2_nmi_probe:
	mov $0x830, %ecx
	mov $0x400, %eax
	xor %edx, %edx
	wrmsr
l2_nmi_probe_sent:
	nop
16:	hlt
	jmp 16b
/*
 * L2's NMI handler: counts at L2_NMI_COUNT_GPA; the first also sends a
 * second NMI, which must wait for this handler's IRET (blocking by NMI),
 * and notes the count before that IRET at L2_NMI_SEEN_GPA.
 */
l2_nmi_handler:
	incq 0x5f20
	cmpq $1, 0x5f20
	jne 17f
	mov $0x830, %ecx
	mov $0x400, %eax
	xor %edx, %edx
	wrmsr
	mov 0x5f20, %rax
	mov %rax, 0x5f28
17:	iretq
/* L2's handler of L1's timer vector: counts at L2_INTR_COUNT_GPA, halts, EOIs L1's APIC (x2APIC 0x80b), halts. */
l2_intr_handler:
	incq 0x5f30
	hlt
l2_intr_handler_eoi:
	mov $0x80b, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
18:	hlt
	jmp 18b
/* Interrupts off for a long count, then STI: an interrupt that came meanwhile goes in after the NOP. */
l2_cli_sti_probe:
	mov $100000, %ecx
19:	dec %ecx
	jnz 19b
	sti
	nop
l2_cli_sti_probe_hlt:
	hlt
	jmp l2_cli_sti_probe_hlt
/* The same field, VMREAD into L2-physical 0x7000, a page EPT12 does not map: an EPT violation for L1. */
l2_shadow_ept_probe:
	mov 0x5e80, %rdx
	vmread %rdx, 0x7000
4:	hlt
	jmp 4b
l2_code_end:

	.section .note.GNU-stack, "", @progbits
