/* Powering the machine off: L0's platform_shutdown(). */
#ifndef NESTLAB_L0_SHUTDOWN_H
#define NESTLAB_L0_SHUTDOWN_H

/* Bochs (port 0x8900), QEMU (isa-debug-exit 0xf4) with status, else halt for good. */
__attribute__((noreturn)) void l0_shutdown(int status);

#endif
