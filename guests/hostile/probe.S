/*
 * The probes declared in probe.h.  Each sets the recovery point of trap.S
 * to a label that returns the fault (with RSP as it was at the probe's
 * entry, or after its pushes), executes one instruction, and returns
 * RFLAGS: nothing between the instruction and PUSHFQ touches the flags.
 */
#include "probe.h"

/* Make an exception in the next instruction resume at \label with the current RSP. */
.macro arm_recovery label
	movq %rsp, probe_recover_rsp(%rip)
	leaq \label(%rip), %rax
	movq %rax, probe_recover_rip(%rip)
.endm

/* RFLAGS of the instruction just executed into RAX; the recovery point is dropped. */
.macro flags_to_rax
	pushfq
	popq %rax
	movq $0, probe_recover_rip(%rip)
.endm

	.text
	.globl probe_vmxon, probe_vmxoff, probe_vmclear, probe_vmptrld, probe_vmptrst, probe_vmread, probe_vmwrite
	.globl probe_rdmsr, probe_write_cr4, probe_vmentry, hostile_vm_exit

probe_vmxon:
	arm_recovery probe_fault_return
	vmxon (%rdi)
	flags_to_rax
	ret

probe_vmxoff:
	arm_recovery probe_fault_return
	vmxoff
	flags_to_rax
	ret

probe_vmclear:
	arm_recovery probe_fault_return
	vmclear (%rdi)
	flags_to_rax
	ret

probe_vmptrld:
	arm_recovery probe_fault_return
	vmptrld (%rdi)
	flags_to_rax
	ret

probe_vmptrst:
	arm_recovery probe_fault_return
	vmptrst (%rdi)
	flags_to_rax
	ret

/* RDI field, RSI value pointer; a failed VMREAD leaves RCX (and so *value) 0. */
probe_vmread:
	arm_recovery probe_fault_return
	xorl %ecx, %ecx
	vmread %rdi, %rcx
	flags_to_rax
	movq %rcx, (%rsi)
	ret

/* RDI field, RSI value. */
probe_vmwrite:
	arm_recovery probe_fault_return
	vmwrite %rsi, %rdi
	flags_to_rax
	ret

/* EDI msr, RSI value pointer; returns 0 when RDMSR completed. */
probe_rdmsr:
	arm_recovery probe_fault_return
	movl %edi, %ecx
	rdmsr
	movq $0, probe_recover_rip(%rip)
	shlq $32, %rdx
	movl %eax, %eax
	orq %rdx, %rax
	movq %rax, (%rsi)
	xorl %eax, %eax
	ret

probe_write_cr4:
	arm_recovery probe_fault_return
	movq %rdi, %cr4
	flags_to_rax
	ret

probe_fault_return:
	movq probe_vector(%rip), %rax
	btsq $PROBE_FAULT_BIT, %rax
	ret

/*
 * EDI = 0: VMLAUNCH, else VMRESUME.  Three ways back: the instruction fails
 * (VMfail: it falls through), it faults, or it enters L2 (or fails VM entry
 * on guest state) and a VM exit loads the host state: RIP = hostile_vm_exit,
 * RSP = HOST_RSP, the other registers as L2 left them.  The callee-saved
 * registers therefore go on this stack first, and probe_entry_rsp says
 * where to find them again.
 */
probe_vmentry:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, probe_entry_rsp(%rip)
	arm_recovery vmentry_fault
	testl %edi, %edi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	flags_to_rax
	jmp vmentry_return
vmentry_fault:
	movq probe_vector(%rip), %rax
	btsq $PROBE_FAULT_BIT, %rax
	jmp vmentry_return

hostile_vm_exit:
	movq probe_entry_rsp(%rip), %rsp
	movq $0, probe_recover_rip(%rip)
	xorl %eax, %eax
	btsq $PROBE_EXITED_BIT, %rax
vmentry_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .bss
	.balign 8
probe_entry_rsp:	.quad 0

	.section .note.GNU-stack, "", @progbits
