/*
 * A virtual local APIC, one per VM: the architectural register model of
 * SDM Vol. 3A chapter "Advanced Programmable Interrupt Controller (APIC)"
 * as plain C over plain data.  Nothing here reads a clock, touches a VMCS
 * or injects anything: the VMM passes the TSC in ("now") and turns the
 * answers into VM-entry events and faults.  Host-tested
 * (tests/unit/test_vlapic.c); constants in include/nestlab/apic.h.
 *
 * One register model behind two doors:
 *   - x2APIC: RDMSR/WRMSR of MSR 0x800 + (offset >> 4), with the SDM's
 *     reserved-MSR, reserved-bit, read-only and write-only rules (#GP);
 *   - xAPIC: 32-bit loads and stores into the 4 KiB page at
 *     IA32_APIC_BASE, where reserved offsets read 0 and ignore writes.
 * IA32_APIC_BASE, IA32_TSC_DEADLINE and CR8 (the TPR in 64-bit mode) are
 * here too, so everything the guest can see of its APIC is in one place.
 *
 * NMIs: an NMI IPI to this APIC latches one NMI (another while it waits is
 * counted as coalesced); the VMM delivers it as the processor's NMI.
 *
 * Interrupts: set_irq() accepts a vector into the IRR (the VMM's sources:
 * lines, timers, self-IPIs); pending_vector() says which one the processor
 * would take now, by the priority rule; the VMM injects it and calls ack()
 * (IRR -> ISR, what INTA does); the guest's EOI retires the highest ISR bit.
 *
 * Timer: counts TSC ticks.  The APIC timer's input clock is the bus clock,
 * cfg.tsc_per_bus_tick TSC ticks per bus tick, divided by the divide
 * configuration; one-shot and periodic modes count down the initial count
 * at that rate, TSC-deadline mode fires at IA32_TSC_DEADLINE.
 * timer_next() is the TSC the VMM's timer multiplexer must register;
 * timer_advance() fires what has come.  Every register write that changes
 * the timer first brings it up to "now", so an expiration that came before
 * the write is never lost nor moved.
 */
#ifndef NESTLAB_VMM_VLAPIC_H
#define NESTLAB_VMM_VLAPIC_H

#include <stdint.h>
#include "nestlab/apic.h"

/* The LVT entries, in register order (0x320, 0x330, ... 0x370). */
enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_LVT_COUNT
};

#define VLAPIC_NO_VECTOR   (-1)         /* pending_vector(), eoi(), take_level_eoi(): none */
#define VLAPIC_TIMER_NONE  UINT64_MAX   /* timer_next(): the timer will not raise an interrupt */
#define VLAPIC_MAX_TSC_PER_BUS_TICK (1u << 24) /* keeps 2^32 counts x 128 x ratio below 2^63 */
#define VLAPIC_DEFAULT_MAXPHYADDR 36

/* What the VMM tells the APIC about the processor it is part of. */
struct vlapic_config {
	uint32_t apic_id;          /* the x2APIC ID (CPUID.0BH:EDX); the xAPIC ID is its low 8 bits */
	uint32_t tsc_per_bus_tick; /* TSC ticks per APIC timer input tick before division, >= 1 */
	uint8_t bsp;               /* IA32_APIC_BASE.BSP */
	uint8_t x2apic;            /* CPUID.01H:ECX.x2APIC: IA32_APIC_BASE.EXTD may be set */
	uint8_t tsc_deadline;      /* CPUID.01H:ECX.TSC_Deadline: IA32_TSC_DEADLINE and timer mode 10b exist */
	uint8_t eoi_suppress;      /* version bit 24: SVR bit 12 (EOI-broadcast suppression) exists */
	uint8_t maxphyaddr;        /* bits of IA32_APIC_BASE's address that exist; 0: VLAPIC_DEFAULT_MAXPHYADDR */
};

enum vlapic_mode { VLAPIC_MODE_DISABLED, VLAPIC_MODE_XAPIC, VLAPIC_MODE_X2APIC };

/* What an access means for the guest. */
enum vlapic_status {
	VLAPIC_OK,       /* done (an xAPIC access to a reserved offset is done too: ignored, reads 0) */
	VLAPIC_GP,       /* the instruction faults with #GP(0) */
	VLAPIC_UNMAPPED, /* an MMIO access while the APIC is not in xAPIC mode: not an APIC access */
};

enum vlapic_trigger { VLAPIC_EDGE, VLAPIC_LEVEL };

enum vlapic_accept {
	VLAPIC_ACCEPTED,  /* now pending in the IRR */
	VLAPIC_COALESCED, /* the vector was already pending: one IRR bit holds both */
	VLAPIC_REJECTED,  /* illegal vector (ESR logged), or the APIC is disabled */
};

struct vlapic_counters {
	uint64_t accepted;        /* interrupts newly set in the IRR */
	uint64_t coalesced;       /* interrupts that found their IRR bit already set */
	uint64_t rejected;        /* illegal vector, or APIC disabled */
	uint64_t delivered;       /* ack(): IRR -> ISR */
	uint64_t spurious;        /* ack() answered with the spurious vector */
	uint64_t eoi;             /* EOIs that retired an ISR bit */
	uint64_t eoi_empty;       /* EOIs with nothing in service */
	uint64_t eoi_broadcasts;  /* level-triggered EOIs owed to the line that raised them */
	uint64_t timer_fires;     /* timer expirations that raised the LVT timer vector */
	uint64_t timer_missed;    /* periodic expirations folded into one because advance came late */
	uint64_t timer_masked;    /* expirations with the LVT timer entry masked */
	uint64_t ipi_self;        /* IPIs (ICR or SELF IPI) that reached this APIC */
	uint64_t ipi_nowhere;     /* IPIs whose destination is no APIC of this VM */
	uint64_t ipi_unsupported; /* IPIs with a delivery mode other than fixed, lowest priority or NMI */
	uint64_t nmi_coalesced;   /* NMIs sent while one was already waiting: the latch holds one */
	uint64_t nmi_taken;       /* NMIs the VMM took from the latch to deliver */
	uint64_t errors;          /* errors logged to the ESR */
	uint64_t gp;              /* accesses answered with #GP */
	uint64_t ignored;         /* xAPIC accesses that did nothing: reserved, read-only, bad size */
};

struct vlapic_timer {
	uint32_t initial;   /* initial-count register */
	uint32_t tdcr;      /* divide-configuration register */
	uint8_t running;    /* one-shot or periodic counting */
	uint64_t next;      /* TSC of the next expiration, VLAPIC_TIMER_NONE when none is armed */
	uint64_t deadline;  /* IA32_TSC_DEADLINE as written; 0: disarmed */
};

struct vlapic {
	struct vlapic_config cfg;
	uint64_t apic_base;        /* IA32_APIC_BASE */
	uint32_t version;          /* version register, fixed at init */
	uint8_t xapic_id;          /* xAPIC ID register bits 31:24 (writable in xAPIC mode) */
	uint8_t tpr;
	uint32_t ldr;              /* xAPIC LDR (bits 31:24); the x2APIC one is derived from the ID */
	uint32_t dfr;              /* model in bits 31:28, bits 27:0 read as ones */
	uint32_t svr;
	uint32_t esr;              /* what ESR reads: latched by the last ESR write */
	uint32_t esr_pending;      /* errors since the last ESR write */
	uint64_t icr;              /* xAPIC: ICR_HI:ICR_LO; x2APIC: the 64-bit MSR */
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t irr[APIC_VECTOR_REGS], isr[APIC_VECTOR_REGS], tmr[APIC_VECTOR_REGS];
	uint32_t eoi_owed[APIC_VECTOR_REGS]; /* level-triggered vectors EOIed, not yet taken */
	struct vlapic_timer timer;
	uint64_t last_unsupported_icr;
	uint8_t in_error;          /* raising the LVT error interrupt: no recursion */
	uint8_t nmi_pending;       /* an NMI IPI reached this APIC and waits for the VMM to deliver it */
	struct vlapic_counters stats;
};

/* Power-up state (SDM "Local APIC State After Power-Up or Reset"): xAPIC
 * mode, globally enabled at APIC_BASE_DEFAULT, software-disabled, every LVT
 * entry masked.  cfg is copied; tsc_per_bus_tick is clamped to
 * [1, VLAPIC_MAX_TSC_PER_BUS_TICK]. */
void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg);

enum vlapic_mode vlapic_mode(const struct vlapic *l);
/* The guest-physical address of the xAPIC page. */
uint64_t vlapic_base_gpa(const struct vlapic *l);

/* ---- Guest accesses --------------------------------------------------- */

/* IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range 0x800-0xbff. */
int vlapic_is_apic_msr(uint32_t msr);
/* RDMSR/WRMSR of an MSR vlapic_is_apic_msr() owns; any other: VLAPIC_GP. */
enum vlapic_status vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t now, uint64_t *val);
enum vlapic_status vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, uint64_t now);
/* A load or store of size 1, 2, 4 or 8 bytes at offset (< APIC_MMIO_SIZE) of
 * the xAPIC page.  A register is the first 4 bytes of its 16-byte slot;
 * loads see the rest of the slot as zeros; only aligned 32-bit stores reach
 * a register (the SDM's rule; anything else is ignored). */
enum vlapic_status vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size, uint64_t now,
				    uint64_t *val);
enum vlapic_status vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size, uint64_t val,
				     uint64_t now);
/* The register at offset of the xAPIC page as the current mode reads it
 * (the x2APIC's 64-bit ICR whole at APIC_REG_ICR_LO), with no side effect:
 * no ESR error, no counter; 0 for a slot with nothing readable.  What the
 * VMM copies into a virtual-APIC page (vmm/apicv.c). */
uint64_t vlapic_reg_peek(const struct vlapic *l, uint32_t offset, uint64_t now);
/* MOV from/to CR8: TPR[7:4] (SDM "Task Priority in IA-32e Mode"); bits 63:4 set: #GP. */
uint64_t vlapic_cr8_read(const struct vlapic *l);
enum vlapic_status vlapic_cr8_write(struct vlapic *l, uint64_t val);

/* ---- Interrupts ------------------------------------------------------- */

/* The processor priority: TPR, or the class of the highest in-service vector if higher. */
unsigned vlapic_ppr(const struct vlapic *l);
/* Accept a fixed interrupt from one of the VMM's sources. */
enum vlapic_accept vlapic_set_irq(struct vlapic *l, unsigned vector, enum vlapic_trigger trig);
/* The vector the processor would take now: the highest in the IRR whose
 * class is above PPR's, while the APIC is enabled; else VLAPIC_NO_VECTOR. */
int vlapic_pending_vector(const struct vlapic *l);
/* The interrupt acknowledge for an injection of vector: if it is still
 * what pending_vector() says, IRR -> ISR and vector is returned; otherwise
 * the spurious vector (SVR[7:0]), which sets no ISR bit. */
int vlapic_ack(struct vlapic *l, unsigned vector);
/* EOI: retire the highest in-service vector; returns it, or VLAPIC_NO_VECTOR. */
int vlapic_eoi(struct vlapic *l);
/* A level-triggered vector whose EOI the line's source is owed (the EOI
 * message to the I/O APIC, unless SVR suppresses it), highest first, then
 * forgotten; VLAPIC_NO_VECTOR when none. */
int vlapic_take_level_eoi(struct vlapic *l);

/* An NMI waits (an NMI IPI to this APIC); the VMM delivers it and then calls vlapic_nmi_take(). */
static inline int vlapic_nmi_pending(const struct vlapic *l) { return l->nmi_pending; }
void vlapic_nmi_take(struct vlapic *l);

/* ---- Timer ------------------------------------------------------------ */

/* The divisor an encoding of the divide-configuration register selects: 1..128. */
unsigned vlapic_divisor(uint32_t tdcr);
/* TSC ticks one count of the timer takes now: divisor x tsc_per_bus_tick. */
uint64_t vlapic_timer_tick(const struct vlapic *l);
/* The TSC at which the timer next fires (possibly already past: it is
 * due), or VLAPIC_TIMER_NONE when it is idle, or a masked one-shot or
 * periodic timer (a masked TSC deadline still comes: it must disarm and
 * clear IA32_TSC_DEADLINE on time).  A function of the state alone; now
 * is there for callers that ask "from now".
 *
 * Times are TSC values that only grow (the VMM's one clock, never
 * wrapped); register reads do not move time on, so the VMM calls
 * vlapic_timer_advance(now) before it handles a guest's APIC access and
 * before every entry, and what has come by then shows (IRR, a passed
 * deadline reading 0). */
uint64_t vlapic_timer_next(const struct vlapic *l, uint64_t now);
/* Fire every expiration up to now: the LVT timer vector into the IRR unless
 * masked; a periodic timer reloads on its own grid (expirations at start +
 * k x period, never moved by when advance runs) and counts the periods it
 * folded (timer_missed).  Returns how many expirations came. */
unsigned vlapic_timer_advance(struct vlapic *l, uint64_t now);
/* The current-count register at now (0 in TSC-deadline mode or when idle). */
uint32_t vlapic_timer_current_count(const struct vlapic *l, uint64_t now);

#endif
