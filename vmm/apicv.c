/* APIC virtualization, the pure half: registers, the MSR bitmap, the page kept in step (apicv.h). */
#include "apicv.h"
#include "nestlab/apic.h"
#include "nestlab/vmx.h"

#define PAGE_U32(page, off) (*(uint32_t *)(void *)((page) + (off)))
#define PAGE_U32_RO(page, off) (*(const uint32_t *)(const void *)((page) + (off)))

int apicv_read_virtualized(uint32_t offset, int x2apic)
{
	if (offset & (APIC_REG_STRIDE - 1))
		return 0;
	switch (offset) {
	case APIC_REG_ID: case APIC_REG_VERSION: case APIC_REG_TPR: case APIC_REG_LDR:
	case APIC_REG_SVR: case APIC_REG_ESR: case APIC_REG_ICR_LO:
	case APIC_REG_LVT_TIMER: case APIC_REG_LVT_THERM: case APIC_REG_LVT_PERF:
	case APIC_REG_LVT_LINT0: case APIC_REG_LVT_LINT1: case APIC_REG_LVT_ERROR:
	case APIC_REG_TMICT: case APIC_REG_TDCR:
		return 1;
	/* x2APIC: PPR is listed (30.5); the xAPIC list has EOI, DFR and ICR_HI instead (30.4.1). */
	case APIC_REG_PPR:
		return x2apic;
	case APIC_REG_EOI: case APIC_REG_DFR: case APIC_REG_ICR_HI:
		return !x2apic;
	}
	/* ISR, TMR and IRR: 100H-270H, eight 16-byte slots each. */
	return offset >= APIC_REG_ISR0 && offset < APIC_REG_IRR0 + APIC_VECTOR_REGS * APIC_REG_STRIDE;
}

static void bitmap_bit(uint8_t *bm, unsigned base, uint32_t msr, int exits)
{
	uint8_t *b = &bm[base + msr / 8];
	*b = exits ? (uint8_t)(*b | (1u << (msr & 7))) : (uint8_t)(*b & ~(1u << (msr & 7)));
}

/* Byte offsets of the bitmap's low-MSR halves (SDM 25.6.9). */
#define BM_READ_LOW  0u
#define BM_WRITE_LOW 2048u

void apicv_msr_bitmap(uint8_t bitmap[APICV_MSR_BITMAP_SIZE])
{
	for (unsigned i = 0; i < APICV_MSR_BITMAP_SIZE; i++)
		bitmap[i] = 0xff;
	for (uint32_t off = 0; off < APIC_MMIO_SIZE / 4; off += APIC_REG_STRIDE)
		if (apicv_read_virtualized(off, 1))
			bitmap_bit(bitmap, BM_READ_LOW, X2APIC_MSR(off), 0);
	bitmap_bit(bitmap, BM_WRITE_LOW, X2APIC_MSR(APIC_REG_TPR), 0);
	bitmap_bit(bitmap, BM_WRITE_LOW, X2APIC_MSR(APIC_REG_EOI), 0);
	bitmap_bit(bitmap, BM_WRITE_LOW, X2APIC_MSR(APIC_REG_SELF_IPI), 0);
}

int apicv_msr_passes(const uint8_t bitmap[APICV_MSR_BITMAP_SIZE], uint32_t msr, int write)
{
	unsigned base = write ? BM_WRITE_LOW : BM_READ_LOW;
	if (msr >= 0xc0000000u && msr <= 0xc0001fffu) {
		msr -= 0xc0000000u;
		base += 1024;
	} else if (msr > 0x1fffu) {
		return 0; /* outside both ranges every RDMSR/WRMSR exits */
	}
	return !((bitmap[base + msr / 8] >> (msr & 7)) & 1);
}

void apicv_page_image(const struct vlapic *l, uint8_t *page, uint64_t now)
{
	int x2 = vlapic_mode(l) == VLAPIC_MODE_X2APIC;
	for (uint32_t off = 0; off < APIC_MMIO_SIZE / 4; off += APIC_REG_STRIDE) {
		if (!apicv_read_virtualized(off, x2) || (x2 && off == APIC_REG_ICR_LO))
			continue;
		PAGE_U32(page, off) = (uint32_t)vlapic_reg_peek(l, off, now);
	}
	if (x2) {
		/* RDMSR of 830H reads the page's ICR halves at 300H and 310H as one 64-bit value (30.5). */
		uint64_t icr = vlapic_reg_peek(l, APIC_REG_ICR_LO, now);
		PAGE_U32(page, APIC_REG_ICR_LO) = (uint32_t)icr;
		PAGE_U32(page, APIC_REG_ICR_HI) = (uint32_t)(icr >> 32);
	}
	/* Read only through PPR virtualization (x2APIC) or not at all: kept right for both. */
	PAGE_U32(page, APIC_REG_PPR) = vlapic_ppr(l);
}

void apicv_push(const struct vlapic *l, uint8_t *page, struct apicv_sync *s)
{
	/* After a pull the page already holds every word the VMM did not change since: write the others. */
	for (unsigned w = 0; w < APIC_VECTOR_REGS; w++) {
		if (l->irr[w] != s->irr[w])
			PAGE_U32(page, APIC_REG_IRR0 + w * APIC_REG_STRIDE) = s->irr[w] = l->irr[w];
		if (l->isr[w] != s->isr[w])
			PAGE_U32(page, APIC_REG_ISR0 + w * APIC_REG_STRIDE) = s->isr[w] = l->isr[w];
	}
	PAGE_U32(page, APIC_REG_TPR) = l->tpr;
}

static int highest(const uint32_t *r)
{
	for (int i = APIC_VECTOR_REGS - 1; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return 0;
}

uint16_t apicv_intr_status(const struct vlapic *l, int hold)
{
	/* A globally disabled APIC requests nothing (vlapic_pending_vector()). */
	unsigned rvi = hold || vlapic_mode(l) == VLAPIC_MODE_DISABLED ? 0 : (unsigned)highest(l->irr);
	return (uint16_t)(rvi | ((unsigned)highest(l->isr) << GUEST_INTR_STATUS_SVI_SHIFT));
}

/* Set bits, one loop per bit: the words seldom hold more than one, and the freestanding build has no libgcc popcount. */
static unsigned bits(uint32_t w)
{
	unsigned n = 0;
	for (; w; w &= w - 1)
		n++;
	return n;
}

void apicv_pull(struct vlapic *l, const uint8_t *page, struct apicv_sync *s, struct apicv_counters *c)
{
	l->tpr = (uint8_t)PAGE_U32_RO(page, APIC_REG_TPR);
	for (unsigned w = 0; w < APIC_VECTOR_REGS; w++) {
		uint32_t pi = PAGE_U32_RO(page, APIC_REG_IRR0 + w * APIC_REG_STRIDE);
		uint32_t ps = PAGE_U32_RO(page, APIC_REG_ISR0 + w * APIC_REG_STRIDE);
		uint32_t si = s->irr[w], ss = s->isr[w];
		if (pi == si && ps == ss)
			continue; /* the common word: nothing happened in it */
		uint32_t gone = si & ~pi;               /* only a delivery clears an IRR bit (30.2.2) */
		uint32_t fresh = (pi | ps) & ~(si | ss); /* neither requested nor in service when pushed: self IPIs */
		uint32_t delivered = gone | (fresh & ps);
		uint32_t eoied = (ss | gone) & ~ps;
		/*
		 * How many EOIs: one for each bit in service at the push and one for each
		 * delivery that is no longer in service; a bit in service at the push,
		 * delivered again and in service now was EOIed once in between (the
		 * processor cannot deliver a vector it has in service: PPR is at its class).
		 */
		unsigned ne = bits(ss & ~ps) + bits(gone & ~ps) + bits(ss & gone & ps);
		/* Bits the VMM set after its push (none with the pull-first rule) stay. */
		l->irr[w] = (l->irr[w] & ~si) | pi;
		l->isr[w] = (l->isr[w] & ~ss) | ps;
		/* A self IPI is edge-triggered (as vlapic.c's accept()). */
		l->tmr[w] &= ~fresh;
		unsigned nd = bits(delivered);
		unsigned nf = bits(fresh);
		l->stats.delivered += nd;
		l->stats.eoi += ne;
		l->stats.accepted += nf;
		l->stats.ipi_self += nf;
		c->apicv_delivered += nd;
		c->apicv_eois += ne;
		c->apicv_self_ipis += nf;
		/* A level-triggered vector EOIed: the EOI its source is owed (vlapic_eoi()). */
		uint32_t level = eoied & l->tmr[w];
		if (level && !(l->svr & APIC_SVR_EOI_SUPPRESS)) {
			l->eoi_owed[w] |= level;
			l->stats.eoi_broadcasts += bits(level);
		}
		s->irr[w] = pi;
		s->isr[w] = ps;
	}
}

void apicv_eoi_exit_bitmap(const struct vlapic *l, uint64_t out[4])
{
	for (unsigned q = 0; q < 4; q++)
		out[q] = (uint64_t)l->tmr[2 * q] | ((uint64_t)l->tmr[2 * q + 1] << 32);
}
