/* COM1, L0's console (con_write/con_printf in platform.h write through it at L0). */
#ifndef NESTLAB_L0_SERIAL_H
#define NESTLAB_L0_SERIAL_H

#include <stddef.h>

/* 115200 baud, 8N1, FIFOs on, no interrupts. Call before any output. */
void serial_init(void);

/* Bytes to COM1, polled; a wedged UART costs bytes, never a hang. */
void serial_write(const char *s, size_t n);

/*
 * Wait until the last byte has left the UART.  Before a power-off: bytes
 * still in the transmitter would never reach the host (Bochs stops at once).
 */
void serial_flush(void);

#endif
