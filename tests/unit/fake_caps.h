/*
 * The capability MSRs of a Skylake-class processor with TRUE controls,
 * secondary controls, EPT, VPID and VMCS shadowing: the "real" processor
 * the nested tests derive what a child is offered from.
 */
#ifndef NESTLAB_TESTS_FAKE_CAPS_H
#define NESTLAB_TESTS_FAKE_CAPS_H

#include <string.h>
#include "nestlab/vmx.h"
#include "vmx_caps.h"

#define FAKE_PHYS_ADDR_BITS 39

static inline struct vmx_caps fake_skylake_caps(void)
{
	struct vmx_caps r;
	memset(&r, 0, sizeof r);
	r.basic = 0x00da040000000004ull | VMX_BASIC_TRUE_CTLS;
	r.pinbased = 0x000000ff00000016ull;
	r.procbased = 0xfff9fffe04006172ull;
	r.procbased2 = 0x003fffff00000000ull;
	r.exit = 0x01ffffff00036dfbull;
	r.entry = 0x0003ffff000011fbull;
	r.misc = 0x200401e5ull; /* rate 5, LMA store, HLT/shutdown/SIPI, 4 CR3 targets, VMWRITE-any */
	r.cr0_fixed0 = 0x80000021ull;
	r.cr0_fixed1 = 0xffffffffull;
	r.cr4_fixed0 = 0x2000ull;
	r.cr4_fixed1 = 0x3767ffull;
	r.vmcs_enum = 0x2e;
	r.ept_vpid = 0xf0106734141ull;
	r.revision = 4;
	r.preempt_rate = 5;
	r.phys_addr_bits = FAKE_PHYS_ADDR_BITS;
	r.has_ept = r.has_vpid = r.has_ept_2m = r.has_invept = r.has_invvpid = r.has_vmcs_shadowing = 1;
	return r;
}

#endif
