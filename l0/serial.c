/*
 * L0's console: COM1 at 0x3f8, polled.  platform.c's con_write() comes here
 * when the image runs as L0 (l0/main.c selects it).  Only COM1: Bochs already
 * copies COM1 to a file, and echoing to port 0xE9 as well would put every
 * line on Bochs's stdout a second time.
 *
 * Once the VMM runs (serial_buffer_start()), output goes into a ring in
 * memory and leaves it a FIFO's worth (16 bytes) at a time, whenever the
 * UART has room: the run loop pumps it on the timer multiplexer's
 * TIMER_OUTPUT, which costs one short exit per 1.4 ms of output, or nothing
 * while L0 idles.  All of it goes before a
 * power-off.  At 115200 baud a byte takes 87 us, and a
 * record of a few hundred bytes written synchronously held the CPU for tens
 * of milliseconds while every VM's timers waited: with records from many
 * VMs that made any latency figure meaningless.  A full ring is written
 * synchronously, as before, so nothing is ever dropped.
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
#define LSR_THR_EMPTY 0x20        /* with FIFOs on: the transmit FIFO is empty */
#define LSR_TX_IDLE   0x40        /* FIFO and shift register both empty */
#define UART_FIFO_BYTES 16

#define BAUD_BASE 115200
#define BAUD      115200
#define BITS_PER_BYTE 10         /* start, 8 data, stop */

/*
 * How long to wait for room in the transmitter before sending anyway: a
 * missing or wedged UART must cost lost bytes, not a hung VMM.
 */
#define THR_SPIN_LIMIT 1000000

#define RING_BYTES (256u * 1024u)
static char ring[RING_BYTES];
static uint64_t ring_read, ring_written; /* bytes taken out and put in, ever */
static int buffered;
static uint64_t fifo_ticks;              /* TSC ticks the UART takes to send a FIFO's worth */
static void (*output_due)(uint64_t at);  /* serial_buffer_start()'s caller: wants the CPU back then */

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

static int thr_empty(void)
{
	return (inb(UART_LSR) & LSR_THR_EMPTY) != 0;
}

static void serial_putc(char c)
{
	for (unsigned i = 0; i < THR_SPIN_LIMIT && !thr_empty(); i++)
		cpu_relax();
	outb(UART_DATA, (uint8_t)c);
}

static uint64_t ring_used(void)
{
	return ring_written - ring_read;
}

/* A FIFO's worth from the ring, if the UART has room now; 1 if it had. */
static int push_fifo(void)
{
	if (!thr_empty())
		return 0;
	for (unsigned k = 0; k < UART_FIFO_BYTES && ring_used(); k++)
		outb(UART_DATA, (uint8_t)ring[ring_read++ % RING_BYTES]);
	return 1;
}

void serial_buffer_start(uint64_t tsc_khz, void (*due)(uint64_t at))
{
	output_due = due;
	/* A FIFO takes BITS_PER_BYTE x UART_FIFO_BYTES / BAUD seconds; tsc_khz x 1000 ticks a second. */
	fifo_ticks = tsc_khz * 1000 * BITS_PER_BYTE * UART_FIFO_BYTES / BAUD;
	buffered = 1;
}

uint64_t serial_pump(uint64_t now)
{
	push_fifo();
	/* Not empty: look again when the FIFO has drained. */
	return ring_used() ? now + (fifo_ticks ? fifo_ticks : 1) : UINT64_MAX;
}

void serial_write(const char *s, size_t n)
{
	if (!buffered) {
		for (size_t i = 0; i < n; i++)
			serial_putc(s[i]);
		return;
	}
	int was_empty = !ring_used();
	for (size_t i = 0; i < n; i++) {
		if (ring_used() == RING_BYTES) /* full: make room the slow way rather than drop a byte */
			serial_putc(ring[ring_read++ % RING_BYTES]);
		ring[ring_written++ % RING_BYTES] = s[i];
	}
	/* The pump runs while the ring holds bytes; it must be started when they first come. */
	if (was_empty && n)
		output_due(rdtsc());
}

void serial_flush(void)
{
	while (ring_used())
		serial_putc(ring[ring_read++ % RING_BYTES]);
	for (unsigned i = 0; i < THR_SPIN_LIMIT && !(inb(UART_LSR) & LSR_TX_IDLE); i++)
		cpu_relax();
}
