/*
 * From GRUB's 32-bit multiboot2 hand-over to l0_main() in 64-bit mode.
 *
 * GRUB enters _start in 32-bit protected mode, paging off, interrupts off,
 * EAX = multiboot2 magic, EBX = physical address of the information
 * structure, and no stack.  We check that we really were loaded by a
 * multiboot2 loader on a CPU with long mode, identity-map the first 4 GiB
 * with 2 MiB pages, enter long mode and call l0_main(info) on our own stack.
 */

#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_BOOT_MAGIC   0x36d76289
#define MB2_ARCH_I386    0

#define CR0_NE   (1 << 5)   /* native FPU errors; VMXON requires it (CR0 fixed-0 bit) */
#define CR0_WP   (1 << 16)  /* honour read-only pages in ring 0 too */
#define CR0_NW   (1 << 29)
#define CR0_CD   (1 << 30)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)

#define PTE_PRESENT  0x1
#define PTE_WRITE    0x2
#define PTE_HUGE     0x80   /* a 2 MiB page in a page directory */

#define BOOT_CS 0x08
#define BOOT_DS 0x10

#define COM1       0x3f8
#define COM1_LSR   (COM1 + 5)
#define LSR_THRE   0x20
#define LSR_TEMT   0x40   /* transmitter idle: the last byte has left */
#define BOCHS_SHUTDOWN_PORT 0x8900
#define QEMU_DEBUG_EXIT_PORT 0xf4

#define BOOT_STACK_SIZE (64 * 1024)

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* End tag: type 0, flags 0, size 8.  GRUB always passes the memory map and modules. */
	.balign 8
	.short 0
	.short 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	cmp $MB2_BOOT_MAGIC, %eax
	jne .Lbad_magic
	mov %ebx, %esi                  /* the info pointer; CPUID below clobbers EBX */

	/* Long mode needs CPUID leaf 0x80000001 with EDX.LM (bit 29). */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb .Lno_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc .Lno_long_mode

	/* Zero .bss ourselves: the page tables and stacks live there. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	/*
	 * Identity map [0, 4 GiB) with 2048 2 MiB pages in four page directories:
	 * RAM, the image, the modules, the local APIC and every MMIO window
	 * Bochs has all lie below 4 GiB.  Memory types come from the MTRRs the
	 * firmware set up (MMIO ranges are uncacheable there).
	 */
	mov $boot_pd, %edi
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_PRESENT | PTE_WRITE | PTE_HUGE), %eax
	mov %eax, (%edi, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 1b

	mov $boot_pdpt, %edi
	mov $(boot_pd + PTE_PRESENT + PTE_WRITE), %eax
	xor %ecx, %ecx
2:	mov %eax, (%edi, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 2b

	mov $(boot_pdpt + PTE_PRESENT + PTE_WRITE), %eax
	mov %eax, boot_pml4

	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4

	mov $boot_pml4, %eax
	mov %eax, %cr3

	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr

	mov %cr0, %eax
	and $~(CR0_CD | CR0_NW), %eax
	or $(CR0_PG | CR0_WP | CR0_NE), %eax
	mov %eax, %cr0                  /* now in compatibility mode */

	lgdt boot_gdt_ptr
	ljmp $BOOT_CS, $.Llong_mode

.Lbad_magic:
	mov $msg_bad_magic, %esi
	jmp .Lfail32
.Lno_long_mode:
	mov $msg_no_long_mode, %esi
	/* fall through */

/*
 * Too early for C: write the end record in ESI to COM1 by polling, then
 * shut down the way platform_shutdown() does.
 */
.Lfail32:
	movb (%esi), %bl
	test %bl, %bl
	jz .Lfail32_shutdown
	mov $COM1_LSR, %dx
	mov $100000, %ecx               /* bounded: no UART must not mean a hang */
3:	inb %dx, %al
	test $LSR_THRE, %al
	jnz 4f
	loop 3b
4:	mov $COM1, %dx
	mov %bl, %al
	outb %al, %dx
	inc %esi
	jmp .Lfail32
.Lfail32_shutdown:
	mov $COM1_LSR, %dx
	mov $100000, %ecx
9:	inb %dx, %al
	test $LSR_TEMT, %al
	jnz 10f
	loop 9b
10:	mov $msg_shutdown, %esi
	mov $BOCHS_SHUTDOWN_PORT, %dx
5:	movb (%esi), %al
	test %al, %al
	jz 6f
	outb %al, %dx
	inc %esi
	jmp 5b
6:	mov $1, %al
	mov $QEMU_DEBUG_EXIT_PORT, %dx
	outb %al, %dx
7:	cli
	hlt
	jmp 7b

	.code64
.Llong_mode:
	mov $BOOT_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %eax, %eax
	mov %ax, %fs
	mov %ax, %gs

	mov $boot_stack_top, %rsp
	xor %ebp, %ebp                  /* terminates frame-pointer walks */
	mov %esi, %edi                  /* zero-extended multiboot2 info address */
	call l0_main
	/* l0_main never returns; stop rather than run off into whatever follows. */
8:	cli
	hlt
	jmp 8b

	.section .rodata
msg_bad_magic:
	.asciz "{\"path\":\"L0\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"not started by a multiboot2 loader (bad magic in EAX)\"}\n"
msg_no_long_mode:
	.asciz "{\"path\":\"L0\",\"type\":\"end\",\"status\":\"failed\",\"reason\":\"this CPU has no 64-bit long mode\"}\n"
msg_shutdown:
	.asciz "Shutdown"

/*
 * The GDT that carries us into 64-bit code; gdt.c replaces it with the
 * runtime GDT (same selectors, plus the TSS).  In .data because the CPU
 * sets the accessed bits when it loads the segments.
 */
	.section .data
	.balign 16
boot_gdt:
	.quad 0                         /* null */
	.quad 0x00af9b000000ffff        /* 0x08: 64-bit code, DPL 0, accessed */
	.quad 0x00cf93000000ffff        /* 0x10: data, DPL 0, accessed */
boot_gdt_end:
	.balign 8
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss.page_tables, "aw", @nobits
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096

	.section .bss.stacks, "aw", @nobits
	.balign 16
boot_stack:
	.skip BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
