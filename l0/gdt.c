/*
 * The runtime GDT: the same code and data selectors boot.S used, plus a real
 * 64-bit TSS.  The TSS matters twice: its IST1 stack lets a double fault
 * (typically a stack overflow) still report itself, and VMX requires every
 * VMCS host-state area to name a non-null TR.
 */
#include "gdt.h"

#include <stddef.h>

#define STACK_SIZE (16 * 1024)

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];       /* stacks for a switch to rings 0-2 */
	uint64_t reserved1;
	uint64_t ist[7];       /* IST1..IST7 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout (SDM 8.7)");

/* null, code, data, then the 16-byte TSS descriptor in two slots. */
#define GDT_ENTRIES 5

#define DESC_CODE64 0x00af9b000000ffffull /* P, DPL 0, code exec/read accessed, L=1 */
#define DESC_DATA   0x00cf93000000ffffull /* P, DPL 0, data read/write accessed, 4 GiB */
#define DESC_TSS64_AVAILABLE 0x9ull
#define DESC_PRESENT (1ull << 47)

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));

/*
 * Ring 0 never switches privilege today, so rsp0 is unused; it still points
 * at a stack of its own so that a future ring-3 path cannot land on
 * whatever happens to be below the current stack.
 */
static uint8_t privilege_stack[STACK_SIZE] __attribute__((aligned(16), section(".bss.stacks")));
static uint8_t double_fault_stack[STACK_SIZE] __attribute__((aligned(16), section(".bss.stacks")));

static void set_tss_descriptor(unsigned slot, uint64_t base, uint32_t limit)
{
	gdt[slot] = (limit & 0xffffull) | ((base & 0xffffffull) << 16) |
		    (DESC_TSS64_AVAILABLE << 40) | DESC_PRESENT |
		    ((uint64_t)((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xffull) << 56);
	gdt[slot + 1] = base >> 32;
}

void gdt_init(void)
{
	tss.rsp[0] = (uint64_t)(uintptr_t)(privilege_stack + STACK_SIZE);
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(double_fault_stack + STACK_SIZE);
	/* An I/O bitmap offset past the limit means "no bitmap". */
	tss.iomap_base = sizeof(tss);

	gdt[0] = 0;
	gdt[GDT_KERNEL_CS / 8] = DESC_CODE64;
	gdt[GDT_KERNEL_DS / 8] = DESC_DATA;
	set_tss_descriptor(GDT_TSS / 8, (uint64_t)(uintptr_t)&tss, sizeof(tss) - 1);

	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

	/* CS can only be reloaded by a far transfer: push selector and target, lretq. */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS), "r"(GDT_TSS)
			 : "rax", "memory");
}

uint64_t gdt_base(void)
{
	return (uint64_t)(uintptr_t)gdt;
}

uint64_t gdt_tss_base(void)
{
	return (uint64_t)(uintptr_t)&tss;
}
