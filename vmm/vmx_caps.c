/* VMX discovery (SDM 23.6-23.7, Appendix A) and VMXON. */
#include "vmx_caps.h"
#include "cpu.h"
#include "platform.h"
#include "nestlab/records.h"
#include "nestlab/vmx.h"
#include "vmx_ops.h"

int vmx_available(const char **why)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_VMX)) {
		*why = "CPUID.1:ECX.VMX[bit 5] is 0: this processor offers no VMX";
		return 0;
	}
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		*why = "IA32_FEATURE_CONTROL is locked with VMX outside SMX disabled (firmware setting)";
		return 0;
	}
	return 1;
}

static unsigned read_phys_addr_bits(void)
{
	uint32_t a, b, c, d;
	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x80000008u)
		return 36; /* the architectural default (SDM Vol. 1 3.3.1) */
	cpuid(0x80000008u, 0, &a, &b, &c, &d);
	return a & 0xff;
}

void vmx_read_caps(struct vmx_caps *c)
{
	c->phys_addr_bits = read_phys_addr_bits();
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision = (uint32_t)c->basic & 0x7fffffffu;
	/* With bit 55 the TRUE MSRs report which default-1 controls may be 0 (SDM A.2). */
	int true_ctls = (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
	c->pinbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	c->procbased2 = 0;
	c->ept_vpid = 0;
	/* The secondary-controls MSR exists only if the primary control may be 1. */
	if ((c->procbased >> 32) & CPU_ACTIVATE_SECONDARY) {
		c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		uint32_t may1 = (uint32_t)(c->procbased2 >> 32);
		if (may1 & (SEC_ENABLE_EPT | SEC_ENABLE_VPID))
			c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	uint32_t sec1 = (uint32_t)(c->procbased2 >> 32);
	c->preempt_rate = (unsigned)(c->misc & 0x1f);
	c->has_ept = (sec1 & SEC_ENABLE_EPT) && (c->ept_vpid & EPT_CAP_WALK_LENGTH_4) &&
		     (c->ept_vpid & EPT_CAP_WB);
	c->has_ept_2m = c->has_ept && (c->ept_vpid & EPT_CAP_2MB_PAGE);
	/* nestlab issues only single-context invalidations: the flags mean "INVEPT/INVVPID of that type". */
	c->has_invept = c->has_ept && (c->ept_vpid & EPT_CAP_INVEPT) && (c->ept_vpid & EPT_CAP_INVEPT_SINGLE);
	c->has_vpid = (sec1 & SEC_ENABLE_VPID) != 0;
	c->has_invvpid = c->has_vpid && (c->ept_vpid & VPID_CAP_INVVPID) && (c->ept_vpid & VPID_CAP_INVVPID_SINGLE);
	c->has_vmcs_shadowing = (sec1 & SEC_VMCS_SHADOWING) != 0;
}

void vmx_caps_record(const struct vmx_caps *c)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_VMX_CAPS);
	jsonw_u64(&w, "revision", c->revision);
	jsonw_hex(&w, "basic", c->basic);
	jsonw_hex(&w, "pinbased", c->pinbased);
	jsonw_hex(&w, "procbased", c->procbased);
	jsonw_hex(&w, "procbased2", c->procbased2);
	jsonw_hex(&w, "exit", c->exit);
	jsonw_hex(&w, "entry", c->entry);
	jsonw_hex(&w, "misc", c->misc);
	jsonw_hex(&w, "ept_vpid", c->ept_vpid);
	jsonw_hex(&w, "cr0_fixed0", c->cr0_fixed0);
	jsonw_hex(&w, "cr0_fixed1", c->cr0_fixed1);
	jsonw_hex(&w, "cr4_fixed0", c->cr4_fixed0);
	jsonw_hex(&w, "cr4_fixed1", c->cr4_fixed1);
	jsonw_hex(&w, "vmcs_enum", c->vmcs_enum);
	jsonw_bool(&w, "true_controls", (c->basic & VMX_BASIC_TRUE_CTLS) != 0);
	jsonw_bool(&w, "ept", c->has_ept);
	jsonw_bool(&w, "ept_2m", c->has_ept_2m);
	jsonw_bool(&w, "invept", c->has_invept);
	jsonw_bool(&w, "vpid", c->has_vpid);
	jsonw_bool(&w, "invvpid", c->has_invvpid);
	jsonw_bool(&w, "vmcs_shadowing", c->has_vmcs_shadowing);
	jsonw_u64(&w, "preemption_timer_rate", c->preempt_rate);
	rec_emit(&w);
}

int vmx_turn_on(const struct vmx_caps *c, const char **why)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);

	/* VMXON requires CR0 and CR4 to honour the fixed bits (SDM 23.8), CR0.NE among them. */
	write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	write_cr4(((read_cr4() | CR4_VMXE) | c->cr4_fixed0) & c->cr4_fixed1);

	uint64_t region = platform_alloc(4096, 4096);
	if (!region) {
		*why = "no memory for the VMXON region";
		return -1;
	}
	*(volatile uint32_t *)(uintptr_t)region = c->revision;
	if (vmxon(region) != VMX_OK) {
		*why = "VMXON failed";
		return -1;
	}
	return 0;
}
