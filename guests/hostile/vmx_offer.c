/* Reading the offered VMX capability MSRs (see vmx_offer.h). */
#include "vmx_offer.h"
#include "nestlab/vmx.h"
#include "probe.h"

static int read_msr(uint32_t msr, uint64_t *value, uint32_t *failed)
{
	if (*failed)
		return -1;
	if (probe_faulted(probe_rdmsr(msr, value))) {
		*failed = msr;
		return -1;
	}
	return 0;
}

uint32_t vmx_offer_read(struct vmx_offer *o)
{
	int true_ctls = (o->basic & VMX_BASIC_TRUE_CTLS) != 0;
	uint32_t failed = 0;

	o->revision = (uint32_t)o->basic & 0x7fffffffu;
	read_msr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS, &o->pin, &failed);
	read_msr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS, &o->proc, &failed);
	read_msr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS, &o->exit, &failed);
	read_msr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS, &o->entry, &failed);
	read_msr(MSR_IA32_VMX_MISC, &o->misc, &failed);
	read_msr(MSR_IA32_VMX_CR0_FIXED0, &o->cr0_fixed0, &failed);
	read_msr(MSR_IA32_VMX_CR0_FIXED1, &o->cr0_fixed1, &failed);
	read_msr(MSR_IA32_VMX_CR4_FIXED0, &o->cr4_fixed0, &failed);
	read_msr(MSR_IA32_VMX_CR4_FIXED1, &o->cr4_fixed1, &failed);
	o->proc2 = 0;
	o->ept_vpid = 0;
	/* The secondary-controls MSR exists only if "activate secondary controls" may be 1 (A.3.3). */
	if (!failed && ((o->proc >> 32) & CPU_ACTIVATE_SECONDARY)) {
		read_msr(MSR_IA32_VMX_PROCBASED_CTLS2, &o->proc2, &failed);
		/* ... and IA32_VMX_EPT_VPID_CAP only if EPT or VPID may be 1 (A.10). */
		if (!failed && ((o->proc2 >> 32) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID)))
			read_msr(MSR_IA32_VMX_EPT_VPID_CAP, &o->ept_vpid, &failed);
	}
	return failed;
}
