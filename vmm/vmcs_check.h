/*
 * The VMM's own check of a VMCS before VM entry: a subset of the SDM's
 * VM-entry checks (Vol. 3 26.2 controls and host state, 26.3 guest state)
 * over plain values, so that a mistake in what nestlab builds is named here
 * rather than discovered as an opaque VM-entry failure, and so that the
 * checks run in host unit tests.  Bochs is laxer than hardware; these
 * checks are not.  Nested VMX runs them over VMCS12 too (nested/nested_entry.c).
 */
#ifndef NESTLAB_VMM_VMCS_CHECK_H
#define NESTLAB_VMM_VMCS_CHECK_H

#include <stdint.h>

struct vmcs_seg {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t ar;
};

/* Capability MSR values the checks compare against. */
struct vmcs_check_caps {
	uint64_t pinbased, procbased, procbased2, exit, entry; /* allowed 0/1 settings */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
	uint64_t misc;            /* IA32_VMX_MISC: bits 8:6 say which activity states may be entered */
	unsigned phys_addr_bits;
};

struct vmcs_check_state {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t cr3_target_count;
	uint16_t vpid;
	uint64_t eptp;
	uint64_t io_bitmap_a, io_bitmap_b, msr_bitmap, vmread_bitmap, vmwrite_bitmap;
	uint64_t virtual_apic_addr, apic_access_addr; /* with TPR shadow / virtualize APIC accesses */
	uint32_t tpr_threshold;
	uint32_t entry_intr_info, entry_insn_len, entry_error_code;
	int processor_ia32e; /* the processor (the VMM entering) is in IA-32e mode: set by the caller */

	uint64_t host_cr0, host_cr3, host_cr4, host_efer;
	uint16_t host_cs, host_ss, host_ds, host_es, host_fs, host_gs, host_tr;
	uint64_t host_fs_base, host_gs_base, host_tr_base, host_gdtr_base, host_idtr_base, host_rip;
	uint64_t host_sysenter_esp, host_sysenter_eip;

	uint64_t guest_cr0, guest_cr3, guest_cr4, guest_efer, guest_dr7, guest_rflags, guest_rip;
	struct vmcs_seg cs, ss, ds, es, fs, gs, tr, ldtr;
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint32_t activity_state, interruptibility;
	uint64_t pending_dbg, guest_debugctl;
	uint64_t link_pointer;
};

/*
 * Fill the state from a VMCS's fields as an array indexed by VMCS12_IDX_*
 * (nestlab/vmx.h): a VMCS12 as it is, or the current VMCS read into one
 * for the self-check.  Fields the controls make irrelevant are read
 * anyway; the checks ignore them.
 */
void vmcs_check_state_from_fields(struct vmcs_check_state *s, const uint64_t *fields);
/* Only what vmcs_check_hot_phased() reads (the rest of *s is left as it is). */
void vmcs_check_state_hot_from_fields(struct vmcs_check_state *s, const uint64_t *f);

/* Returns NULL when every check passes, else the first failed check in SDM wording. */
const char *vmcs_check(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps);

/*
 * The same, saying which group failed, because the SDM's outcome differs:
 * controls → VMfailValid 7, host state → VMfailValid 8 (26.2), guest state
 * → a VM exit with "VM-entry failure" (26.3, 26.8), with exit qualification 4
 * for the VMCS link pointer.
 */
enum vmcs_check_phase {
	VMCS_CHECK_OK,
	VMCS_CHECK_CONTROLS,
	VMCS_CHECK_HOST,
	VMCS_CHECK_GUEST,
	VMCS_CHECK_LINK_POINTER, /* guest state too, but exit qualification 4 (26.8) */
};
const char *vmcs_check_phased(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps,
			      enum vmcs_check_phase *phase);
/*
 * Only the checks of the hot fields (event injection, RIP, RFLAGS,
 * activity and interruptibility state): enough when nothing else changed since a full
 * check passed, as all other checks read only unchanged values.
 */
const char *vmcs_check_hot_phased(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps,
				  enum vmcs_check_phase *phase);

#endif
