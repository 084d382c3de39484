/*
 * The hostile guest's steps, in the order main.c runs them.  Each misuses
 * VMX in a few ways and checks every outcome against the SDM (Vol. 3
 * chapter 31 for the instructions, chapter 26 for VM entry), one check
 * record each.  A step that returns -1 found a required outcome missing
 * (no VMX, VMXON refused, ...): what follows it would test nothing.
 */
#ifndef NESTLAB_HOSTILE_STEPS_H
#define NESTLAB_HOSTILE_STEPS_H

#include <stdint.h>

#include "l2.h"
#include "nestlab/guest_boot.h"
#include "vmx_offer.h"

struct hostile {
	const struct nl_guest_boot *boot;
	char name[NL_NAME_MAX];
	uint64_t outside;          /* an L1-physical address above this VM's memory, below 4 GiB */
	struct vmx_offer vmx;
	struct l2_controls ctl;
	int controls_ok;           /* the offer has every control L2 needs */
	int l2_ready;              /* the L2 VMCS is written and current */
};

int step_discover(struct hostile *h);           /* 1: CPUID, IA32_FEATURE_CONTROL, capability MSRs */
void step_outside_vmx_operation(struct hostile *h); /* 2: VMX instructions before VMXON */
int step_vmxon(struct hostile *h);              /* 3: CR4.VMXE, VMXON's failures, VMXON */
void step_no_current_vmcs(struct hostile *h);   /* 4: instructions that need a current VMCS */
int step_vmptrld(struct hostile *h);            /* 5: VMPTRLD/VMCLEAR of bad addresses */
void step_fields(struct hostile *h);            /* 6: read-only and unsupported fields */
void step_never_launched(struct hostile *h);    /* 7: the L2 VMCS; VMRESUME before any VMLAUNCH */
void step_bad_vmcs(struct hostile *h);          /* 8: one bad control, host or guest field each */
void step_run_l2(struct hostile *h);            /* 9: L2 runs, its exits come back; VMLAUNCH again */
void step_vmcs_shadowing(struct hostile *h, uint64_t vmcs_l2); /* 10 (from 9): L2 on a shadow VMCS */
void step_l2_external_interrupts(struct hostile *h, uint64_t hlt_rip); /* (from 9): L1's APIC timer while L2 runs */
void step_line_hypercalls(struct hostile *h);   /* the interrupt-line hypercalls with bad arguments */

/*
 * 11, destructive: L2 under an EPT12 that maps memory this VM does not
 * own.  The parent must stop this VM; the function returns only if it
 * did not, after a failed check saying what happened instead.
 */
void step_ept12_outside(struct hostile *h);

#endif
