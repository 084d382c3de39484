/*
 * The machine's interrupt sources a root VMM (L0) drives as its lines
 * (issue #10 part 5): the RTC's periodic interrupt (ISA IRQ 8) and the PIT
 * (ISA IRQ 0), through the I/O APIC to the local APIC.  A child VMM has no
 * devices; its lines come from its parent (vmm/irq_lines.c).
 */
#ifndef NESTLAB_L0_IRQ_DEVICES_H
#define NESTLAB_L0_IRQ_DEVICES_H

#include <stdint.h>
#include "nestlab/manifest.h"

/* Start the device (NL_IRQ_SRC_RTC or _PIT) at rate Hz, its interrupt arriving as vector.  0, or -1 with *why. */
int irq_device_start(uint32_t source, uint32_t rate, unsigned vector, const char **why);

/* The device's interrupt was taken: let it interrupt again (the RTC holds its line until register C is read). */
void irq_device_ack(uint32_t source);

#endif
