/* The virtual local APIC (vmm/vlapic.c): registers, faults, priorities, EOI, timer. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "vlapic.h"

#define ID 3u
#define RATIO 4u /* TSC ticks per APIC bus tick */
#define BASE_EN_BSP (APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_BSP)
#define BASE_X2 (BASE_EN_BSP | APIC_BASE_EXTD)

static const struct vlapic_config cfg_full = {
	.apic_id = ID, .tsc_per_bus_tick = RATIO, .bsp = 1, .x2apic = 1, .tsc_deadline = 1, .eoi_suppress = 1,
};

static void init_xapic(struct vlapic *l)
{
	vlapic_init(l, &cfg_full);
}

static void init_x2apic(struct vlapic *l)
{
	vlapic_init(l, &cfg_full);
	CU_ASSERT_FATAL(vlapic_msr_write(l, MSR_IA32_APIC_BASE, BASE_X2, 0) == VLAPIC_OK);
}

/* Register access through whichever door the APIC's mode opens. */
static enum vlapic_status wr(struct vlapic *l, uint32_t off, uint64_t val, uint64_t now)
{
	if (vlapic_mode(l) == VLAPIC_MODE_X2APIC)
		return vlapic_msr_write(l, X2APIC_MSR(off), val, now);
	return vlapic_mmio_write(l, off, 4, val, now);
}

static uint64_t rd(struct vlapic *l, uint32_t off, uint64_t now)
{
	uint64_t v = 0xdeadbeef;
	enum vlapic_status s = vlapic_mode(l) == VLAPIC_MODE_X2APIC ? vlapic_msr_read(l, X2APIC_MSR(off), now, &v)
								    : vlapic_mmio_read(l, off, 4, now, &v);
	CU_ASSERT_EQUAL(s, VLAPIC_OK);
	return v;
}

static void sw_enable(struct vlapic *l, unsigned spurious)
{
	CU_ASSERT_FATAL(wr(l, APIC_REG_SVR, APIC_SVR_ENABLE | spurious, 0) == VLAPIC_OK);
}

/* ESR as software reads it: write, then read. */
static uint32_t read_esr(struct vlapic *l)
{
	CU_ASSERT(wr(l, APIC_REG_ESR, 0, 0) == VLAPIC_OK);
	return (uint32_t)rd(l, APIC_REG_ESR, 0);
}

static int irr_bit(struct vlapic *l, unsigned v)
{
	return (int)((rd(l, APIC_REG_IRR0 + (v >> 5) * APIC_REG_STRIDE, 0) >> (v & 31)) & 1);
}

/* ---- Registers ---------------------------------------------------------- */

static void test_reset_state(void)
{
	struct vlapic l;
	init_xapic(&l);
	CU_ASSERT_EQUAL(vlapic_mode(&l), VLAPIC_MODE_XAPIC);
	uint64_t base;
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_APIC_BASE, 0, &base), VLAPIC_OK);
	CU_ASSERT_EQUAL(base, BASE_EN_BSP);
	CU_ASSERT_EQUAL(vlapic_base_gpa(&l), APIC_BASE_DEFAULT);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ID, 0), ID << 24);
	/* Integrated APIC, 6 LVT entries (max LVT 5), EOI-broadcast suppression. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_VERSION, 0), 0x01050014u);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_SVR, 0), 0xffu);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_DFR, 0), 0xffffffffu);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_PPR, 0), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LDR, 0), 0);
	for (uint32_t off = APIC_REG_LVT_TIMER; off <= APIC_REG_LVT_ERROR; off += APIC_REG_STRIDE)
		CU_ASSERT_EQUAL(rd(&l, off, 0), APIC_LVT_MASKED);
	for (unsigned i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_ISR0 + i * 16, 0), 0);
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMR0 + i * 16, 0), 0);
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_IRR0 + i * 16, 0), 0);
	}
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);

	/* Without EOI-broadcast suppression the version says so. */
	struct vlapic_config c = cfg_full;
	c.eoi_suppress = 0;
	vlapic_init(&l, &c);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_VERSION, 0), 0x00050014u);
}

static void test_x2apic_msr_semantics(void)
{
	struct vlapic l;
	uint64_t v;
	init_x2apic(&l);
	sw_enable(&l, 0xff);

	/* ID and LDR are read-only and derived from the x2APIC ID. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ID, 0), ID);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LDR, 0), 1u << ID);
	struct vlapic_config c = cfg_full;
	c.apic_id = 0x25;
	struct vlapic m;
	vlapic_init(&m, &c);
	CU_ASSERT_EQUAL(vlapic_msr_write(&m, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&m, APIC_REG_ID, 0), 0x25u);
	CU_ASSERT_EQUAL(rd(&m, APIC_REG_LDR, 0), (2u << 16) | (1u << 5));

	/* Reserved MSRs: #GP both ways (0x80e is the DFR's slot, 0x831 ICR_HI's, 0x83f write-only). */
	static const uint32_t reserved[] = {0x800, 0x801, 0x804, 0x807, 0x809, 0x80c, 0x80e, 0x829, 0x82e,
					    0x82f, 0x831, 0x83a, 0x83d, 0x840, 0x8ff, 0xbff};
	for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
		CU_ASSERT_EQUAL(vlapic_msr_read(&l, reserved[i], 0, &v), VLAPIC_GP);
		CU_ASSERT_EQUAL(vlapic_msr_write(&l, reserved[i], 0, 0), VLAPIC_GP);
	}
	/* Read-only MSRs: WRMSR #GP. */
	static const uint32_t ro[] = {APIC_REG_ID,	   APIC_REG_VERSION, APIC_REG_PPR,  APIC_REG_LDR,
				      APIC_REG_ISR0,	   APIC_REG_ISR0 + 0x70, APIC_REG_TMR0, APIC_REG_TMR0 + 0x70,
				      APIC_REG_IRR0,	   APIC_REG_IRR0 + 0x70, APIC_REG_TMCCT};
	for (unsigned i = 0; i < sizeof ro / sizeof ro[0]; i++) {
		CU_ASSERT_EQUAL(vlapic_msr_read(&l, X2APIC_MSR(ro[i]), 0, &v), VLAPIC_OK);
		CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(ro[i]), 0, 0), VLAPIC_GP);
	}
	/* Write-only: RDMSR #GP. EOI and ESR: a non-zero write #GP. */
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, X2APIC_MSR(APIC_REG_EOI), 0, &v), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, X2APIC_MSR(APIC_REG_SELF_IPI), 0, &v), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_EOI), 1, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_EOI), 0, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_ESR), 1, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_ESR), 0, 0), VLAPIC_OK);

	/* Reserved bits: #GP and nothing changes. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0x40, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0x100, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 1ull << 32, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x40);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TDCR, 0x4, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SVR, APIC_SVR_ENABLE | 0xff | (1u << 10), 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SELF_IPI, 0x100, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_RESERVED | 0x40, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_ERROR, APIC_LVT_DM_MASK | 0x40, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, (1u << 13) | APIC_ICR_SH_SELF | 0x40, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_TIMER, 0), APIC_LVT_MASKED);
	/* Read-only bits a write may carry: ignored. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_LINT0, APIC_LVT_REMOTE_IRR | APIC_LVT_DELIV_STATUS | 0x700, 0),
			VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_LINT0, 0), 0x700);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_DELIV_STATUS | (5ull << 32) | APIC_ICR_SH_OTHERS | 0x40, 0),
			VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ICR_LO, 0), (5ull << 32) | APIC_ICR_SH_OTHERS | 0x40);
	/* SVR bit 12 exists only with EOI-broadcast suppression. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SVR, APIC_SVR_EOI_SUPPRESS | APIC_SVR_ENABLE | 0xff, 0), VLAPIC_OK);
	c = cfg_full;
	c.eoi_suppress = 0;
	vlapic_init(&m, &c);
	CU_ASSERT_EQUAL(vlapic_msr_write(&m, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&m, APIC_REG_SVR, APIC_SVR_EOI_SUPPRESS | APIC_SVR_ENABLE | 0xff, 0), VLAPIC_GP);
	/* Timer mode 10b exists only with TSC-deadline. */
	c.tsc_deadline = 0;
	vlapic_init(&m, &c);
	CU_ASSERT_EQUAL(vlapic_msr_write(&m, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&m, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | 0x40, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_read(&m, MSR_IA32_TSC_DEADLINE, 0, &v), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&m, MSR_IA32_TSC_DEADLINE, 5, 0), VLAPIC_GP);

	/* The xAPIC page does not exist in x2APIC mode. */
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_TPR, 4, 0, &v), VLAPIC_UNMAPPED);
	CU_ASSERT_EQUAL(vlapic_mmio_write(&l, APIC_REG_TPR, 4, 0, 0), VLAPIC_UNMAPPED);
	CU_ASSERT(l.stats.gp >= 40);

	/* And the x2APIC MSRs do not exist in xAPIC mode. */
	init_xapic(&l);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, X2APIC_MSR(APIC_REG_TPR), 0, &v), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, X2APIC_MSR(APIC_REG_TPR), 0, 0), VLAPIC_GP);
	CU_ASSERT(vlapic_is_apic_msr(0x800) && vlapic_is_apic_msr(0xbff) && vlapic_is_apic_msr(0x1b) &&
		  vlapic_is_apic_msr(0x6e0));
	CU_ASSERT(!vlapic_is_apic_msr(0x7ff) && !vlapic_is_apic_msr(0xc00) && !vlapic_is_apic_msr(0x10));
}

static void test_xapic_mmio(void)
{
	struct vlapic l;
	uint64_t v;
	init_xapic(&l);
	sw_enable(&l, 0xff);

	/* Reserved offsets read 0, ignore writes, log an illegal register address. */
	static const uint32_t reserved[] = {0x000, 0x010, 0x040, 0x070, APIC_REG_APR, APIC_REG_RRD,
					    APIC_REG_LVT_CMCI, 0x3a0, 0x3d0, APIC_REG_SELF_IPI, 0x400, 0xff0};
	for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
		CU_ASSERT_EQUAL(vlapic_mmio_write(&l, reserved[i], 4, 0xffffffff, 0), VLAPIC_OK);
		CU_ASSERT_EQUAL(vlapic_mmio_read(&l, reserved[i], 4, 0, &v), VLAPIC_OK);
		CU_ASSERT_EQUAL(v, 0);
	}
	CU_ASSERT_EQUAL(read_esr(&l), APIC_ESR_ILLEGAL_REG);
	CU_ASSERT_EQUAL(read_esr(&l), 0); /* the next write starts anew */
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR); /* a SELF IPI write did nothing */

	/* EOI is write-only: reads 0. Read-only registers ignore writes. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_EOI, 0), 0);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_VERSION, 0, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_VERSION, 0), 0x01050014u);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_PPR, 0xff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_PPR, 0), 0);
	CU_ASSERT_EQUAL(read_esr(&l), 0);

	/* xAPIC ID, LDR, DFR are writable in their fields. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ID, 0x07123456, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ID, 0), 0x07000000u);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LDR, 0x81ffffff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LDR, 0), 0x81000000u);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_DFR, 0x01234567, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_DFR, 0), APIC_DFR_CLUSTER);
	/* Fields: TPR 8 bits, TDCR bits 3,1,0, LVT error vector+mask, ICR_HI bits 31:24. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0xffffff5a, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x5a);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TDCR, 0xffffffff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TDCR, 0), 0xb);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_ERROR, 0xffffffff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_ERROR, 0), 0x100ff);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0xffffffff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ICR_HI, 0), 0xff000000u);

	/* Sub-word loads see the register's bytes; the rest of the slot is zeros. */
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_VERSION + 2, 1, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0x05);
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_VERSION + 2, 2, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0x0105);
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_VERSION, 8, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0x01050014u);
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_VERSION + 4, 4, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0);
	/* Only aligned 32-bit stores reach a register. */
	uint64_t ignored = l.stats.ignored;
	CU_ASSERT_EQUAL(vlapic_mmio_write(&l, APIC_REG_TPR, 1, 0x10, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_mmio_write(&l, APIC_REG_TPR + 4, 4, 0x10, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_mmio_write(&l, APIC_REG_TPR, 8, 0x10, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x5a);
	CU_ASSERT_EQUAL(l.stats.ignored, ignored + 3);
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_MMIO_SIZE, 4, 0, &v), VLAPIC_UNMAPPED);

	/* A globally disabled APIC has no page. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_mmio_read(&l, APIC_REG_TPR, 4, 0, &v), VLAPIC_UNMAPPED);
}

static void test_apic_base_transitions(void)
{
	struct vlapic l;
	uint64_t v;
	init_xapic(&l);
	/* Reserved bits: 7:0, 9, at and above MAXPHYADDR (36 by default). */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP | 1, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP | (1u << 9), 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP | (1ull << 36), 0), VLAPIC_GP);
	/* EXTD without EN is invalid. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_EXTD, 0), VLAPIC_GP);
	/* Relocation, and BSP cannot be changed. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, 0xfec00000ull | APIC_BASE_EN, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_base_gpa(&l), 0xfec00000ull);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_APIC_BASE, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0xfec00000ull | APIC_BASE_EN | APIC_BASE_BSP);
	/* xAPIC -> x2APIC keeps the registers. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0x20, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_mode(&l), VLAPIC_MODE_X2APIC);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x20);
	/* x2APIC -> xAPIC directly: #GP. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_mode(&l), VLAPIC_MODE_X2APIC);
	/* x2APIC -> disabled resets; disabled -> x2APIC: #GP; disabled -> xAPIC fine. */
	sw_enable(&l, 0xff);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x40, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_mode(&l), VLAPIC_MODE_DISABLED);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x40, VLAPIC_EDGE), VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, X2APIC_MSR(APIC_REG_TPR), 0, &v), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_SVR, 0), 0xff);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_IRR0 + 0x20, 0), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ID, 0), ID << 24);

	/* No x2APIC in CPUID: EXTD is reserved. */
	struct vlapic_config c = cfg_full;
	c.x2apic = 0;
	c.maxphyaddr = 40;
	vlapic_init(&l, &c);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_X2, 0), VLAPIC_GP);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, BASE_EN_BSP | (1ull << 39), 0), VLAPIC_OK);
}

static void test_cr8(void)
{
	struct vlapic l;
	init_x2apic(&l);
	CU_ASSERT_EQUAL(vlapic_cr8_write(&l, 0x9), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x90);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0x5f, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_cr8_read(&l), 5);
	CU_ASSERT_EQUAL(vlapic_cr8_write(&l, 0x10), VLAPIC_GP);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TPR, 0), 0x5f);
}

/* ---- Priorities, acceptance, EOI --------------------------------------- */

/* Put vector v in service (TPR 0 while it is acknowledged). */
static void put_in_service(struct vlapic *l, unsigned v)
{
	uint64_t tpr = rd(l, APIC_REG_TPR, 0);
	CU_ASSERT(wr(l, APIC_REG_TPR, 0, 0) == VLAPIC_OK);
	CU_ASSERT(vlapic_set_irq(l, v, VLAPIC_EDGE) != VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(vlapic_ack(l, v), (int)v);
	CU_ASSERT(wr(l, APIC_REG_TPR, tpr, 0) == VLAPIC_OK);
}

static void test_ppr_rule(void)
{
	static const struct {
		unsigned tpr, isr, ppr;
	} cases[] = {
		{0x00, 0, 0x00}, {0x2a, 0, 0x2a},	  /* nothing in service: PPR = TPR */
		{0x35, 0x41, 0x40}, {0x45, 0x41, 0x45}, /* the higher class wins; TPR keeps its low bits */
		{0x40, 0x4f, 0x40}, {0x4c, 0x4f, 0x4c}, /* equal classes: TPR */
		{0x00, 0xfe, 0xf0}, {0xff, 0x20, 0xff},
	};
	for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct vlapic l;
		init_x2apic(&l);
		sw_enable(&l, 0xff);
		if (cases[i].isr)
			put_in_service(&l, cases[i].isr);
		CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, cases[i].tpr, 0), VLAPIC_OK);
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_PPR, 0), cases[i].ppr);
		CU_ASSERT_EQUAL(vlapic_ppr(&l), cases[i].ppr);
	}
}

static void test_eoi_order_and_nesting(void)
{
	struct vlapic l;
	init_x2apic(&l);
	sw_enable(&l, 0xff);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x30, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x30);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x30), 0x30);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	/* A higher class preempts; the same class waits. */
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x3f, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x50, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x50);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x50), 0x50);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x40, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_PPR, 0), 0x50);
	/* EOI retires the highest in service first. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_EOI, 0, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ISR0 + 0x20, 0), 0); /* 0x50 gone */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ISR0 + 0x10, 0), 1u << 16); /* 0x30 stays */
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x40);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x40), 0x40);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x40);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR); /* 0x3f still behind 0x30 */
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x30);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x3f);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x3f), 0x3f);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x3f);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(l.stats.accepted, 4);
	CU_ASSERT_EQUAL(l.stats.delivered, 4);
	CU_ASSERT_EQUAL(l.stats.eoi, 4);
	CU_ASSERT_EQUAL(l.stats.eoi_empty, 1);

	/* One in the IRR and one in the ISR per vector; more coalesce. */
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x60, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x60), 0x60);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x60, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x60, VLAPIC_EDGE), VLAPIC_COALESCED);
	CU_ASSERT_EQUAL(l.stats.coalesced, 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x60);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x60), 0x60);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x60);

	/* Spurious: the interrupt is no longer deliverable when acknowledged. */
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x70, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0x80, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x70), 0xff);
	CU_ASSERT_EQUAL(l.stats.spurious, 1);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ISR0 + 0x30, 0), 0);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x70), 1); /* still pending, behind TPR */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, 0, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x71), 0xff); /* not the pending one */
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x70), 0x70);
}

static void test_level_eoi(void)
{
	struct vlapic l;
	init_x2apic(&l);
	sw_enable(&l, 0xff);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x41, VLAPIC_LEVEL), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x42, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMR0 + 0x20, 0), 1u << 1);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x42), 0x42);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x42);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), VLAPIC_NO_VECTOR); /* edge: nothing owed */
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x41), 0x41);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x41);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), 0x41);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(l.stats.eoi_broadcasts, 1);
	/* The same vector now edge-triggered clears its TMR bit. */
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x41, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMR0 + 0x20, 0), 0);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x41), 0x41);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x41);
	/* Directed EOI: with broadcasts suppressed nothing is owed. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SVR, APIC_SVR_EOI_SUPPRESS | APIC_SVR_ENABLE | 0xff, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x41, VLAPIC_LEVEL), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x41), 0x41);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0x41);
	CU_ASSERT_EQUAL(vlapic_take_level_eoi(&l), VLAPIC_NO_VECTOR);
}

static void test_illegal_vectors_and_errors(void)
{
	struct vlapic l;
	init_x2apic(&l);
	sw_enable(&l, 0xff);
	for (unsigned v = 0; v < 16; v++)
		CU_ASSERT_EQUAL(vlapic_set_irq(&l, v, VLAPIC_EDGE), VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 16, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	CU_ASSERT_EQUAL(l.stats.rejected, 16);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ESR, 0), 0); /* not latched until ESR is written */
	CU_ASSERT_EQUAL(read_esr(&l), APIC_ESR_RECV_ILLEGAL);
	/* An IPI with an illegal vector is a send error; a SELF IPI one a receive error. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_SH_SELF | 3, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(read_esr(&l), APIC_ESR_SEND_ILLEGAL);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SELF_IPI, 0xf, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(read_esr(&l), APIC_ESR_SEND_ILLEGAL | APIC_ESR_RECV_ILLEGAL);
	/* The error interrupt, when the LVT error entry is unmasked. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_ERROR, 0xe0, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 2, VLAPIC_EDGE), VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(irr_bit(&l, 0xe0), 1);
	/* An illegal error vector logs once more and stops there. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_ERROR, 0x05, 0), VLAPIC_OK);
	uint64_t errors = l.stats.errors;
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 2, VLAPIC_EDGE), VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(l.stats.errors, errors + 2);
	CU_ASSERT_EQUAL(read_esr(&l), APIC_ESR_RECV_ILLEGAL);
}

static void test_sw_disable_masks_lvts(void)
{
	struct vlapic l;
	init_xapic(&l);
	/* Disabled at reset: LVT writes cannot unmask. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_LINT0, 0x700, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_LINT0, 0), APIC_LVT_MASKED | 0x700);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x40, VLAPIC_EDGE), VLAPIC_REJECTED);
	sw_enable(&l, 0xff);
	for (uint32_t off = APIC_REG_LVT_TIMER; off <= APIC_REG_LVT_ERROR; off += APIC_REG_STRIDE) {
		CU_ASSERT_EQUAL(wr(&l, off, 0x40, 0), VLAPIC_OK);
		CU_ASSERT_EQUAL(rd(&l, off, 0), 0x40);
	}
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x40, VLAPIC_EDGE), VLAPIC_ACCEPTED);
	/* Disabling masks every entry and takes nothing new, but what the IRR holds is still delivered. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SVR, 0xff, 0), VLAPIC_OK);
	for (uint32_t off = APIC_REG_LVT_TIMER; off <= APIC_REG_LVT_ERROR; off += APIC_REG_STRIDE)
		CU_ASSERT_EQUAL(rd(&l, off, 0), APIC_LVT_MASKED | 0x40);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, 0x41, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_TIMER, 0), APIC_LVT_MASKED | 0x41);
	CU_ASSERT_EQUAL(vlapic_set_irq(&l, 0x50, VLAPIC_EDGE), VLAPIC_REJECTED);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x40), 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x40);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0x40), 0x40);
	/* Re-enabling leaves the masks for software to clear. */
	sw_enable(&l, 0xff);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LVT_ERROR, 0), APIC_LVT_MASKED | 0x40);
}

static void test_ipis(void)
{
	struct vlapic l;
	init_xapic(&l);
	sw_enable(&l, 0xff);
	/* Shorthands: self and all-including-self reach us, all-excluding-self no one. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_SH_SELF | 0x50, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x50), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_SH_ALL | 0x51, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x51), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_SH_OTHERS | 0x52, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x52), 0);
	/* Physical destination: our ID or broadcast; another ID is no one. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, ID << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, 0x53, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x53), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0xffu << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, 0x54, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x54), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 7u << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, 0x55, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x55), 0);
	/* Logical, flat: LDR bit match. Cluster: cluster and member bits. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LDR, 0x24u << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0x04u << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_DEST_LOGICAL | 0x56, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x56), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0x18u << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_DEST_LOGICAL | 0x57, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x57), 0);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_DFR, APIC_DFR_CLUSTER, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0x14u << 24, 0), VLAPIC_OK); /* cluster 1: not ours */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_DEST_LOGICAL | 0x58, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x58), 0);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0x2cu << 24, 0), VLAPIC_OK); /* cluster 2, member 4 */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_ICR_DEST_LOGICAL | 0x59, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x59), 1);
	/* An NMI to self: latched once (a second coalesces), never in the IRR, taken by the VMM. */
	uint32_t nmi = (APIC_DM_NMI << APIC_ICR_DM_SHIFT) | APIC_ICR_SH_SELF | 0x33;
	CU_ASSERT_EQUAL(vlapic_nmi_pending(&l), 0);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, nmi, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_nmi_pending(&l), 1);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x33), 0); /* the vector field means nothing for an NMI */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, nmi, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(l.stats.nmi_coalesced, 1);
	vlapic_nmi_take(&l);
	CU_ASSERT_EQUAL(vlapic_nmi_pending(&l), 0);
	CU_ASSERT_EQUAL(l.stats.nmi_taken, 1);
	vlapic_nmi_take(&l); /* nothing waits: nothing taken */
	CU_ASSERT_EQUAL(l.stats.nmi_taken, 1);
	/* An NMI to another APIC reaches no one. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_HI, 0x0fu << 24, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, APIC_DM_NMI << APIC_ICR_DM_SHIFT, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_nmi_pending(&l), 0);
	/* INIT, SIPI: counted and kept, not delivered. */
	uint32_t init = (APIC_DM_INIT << APIC_ICR_DM_SHIFT) | APIC_ICR_SH_SELF;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, init, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(l.stats.ipi_unsupported, 1);
	CU_ASSERT_EQUAL(l.last_unsupported_icr & 0xffffffffu, init);
	CU_ASSERT_EQUAL(l.stats.ipi_self, 8);
	CU_ASSERT_EQUAL(l.stats.ipi_nowhere, 5);
	/* Delivery status reads idle. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_ICR_LO, 0) & APIC_ICR_DELIV_STATUS, 0);

	/* x2APIC: 32-bit destinations, the SELF IPI register. */
	init_x2apic(&l);
	sw_enable(&l, 0xff);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, ((uint64_t)ID << 32) | 0x60, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x60), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, ((uint64_t)(ID + 0x100) << 32) | 0x61, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x61), 0);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, (0xffffffffull << 32) | 0x62, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x62), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_ICR_LO, ((uint64_t)(1u << ID) << 32) | APIC_ICR_DEST_LOGICAL | 0x63, 0),
			VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x63), 1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SELF_IPI, 0x64, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(irr_bit(&l, 0x64), 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0x64);
}

/* ---- Acceptance and priority against a brute-force model ---------------- */

struct ref {
	uint8_t irr[256], isr[256], tmr[256];
	unsigned tpr;
};

static unsigned ref_ppr(const struct ref *r)
{
	unsigned isrv = 0;
	for (unsigned v = 0; v < 256; v++)
		if (r->isr[v])
			isrv = v;
	return (r->tpr >> 4) >= (isrv >> 4) ? r->tpr : (isrv & 0xf0);
}

/* Written the other way round from the VMM's: of every vector requested
 * whose class is above the PPR's, the greatest. */
static int ref_pending(const struct ref *r)
{
	int best = -1;
	unsigned ppr_class = ref_ppr(r) >> 4;
	for (unsigned v = 0; v < 256; v++)
		if (r->irr[v] && (v >> 4) > ppr_class)
			best = (int)v;
	return best;
}

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void check_against(struct vlapic *l, const struct ref *r)
{
	CU_ASSERT_EQUAL(vlapic_pending_vector(l), ref_pending(r));
	CU_ASSERT_EQUAL(rd(l, APIC_REG_PPR, 0), ref_ppr(r));
	for (unsigned i = 0; i < 8; i++) {
		uint32_t irr = 0, isr = 0, tmr = 0;
		for (unsigned b = 0; b < 32; b++) {
			irr |= (uint32_t)r->irr[i * 32 + b] << b;
			isr |= (uint32_t)r->isr[i * 32 + b] << b;
			tmr |= (uint32_t)r->tmr[i * 32 + b] << b;
		}
		CU_ASSERT_EQUAL(rd(l, APIC_REG_IRR0 + i * 16, 0), irr);
		CU_ASSERT_EQUAL(rd(l, APIC_REG_ISR0 + i * 16, 0), isr);
		CU_ASSERT_EQUAL(rd(l, APIC_REG_TMR0 + i * 16, 0), tmr);
	}
}

static void run_reference(int x2, uint64_t seed, unsigned steps)
{
	struct vlapic l;
	struct ref r;
	memset(&r, 0, sizeof r);
	if (x2)
		init_x2apic(&l);
	else
		init_xapic(&l);
	sw_enable(&l, 0xff);
	rng_state = seed;
	unsigned failures = CU_get_number_of_failures();
	uint64_t accepted = 0, coalesced = 0, delivered = 0, spurious = 0;
	for (unsigned step = 0; step < steps && CU_get_number_of_failures() == failures; step++) {
		unsigned op = rng() % 100;
		if (op < 40) {
			/* Mostly legal vectors, in a few classes so that they collide. */
			unsigned v = (rng() % 8 == 0) ? rng() % 256 : 0x20 + rng() % 0x60;
			enum vlapic_trigger t = (rng() & 1) ? VLAPIC_LEVEL : VLAPIC_EDGE;
			enum vlapic_accept want = v < 16 ? VLAPIC_REJECTED : r.irr[v] ? VLAPIC_COALESCED : VLAPIC_ACCEPTED;
			CU_ASSERT_EQUAL(vlapic_set_irq(&l, v, t), want);
			if (want == VLAPIC_ACCEPTED) {
				r.irr[v] = 1;
				r.tmr[v] = t == VLAPIC_LEVEL;
				accepted++;
			} else if (want == VLAPIC_COALESCED) {
				coalesced++;
			}
		} else if (op < 65) {
			int p = ref_pending(&r);
			unsigned v = (rng() % 5 == 0 || p < 0) ? rng() % 256 : (unsigned)p;
			if (p >= 0 && v == (unsigned)p) {
				CU_ASSERT_EQUAL(vlapic_ack(&l, v), p);
				r.irr[v] = 0;
				r.isr[v] = 1;
				delivered++;
			} else {
				CU_ASSERT_EQUAL(vlapic_ack(&l, v), 0xff);
				spurious++;
			}
		} else if (op < 85) {
			CU_ASSERT_EQUAL(wr(&l, APIC_REG_EOI, 0, 0), VLAPIC_OK);
			for (int v = 255; v >= 0; v--)
				if (r.isr[v]) {
					r.isr[v] = 0;
					break;
				}
		} else if (op < 95) {
			unsigned tpr = (rng() % 3 == 0) ? 0 : rng() % 0x90;
			CU_ASSERT_EQUAL(wr(&l, APIC_REG_TPR, tpr, 0), VLAPIC_OK);
			r.tpr = tpr;
		} else {
			unsigned cr8 = rng() % 9;
			CU_ASSERT_EQUAL(vlapic_cr8_write(&l, cr8), VLAPIC_OK);
			r.tpr = cr8 << 4;
		}
		check_against(&l, &r);
	}
	CU_ASSERT_EQUAL(l.stats.accepted, accepted);
	CU_ASSERT_EQUAL(l.stats.coalesced, coalesced);
	CU_ASSERT_EQUAL(l.stats.delivered, delivered);
	CU_ASSERT_EQUAL(l.stats.spurious, spurious);
}

static void test_against_reference(void)
{
	for (uint64_t seed = 1; seed <= 8; seed++) {
		run_reference(0, seed * 0x9e3779b97f4a7c15ull, 3000);
		run_reference(1, seed * 0xbf58476d1ce4e5b9ull, 3000);
	}
}

/* ---- Timer -------------------------------------------------------------- */

static const struct {
	uint32_t tdcr;
	unsigned div;
} divides[] = {
	{APIC_TDCR_DIV_1, 1},	{APIC_TDCR_DIV_2, 2},	{APIC_TDCR_DIV_4, 4},	  {APIC_TDCR_DIV_8, 8},
	{APIC_TDCR_DIV_16, 16}, {APIC_TDCR_DIV_32, 32}, {APIC_TDCR_DIV_64, 64}, {APIC_TDCR_DIV_128, 128},
};

/* An x2APIC, enabled, timer LVT vector 0xec in the given mode, unmasked. */
static void timer_setup(struct vlapic *l, uint32_t mode, uint32_t tdcr)
{
	init_x2apic(l);
	sw_enable(l, 0xff);
	CU_ASSERT_FATAL(wr(l, APIC_REG_TDCR, tdcr, 0) == VLAPIC_OK);
	CU_ASSERT_FATAL(wr(l, APIC_REG_LVT_TIMER, mode | 0xec, 0) == VLAPIC_OK);
}

/* What the review of the first version found, each kept found. */
static void test_review_fixes(void)
{
	struct vlapic l;
	/* The same divisor written again and again never postpones a one-shot timer. */
	timer_setup(&l, APIC_LVT_TIMER_ONESHOT, APIC_TDCR_DIV_128);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, 0), VLAPIC_OK);
	const uint64_t due = 10 * 128 * RATIO;
	for (uint64_t t = 100; t < due; t += 100)
		CU_ASSERT_EQUAL_FATAL(wr(&l, APIC_REG_TDCR, APIC_TDCR_DIV_128, t), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), due);
	/* A new divisor scales what is left, partial tick included: half way, /128 -> /64. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TDCR, APIC_TDCR_DIV_64, due / 2 + 3), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), due / 2 + 3 + (due - (due / 2 + 3)) / 2);
	/* x2APIC LDR: ID[19:4] into bits 31:16, whatever lies above bit 19 of the ID. */
	static const struct vlapic_config big = { .apic_id = 0x123456, .tsc_per_bus_tick = RATIO, .x2apic = 1 };
	vlapic_init(&l, &big);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_APIC_BASE, APIC_BASE_DEFAULT | APIC_BASE_EN | APIC_BASE_EXTD, 0),
			VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_LDR, 0), 0x23450040u);
	/* A timer set to end at the very top of the clock still ends (never "no timer"). */
	timer_setup(&l, APIC_LVT_TIMER_ONESHOT, APIC_TDCR_DIV_1);
	uint64_t late = UINT64_MAX - 1000 * RATIO;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 1000, late), VLAPIC_OK);
	CU_ASSERT_NOT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
}

static void test_divide_math(void)
{
	for (uint32_t tdcr = 0; tdcr < 16; tdcr++) {
		/* Bit 2 is not part of the encoding. */
		unsigned code = ((tdcr & 8) >> 1) | (tdcr & 3);
		CU_ASSERT_EQUAL(vlapic_divisor(tdcr), code == 7 ? 1u : 2u << code);
	}
	for (unsigned i = 0; i < sizeof divides / sizeof divides[0]; i++) {
		CU_ASSERT_EQUAL(vlapic_divisor(divides[i].tdcr), divides[i].div);
		struct vlapic l;
		timer_setup(&l, APIC_LVT_TIMER_ONESHOT, divides[i].tdcr);
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_TDCR, 0), divides[i].tdcr);
		CU_ASSERT_EQUAL(vlapic_timer_tick(&l), (uint64_t)divides[i].div * RATIO);
		uint64_t t0 = 1000, n = 12345;
		CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, n, t0), VLAPIC_OK);
		uint64_t when = t0 + n * divides[i].div * RATIO;
		CU_ASSERT_EQUAL(vlapic_timer_next(&l, t0), when);
		CU_ASSERT_EQUAL(vlapic_timer_advance(&l, when - 1), 0);
		CU_ASSERT_EQUAL(vlapic_timer_current_count(&l, when - 1), 1);
		CU_ASSERT_EQUAL(vlapic_timer_advance(&l, when), 1);
		CU_ASSERT_EQUAL(irr_bit(&l, 0xec), 1);
	}
	/* xAPIC ignores bit 2 on a write. */
	struct vlapic l;
	init_xapic(&l);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TDCR, 0x4 | APIC_TDCR_DIV_64, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TDCR, 0), APIC_TDCR_DIV_64);
}

static void test_oneshot(void)
{
	struct vlapic l;
	timer_setup(&l, APIC_LVT_TIMER_ONESHOT, APIC_TDCR_DIV_16);
	const uint64_t tick = 16 * RATIO, t0 = 5000, n = 1000;
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0), 0); /* idle */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, n, t0), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMICT, t0), n);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0), n);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0 + tick - 1), n);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0 + tick), n - 1);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0 + 400 * tick + 3), n - 400);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, t0), t0 + n * tick);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, t0 + n * tick - 1), 0);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	/* Expired but not yet advanced: the count already reads 0. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0 + n * tick + 7), 0);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, t0 + n * tick + 7), 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0xec);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, t0 + n * tick + 7), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, UINT64_MAX - 1), 0); /* once only */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t0 + 2 * n * tick), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMICT, 0), n);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 1);

	/* Rewriting the initial count restarts; writing 0 stops. */
	uint64_t t1 = 1000000;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, t1), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 20, t1 + 5 * tick), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), t1 + 25 * tick);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 0, t1 + 6 * tick), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t1 + 7 * tick), 0);

	/* A write that comes after an expiration fires it first, not lost. */
	CU_ASSERT_EQUAL(vlapic_eoi(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0xec), 0xec);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0xec);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, t1), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, t1 + 11 * tick), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0xec);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 2);
}

static void test_periodic_no_drift(void)
{
	struct vlapic l;
	timer_setup(&l, APIC_LVT_TIMER_PERIODIC, APIC_TDCR_DIV_8);
	const uint64_t tick = 8 * RATIO, n = 777, period = n * tick, t0 = 123;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, n, t0), VLAPIC_OK);
	/* 20000 periods, each advanced late by a varying amount under a period. */
	rng_state = 42;
	for (uint64_t k = 1; k <= 20000; k++) {
		uint64_t due = t0 + k * period;
		CU_ASSERT_EQUAL_FATAL(vlapic_timer_next(&l, due), due);
		uint64_t late = rng() % period;
		CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, due + late), n - late / tick);
		CU_ASSERT_EQUAL_FATAL(vlapic_timer_advance(&l, due + late), 1);
		CU_ASSERT_EQUAL_FATAL(vlapic_ack(&l, 0xec), 0xec);
		CU_ASSERT_EQUAL(vlapic_eoi(&l), 0xec);
	}
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), t0 + 20001 * period);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 20000);
	CU_ASSERT_EQUAL(l.stats.timer_missed, 0);
	CU_ASSERT_EQUAL(l.stats.delivered, 20000);

	/* Called 5.5 periods late: 6 expirations, one interrupt, 5 folded, grid kept. */
	uint64_t last = t0 + 20001 * period;
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, last + 5 * period + period / 2), 6);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 20001);
	CU_ASSERT_EQUAL(l.stats.timer_missed, 5);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), last + 6 * period);
	/* Late again with the interrupt still pending: it coalesces in the IRR. */
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, last + 6 * period), 1);
	CU_ASSERT_EQUAL(l.stats.coalesced, 1);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 20002);
	/* Reading the count between advances follows the grid too. */
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, last + 9 * period), n);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, last + 9 * period + 3 * tick), n - 3);

	/* Masked, it keeps counting and raises nothing; unmasking later fires
	 * only what comes after the unmask. */
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0xec), 0xec);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0xec);
	uint64_t now = last + 6 * period + period / 2;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_PERIODIC | 0xec, now), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, now), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0xec, now + 3 * period), VLAPIC_OK);
	CU_ASSERT_EQUAL(l.stats.timer_masked, 3); /* at 7, 8 and 9 periods */
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), last + 10 * period);
}

static void test_tsc_deadline(void)
{
	struct vlapic l;
	uint64_t v;
	timer_setup(&l, APIC_LVT_TIMER_TSC_DEADLINE, APIC_TDCR_DIV_1);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 0, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 50000, 100), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 200, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 50000);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 200), 50000);
	/* The initial count is ignored in this mode; the current count reads 0. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 99, 300), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMICT, 300), 0);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, 300), 0);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 49999), 0);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 50000), 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0xec);
	/* Fired: disarmed, and the MSR reads 0. */
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 50001, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 50001), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 90000), 0);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0xec), 0xec);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0xec);
	/* A deadline already past fires at the write. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 60000, 70000), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), 0xec);
	CU_ASSERT_EQUAL(vlapic_ack(&l, 0xec), 0xec);
	CU_ASSERT_EQUAL(vlapic_eoi(&l), 0xec);
	/* Rearm, move, disarm with 0. */
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 80000, 70000), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 85000, 70001), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), 85000);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 0, 70002), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 100000), 0);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 2);
	/* Masked: it still disarms, raising nothing. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_MASKED | APIC_LVT_TIMER_TSC_DEADLINE | 0xec, 0),
			VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 200000, 100000), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), 200000); /* the VMM must still come back to disarm it */
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 200000), 1);
	CU_ASSERT_EQUAL(l.stats.timer_masked, 1);
	CU_ASSERT_EQUAL(vlapic_pending_vector(&l), VLAPIC_NO_VECTOR);

	/* Leaving the mode disarms; outside it the MSR reads 0 and ignores writes. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | 0xec, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 300000, 200001), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | 0xec, 200002), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(vlapic_msr_write(&l, MSR_IA32_TSC_DEADLINE, 300000, 200003), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_msr_read(&l, MSR_IA32_TSC_DEADLINE, 200004, &v), VLAPIC_OK);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	/* And entering it disarms a counting one-shot (its initial count cleared). */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 1000, 300000), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | 0xec, 300001), VLAPIC_OK);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMICT, 300002), 0);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
}

static void test_current_count_and_mode_changes(void)
{
	struct vlapic l;
	timer_setup(&l, APIC_LVT_TIMER_ONESHOT, APIC_TDCR_DIV_2);
	uint64_t t0 = 0, tick2 = 2 * RATIO;
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 1000, t0), VLAPIC_OK);
	/* Divide by 2 for 100 counts, then by 32: the count goes on from 900. */
	uint64_t t1 = t0 + 100 * tick2;
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t1), 900);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TDCR, APIC_TDCR_DIV_32, t1), VLAPIC_OK);
	uint64_t tick32 = 32 * RATIO;
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t1), 900);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, t1 + tick32), 899);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, t1), t1 + 900 * tick32);
	/* One-shot -> periodic goes on counting and then reloads from the initial count. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_PERIODIC | 0xec, t1 + 10), VLAPIC_OK);
	uint64_t e1 = t1 + 900 * tick32;
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), e1);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, e1), 1);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), e1 + 1000 * tick32);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, e1), 1000);
	/* Periodic -> one-shot: the running period ends it. */
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | 0xec, e1 + 1), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, e1 + 1000 * tick32), 1);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, e1 + 1000 * tick32 + 5), 0);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 2);

	/* A software-disabled APIC keeps the timer counting, masked. */
	timer_setup(&l, APIC_LVT_TIMER_PERIODIC, APIC_TDCR_DIV_1);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_TMICT, 10, 0), VLAPIC_OK);
	CU_ASSERT_EQUAL(wr(&l, APIC_REG_SVR, 0xff, 5 * RATIO), VLAPIC_OK);
	CU_ASSERT_EQUAL(vlapic_timer_next(&l, 0), VLAPIC_TIMER_NONE);
	CU_ASSERT_EQUAL(rd(&l, APIC_REG_TMCCT, 13 * RATIO), 7);
	CU_ASSERT_EQUAL(vlapic_timer_advance(&l, 35 * RATIO), 3);
	CU_ASSERT_EQUAL(l.stats.timer_masked, 3);
	CU_ASSERT_EQUAL(l.stats.timer_fires, 0);
}

void register_suite_vlapic(void)
{
	CU_pSuite s = CU_add_suite("vlapic", NULL, NULL);
	CU_add_test(s, "power-up state, version register", test_reset_state);
	CU_add_test(s, "x2APIC MSRs: reserved, read-only, write-only, reserved bits (#GP)", test_x2apic_msr_semantics);
	CU_add_test(s, "xAPIC page: reserved offsets, fields, access sizes", test_xapic_mmio);
	CU_add_test(s, "IA32_APIC_BASE: mode transitions and reserved bits", test_apic_base_transitions);
	CU_add_test(s, "CR8 is TPR[7:4]", test_cr8);
	CU_add_test(s, "PPR: TPR or the in-service class", test_ppr_rule);
	CU_add_test(s, "EOI order, nesting, coalescing, spurious", test_eoi_order_and_nesting);
	CU_add_test(s, "level-triggered EOI owed, directed EOI", test_level_eoi);
	CU_add_test(s, "illegal vectors, ESR, error interrupt", test_illegal_vectors_and_errors);
	CU_add_test(s, "software disable masks the LVT", test_sw_disable_masks_lvts);
	CU_add_test(s, "IPIs to self: shorthands, physical, logical, SELF IPI", test_ipis);
	CU_add_test(s, "acceptance and priority against a brute-force model", test_against_reference);
	CU_add_test(s, "divide configuration: every encoding", test_divide_math);
	CU_add_test(s, "after review: TDCR rewrites, x2APIC LDR, the time limit", test_review_fixes);
	CU_add_test(s, "one-shot timer", test_oneshot);
	CU_add_test(s, "periodic timer: no drift, folded periods, masking", test_periodic_no_drift);
	CU_add_test(s, "TSC-deadline timer", test_tsc_deadline);
	CU_add_test(s, "current count across divide and mode changes", test_current_count_and_mode_changes);
}
