/*
 * The leaf's IDT: the gates for its interrupts (the APIC timer, the
 * spurious vector and the NMI).  Exceptions have no gate: one still ends in a triple
 * fault, which the VMM records, as before the leaf had an IDT.
 */
#ifndef NESTLAB_LEAF_IDT_H
#define NESTLAB_LEAF_IDT_H

/* Build the gates and LIDT; interrupts stay off (RFLAGS.IF) until the caller lets them in. */
void leaf_idt_install(void);

/* Called by irq.S with every caller-saved register kept: the APIC timer's interrupt, an NMI. */
void leaf_timer_interrupt(void);
void leaf_nmi_interrupt(void);

#endif
