/* COM1, L0's console (con_write/con_printf in platform.h write through it). */
#ifndef NESTLAB_L0_SERIAL_H
#define NESTLAB_L0_SERIAL_H

/* 115200 baud, 8N1, FIFOs on, no interrupts. Call before any output. */
void serial_init(void);

/*
 * Wait until the last byte has left the UART.  Before a power-off: bytes
 * still in the transmitter would never reach the host (Bochs stops at once).
 */
void serial_flush(void);

#endif
