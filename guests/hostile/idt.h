/* The hostile guest's own IDT: every exception lands in trap.S (see there). */
#ifndef NESTLAB_HOSTILE_IDT_H
#define NESTLAB_HOSTILE_IDT_H

/* Build the 32 exception gates and LIDT them; before any probe runs. */
void idt_install(void);

/* An exception no probe was waiting for: says which and exits (trap.S calls it). */
__attribute__((noreturn)) void hostile_unexpected_exception(unsigned long vector, unsigned long error,
							     unsigned long rip);

#endif
