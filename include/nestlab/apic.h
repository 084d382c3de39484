/*
 * Local APIC architecture constants shared by every level, the guests and
 * the tests: register offsets, MSR numbers, bit fields.  One definition of
 * each; the VMM's virtual local APIC (vmm/vlapic.c) and a guest's APIC
 * driver both use these names.
 *
 * SDM Vol. 3A chapter "Advanced Programmable Interrupt Controller (APIC)":
 * the register map (table "Local APIC Register Address Map"), the x2APIC
 * MSR map (table "Local APIC Register Address Map Supported by x2APIC"),
 * the LVT, ESR, SVR, ICR and timer layouts (the figures of sections
 * "Local Vector Table", "Error Handling", "Spurious Interrupt", "Issuing
 * Interprocessor Interrupts" and "APIC Timer").
 */
#ifndef NESTLAB_APIC_H
#define NESTLAB_APIC_H

/* ---- Where the APIC is ---------------------------------------------- */

#define MSR_IA32_APIC_BASE    0x0000001bu
#define MSR_IA32_TSC_DEADLINE 0x000006e0u

/* IA32_APIC_BASE (SDM "Local APIC Status and Location"). */
#define APIC_BASE_BSP         (1ull << 8)  /* this is the bootstrap processor */
#define APIC_BASE_EXTD        (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN          (1ull << 11) /* APIC globally enabled */
#define APIC_BASE_ADDR_SHIFT  12
#define APIC_BASE_DEFAULT     0xfee00000ull /* the page after power-up */

/* The xAPIC page: 4 KiB of 32-bit registers, one per 16-byte slot. */
#define APIC_MMIO_SIZE        0x1000u
#define APIC_REG_STRIDE       0x10u

/* The x2APIC MSR range: MSR 0x800 + (MMIO offset >> 4).  The architectural
 * range is 0x800-0xbff; what the map does not name there is reserved (#GP). */
#define MSR_X2APIC_FIRST      0x00000800u
#define MSR_X2APIC_LAST       0x00000bffu
#define X2APIC_MSR(offset)    (MSR_X2APIC_FIRST + ((offset) >> 4))

/* CPUID leaf 1 bits that advertise the APIC and its modes. */
#define CPUID_1_EDX_APIC         (1u << 9)
#define CPUID_1_ECX_X2APIC       (1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

/* ---- Register offsets in the xAPIC page ----------------------------- */

#define APIC_REG_ID        0x020u /* local APIC ID */
#define APIC_REG_VERSION   0x030u /* version */
#define APIC_REG_TPR       0x080u /* task priority */
#define APIC_REG_APR       0x090u /* arbitration priority (P6 and Pentium only) */
#define APIC_REG_PPR       0x0a0u /* processor priority */
#define APIC_REG_EOI       0x0b0u /* end of interrupt */
#define APIC_REG_RRD       0x0c0u /* remote read (not on Pentium 4 and later) */
#define APIC_REG_LDR       0x0d0u /* logical destination */
#define APIC_REG_DFR       0x0e0u /* destination format (xAPIC only) */
#define APIC_REG_SVR       0x0f0u /* spurious-interrupt vector */
#define APIC_REG_ISR0      0x100u /* in-service, 8 registers of 32 bits up to 0x170 */
#define APIC_REG_TMR0      0x180u /* trigger mode, up to 0x1f0 */
#define APIC_REG_IRR0      0x200u /* interrupt request, up to 0x270 */
#define APIC_REG_ESR       0x280u /* error status */
#define APIC_REG_LVT_CMCI  0x2f0u /* corrected machine-check interrupt (only with MCG_CAP.CMCI_P) */
#define APIC_REG_ICR_LO    0x300u /* interrupt command, bits 31:0 */
#define APIC_REG_ICR_HI    0x310u /* interrupt command, bits 63:32 (xAPIC only) */
#define APIC_REG_LVT_TIMER 0x320u
#define APIC_REG_LVT_THERM 0x330u /* thermal sensor */
#define APIC_REG_LVT_PERF  0x340u /* performance-monitoring counters */
#define APIC_REG_LVT_LINT0 0x350u
#define APIC_REG_LVT_LINT1 0x360u
#define APIC_REG_LVT_ERROR 0x370u
#define APIC_REG_TMICT     0x380u /* timer initial count */
#define APIC_REG_TMCCT     0x390u /* timer current count */
#define APIC_REG_TDCR      0x3e0u /* timer divide configuration */
#define APIC_REG_SELF_IPI  0x3f0u /* x2APIC only: MSR 0x83f */

#define APIC_VECTOR_REGS   8u     /* ISR, TMR and IRR are each 8 x 32 bits */

/* ---- Fields ---------------------------------------------------------- */

#define APIC_VECTOR_MASK        0xffu
#define APIC_FIRST_LEGAL_VECTOR 16u   /* vectors 0-15 are illegal (SDM "Valid Interrupt Vectors") */
#define APIC_PRIO_CLASS(v)      (((v) >> 4) & 0xfu)

/* xAPIC ID and LDR: the 8-bit value lives in bits 31:24. */
#define APIC_XAPIC_ID_SHIFT     24
#define APIC_LDR_XAPIC_SHIFT    24

/* Version register. */
#define APIC_VERSION_INTEGRATED 0x14u          /* an integrated (not 82489DX) APIC */
#define APIC_VERSION_MAXLVT_SHIFT 16           /* bits 23:16: number of LVT entries minus 1 */
#define APIC_VERSION_EOI_SUPPRESS (1u << 24)   /* SVR bit 12 is supported */

/* Destination format register. */
#define APIC_DFR_FLAT           0xffffffffu
#define APIC_DFR_CLUSTER        0x0fffffffu
#define APIC_DFR_MODEL_MASK     0xf0000000u

/* Task priority. */
#define APIC_TPR_MASK           0xffu

/* Spurious-interrupt vector register. */
#define APIC_SVR_VECTOR_MASK    0xffu
#define APIC_SVR_ENABLE         (1u << 8)  /* APIC software enable */
#define APIC_SVR_FOCUS_DISABLE  (1u << 9)  /* focus processor checking disabled */
#define APIC_SVR_EOI_SUPPRESS   (1u << 12) /* no EOI broadcast for level-triggered vectors */
#define APIC_SVR_RESET          0xffu

/* Error status register. */
#define APIC_ESR_SEND_CHECKSUM  (1u << 0) /* P6 and Pentium only */
#define APIC_ESR_RECV_CHECKSUM  (1u << 1) /* P6 and Pentium only */
#define APIC_ESR_SEND_ACCEPT    (1u << 2) /* P6 and Pentium only */
#define APIC_ESR_RECV_ACCEPT    (1u << 3) /* P6 and Pentium only */
#define APIC_ESR_REDIR_IPI      (1u << 4) /* lowest-priority IPI not supported */
#define APIC_ESR_SEND_ILLEGAL   (1u << 5) /* an IPI sent with a vector 0-15 */
#define APIC_ESR_RECV_ILLEGAL   (1u << 6) /* an interrupt received or generated locally with a vector 0-15 */
#define APIC_ESR_ILLEGAL_REG    (1u << 7) /* xAPIC: access to a reserved register */

/* Local vector table entries (not every field in every entry). */
#define APIC_LVT_VECTOR_MASK    0xffu
#define APIC_LVT_DM_SHIFT       8          /* delivery mode, bits 10:8 */
#define APIC_LVT_DM_MASK        (7u << 8)
#define APIC_LVT_DELIV_STATUS   (1u << 12) /* read-only: send pending */
#define APIC_LVT_POLARITY_LOW   (1u << 13) /* LINT0/1: input pin active low */
#define APIC_LVT_REMOTE_IRR     (1u << 14) /* LINT0/1, read-only */
#define APIC_LVT_LEVEL          (1u << 15) /* LINT0/1: level triggered */
#define APIC_LVT_MASKED         (1u << 16)
#define APIC_LVT_TIMER_MODE_SHIFT 17       /* timer mode, bits 18:17 */
#define APIC_LVT_TIMER_MODE_MASK  (3u << 17)
#define APIC_LVT_TIMER_ONESHOT    (0u << 17)
#define APIC_LVT_TIMER_PERIODIC   (1u << 17)
#define APIC_LVT_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_LVT_TIMER_RESERVED   (3u << 17)

/* Delivery modes (LVT bits 10:8, ICR bits 10:8). */
#define APIC_DM_FIXED           0u
#define APIC_DM_LOWEST          1u /* ICR: lowest priority (the x2APIC figure lists 001b as reserved) */
#define APIC_DM_SMI             2u
#define APIC_DM_NMI             4u
#define APIC_DM_INIT            5u
#define APIC_DM_STARTUP         6u
#define APIC_DM_EXTINT          7u

/* Interrupt command register (bits of the low 32 bits unless noted). */
#define APIC_ICR_VECTOR_MASK    0xffu
#define APIC_ICR_DM_SHIFT       8
#define APIC_ICR_DM_MASK        (7u << 8)
#define APIC_ICR_DEST_LOGICAL   (1u << 11)
#define APIC_ICR_DELIV_STATUS   (1u << 12) /* xAPIC only; ignored on an x2APIC write */
#define APIC_ICR_LEVEL_ASSERT   (1u << 14)
#define APIC_ICR_TRIGGER_LEVEL  (1u << 15)
#define APIC_ICR_SH_SHIFT       18         /* destination shorthand, bits 19:18 */
#define APIC_ICR_SH_MASK        (3u << 18)
#define APIC_ICR_SH_NONE        (0u << 18)
#define APIC_ICR_SH_SELF        (1u << 18)
#define APIC_ICR_SH_ALL         (2u << 18)
#define APIC_ICR_SH_OTHERS      (3u << 18)
#define APIC_ICR_XAPIC_DEST_SHIFT 24       /* ICR_HI bits 31:24 */
#define APIC_ICR_X2APIC_DEST_SHIFT 32      /* the 64-bit ICR MSR: bits 63:32 */
#define APIC_XAPIC_BROADCAST    0xffu
#define APIC_X2APIC_BROADCAST   0xffffffffu

/* Timer divide configuration: bits 3, 1, 0 (bit 2 is reserved). */
#define APIC_TDCR_MASK          0xbu
#define APIC_TDCR_DIV_1         0xbu
#define APIC_TDCR_DIV_2         0x0u
#define APIC_TDCR_DIV_4         0x1u
#define APIC_TDCR_DIV_8         0x2u
#define APIC_TDCR_DIV_16        0x3u
#define APIC_TDCR_DIV_32        0x8u
#define APIC_TDCR_DIV_64        0x9u
#define APIC_TDCR_DIV_128       0xau

/* x2APIC LDR: cluster in bits 31:16, one bit of 16 in bits 15:0, both from the x2APIC ID. */
#define X2APIC_LDR_CLUSTER_SHIFT 16

#endif
