/*
 * The RTC and the PIT as L0's interrupt lines (irq_devices.h).
 *
 * I/O APIC (82093AA datasheet): IOREGSEL at base + 0, IOWIN at base + 0x10;
 * redirection entry of pin p at registers 0x10 + 2p (low: vector, delivery
 * mode, trigger, mask) and 0x11 + 2p (high: destination APIC ID in bits
 * 31:24).  Both sources are ISA edge-triggered, active high.  As on a PC
 * whose MADT overrides IRQ 0 to pin 2, Bochs wires the PIT to pin 2 and the
 * RTC to pin 8.  L0 runs on the bootstrap processor, APIC ID 0.
 */
#include "cpu.h"
#include "irq_devices.h"

#define IOAPIC_BASE      0xfec00000ull
#define IOAPIC_IOREGSEL  0x00u
#define IOAPIC_IOWIN     0x10u
#define IOAPIC_REDIR(p)  (0x10u + 2u * (p))
#define IOAPIC_MASKED    (1u << 16)
#define PIN_PIT          2u
#define PIN_RTC          8u

/* MC146818 RTC behind the CMOS index/data ports; bit 7 of the index would mask NMIs: kept clear. */
#define CMOS_INDEX       0x70
#define CMOS_DATA        0x71
#define RTC_REG_A        0x0a /* bits 3:0 rate select: 32768 >> (r - 1) Hz for r = 3..15 */
#define RTC_REG_B        0x0b
#define RTC_REG_C        0x0c /* flags; reading it ends the interrupt */
#define RTC_B_PIE        (1u << 6)

/* 8254 PIT channel 0, mode 2 (rate generator), lobyte/hibyte, at 1193182 Hz. */
#define PIT_CH0          0x40
#define PIT_CMD          0x43
#define PIT_CMD_CH0_RATE 0x34
#define PIT_HZ           1193182u

static void ioapic_write(unsigned reg, uint32_t v)
{
	volatile uint32_t *base = (volatile uint32_t *)(uintptr_t)IOAPIC_BASE;
	base[IOAPIC_IOREGSEL / 4] = reg;
	base[IOAPIC_IOWIN / 4] = v;
}

/* Edge, active high, fixed delivery, physical destination APIC 0, unmasked. */
static void ioapic_route(unsigned pin, unsigned vector)
{
	ioapic_write(IOAPIC_REDIR(pin), IOAPIC_MASKED);
	ioapic_write(IOAPIC_REDIR(pin) + 1, 0);
	ioapic_write(IOAPIC_REDIR(pin), vector & 0xffu);
}

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

/* r with 32768 >> (r - 1) == hz, or 0 (the manifest allows powers of two from 2 to 8192 only). */
static unsigned rtc_rate_select(uint32_t hz)
{
	for (unsigned r = 3; r <= 15; r++)
		if ((32768u >> (r - 1)) == hz)
			return r;
	return 0;
}

int irq_device_start(uint32_t source, uint32_t rate, unsigned vector, const char **why)
{
	if (source == NL_IRQ_SRC_RTC) {
		unsigned r = rtc_rate_select(rate);
		if (!r) {
			*why = "the RTC's rate is not a power of two from 2 to 8192 Hz";
			return -1;
		}
		cmos_write(RTC_REG_A, (uint8_t)((cmos_read(RTC_REG_A) & 0xf0u) | r));
		cmos_write(RTC_REG_B, (uint8_t)(cmos_read(RTC_REG_B) | RTC_B_PIE));
		(void)cmos_read(RTC_REG_C); /* a flag left from before would hold the line */
		ioapic_route(PIN_RTC, vector);
		(void)cmos_read(RTC_REG_C); /* a tick between the read above and the unmask would hold the line high */
		return 0;
	}
	if (source == NL_IRQ_SRC_PIT) {
		uint32_t divisor = rate ? PIT_HZ / rate : 0;
		if (divisor < 2 || divisor > 0xffff) {
			*why = "the PIT cannot divide its 1193182 Hz into that rate";
			return -1;
		}
		outb(PIT_CMD, PIT_CMD_CH0_RATE);
		outb(PIT_CH0, (uint8_t)divisor);
		outb(PIT_CH0, (uint8_t)(divisor >> 8));
		ioapic_route(PIN_PIT, vector);
		return 0;
	}
	*why = "not a device of the machine";
	return -1;
}

void irq_device_ack(uint32_t source)
{
	if (source == NL_IRQ_SRC_RTC)
		(void)cmos_read(RTC_REG_C);
}
