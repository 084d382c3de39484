/* VMX capabilities of the processor beneath this VMM, and turning VMX on. */
#ifndef NESTLAB_VMM_VMX_CAPS_H
#define NESTLAB_VMM_VMX_CAPS_H

#include <stdint.h>
#include "nestlab/vmx.h"

struct vmx_caps {
	uint64_t basic;
	uint64_t pinbased, procbased, exit, entry; /* TRUE variants when basic bit 55 says so */
	uint64_t procbased2;
	uint64_t ept_vpid;
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint32_t revision;
	unsigned preempt_rate;   /* the preemption timer counts TSC >> rate */
	unsigned phys_addr_bits; /* MAXPHYADDR, CPUID 0x80000008 */
	int has_ept, has_vpid, has_ept_2m, has_invept, has_invvpid, has_vmcs_shadowing;
};

/* Whether the monitor trap flag may be 1 (a processor that has it, as this VMM may trust it). */
static inline int vmx_caps_have_mtf(const struct vmx_caps *c)
{
	return ((c->procbased >> 32) & CPU_MONITOR_TRAP_FLAG) != 0;
}

/* Whether VMX can be used here; on "no", *why says why in plain words. */
int vmx_available(const char **why);
void vmx_read_caps(struct vmx_caps *c);
void vmx_caps_record(const struct vmx_caps *c);
/* Fixed bits into CR0/CR4, CR4.VMXE, VMXON. Returns 0 or -1 with *why. */
int vmx_turn_on(const struct vmx_caps *c, const char **why);

#endif
