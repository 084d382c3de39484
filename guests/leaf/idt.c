/* The leaf's IDT (idt.h). */
#include <stdint.h>

#include "idt.h"
#include "x86.h"
#include "x2apic.h"
#include "nestlab/irq_lines.h"
#include "nestlab/vmx.h"

void leaf_timer_isr(void);    /* irq.S */
void leaf_spurious_isr(void); /* irq.S: the APIC's spurious vector needs no EOI */
void leaf_nmi_isr(void);      /* irq.S */
extern void (*const leaf_line_isr_table[NL_IRQ_LINES])(void); /* irq.S: line N's handler */

static struct x86_idt_gate idt[X86_IDT_VECTORS] __attribute__((aligned(16)));

void leaf_idt_install(void)
{
	uint16_t cs;
	/* The gates name the code segment the VMM entered us with (NL_GUEST_CS). */
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[LEAF_TIMER_VECTOR] = x86_interrupt_gate(leaf_timer_isr, cs, 0);
	idt[LEAF_SPURIOUS_VECTOR] = x86_interrupt_gate(leaf_spurious_isr, cs, 0);
	idt[VECTOR_NMI] = x86_interrupt_gate(leaf_nmi_isr, cs, 0);
	for (unsigned l = 0; l < NL_IRQ_LINES; l++)
		idt[NL_IRQ_LINE_VECTOR(l)] = x86_interrupt_gate(leaf_line_isr_table[l], cs, 0);
	struct x86_idt_pointer p = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}
