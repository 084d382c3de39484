/* The runtime GDT and the 64-bit TSS L0 runs with. */
#ifndef NESTLAB_L0_GDT_H
#define NESTLAB_L0_GDT_H

#include <stdint.h>

#define GDT_KERNEL_CS 0x08
#define GDT_KERNEL_DS 0x10
#define GDT_TSS       0x18 /* never 0: VMX refuses a host TR selector of 0 */

/* The interrupt stack table slot of the double-fault handler (see idt.c). */
#define IST_DOUBLE_FAULT 1

/* Loads the GDT, reloads every segment register, loads TR. Call once. */
void gdt_init(void);

uint64_t gdt_base(void);
uint64_t gdt_tss_base(void);

#endif
