/*
 * L0's console: COM1 at 0x3f8, polled.  platform.c's con_write() comes here
 * when the image runs as L0 (l0/main.c selects it).  Only COM1: Bochs already copies
 * COM1 to a file, and echoing to port 0xE9 as well would put every line on
 * Bochs's stdout a second time.
 */
#include "cpu.h"
#include "serial.h"

#define COM1 0x3f8
#define UART_DATA    (COM1 + 0) /* THR on write; divisor low byte while DLAB=1 */
#define UART_IER     (COM1 + 1) /* divisor high byte while DLAB=1 */
#define UART_FCR     (COM1 + 2)
#define UART_LCR     (COM1 + 3)
#define UART_MCR     (COM1 + 4)
#define UART_LSR     (COM1 + 5)

#define LCR_DLAB     0x80
#define LCR_8N1      0x03
#define FCR_ENABLE_CLEAR_14 0xc7 /* enable FIFOs, clear both, 14-byte trigger */
#define MCR_DTR_RTS  0x03        /* no OUT2: the UART must not raise interrupts */
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE   0x40        /* FIFO and shift register both empty */

#define BAUD_BASE 115200
#define BAUD      115200

/*
 * How long to wait for room in the transmitter before sending anyway: a
 * missing or wedged UART must cost lost bytes, not a hung VMM.
 */
#define THR_SPIN_LIMIT 1000000

void serial_init(void)
{
	outb(UART_IER, 0);
	outb(UART_LCR, LCR_DLAB);
	outb(UART_DATA, (uint8_t)(BAUD_BASE / BAUD));
	outb(UART_IER, (uint8_t)((BAUD_BASE / BAUD) >> 8));
	outb(UART_LCR, LCR_8N1);
	outb(UART_FCR, FCR_ENABLE_CLEAR_14);
	outb(UART_MCR, MCR_DTR_RTS);
}

static void serial_putc(char c)
{
	for (unsigned i = 0; i < THR_SPIN_LIMIT && !(inb(UART_LSR) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(UART_DATA, (uint8_t)c);
}

void serial_flush(void)
{
	for (unsigned i = 0; i < THR_SPIN_LIMIT && !(inb(UART_LSR) & LSR_TX_IDLE); i++)
		cpu_relax();
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
