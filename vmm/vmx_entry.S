/*
 * Entering a guest and coming back from it.
 *
 * int vmx_run(struct guest_regs *regs, int launched, uint64_t *host_rsp)
 *   Saves the host's callee-saved registers, points HOST_RSP at this stack
 *   frame (a VMWRITE only when *host_rsp, what the current VMCS holds, says
 *   it differs: under a parent VMM that write may cost an exit), loads the guest GPRs from *regs and executes VMLAUNCH (launched
 *   == 0) or VMRESUME.  A VM exit lands at vmx_exit_entry (HOST_RIP), which
 *   stores the guest GPRs back into *regs and returns 0 from vmx_run, as if
 *   the call had simply returned.  If the instruction itself fails, vmx_run
 *   returns 1 (VMfailInvalid) or 2 (VMfailValid: see VM_INSTRUCTION_ERROR).
 *
 * Offsets follow struct guest_regs in vm.h (checked in vmm_main.c).
 */
/* VMCS_HOST_RSP; vmm_main.c checks it against vmcs_fields.def at compile time. */
#define HOST_RSP_ENCODING 0x6c14

#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  56
#define R_R9  64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112

	.text
	.globl vmx_run
	.type vmx_run, @function
vmx_run:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi                /* the regs pointer, found again at exit */

	/* The exit comes back with RSP = HOST_RSP: exactly this frame. */
	cmp %rsp, (%rdx)
	je 4f
	mov %rsp, (%rdx)
	mov $HOST_RSP_ENCODING, %rax
	vmwrite %rsp, %rax
4:

	/* Flags from this test survive the movs below (mov changes no flags). */
	test %esi, %esi

	mov R_RAX(%rdi), %rax
	mov R_RBX(%rdi), %rbx
	mov R_RCX(%rdi), %rcx
	mov R_RDX(%rdi), %rdx
	mov R_RSI(%rdi), %rsi
	mov R_RBP(%rdi), %rbp
	mov R_R8(%rdi), %r8
	mov R_R9(%rdi), %r9
	mov R_R10(%rdi), %r10
	mov R_R11(%rdi), %r11
	mov R_R12(%rdi), %r12
	mov R_R13(%rdi), %r13
	mov R_R14(%rdi), %r14
	mov R_R15(%rdi), %r15
	mov R_RDI(%rdi), %rdi

	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:
	/* Only reached when the instruction failed: CF=1 invalid, ZF=1 valid. */
	mov $1, %eax
	jc 3f
	mov $2, %eax
3:	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size vmx_run, . - vmx_run

	.globl vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
	push %rdi                /* guest RDI; the regs pointer is now at 8(%rsp) */
	mov 8(%rsp), %rdi
	mov %rax, R_RAX(%rdi)
	mov %rbx, R_RBX(%rdi)
	mov %rcx, R_RCX(%rdi)
	mov %rdx, R_RDX(%rdi)
	mov %rsi, R_RSI(%rdi)
	mov %rbp, R_RBP(%rdi)
	mov %r8, R_R8(%rdi)
	mov %r9, R_R9(%rdi)
	mov %r10, R_R10(%rdi)
	mov %r11, R_R11(%rdi)
	mov %r12, R_R12(%rdi)
	mov %r13, R_R13(%rdi)
	mov %r14, R_R14(%rdi)
	mov %r15, R_R15(%rdi)
	pop %rax
	mov %rax, R_RDI(%rdi)
	xor %eax, %eax
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size vmx_exit_entry, . - vmx_exit_entry

	.section .note.GNU-stack, "", @progbits
