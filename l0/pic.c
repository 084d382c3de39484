/*
 * The legacy 8259 PICs.  The BIOS leaves the PIT's IRQ 0 unmasked; L0
 * takes no device interrupts, and with external-interrupt exiting an
 * interrupt left pending would make every VM entry exit again at once
 * (L0 runs with IF=0 and never acknowledges it).  So L0 masks every line
 * at boot; interrupt routing comes with the interrupt multiplexer.
 */
#include "cpu.h"
#include "pic.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}
