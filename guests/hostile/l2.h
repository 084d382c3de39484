/*
 * The L2 the hostile VMM runs when it means to succeed: a 64-bit guest of
 * a few pages that executes CPUID then HLT (l2_code.S), under an EPT12
 * that maps those pages in this VM's own memory, with a VMCS laid out as
 * a nestlab VMM lays out its own (vmm/vmcs_setup.c): the same wanted
 * controls, adjusted against the offered capability MSRs, the same guest
 * state, and this guest's current state as host state.
 *
 * L2-physical layout (identity-mapped by L2's own page tables, one 2 MiB page):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 code, 0x5000 stack page
 */
#ifndef NESTLAB_HOSTILE_L2_H
#define NESTLAB_HOSTILE_L2_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "vmx_offer.h"

#define L2_PAGES      6u
#define L2_PML4_GPA   0x1000ull
#define L2_CODE_GPA   0x4000ull /* L2's first instruction: CPUID */
#define L2_STACK_TOP  0x6000ull
#define L2_CPUID_LEN  2u        /* bytes of the CPUID instruction */
#define L2_DR7_SLOT_GPA 0x5ff8ull /* where l2_dr7_probe stores the DR7 it found (l2_code.S) */
/* l2_shadow_probe (l2_code.S): its inputs (five quadwords) and results (six), below the stack. */
#define L2_SHADOW_ARGS_GPA    0x5e80ull
#define L2_SHADOW_RESULTS_GPA 0x5e00ull

struct l2_controls {
	uint32_t pin, proc, proc2, exit, entry;
};

/* Entry points in l2_code.S besides its start, and the L2-physical address of one. */
extern const uint8_t l2_dr7_probe[], l2_shadow_probe[], l2_shadow_ept_probe[], l2_mtf_probe[], l2_window_probe[],
	l2_icebp_probe[], l2_out_probe[], l2_isr[], l2_ud_probe[], l2_sti_cpuid_probe[], l2_store_probe[],
	l2_int_probe[], l2_store_int_probe[], l2_sti_jmp_probe[], l2_spin_probe[], l2_nmi_probe[], l2_nmi_probe_sent[],
	l2_nmi_handler[], l2_intr_handler[], l2_intr_handler_eoi[], l2_cli_sti_probe[], l2_cli_sti_probe_hlt[];
void l2_ept12_own_perms(unsigned page, uint64_t perms);
#define L2_WATCHED_GPA 0x5f08ull /* l2_store_probe writes here */
#define L2_CODE64_DESCRIPTOR 0x00af9b000000ffffull /* L2's GDT entry 1 (selector 0x08) for event delivery: 64-bit code */
#define L2_DATA_DESCRIPTOR   0x00cf93000000ffffull /* entry 2 (selector 0x10, L2's SS): what IRET loads into SS */
#define L2_IDT_GPA 0x800ull /* L2's IDT, gates 0 to 0x40, in page 0 above L2's GDT (which is at 0, limit 0x27) */
/* What L2's handlers of L1's NMIs and interrupts count and note (l2_code.S), below the stack. */
#define L2_NMI_COUNT_GPA  0x5f20ull
#define L2_NMI_SEEN_GPA   0x5f28ull /* the NMI count the first handler saw just before its IRET */
#define L2_INTR_COUNT_GPA 0x5f30ull
uint64_t l2_code_gpa(const uint8_t *label);
#define L2_UNMAPPED_GPA 0x7000ull /* above L2's pages: EPT12 maps nothing there (l2_shadow_ept_probe) */
/* A quadword of L2's memory as L2 left it, and one written there for L2 to find. */
uint64_t l2_read_u64(uint64_t gpa);
void l2_write_u64(uint64_t gpa, uint64_t value);
/* A 64-bit interrupt gate of L2's IDT (at L2_IDT_GPA) to handler, code selector 0x08 (L2's GDT). */
void l2_put_gate(unsigned vector, uint64_t handler);

/*
 * The controls L2 runs with, adjusted against the offer.  Returns 0, or -1
 * with `missing` naming what the parent does not offer (EPT, 64-bit
 * host and guest, EFER load, HLT exiting).
 */
int l2_controls_choose(const struct vmx_offer *o, struct l2_controls *c, char *missing, size_t cap);

/* Fill L2's pages (page tables, code); an EPT12 onto them, and its EPTP. */
uint64_t l2_eptp_own(void);

/* An EPT12 that maps L2's pages onto L1-physical [outside, outside + L2_PAGES pages): not this VM's memory. */
uint64_t l2_eptp_outside(uint64_t outside);

/*
 * VMWRITE every field L2 needs into the current VMCS.  Returns the outcome
 * of the first VMWRITE that did not succeed (its field in *failed_field),
 * or VMsucceed.
 */
struct outcome l2_vmcs_write(const struct vmx_offer *o, const struct l2_controls *c, uint64_t eptp,
			     uint32_t *failed_field);

#endif
