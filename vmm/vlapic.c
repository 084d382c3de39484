/*
 * The virtual local APIC; see vlapic.h.  Section names are those of SDM
 * Vol. 3A chapter "Advanced Programmable Interrupt Controller (APIC)".
 *
 * Registers are dispatched through one table indexed by offset >> 4 (the
 * x2APIC MSR number minus 0x800): which door (xAPIC, x2APIC) may read and
 * write each one, the bits a WRMSR may carry without #GP, and its read and
 * write handlers.  The door only decides what is legal; the handlers are
 * the same for both.
 */
#include <stddef.h>
#include <string.h>

#include "vlapic.h"

#define NREGS ((APIC_REG_SELF_IPI >> 4) + 1) /* slots 0x000-0x3f0; the rest of the page is reserved */

/* The version register: an integrated APIC with VLAPIC_LVT_COUNT entries
 * (SDM "Local APIC Version Register": bits 23:16 are the count minus 1). */
#define VLAPIC_VERSION (APIC_VERSION_INTEGRATED | ((VLAPIC_LVT_COUNT - 1u) << APIC_VERSION_MAXLVT_SHIFT))

/* ---- Bit vectors (IRR, ISR, TMR) ---------------------------------------- */

static int vec_test(const uint32_t *r, unsigned v)
{
	return (r[v >> 5] >> (v & 31)) & 1;
}

static void vec_set(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static int vec_highest(const uint32_t *r)
{
	for (int i = APIC_VECTOR_REGS - 1; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return VLAPIC_NO_VECTOR;
}

/* ---- Modes -------------------------------------------------------------- */

enum vlapic_mode vlapic_mode(const struct vlapic *l)
{
	if (!(l->apic_base & APIC_BASE_EN))
		return VLAPIC_MODE_DISABLED;
	return (l->apic_base & APIC_BASE_EXTD) ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
}

uint64_t vlapic_base_gpa(const struct vlapic *l)
{
	return l->apic_base & ~((1ull << APIC_BASE_ADDR_SHIFT) - 1);
}

static int sw_enabled(const struct vlapic *l)
{
	return (l->svr & APIC_SVR_ENABLE) != 0;
}

/* Globally and software enabled: the APIC takes and delivers interrupts. */
static int apic_on(const struct vlapic *l)
{
	return vlapic_mode(l) != VLAPIC_MODE_DISABLED && sw_enabled(l);
}

static uint32_t timer_mode(const struct vlapic *l)
{
	return l->lvt[VLAPIC_LVT_TIMER] & APIC_LVT_TIMER_MODE_MASK;
}

/* ---- Reset ---------------------------------------------------------------- */

/* Registers to their power-up values (SDM "Local APIC State After Power-Up
 * or Reset"); IA32_APIC_BASE, the configuration and the counters stay. */
static void reset_registers(struct vlapic *l)
{
	l->xapic_id = (uint8_t)l->cfg.apic_id;
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = APIC_DFR_FLAT;
	l->svr = APIC_SVR_RESET;
	l->esr = l->esr_pending = 0;
	l->icr = 0;
	for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
		l->lvt[i] = APIC_LVT_MASKED;
	memset(l->irr, 0, sizeof l->irr);
	memset(l->isr, 0, sizeof l->isr);
	memset(l->tmr, 0, sizeof l->tmr);
	memset(l->eoi_owed, 0, sizeof l->eoi_owed);
	l->timer.initial = 0;
	l->timer.tdcr = 0;
	l->timer.running = 0;
	l->timer.next = VLAPIC_TIMER_NONE;
	l->timer.deadline = 0;
	l->in_error = 0;
}

void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg)
{
	memset(l, 0, sizeof *l);
	l->cfg = *cfg;
	if (l->cfg.tsc_per_bus_tick == 0)
		l->cfg.tsc_per_bus_tick = 1;
	if (l->cfg.tsc_per_bus_tick > VLAPIC_MAX_TSC_PER_BUS_TICK)
		l->cfg.tsc_per_bus_tick = VLAPIC_MAX_TSC_PER_BUS_TICK;
	if (l->cfg.maxphyaddr == 0 || l->cfg.maxphyaddr > 52)
		l->cfg.maxphyaddr = VLAPIC_DEFAULT_MAXPHYADDR;
	l->version = VLAPIC_VERSION | (l->cfg.eoi_suppress ? APIC_VERSION_EOI_SUPPRESS : 0);
	l->apic_base = APIC_BASE_DEFAULT | APIC_BASE_EN | (l->cfg.bsp ? APIC_BASE_BSP : 0);
	reset_registers(l);
}

/* ---- Acceptance, priority, EOI (SDM "Interrupt Handling", "Task and
 * Processor Priorities") ------------------------------------------------- */

static enum vlapic_accept accept(struct vlapic *l, unsigned vector, enum vlapic_trigger trig);

/* Log errors in the ESR's hidden half and raise the LVT error interrupt
 * (SDM "Error Handling").  An error met while raising it (an illegal error
 * vector) is logged but raises nothing more. */
static void log_error(struct vlapic *l, uint32_t bits)
{
	l->esr_pending |= bits;
	l->stats.errors++;
	uint32_t lvt = l->lvt[VLAPIC_LVT_ERROR];
	if (l->in_error || (lvt & APIC_LVT_MASKED))
		return;
	l->in_error = 1;
	accept(l, lvt & APIC_LVT_VECTOR_MASK, VLAPIC_EDGE);
	l->in_error = 0;
}

/* Into the IRR.  TMR follows the trigger mode of the interrupt accepted
 * (SDM "Interrupt Acceptance for Fixed Interrupts"); an IRR bit already set
 * holds any further interrupt of its vector (one in the IRR, one in the ISR). */
static enum vlapic_accept accept(struct vlapic *l, unsigned vector, enum vlapic_trigger trig)
{
	if (!apic_on(l)) {
		l->stats.rejected++;
		return VLAPIC_REJECTED;
	}
	if (vector < APIC_FIRST_LEGAL_VECTOR || vector > APIC_VECTOR_MASK) {
		l->stats.rejected++;
		log_error(l, APIC_ESR_RECV_ILLEGAL);
		return VLAPIC_REJECTED;
	}
	if (vec_test(l->irr, vector)) {
		l->stats.coalesced++;
		return VLAPIC_COALESCED;
	}
	vec_set(l->irr, vector);
	if (trig == VLAPIC_LEVEL)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	l->stats.accepted++;
	return VLAPIC_ACCEPTED;
}

enum vlapic_accept vlapic_set_irq(struct vlapic *l, unsigned vector, enum vlapic_trigger trig)
{
	return accept(l, vector, trig);
}

/* SDM "Processor Priority Register (PPR)": if TPR[7:4] >= ISRV[7:4] then
 * PPR = TPR, else PPR[7:4] = ISRV[7:4] and PPR[3:0] = 0, where ISRV is the
 * highest in-service vector (0 when none). */
unsigned vlapic_ppr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr);
	unsigned isr_class = isrv < 0 ? 0 : APIC_PRIO_CLASS((unsigned)isrv);
	if (APIC_PRIO_CLASS(l->tpr) >= isr_class)
		return l->tpr;
	return isr_class << 4;
}

/* SDM "Interrupt Acceptance for Fixed Interrupts": the highest IRR vector
 * is dispatched when its class is above PPR[7:4]. */
int vlapic_pending_vector(const struct vlapic *l)
{
	/*
	 * Only a globally disabled APIC delivers nothing: a software-disabled
	 * one refuses new interrupts (accept()) but the ones it holds in the
	 * IRR "are held and require masking or handling by the CPU" (SDM
	 * "Local APIC State After It Has Been Software Disabled"), as KVM and
	 * Bochs deliver them.
	 */
	if (vlapic_mode(l) == VLAPIC_MODE_DISABLED)
		return VLAPIC_NO_VECTOR;
	int v = vec_highest(l->irr);
	if (v < 0 || APIC_PRIO_CLASS((unsigned)v) <= APIC_PRIO_CLASS(vlapic_ppr(l)))
		return VLAPIC_NO_VECTOR;
	return v;
}

/* SDM "Spurious Interrupt": an acknowledge that finds the interrupt no
 * longer deliverable (TPR raised, APIC disabled meanwhile) gets the
 * spurious vector, with no ISR bit and no EOI owed. */
int vlapic_ack(struct vlapic *l, unsigned vector)
{
	int p = vlapic_pending_vector(l);
	if (p < 0 || (unsigned)p != vector) {
		l->stats.spurious++;
		return (int)(l->svr & APIC_SVR_VECTOR_MASK);
	}
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
	l->stats.delivered++;
	return p;
}

/* SDM "End-of-Interrupt (EOI)": the highest ISR bit is cleared; for a
 * level-triggered vector (TMR set) an EOI message goes to the I/O APIC
 * unless SVR suppresses EOI broadcasts (the guest then EOIs the I/O APIC
 * itself: "directed EOI"). */
int vlapic_eoi(struct vlapic *l)
{
	int v = vec_highest(l->isr);
	if (v < 0) {
		l->stats.eoi_empty++;
		return VLAPIC_NO_VECTOR;
	}
	vec_clear(l->isr, (unsigned)v);
	l->stats.eoi++;
	if (vec_test(l->tmr, (unsigned)v) && !(l->svr & APIC_SVR_EOI_SUPPRESS)) {
		vec_set(l->eoi_owed, (unsigned)v);
		l->stats.eoi_broadcasts++;
	}
	return v;
}

int vlapic_take_level_eoi(struct vlapic *l)
{
	int v = vec_highest(l->eoi_owed);
	if (v >= 0)
		vec_clear(l->eoi_owed, (unsigned)v);
	return v;
}

/* ---- Timer (SDM "APIC Timer") --------------------------------------------- */

/* Divide configuration: bits 3,1,0 form a 3-bit code; 111b divides by 1,
 * code n < 7 by 2^(n+1). */
unsigned vlapic_divisor(uint32_t tdcr)
{
	unsigned code = ((tdcr >> 1) & 4u) | (tdcr & 3u);
	return code == 7 ? 1u : 2u << code;
}

uint64_t vlapic_timer_tick(const struct vlapic *l)
{
	return (uint64_t)vlapic_divisor(l->timer.tdcr) * l->cfg.tsc_per_bus_tick;
}

static uint64_t timer_period(const struct vlapic *l)
{
	return (uint64_t)l->timer.initial * vlapic_timer_tick(l);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return b >= UINT64_MAX - a ? UINT64_MAX - 1 : a + b; /* never VLAPIC_TIMER_NONE (UINT64_MAX) */
}

static void timer_stop(struct vlapic *l)
{
	l->timer.running = 0;
	l->timer.next = VLAPIC_TIMER_NONE;
}

/* Start one-shot or periodic counting from the initial count at now. */
static void timer_start(struct vlapic *l, uint64_t now)
{
	if (l->timer.initial == 0) {
		timer_stop(l);
		return;
	}
	l->timer.running = 1;
	l->timer.next = add_sat(now, timer_period(l));
}

uint64_t vlapic_timer_next(const struct vlapic *l, uint64_t now)
{
	(void)now;
	if (vlapic_mode(l) == VLAPIC_MODE_DISABLED)
		return VLAPIC_TIMER_NONE;
	/*
	 * A masked one-shot or periodic timer needs no wake-up: its count is
	 * computed from time when read.  A TSC deadline disarms itself and
	 * clears IA32_TSC_DEADLINE when it passes, masked or not (SDM
	 * "TSC-Deadline Mode"), so it is advanced on time either way.
	 */
	if ((l->lvt[VLAPIC_LVT_TIMER] & APIC_LVT_MASKED) && timer_mode(l) != APIC_LVT_TIMER_TSC_DEADLINE)
		return VLAPIC_TIMER_NONE;
	return l->timer.next;
}

unsigned vlapic_timer_advance(struct vlapic *l, uint64_t now)
{
	if (l->timer.next == VLAPIC_TIMER_NONE || now < l->timer.next)
		return 0;
	uint64_t n = 1;
	switch (timer_mode(l)) {
	case APIC_LVT_TIMER_PERIODIC: {
		/* Reload on the grid: the next expiration is a whole number of
		 * periods after the last, whenever advance runs. */
		uint64_t period = timer_period(l);
		n = (now - l->timer.next) / period + 1;
		/* n * period cannot wrap: it is at most now - next + period. */
		l->timer.next = n > (UINT64_MAX - 1) / period ? UINT64_MAX - 1 : add_sat(l->timer.next, n * period);
		break;
	}
	case APIC_LVT_TIMER_TSC_DEADLINE:
		/* "When the timer generates an interrupt, it disarms itself and
		 * clears the IA32_TSC_DEADLINE MSR." */
		l->timer.deadline = 0;
		timer_stop(l);
		break;
	default: /* one-shot: the count stays at 0 */
		timer_stop(l);
		break;
	}
	uint32_t lvt = l->lvt[VLAPIC_LVT_TIMER];
	if (lvt & APIC_LVT_MASKED) {
		l->stats.timer_masked += n;
	} else {
		l->stats.timer_fires++;
		l->stats.timer_missed += n - 1;
		accept(l, lvt & APIC_LVT_VECTOR_MASK, VLAPIC_EDGE);
	}
	return n > 0xffffffffu ? 0xffffffffu : (unsigned)n;
}

/* One-shot and periodic: the count falls by one every tick from the
 * initial count; ceil(remaining TSC / tick) is the same as initial minus
 * the whole ticks elapsed since the last (re)load. */
uint32_t vlapic_timer_current_count(const struct vlapic *l, uint64_t now)
{
	if (!l->timer.running || timer_mode(l) == APIC_LVT_TIMER_TSC_DEADLINE)
		return 0;
	uint64_t tick = vlapic_timer_tick(l), next = l->timer.next, remaining;
	if (now < next) {
		remaining = next - now;
	} else if (timer_mode(l) == APIC_LVT_TIMER_PERIODIC) {
		uint64_t period = timer_period(l);
		remaining = period - (now - next) % period;
	} else {
		return 0;
	}
	return (uint32_t)((remaining + tick - 1) / tick);
}

/* ---- Interprocessor interrupts (SDM "Issuing Interprocessor Interrupts",
 * "ICR Operation in x2APIC Mode", "Self IPI Register") ----------------- */

/* Does an ICR with no shorthand name this APIC (SDM "Determining IPI
 * Destination": physical, flat and cluster logical, x2APIC logical)? */
static int icr_names_self(const struct vlapic *l, uint64_t icr, int x2)
{
	int logical = (icr & APIC_ICR_DEST_LOGICAL) != 0;
	if (x2) {
		uint32_t dest = (uint32_t)(icr >> APIC_ICR_X2APIC_DEST_SHIFT), id = l->cfg.apic_id;
		if (dest == APIC_X2APIC_BROADCAST)
			return 1;
		if (!logical)
			return dest == id;
		uint32_t ldr = ((id >> 4) << X2APIC_LDR_CLUSTER_SHIFT) | (1u << (id & 0xf));
		return (dest >> X2APIC_LDR_CLUSTER_SHIFT) == (ldr >> X2APIC_LDR_CLUSTER_SHIFT) &&
		       (dest & ldr & 0xffffu) != 0;
	}
	uint8_t dest = (uint8_t)(icr >> (32 + APIC_ICR_XAPIC_DEST_SHIFT));
	if (dest == APIC_XAPIC_BROADCAST)
		return 1;
	if (!logical)
		return dest == l->xapic_id;
	uint8_t ldr = (uint8_t)(l->ldr >> APIC_LDR_XAPIC_SHIFT);
	switch (l->dfr & APIC_DFR_MODEL_MASK) {
	case APIC_DFR_FLAT & APIC_DFR_MODEL_MASK:
		return (dest & ldr) != 0;
	case APIC_DFR_CLUSTER & APIC_DFR_MODEL_MASK:
		return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf) != 0;
	default: /* a model the SDM does not define */
		return 0;
	}
}

/* Whether an IPI's destination includes this APIC: shorthand self or all, or its ID or logical group. */
static int ipi_to_self(const struct vlapic *l, uint64_t icr, int x2)
{
	uint32_t sh = (uint32_t)icr & APIC_ICR_SH_MASK;
	return sh == APIC_ICR_SH_SELF || sh == APIC_ICR_SH_ALL || (sh == APIC_ICR_SH_NONE && icr_names_self(l, icr, x2));
}

/* One APIC per VM today, so an IPI reaches this APIC or no one.  Fixed and
 * lowest-priority IPIs are delivered (lowest priority among one APIC is
 * this one); an NMI is latched for the VMM to deliver (vlapic_nmi_pending());
 * the other delivery modes (SMI, INIT, SIPI) are counted and kept for the
 * VMM, not acted on. */
static void send_ipi(struct vlapic *l, uint64_t icr, int x2)
{
	unsigned vector = (unsigned)(icr & APIC_ICR_VECTOR_MASK);
	unsigned dm = (unsigned)((icr & APIC_ICR_DM_MASK) >> APIC_ICR_DM_SHIFT);
	if (dm == APIC_DM_NMI) {
		/* The vector is ignored (SDM "Interrupt Command Register"); one NMI waits at most. */
		if (!ipi_to_self(l, icr, x2)) {
			l->stats.ipi_nowhere++;
			return;
		}
		l->stats.ipi_self++;
		if (l->nmi_pending)
			l->stats.nmi_coalesced++;
		l->nmi_pending = 1;
		return;
	}
	if (dm != APIC_DM_FIXED && dm != APIC_DM_LOWEST) {
		l->stats.ipi_unsupported++;
		l->last_unsupported_icr = icr;
		return;
	}
	if (vector < APIC_FIRST_LEGAL_VECTOR) {
		log_error(l, APIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (!ipi_to_self(l, icr, x2)) {
		l->stats.ipi_nowhere++;
		return;
	}
	l->stats.ipi_self++;
	accept(l, vector, VLAPIC_EDGE); /* fixed IPIs are edge-triggered on Pentium 4 and later */
}

void vlapic_nmi_take(struct vlapic *l)
{
	if (l->nmi_pending) {
		l->nmi_pending = 0;
		l->stats.nmi_taken++;
	}
}

/* ---- The register table ---------------------------------------------------- */

enum {
	XR = 1 << 0,  /* xAPIC: readable */
	XW = 1 << 1,  /* xAPIC: writable */
	X2R = 1 << 2, /* x2APIC: RDMSR allowed */
	X2W = 1 << 3, /* x2APIC: WRMSR allowed */
};

struct vlapic_reg {
	uint8_t access;
	uint64_t x2_bits; /* bits a WRMSR may set: the writable ones and read-only ones it ignores */
	uint64_t (*read)(struct vlapic *l, unsigned idx, uint64_t now, int x2);
	enum vlapic_status (*write)(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2);
};

/* The LVT entries' fields (SDM "Local Vector Table" figure): the bits
 * software may write, per kind of entry.  Delivery status (and, on LINT0/1,
 * remote IRR) are read-only; a WRMSR may carry them and they are ignored. */
#define LVT_W_TIMER (APIC_LVT_VECTOR_MASK | APIC_LVT_MASKED | APIC_LVT_TIMER_MODE_MASK)
#define LVT_W_DM    (APIC_LVT_VECTOR_MASK | APIC_LVT_DM_MASK | APIC_LVT_MASKED) /* thermal, perf */
#define LVT_W_LINT  (LVT_W_DM | APIC_LVT_POLARITY_LOW | APIC_LVT_LEVEL)
#define LVT_W_ERROR (APIC_LVT_VECTOR_MASK | APIC_LVT_MASKED)
#define LVT_RO      APIC_LVT_DELIV_STATUS
#define LVT_RO_LINT (APIC_LVT_DELIV_STATUS | APIC_LVT_REMOTE_IRR)

static const uint32_t lvt_writable[VLAPIC_LVT_COUNT] = {
	[VLAPIC_LVT_TIMER] = LVT_W_TIMER, [VLAPIC_LVT_THERMAL] = LVT_W_DM, [VLAPIC_LVT_PERF] = LVT_W_DM,
	[VLAPIC_LVT_LINT0] = LVT_W_LINT,  [VLAPIC_LVT_LINT1] = LVT_W_LINT, [VLAPIC_LVT_ERROR] = LVT_W_ERROR,
};

#define ICR_LO_WRITABLE                                                                                \
	((uint64_t)(APIC_ICR_VECTOR_MASK | APIC_ICR_DM_MASK | APIC_ICR_DEST_LOGICAL |                  \
		    APIC_ICR_LEVEL_ASSERT | APIC_ICR_TRIGGER_LEVEL | APIC_ICR_SH_MASK))
#define ICR_HI_XAPIC_DEST (0xffull << APIC_ICR_XAPIC_DEST_SHIFT)

static unsigned lvt_index(unsigned idx)
{
	return idx - (APIC_REG_LVT_TIMER >> 4);
}

static uint64_t rd_id(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now;
	return x2 ? l->cfg.apic_id : (uint32_t)l->xapic_id << APIC_XAPIC_ID_SHIFT;
}

static enum vlapic_status wr_id(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	/* Read/write in xAPIC mode only (SDM "Local APIC ID"). */
	(void)idx, (void)now, (void)x2;
	l->xapic_id = (uint8_t)(val >> APIC_XAPIC_ID_SHIFT);
	return VLAPIC_OK;
}

static uint64_t rd_version(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->version;
}

static uint64_t rd_tpr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->tpr;
}

static enum vlapic_status wr_tpr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	l->tpr = (uint8_t)(val & APIC_TPR_MASK);
	return VLAPIC_OK;
}

static uint64_t rd_ppr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return vlapic_ppr(l);
}

static uint64_t rd_zero(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)l, (void)idx, (void)now, (void)x2;
	return 0;
}

static enum vlapic_status wr_eoi(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	/* xAPIC: any value; x2APIC: a non-zero value was refused by the table (#GP). */
	(void)idx, (void)val, (void)now, (void)x2;
	vlapic_eoi(l);
	return VLAPIC_OK;
}

static uint64_t rd_ldr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	/* SDM "Logical Destination Mode in x2APIC Mode": cluster ID = ID[19:4]
	 * in LDR[31:16], logical ID = 1 << ID[3:0] in LDR[15:0]. */
	(void)idx, (void)now;
	if (!x2)
		return l->ldr;
	uint32_t id = l->cfg.apic_id;
	return (uint32_t)(((id >> 4) & 0xffffu) << X2APIC_LDR_CLUSTER_SHIFT) | (1u << (id & 0xf)); /* ID[19:4], 32 bits */
}

static enum vlapic_status wr_ldr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	l->ldr = (uint32_t)val & (0xffu << APIC_LDR_XAPIC_SHIFT);
	return VLAPIC_OK;
}

static uint64_t rd_dfr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->dfr;
}

static enum vlapic_status wr_dfr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	l->dfr = ((uint32_t)val & APIC_DFR_MODEL_MASK) | ~APIC_DFR_MODEL_MASK;
	return VLAPIC_OK;
}

static uint64_t rd_svr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->svr;
}

static enum vlapic_status wr_svr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx;
	uint32_t bits = APIC_SVR_VECTOR_MASK | APIC_SVR_ENABLE | APIC_SVR_FOCUS_DISABLE;
	if (l->cfg.eoi_suppress)
		bits |= APIC_SVR_EOI_SUPPRESS;
	else if (x2 && (val & APIC_SVR_EOI_SUPPRESS))
		return VLAPIC_GP; /* reserved without EOI-broadcast suppression */
	vlapic_timer_advance(l, now); /* expirations before the write keep the old mask */
	l->svr = (uint32_t)val & bits;
	/* SDM "Local APIC State After It Has Been Software Disabled": every
	 * LVT mask bit is set, and stays set while disabled. */
	if (!sw_enabled(l))
		for (unsigned i = 0; i < VLAPIC_LVT_COUNT; i++)
			l->lvt[i] |= APIC_LVT_MASKED;
	return VLAPIC_OK;
}

static uint64_t rd_isr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)now, (void)x2;
	return l->isr[idx - (APIC_REG_ISR0 >> 4)];
}

static uint64_t rd_tmr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)now, (void)x2;
	return l->tmr[idx - (APIC_REG_TMR0 >> 4)];
}

static uint64_t rd_irr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)now, (void)x2;
	return l->irr[idx - (APIC_REG_IRR0 >> 4)];
}

static uint64_t rd_esr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->esr;
}

static enum vlapic_status wr_esr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	/* SDM "Error Handling": a write (of 0 in x2APIC mode: the table
	 * refuses others) makes the errors since the last write readable and
	 * starts collecting anew. */
	(void)idx, (void)val, (void)now, (void)x2;
	l->esr = l->esr_pending;
	l->esr_pending = 0;
	return VLAPIC_OK;
}

static uint64_t rd_icr_lo(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now;
	return x2 ? l->icr : (uint32_t)l->icr; /* delivery status: always idle */
}

static enum vlapic_status wr_icr_lo(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)now;
	if (x2)
		l->icr = val & (ICR_LO_WRITABLE | (0xffffffffull << APIC_ICR_X2APIC_DEST_SHIFT));
	else
		l->icr = (l->icr & ~0xffffffffull) | (val & ICR_LO_WRITABLE);
	send_ipi(l, l->icr, x2); /* the write of the low half sends (xAPIC) */
	return VLAPIC_OK;
}

static uint64_t rd_icr_hi(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->icr >> 32;
}

static enum vlapic_status wr_icr_hi(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	l->icr = (l->icr & 0xffffffffull) | ((val & ICR_HI_XAPIC_DEST) << 32);
	return VLAPIC_OK;
}

static uint64_t rd_lvt(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)now, (void)x2;
	return l->lvt[lvt_index(idx)];
}

static enum vlapic_status wr_lvt(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	unsigned i = lvt_index(idx);
	uint32_t bits = lvt_writable[i];
	uint32_t v = (uint32_t)val;
	if (i == VLAPIC_LVT_TIMER) {
		/* Mode 10b exists only with CPUID's TSC-deadline bit, 11b never
		 * (SDM "LVT Timer Register"): x2APIC #GP; xAPIC ignores bit 18. */
		uint32_t mode = v & APIC_LVT_TIMER_MODE_MASK;
		int reserved = mode == APIC_LVT_TIMER_RESERVED ||
			       (mode == APIC_LVT_TIMER_TSC_DEADLINE && !l->cfg.tsc_deadline);
		if (reserved) {
			if (x2)
				return VLAPIC_GP;
			v &= ~APIC_LVT_TIMER_TSC_DEADLINE;
		}
		vlapic_timer_advance(l, now); /* what came before the write fires as it was */
		uint32_t old = timer_mode(l), new = v & APIC_LVT_TIMER_MODE_MASK;
		/* SDM "TSC-Deadline Mode": a transition into or out of it disarms
		 * the timer; one-shot <-> periodic goes on counting. */
		if ((old == APIC_LVT_TIMER_TSC_DEADLINE) != (new == APIC_LVT_TIMER_TSC_DEADLINE)) {
			l->timer.initial = 0;
			l->timer.deadline = 0;
			timer_stop(l);
		}
	}
	if (!sw_enabled(l))
		v |= APIC_LVT_MASKED;
	l->lvt[i] = v & bits;
	return VLAPIC_OK;
}

static uint64_t rd_tmict(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->timer.initial;
}

static enum vlapic_status wr_tmict(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	(void)idx, (void)x2;
	/* In TSC-deadline mode writes to the initial count are ignored. */
	if (timer_mode(l) == APIC_LVT_TIMER_TSC_DEADLINE)
		return VLAPIC_OK;
	vlapic_timer_advance(l, now);
	l->timer.initial = (uint32_t)val; /* 0 stops the timer */
	timer_start(l, now);
	return VLAPIC_OK;
}

static uint64_t rd_tmcct(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)x2;
	return vlapic_timer_current_count(l, now);
}

static uint64_t rd_tdcr(struct vlapic *l, unsigned idx, uint64_t now, int x2)
{
	(void)idx, (void)now, (void)x2;
	return l->timer.tdcr;
}

static enum vlapic_status wr_tdcr(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	/*
	 * A new divisor takes effect from now: what is left of the count,
	 * partial tick included, goes on at the new rate (scaled by new/old,
	 * as KVM does), and a periodic timer's next periods use it.  The same
	 * divisor written again changes nothing, so rewriting TDCR cannot
	 * postpone the timer.
	 */
	(void)idx, (void)x2;
	vlapic_timer_advance(l, now);
	uint32_t tdcr = (uint32_t)val & APIC_TDCR_MASK;
	uint64_t old_div = vlapic_divisor(l->timer.tdcr), new_div = vlapic_divisor(tdcr);
	l->timer.tdcr = tdcr;
	if (old_div == new_div || !l->timer.running || timer_mode(l) == APIC_LVT_TIMER_TSC_DEADLINE)
		return VLAPIC_OK;
	uint64_t left = l->timer.next > now ? l->timer.next - now : 0;
	/* left * new / old without overflow: left < 2^63 and the divisors are at most 128. */
	uint64_t scaled = (left / old_div) * new_div + (left % old_div) * new_div / old_div;
	l->timer.next = add_sat(now, scaled);
	return VLAPIC_OK;
}

static enum vlapic_status wr_self_ipi(struct vlapic *l, unsigned idx, uint64_t val, uint64_t now, int x2)
{
	/*
	 * SDM "Self IPI Register": a fixed, edge-triggered IPI to this APIC.
	 * An illegal vector written there is a send error (ESR bit 5, "a write
	 * to the ICR ... or to SELF IPI register"), and, this APIC receiving
	 * it, a receive error too (accept()).
	 */
	(void)idx, (void)now, (void)x2;
	l->stats.ipi_self++;
	unsigned vector = (unsigned)(val & APIC_VECTOR_MASK);
	if (vector < APIC_FIRST_LEGAL_VECTOR)
		log_error(l, APIC_ESR_SEND_ILLEGAL);
	accept(l, vector, VLAPIC_EDGE);
	return VLAPIC_OK;
}

#define R(off) [(off) >> 4]
#define RANGE(first, n) [(first) >> 4 ...((first) >> 4) + (n) - 1]
#define LVT_ROW(w, ro) {XR | XW | X2R | X2W, (w) | (ro), rd_lvt, wr_lvt}

/* SDM tables "Local APIC Register Address Map" (xAPIC) and "Local APIC
 * Register Address Map Supported by x2APIC".  A slot with no row is
 * reserved: x2APIC #GP, xAPIC read 0 / write ignored (ESR: illegal
 * register address).  Not here: APR and RRD (not on Pentium 4 and later),
 * LVT CMCI (only with MCG_CAP.CMCI_P). */
static const struct vlapic_reg regs[NREGS] = {
	R(APIC_REG_ID) = {XR | XW | X2R, 0, rd_id, wr_id},
	R(APIC_REG_VERSION) = {XR | X2R, 0, rd_version, NULL},
	R(APIC_REG_TPR) = {XR | XW | X2R | X2W, APIC_TPR_MASK, rd_tpr, wr_tpr},
	R(APIC_REG_PPR) = {XR | X2R, 0, rd_ppr, NULL},
	/* EOI is write-only; an xAPIC read gives 0 (read-modify-write EOIs work). */
	R(APIC_REG_EOI) = {XR | XW | X2W, 0, rd_zero, wr_eoi},
	R(APIC_REG_LDR) = {XR | XW | X2R, 0, rd_ldr, wr_ldr},
	R(APIC_REG_DFR) = {XR | XW, 0, rd_dfr, wr_dfr},
	R(APIC_REG_SVR) = {XR | XW | X2R | X2W,
			   APIC_SVR_VECTOR_MASK | APIC_SVR_ENABLE | APIC_SVR_FOCUS_DISABLE | APIC_SVR_EOI_SUPPRESS,
			   rd_svr, wr_svr},
	RANGE(APIC_REG_ISR0, APIC_VECTOR_REGS) = {XR | X2R, 0, rd_isr, NULL},
	RANGE(APIC_REG_TMR0, APIC_VECTOR_REGS) = {XR | X2R, 0, rd_tmr, NULL},
	RANGE(APIC_REG_IRR0, APIC_VECTOR_REGS) = {XR | X2R, 0, rd_irr, NULL},
	R(APIC_REG_ESR) = {XR | XW | X2R | X2W, 0, rd_esr, wr_esr},
	/* x2APIC: one 64-bit MSR; WRMSR ignores bit 12 (delivery status). */
	R(APIC_REG_ICR_LO) = {XR | XW | X2R | X2W,
			      ICR_LO_WRITABLE | APIC_ICR_DELIV_STATUS | (0xffffffffull << APIC_ICR_X2APIC_DEST_SHIFT),
			      rd_icr_lo, wr_icr_lo},
	R(APIC_REG_ICR_HI) = {XR | XW, 0, rd_icr_hi, wr_icr_hi},
	R(APIC_REG_LVT_TIMER) = LVT_ROW(LVT_W_TIMER, LVT_RO),
	R(APIC_REG_LVT_THERM) = LVT_ROW(LVT_W_DM, LVT_RO),
	R(APIC_REG_LVT_PERF) = LVT_ROW(LVT_W_DM, LVT_RO),
	R(APIC_REG_LVT_LINT0) = LVT_ROW(LVT_W_LINT, LVT_RO_LINT),
	R(APIC_REG_LVT_LINT1) = LVT_ROW(LVT_W_LINT, LVT_RO_LINT),
	R(APIC_REG_LVT_ERROR) = LVT_ROW(LVT_W_ERROR, LVT_RO),
	R(APIC_REG_TMICT) = {XR | XW | X2R | X2W, 0xffffffffull, rd_tmict, wr_tmict},
	R(APIC_REG_TMCCT) = {XR | X2R, 0, rd_tmcct, NULL},
	R(APIC_REG_TDCR) = {XR | XW | X2R | X2W, APIC_TDCR_MASK, rd_tdcr, wr_tdcr},
	R(APIC_REG_SELF_IPI) = {X2W, APIC_VECTOR_MASK, NULL, wr_self_ipi},
};

/* ---- The x2APIC door: MSRs (SDM "x2APIC Register Address Space") -------- */

int vlapic_is_apic_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

static enum vlapic_status gp(struct vlapic *l)
{
	l->stats.gp++;
	return VLAPIC_GP;
}

/* The x2APIC MSR's row, or NULL when the MSR is reserved or the APIC is not in x2APIC mode. */
static const struct vlapic_reg *x2_row(const struct vlapic *l, uint32_t msr)
{
	if (vlapic_mode(l) != VLAPIC_MODE_X2APIC || msr < MSR_X2APIC_FIRST || msr - MSR_X2APIC_FIRST >= NREGS)
		return NULL;
	return &regs[msr - MSR_X2APIC_FIRST];
}

/* SDM "x2APIC State Transitions": EN=0/EXTD=1 is invalid; x2APIC -> xAPIC
 * and disabled -> x2APIC must go through the other state; leaving the
 * enabled states resets the APIC. */
static enum vlapic_status write_apic_base(struct vlapic *l, uint64_t val)
{
	uint64_t addr_bits = ((1ull << l->cfg.maxphyaddr) - 1) & ~((1ull << APIC_BASE_ADDR_SHIFT) - 1);
	uint64_t bits = addr_bits | APIC_BASE_EN | APIC_BASE_BSP | (l->cfg.x2apic ? APIC_BASE_EXTD : 0);
	if (val & ~bits)
		return gp(l);
	enum vlapic_mode old = vlapic_mode(l);
	int en = (val & APIC_BASE_EN) != 0, extd = (val & APIC_BASE_EXTD) != 0;
	enum vlapic_mode new = !en ? VLAPIC_MODE_DISABLED : extd ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
	if ((!en && extd) || (old == VLAPIC_MODE_X2APIC && new == VLAPIC_MODE_XAPIC) ||
	    (old == VLAPIC_MODE_DISABLED && new == VLAPIC_MODE_X2APIC))
		return gp(l);
	/* BSP is the processor's, not software's: a write cannot change it. */
	l->apic_base = (val & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	if (new == VLAPIC_MODE_DISABLED && old != VLAPIC_MODE_DISABLED)
		reset_registers(l);
	return VLAPIC_OK;
}

/* SDM "TSC-Deadline Mode": outside it the MSR reads 0 and ignores writes;
 * a write of 0 disarms, any other value arms (one interrupt at most). */
static enum vlapic_status write_tsc_deadline(struct vlapic *l, uint64_t val, uint64_t now)
{
	if (timer_mode(l) != APIC_LVT_TIMER_TSC_DEADLINE || vlapic_mode(l) == VLAPIC_MODE_DISABLED)
		return VLAPIC_OK;
	vlapic_timer_advance(l, now);
	l->timer.deadline = val;
	l->timer.next = val ? (val == VLAPIC_TIMER_NONE ? val - 1 : val) : VLAPIC_TIMER_NONE;
	vlapic_timer_advance(l, now); /* a deadline already past fires at the write */
	return VLAPIC_OK;
}

enum vlapic_status vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *val)
{
	*val = 0;
	if (msr == MSR_IA32_APIC_BASE) {
		*val = l->apic_base;
		return VLAPIC_OK;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!l->cfg.tsc_deadline)
			return gp(l);
		if (timer_mode(l) == APIC_LVT_TIMER_TSC_DEADLINE)
			*val = l->timer.deadline;
		return VLAPIC_OK;
	}
	const struct vlapic_reg *r = x2_row(l, msr);
	if (!r || !(r->access & X2R))
		return gp(l); /* reserved, or write-only (EOI, SELF IPI) */
	*val = r->read(l, msr - MSR_X2APIC_FIRST, now, 1);
	return VLAPIC_OK;
}

enum vlapic_status vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, uint64_t now)
{
	if (msr == MSR_IA32_APIC_BASE)
		return write_apic_base(l, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!l->cfg.tsc_deadline)
			return gp(l);
		return write_tsc_deadline(l, val, now);
	}
	const struct vlapic_reg *r = x2_row(l, msr);
	/* SDM "Reserved Bit Checking": reserved bits (the upper 32 of every
	 * MSR but the ICR's among them) must be 0; read-only MSRs #GP too. */
	if (!r || !(r->access & X2W) || (val & ~r->x2_bits))
		return gp(l);
	enum vlapic_status s = r->write(l, msr - MSR_X2APIC_FIRST, val, now, 1);
	if (s == VLAPIC_GP)
		l->stats.gp++;
	return s;
}

/* ---- The xAPIC door: the MMIO page (SDM "Local APIC Register Address Map") */

enum vlapic_status vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size, uint64_t now,
				    uint64_t *val)
{
	*val = 0;
	if (vlapic_mode(l) != VLAPIC_MODE_XAPIC || offset >= APIC_MMIO_SIZE)
		return VLAPIC_UNMAPPED;
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		l->stats.ignored++;
		return VLAPIC_OK;
	}
	unsigned idx = offset >> 4, byte = offset & (APIC_REG_STRIDE - 1);
	if (idx >= NREGS || !(regs[idx].access & (XR | XW))) {
		log_error(l, APIC_ESR_ILLEGAL_REG);
		l->stats.ignored++;
		return VLAPIC_OK;
	}
	if (!(regs[idx].access & XR) || byte >= 4) {
		l->stats.ignored++;
		return VLAPIC_OK;
	}
	uint64_t reg = (uint32_t)regs[idx].read(l, idx, now, 0);
	uint64_t v = reg >> (8 * byte); /* bytes 4-15 of the slot read as 0 */
	*val = size == 8 ? v : v & ((1ull << (8 * size)) - 1);
	return VLAPIC_OK;
}

enum vlapic_status vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size, uint64_t val,
				     uint64_t now)
{
	if (vlapic_mode(l) != VLAPIC_MODE_XAPIC || offset >= APIC_MMIO_SIZE)
		return VLAPIC_UNMAPPED;
	unsigned idx = offset >> 4;
	if (idx >= NREGS || !(regs[idx].access & (XR | XW))) {
		log_error(l, APIC_ESR_ILLEGAL_REG);
		l->stats.ignored++;
		return VLAPIC_OK;
	}
	/* Only an aligned 32-bit store reaches a register; a read-only one ignores it. */
	if (size != 4 || (offset & (APIC_REG_STRIDE - 1)) || !(regs[idx].access & XW)) {
		l->stats.ignored++;
		return VLAPIC_OK;
	}
	return regs[idx].write(l, idx, (uint32_t)val, now, 0);
}

uint64_t vlapic_reg_peek(const struct vlapic *l, uint32_t offset, uint64_t now)
{
	unsigned idx = offset >> 4;
	if (offset >= APIC_MMIO_SIZE || idx >= NREGS || !regs[idx].read)
		return 0;
	/* The read functions take no const only because they share the write functions' table row. */
	return regs[idx].read((struct vlapic *)l, idx, now, vlapic_mode(l) == VLAPIC_MODE_X2APIC);
}

/* ---- CR8 (SDM "Task Priority in IA-32e Mode"): TPR[7:4] ---------------- */

uint64_t vlapic_cr8_read(const struct vlapic *l)
{
	return APIC_PRIO_CLASS(l->tpr);
}

enum vlapic_status vlapic_cr8_write(struct vlapic *l, uint64_t val)
{
	if (val > 0xf)
		return gp(l);
	l->tpr = (uint8_t)(val << 4);
	return VLAPIC_OK;
}
