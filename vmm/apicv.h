/*
 * APIC virtualization (SDM Vol. 3 chapter 30), the pure half: which APIC
 * registers the processor virtualizes, the MSR bitmap that lets those
 * x2APIC MSRs through, and keeping a virtual-APIC page in step with the
 * VM's emulated APIC (vlapic.h), which stays the one model of its state.
 * Plain C over plain data, host-tested (tests/unit/test_apicv.c); the
 * VMCS half is vmm/apicv_vm.c.
 *
 * While the guest runs, the processor owns three things of the page: the
 * TPR (TPR virtualization, 30.1.2), the IRR and ISR with RVI/SVI
 * (virtual-interrupt delivery, EOI and self-IPI virtualization, 30.1.3,
 * 30.1.4, 30.2).  The VMM writes them into the page before it enters the
 * VM (apicv_push()), remembers what it wrote, and takes back what the
 * guest changed at the next exit that looks at the APIC (apicv_pull()):
 * bits the processor moved from IRR to ISR were delivered, ISR bits gone
 * were EOIed, new IRR or ISR bits came by a self IPI.  Every other
 * register the processor may read from the page is written there whole
 * after the VMM changed it (apicv_page_image()).
 */
#ifndef NESTLAB_VMM_APICV_H
#define NESTLAB_VMM_APICV_H

#include <stdint.h>
#include "vlapic.h"

#define APICV_PAGE_SIZE      4096u
#define APICV_MSR_BITMAP_SIZE 4096u

/*
 * Whether a read of the register at offset comes from the virtual-APIC
 * page without an exit under APIC-register virtualization: the xAPIC
 * list of 30.4.1 or, in x2APIC mode, the MSRs of 30.5 (800H + offset/16).
 * The current count (390H / 839H) is not on either list: it exits, so the
 * VMM answers it from the clock.
 */
int apicv_read_virtualized(uint32_t offset, int x2apic);

/*
 * The MSR bitmap (SDM 25.6.9: reads of MSRs 0-1FFFH at byte 0, of
 * C0000000H-C0001FFFH at 1024, writes at 2048 and 3072; a set bit exits)
 * of a VM in x2APIC mode under APIC virtualization: everything exits but
 * the reads apicv_read_virtualized() lists and the writes the processor
 * virtualizes, TPR (808H), EOI (80BH) and SELF IPI (83FH) (30.5).
 * IA32_TSC_DEADLINE (6E0H) exits: the VMM's timer multiplexer owns time.
 */
void apicv_msr_bitmap(uint8_t bitmap[APICV_MSR_BITMAP_SIZE]);
/* Whether the bitmap lets RDMSR (write = 0) or WRMSR (write = 1) of msr through. */
int apicv_msr_passes(const uint8_t bitmap[APICV_MSR_BITMAP_SIZE], uint32_t msr, int write);

/* What the VMM last wrote into the page's IRR and ISR. */
struct apicv_sync {
	uint32_t irr[APIC_VECTOR_REGS], isr[APIC_VECTOR_REGS];
};

/* What the processor did that the VMM saw only in the page afterwards, and the exits the path adds
 * (NL_APICV_COUNTERS, nestlab/records.h, puts them in the lapic record). */
struct apicv_counters {
	uint64_t apicv_delivered;   /* virtual interrupts the processor delivered (IRR -> ISR), also vlapic "delivered" */
	uint64_t apicv_eois;        /* EOIs it virtualized, also vlapic "eoi" */
	uint64_t apicv_self_ipis;   /* self IPIs it virtualized (seen in IRR or ISR), also vlapic "accepted" */
	uint64_t eoi_exits;         /* EOI-induced exits (level-triggered vectors) */
	uint64_t apic_write_exits;  /* APIC-write exits: a register write the VMM emulates after the processor */
	uint64_t apic_access_exits; /* APIC-access exits: an xAPIC access the processor does not virtualize */
};

/* Every register the processor may read from the page, as the APIC reads
 * them now, into page (the mode decides which: apicv_read_virtualized()). */
void apicv_page_image(const struct vlapic *l, uint8_t *page, uint64_t now);

/* The APIC's TPR, IRR and ISR into the page; s, which must say what the page holds (all
 * zero for a zeroed page), remembers what was written: only words that differ are written. */
void apicv_push(const struct vlapic *l, uint8_t *page, struct apicv_sync *s);

/* The guest interrupt status for the next entry (25.4.2): RVI, the highest
 * requesting vector (0 when none, or hold), and SVI, the highest in service. */
uint16_t apicv_intr_status(const struct vlapic *l, int hold);

/*
 * What the guest did to the page since apicv_push() wrote s, into the APIC:
 * its TPR, deliveries, EOIs (a level-triggered vector's EOI owed to its
 * source as vlapic_eoi() would), self IPIs; counted in the APIC's counters
 * and in c.  A self IPI sent, delivered and EOIed between two pulls leaves
 * no trace in the page and is not counted.  s then matches the page.
 */
void apicv_pull(struct vlapic *l, const uint8_t *page, struct apicv_sync *s, struct apicv_counters *c);

/* The EOI-exit bitmap (25.4.2), 4 x 64 bits: the level-triggered vectors
 * (TMR), whose EOI the VMM must see when it happens. */
void apicv_eoi_exit_bitmap(const struct vlapic *l, uint64_t out[4]);

#endif
