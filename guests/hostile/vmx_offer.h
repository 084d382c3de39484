/*
 * The VMX capabilities the parent offers this guest, read from the
 * capability MSRs (SDM Vol. 3 Appendix A) the way any VMM reads real ones.
 */
#ifndef NESTLAB_HOSTILE_VMX_OFFER_H
#define NESTLAB_HOSTILE_VMX_OFFER_H

#include <stdint.h>

struct vmx_offer {
	uint64_t basic;
	uint32_t revision;          /* IA32_VMX_BASIC bits 30:0 */
	/* Control MSRs: the TRUE ones when IA32_VMX_BASIC bit 55 says they exist (A.2). */
	uint64_t pin, proc, proc2, exit, entry;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;          /* 0 when the secondary controls allow neither EPT nor VPID */
};

#define VMX_MISC_WAIT_FOR_SIPI (1ull << 8) /* activity state 3 may be entered */

/* Reads everything after IA32_VMX_BASIC (already in o->basic); 0, or the MSR whose RDMSR faulted. */
uint32_t vmx_offer_read(struct vmx_offer *o);

#endif
