/* APIC virtualization's pure half (vmm/apicv.c): the registers the processor virtualizes, the
 * MSR bitmap, and the virtual-APIC page kept in step with the emulated APIC. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "apicv.h"
#include "nestlab/vmx.h"

static const struct vlapic_config cfg = {
	.apic_id = 5, .tsc_per_bus_tick = 4, .bsp = 1, .x2apic = 1, .tsc_deadline = 1, .eoi_suppress = 1,
};
#define BASE_X2 (APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP | APIC_BASE_EXTD)

static uint32_t page_u32(const uint8_t *page, uint32_t off)
{
	uint32_t v;
	memcpy(&v, page + off, 4);
	return v;
}

static void page_set(uint8_t *page, uint32_t off, uint32_t v)
{
	memcpy(page + off, &v, 4);
}

static void enable(struct vlapic *l, int x2)
{
	vlapic_init(l, &cfg);
	enum vlapic_status st;
	if (x2) {
		CU_ASSERT_FATAL(vlapic_msr_write(l, MSR_IA32_APIC_BASE, BASE_X2, 0) == VLAPIC_OK);
		st = vlapic_msr_write(l, X2APIC_MSR(APIC_REG_SVR), APIC_SVR_ENABLE | 0xff, 0);
	} else {
		st = vlapic_mmio_write(l, APIC_REG_SVR, 4, APIC_SVR_ENABLE | 0xff, 0);
	}
	CU_ASSERT_FATAL(st == VLAPIC_OK);
}

static void test_virtualized_registers(void)
{
	/* SDM 30.4.1 (xAPIC) and 30.5 (x2APIC). */
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_TPR, 0));
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_TPR, 1));
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_IRR0 + 7 * APIC_REG_STRIDE, 1));
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_ISR0, 0));
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_EOI, 0));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_EOI, 1));
	CU_ASSERT_TRUE(apicv_read_virtualized(APIC_REG_PPR, 1));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_PPR, 0));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_TMCCT, 0));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_TMCCT, 1));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_SELF_IPI, 1));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_LVT_CMCI, 1));
	CU_ASSERT_FALSE(apicv_read_virtualized(APIC_REG_TPR + 4, 0));
	CU_ASSERT_FALSE(apicv_read_virtualized(0x400, 0));
}

static void test_msr_bitmap(void)
{
	static uint8_t bm[APICV_MSR_BITMAP_SIZE];
	apicv_msr_bitmap(bm);
	unsigned reads = 0, writes = 0;
	for (uint32_t msr = 0; msr < 0x2000; msr++) {
		reads += (unsigned)apicv_msr_passes(bm, msr, 0);
		writes += (unsigned)apicv_msr_passes(bm, msr, 1);
	}
	/* 16 single registers (ICR one MSR) and 24 of ISR/TMR/IRR read without an exit; three writes. */
	CU_ASSERT_EQUAL(reads, 16 + 24);
	CU_ASSERT_EQUAL(writes, 3);
	CU_ASSERT_TRUE(apicv_msr_passes(bm, 0x808, 1));
	CU_ASSERT_TRUE(apicv_msr_passes(bm, 0x80b, 1));
	CU_ASSERT_TRUE(apicv_msr_passes(bm, 0x83f, 1));
	CU_ASSERT_TRUE(apicv_msr_passes(bm, 0x830, 0));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, 0x830, 1)); /* an IPI: the VMM's */
	CU_ASSERT_FALSE(apicv_msr_passes(bm, 0x839, 0)); /* current count: the clock's */
	CU_ASSERT_FALSE(apicv_msr_passes(bm, 0x80b, 0));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, MSR_IA32_TSC_DEADLINE, 0));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, MSR_IA32_TSC_DEADLINE, 1));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, MSR_IA32_APIC_BASE, 1));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, 0xc0000100u, 0));
	CU_ASSERT_FALSE(apicv_msr_passes(bm, 0x40000000u, 0));
}

/* The page holds what the APIC's own door reads, for every register the processor reads from it. */
static void check_image(struct vlapic *l, int x2)
{
	static uint8_t page[APICV_PAGE_SIZE];
	memset(page, 0xa5, sizeof page);
	apicv_page_image(l, page, 1000);
	for (uint32_t off = 0; off < 0x400; off += APIC_REG_STRIDE) {
		if (!apicv_read_virtualized(off, x2))
			continue;
		uint64_t want = 0;
		if (x2) {
			CU_ASSERT_EQUAL(vlapic_msr_read(l, X2APIC_MSR(off), 1000, &want), VLAPIC_OK);
			if (off == APIC_REG_ICR_LO)
				CU_ASSERT_EQUAL(page_u32(page, APIC_REG_ICR_HI), (uint32_t)(want >> 32));
		} else {
			CU_ASSERT_EQUAL(vlapic_mmio_read(l, off, 4, 1000, &want), VLAPIC_OK);
		}
		CU_ASSERT_EQUAL(page_u32(page, off), (uint32_t)want);
	}
}

static void test_page_image(void)
{
	struct vlapic l;
	for (int x2 = 0; x2 <= 1; x2++) {
		enable(&l, x2);
		vlapic_set_irq(&l, 0x41, VLAPIC_EDGE);
		vlapic_set_irq(&l, 0x90, VLAPIC_LEVEL);
		vlapic_ack(&l, 0x90);
		if (x2) {
			vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_LVT_TIMER_TSC_DEADLINE | 0xec, 0);
			vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_ICR_LO), (7ull << 32) | 0x4031, 0);
		} else {
			vlapic_mmio_write(&l, APIC_REG_LVT_TIMER, 4, APIC_LVT_MASKED | 0x31, 0);
			vlapic_mmio_write(&l, APIC_REG_ICR_HI, 4, 3u << 24, 0);
			vlapic_mmio_write(&l, APIC_REG_TMICT, 4, 12345, 0);
		}
		check_image(&l, x2);
	}
}

/* The processor's side (SDM 30.2.2, 30.1.4) over the page alone: deliver RVI's vector, or EOI. */
static int page_highest(const uint8_t *page, uint32_t base)
{
	for (int w = APIC_VECTOR_REGS - 1; w >= 0; w--) {
		uint32_t v = page_u32(page, base + (uint32_t)w * APIC_REG_STRIDE);
		if (v)
			return w * 32 + 31 - __builtin_clz(v);
	}
	return -1;
}

static void page_bit(uint8_t *page, uint32_t base, unsigned v, int on)
{
	uint32_t off = base + (v / 32) * APIC_REG_STRIDE, w = page_u32(page, off);
	page_set(page, off, on ? w | (1u << (v & 31)) : w & ~(1u << (v & 31)));
}

static int cpu_deliver(uint8_t *page)
{
	int v = page_highest(page, APIC_REG_IRR0), s = page_highest(page, APIC_REG_ISR0);
	unsigned tpr = page_u32(page, APIC_REG_TPR) & 0xff;
	unsigned ppr = (tpr >> 4) >= (unsigned)(s < 0 ? 0 : s >> 4) ? tpr : (unsigned)(s & 0xf0);
	if (v < 0 || (unsigned)(v >> 4) <= (ppr >> 4))
		return 0;
	page_bit(page, APIC_REG_IRR0, (unsigned)v, 0);
	page_bit(page, APIC_REG_ISR0, (unsigned)v, 1);
	return 1;
}

static int cpu_eoi(uint8_t *page)
{
	int s = page_highest(page, APIC_REG_ISR0);
	if (s < 0)
		return 0;
	page_bit(page, APIC_REG_ISR0, (unsigned)s, 0);
	return 1;
}

static void test_push_pull_one_wakeup(void)
{
	static uint8_t page[APICV_PAGE_SIZE];
	struct vlapic l;
	struct apicv_sync s = { { 0 }, { 0 } };
	struct apicv_counters c = { 0 };
	enable(&l, 1);
	memset(page, 0, sizeof page);
	vlapic_set_irq(&l, 0xec, VLAPIC_EDGE);
	apicv_push(&l, page, &s);
	CU_ASSERT_EQUAL(apicv_intr_status(&l, 0), 0xec);
	CU_ASSERT_EQUAL(apicv_intr_status(&l, 1), 0);
	CU_ASSERT_TRUE(cpu_deliver(page));
	CU_ASSERT_TRUE(cpu_eoi(page));
	page_set(page, APIC_REG_TPR, 0x20);
	apicv_pull(&l, page, &s, &c);
	CU_ASSERT_EQUAL(l.stats.accepted, 1);
	CU_ASSERT_EQUAL(l.stats.delivered, 1);
	CU_ASSERT_EQUAL(l.stats.eoi, 1);
	CU_ASSERT_EQUAL(c.apicv_delivered, 1);
	CU_ASSERT_EQUAL(c.apicv_eois, 1);
	CU_ASSERT_EQUAL(c.apicv_self_ipis, 0);
	CU_ASSERT_EQUAL(l.tpr, 0x20);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	/* A second pull of an unchanged page changes nothing. */
	apicv_pull(&l, page, &s, &c);
	CU_ASSERT_EQUAL(l.stats.delivered, 1);
	CU_ASSERT_EQUAL(l.stats.eoi, 1);
}

static void test_self_ipi_and_level(void)
{
	static uint8_t page[APICV_PAGE_SIZE];
	struct vlapic l;
	struct apicv_sync s = { { 0 }, { 0 } };
	struct apicv_counters c = { 0 };
	enable(&l, 1);
	memset(page, 0, sizeof page);
	/* A level-triggered vector in service, SVR without EOI suppression: its EOI is owed to its source. */
	vlapic_set_irq(&l, 0x70, VLAPIC_LEVEL);
	vlapic_ack(&l, 0x70);
	uint64_t eoi_exit[4];
	apicv_eoi_exit_bitmap(&l, eoi_exit);
	CU_ASSERT_EQUAL(eoi_exit[1], 1ull << (0x70 - 64));
	CU_ASSERT_EQUAL(eoi_exit[0] | eoi_exit[2] | eoi_exit[3], 0);
	apicv_push(&l, page, &s);
	CU_ASSERT_EQUAL(apicv_intr_status(&l, 0), 0x70 << 8);
	/* The guest sends itself 0x51 (pending, below 0x70) and 0xa0 (delivered at once). */
	page_bit(page, APIC_REG_IRR0, 0x51, 1);
	page_bit(page, APIC_REG_IRR0, 0xa0, 1);
	CU_ASSERT_TRUE(cpu_deliver(page));
	CU_ASSERT_TRUE(cpu_eoi(page)); /* 0xa0 */
	CU_ASSERT_TRUE(cpu_eoi(page)); /* 0x70 */
	page_bit(page, APIC_REG_ISR0, 0xa0, 1); /* seen in service: 0xa0 again, still running */
	apicv_pull(&l, page, &s, &c);
	CU_ASSERT_EQUAL(c.apicv_self_ipis, 2);
	CU_ASSERT_EQUAL(c.apicv_delivered, 1);
	CU_ASSERT_EQUAL(c.apicv_eois, 1);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), 0x70);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(l.stats.eoi_broadcasts, 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR); /* 0x51 is below 0xa0 in service */
	CU_ASSERT_EQUAL(apicv_intr_status(&l, 0), 0x51 | (0xa0 << 8));
}

/*
 * The same random run twice: once emulated (vlapic_ack() and vlapic_eoi(),
 * what the VMM does without APIC virtualization), once with the page and
 * the processor's side above, pulled and pushed at random exits.  After a
 * last pull the two APICs hold the same IRR, ISR and counters.
 */
static void test_same_counts_as_emulation(void)
{
	static uint8_t page[APICV_PAGE_SIZE];
	uint32_t seed = 12345;
	for (int run = 0; run < 200; run++) {
		struct vlapic a, b;
		struct apicv_sync s = { { 0 }, { 0 } };
		struct apicv_counters c = { 0 };
		enable(&a, run & 1);
		enable(&b, run & 1);
		memset(page, 0, sizeof page);
		apicv_push(&b, page, &s);
		for (int step = 0; step < 300; step++) {
			seed = seed * 1103515245u + 12345u;
			unsigned r = (seed >> 8) % 100, vec = 32 + ((seed >> 16) % 224);
			if (r < 30) {
				/* An interrupt from one of the VMM's sources, at an exit: pull, set, push. */
				apicv_pull(&b, page, &s, &c);
				vlapic_set_irq(&a, vec, VLAPIC_EDGE);
				vlapic_set_irq(&b, vec, VLAPIC_EDGE);
				apicv_push(&b, page, &s);
			} else if (r < 65) {
				int v = vlapic_pending_vector(&a);
				int took = cpu_deliver(page);
				CU_ASSERT_EQUAL(took, v >= 0);
				if (v >= 0)
					vlapic_ack(&a, (unsigned)v);
			} else if (r < 95) {
				int had = cpu_eoi(page);
				CU_ASSERT_EQUAL(had, vlapic_eoi(&a) >= 0);
			} else {
				apicv_pull(&b, page, &s, &c); /* an exit that looks at the APIC */
			}
		}
		apicv_pull(&b, page, &s, &c);
		CU_ASSERT_EQUAL(memcmp(a.irr, b.irr, sizeof a.irr), 0);
		CU_ASSERT_EQUAL(memcmp(a.isr, b.isr, sizeof a.isr), 0);
		CU_ASSERT_EQUAL(a.stats.accepted, b.stats.accepted);
		CU_ASSERT_EQUAL(a.stats.coalesced, b.stats.coalesced);
		CU_ASSERT_EQUAL(a.stats.delivered, b.stats.delivered);
		CU_ASSERT_EQUAL(a.stats.eoi, b.stats.eoi);
		CU_ASSERT_EQUAL(c.apicv_delivered, b.stats.delivered);
		CU_ASSERT_EQUAL(c.apicv_self_ipis, 0);
	}
}

void register_suite_apicv(void)
{
	CU_pSuite s = CU_add_suite("apicv", NULL, NULL);
	CU_add_test(s, "registers the processor virtualizes (SDM 30.4.1, 30.5)", test_virtualized_registers);
	CU_add_test(s, "MSR bitmap: virtualized x2APIC MSRs pass, TSC deadline exits", test_msr_bitmap);
	CU_add_test(s, "page image reads as the APIC's own doors", test_page_image);
	CU_add_test(s, "push, deliver, EOI, pull: one wake-up", test_push_pull_one_wakeup);
	CU_add_test(s, "self IPIs, level-triggered EOI owed, RVI/SVI", test_self_ipi_and_level);
	CU_add_test(s, "same IRR, ISR and counts as the emulated path, random runs", test_same_counts_as_emulation);
}
