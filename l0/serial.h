/* COM1, L0's console (con_write/con_printf in platform.h write through it at L0). */
#ifndef NESTLAB_L0_SERIAL_H
#define NESTLAB_L0_SERIAL_H

#include <stddef.h>
#include <stdint.h>

/* 115200 baud, 8N1, FIFOs on, no interrupts. Call before any output. */
void serial_init(void);

/* Bytes to COM1: polled until serial_buffer_start(), then into the ring; never dropped, never a hang. */
void serial_write(const char *s, size_t n);

/*
 * From now on output is buffered and sent off the guests' time (serial.c).
 * tsc_khz says how many TSC ticks the UART takes per FIFO's worth; due(at)
 * is told when buffered output first needs the CPU (at: now), and the run
 * loop then calls serial_pump() at that time.
 */
void serial_buffer_start(uint64_t tsc_khz, void (*due)(uint64_t at));

/* Send what the UART takes now; returns when to pump again (UINT64_MAX: the ring is empty). */
uint64_t serial_pump(uint64_t now);

/*
 * Send everything buffered and wait until the last byte has left the UART.
 * Before a power-off: bytes still in the transmitter would never reach the
 * host (Bochs stops at once).
 */
void serial_flush(void);

#endif
