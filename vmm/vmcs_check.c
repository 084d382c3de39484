/* VM-entry checks over plain values; see vmcs_check.h. Section numbers: SDM Vol. 3. */
#include "vmcs_check.h"
#include <stddef.h>
#include "nestlab/vmx.h"
#include "x86.h"

#define AR_UNUSABLE (1u << 16)
#define AR_TYPE(ar) ((ar) & 0xf)
#define AR_S(ar) (((ar) >> 4) & 1)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P(ar) (((ar) >> 7) & 1)
#define AR_L(ar) (((ar) >> 13) & 1)
#define AR_DB(ar) (((ar) >> 14) & 1)
#define AR_G(ar) (((ar) >> 15) & 1)
#define AR_RESERVED 0xfffe0f00u /* bits 11:8 and 31:17 */

/* A control value honours its capability MSR: every must-be-1 bit set, no bit outside may-be-1 (26.2.1.1). */
static int controls_ok(uint32_t v, uint64_t cap)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
	return (v & must1) == must1 && (v & ~may1) == 0;
}

/* CR0/CR4 honour IA32_VMX_CRx_FIXED0/1 (26.2.2, 26.3.1.1). */
static int fixed_ok(uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
	return (v & fixed0) == fixed0 && (v & ~fixed1) == 0;
}

static int phys_ok(uint64_t a, unsigned bits)
{
	return bits >= 64 || (a >> bits) == 0;
}

/* Exceptions that push an error code (SDM 6.3.1): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP. */
static int pushes_error_code(unsigned vector)
{
	return vector == VECTOR_DF || (vector >= VECTOR_TS && vector <= VECTOR_PF) || vector == VECTOR_AC ||
	       vector == VECTOR_CP;
}

/* The VM-entry interruption-information field (26.2.1.3). */
static const char *check_event_injection(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	uint32_t info = s->entry_intr_info;
	if (!intr_info_valid(info))
		return NULL;
	unsigned vector = intr_info_vector(info), type = intr_info_type(info);
	int error_code = intr_info_has_error_code(info);
	if (type == INTR_TYPE_RESERVED)
		return "26.2.1.3: event injection with the reserved interruption type 1";
	/* Type 7 vector 0 is a pending MTF VM exit, allowed where the monitor trap flag may be 1. */
	if (type == INTR_TYPE_OTHER && !((c->procbased >> 32) & CPU_MONITOR_TRAP_FLAG))
		return "26.2.1.3: event injection of type 7 (other event) without monitor trap flag support";
	if (type == INTR_TYPE_OTHER && vector != 0)
		return "26.2.1.3: event injection of type 7 (other event) with a vector other than 0";
	if (type == INTR_TYPE_NMI && vector != VECTOR_NMI)
		return "26.2.1.3: NMI injection with a vector other than 2";
	if (type == INTR_TYPE_HW_EXCEPTION && vector > 31)
		return "26.2.1.3: hardware exception injection with a vector above 31";
	if (error_code != (type == INTR_TYPE_HW_EXCEPTION && pushes_error_code(vector)))
		return "26.2.1.3: deliver-error-code bit does not match the injected exception";
	if (info & 0x7ffff000u)
		return "26.2.1.3: VM-entry interruption-information reserved bits 30:12 set";
	if ((type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION) &&
	    (s->entry_insn_len == 0 || s->entry_insn_len > 15))
		return "26.2.1.3: software event injection with an instruction length outside 1..15";
	if (error_code && (s->entry_error_code >> 16))
		return "26.2.1.3: VM-entry exception error code bits 31:16 set";
	return NULL;
}

/* The secondary controls as they act: all 0 unless "activate secondary controls" is set (SDM 25.6.2). */
static uint32_t active_proc2(const struct vmcs_check_state *s)
{
	return (s->proc & CPU_ACTIVATE_SECONDARY) ? s->proc2 : 0;
}

/* The APIC-virtualization controls among themselves (SDM 26.2.1.1). */
static const char *check_apic_virtualization(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	uint32_t proc2 = active_proc2(s);
	if (s->proc & CPU_TPR_SHADOW) {
		if ((s->virtual_apic_addr & 0xfff) || !phys_ok(s->virtual_apic_addr, c->phys_addr_bits))
			return "26.2.1.1: virtual-APIC address not 4-KByte aligned or beyond the physical-address width";
		/* The threshold's VTPR comparison (bits 3:0 against VTPR[7:4]) needs the page's contents: not checked here. */
		if (!(proc2 & SEC_VIRTUAL_INTR_DELIVERY) && (s->tpr_threshold & ~0xfu))
			return "26.2.1.1: TPR threshold bits 31:4 set while virtual-interrupt delivery is 0";
	} else if (proc2 & (SEC_VIRTUALIZE_X2APIC_MODE | SEC_APIC_REGISTER_VIRT | SEC_VIRTUAL_INTR_DELIVERY)) {
		return "26.2.1.1: use TPR shadow is 0 and virtualize x2APIC mode, APIC-register virtualization or virtual-interrupt delivery is 1";
	}
	if ((proc2 & SEC_VIRTUALIZE_X2APIC_MODE) && (proc2 & SEC_VIRTUALIZE_APIC_ACCESSES))
		return "26.2.1.1: virtualize x2APIC mode and virtualize APIC accesses are both 1";
	if ((proc2 & SEC_VIRTUAL_INTR_DELIVERY) && !(s->pin & PIN_EXT_INTR_EXITING))
		return "26.2.1.1: virtual-interrupt delivery is 1 and external-interrupt exiting is 0";
	if ((proc2 & SEC_VIRTUALIZE_APIC_ACCESSES) &&
	    ((s->apic_access_addr & 0xfff) || !phys_ok(s->apic_access_addr, c->phys_addr_bits)))
		return "26.2.1.1: APIC-access address not 4-KByte aligned or beyond the physical-address width";
	return NULL;
}

static const char *check_controls(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	if (!controls_ok(s->pin, c->pinbased))
		return "26.2.1.1: pin-based controls outside IA32_VMX_(TRUE_)PINBASED_CTLS";
	if (!controls_ok(s->proc, c->procbased))
		return "26.2.1.1: primary processor-based controls outside IA32_VMX_(TRUE_)PROCBASED_CTLS";
	uint32_t proc2 = active_proc2(s);
	if ((s->proc & CPU_ACTIVATE_SECONDARY) && !controls_ok(proc2, c->procbased2))
		return "26.2.1.1: secondary processor-based controls outside IA32_VMX_PROCBASED_CTLS2";
	if (!(s->pin & PIN_NMI_EXITING) && (s->pin & PIN_VIRTUAL_NMIS))
		return "26.2.1.1: virtual NMIs is 1 and NMI exiting is 0";
	if (!(s->pin & PIN_VIRTUAL_NMIS) && (s->proc & CPU_NMI_WINDOW_EXITING))
		return "26.2.1.1: NMI-window exiting is 1 and virtual NMIs is 0";
	if (s->cr3_target_count > 4)
		return "26.2.1.1: CR3-target count greater than 4";
	if ((s->proc & CPU_USE_IO_BITMAPS) &&
	    (((s->io_bitmap_a | s->io_bitmap_b) & 0xfff) || !phys_ok(s->io_bitmap_a | s->io_bitmap_b, c->phys_addr_bits)))
		return "26.2.1.1: I/O bitmap addresses not 4-KByte aligned or beyond the physical-address width";
	if ((s->proc & CPU_USE_MSR_BITMAPS) && ((s->msr_bitmap & 0xfff) || !phys_ok(s->msr_bitmap, c->phys_addr_bits)))
		return "26.2.1.1: MSR bitmap address not 4-KByte aligned or beyond the physical-address width";
	if ((proc2 & SEC_VMCS_SHADOWING) &&
	    (((s->vmread_bitmap | s->vmwrite_bitmap) & 0xfff) ||
	     !phys_ok(s->vmread_bitmap | s->vmwrite_bitmap, c->phys_addr_bits)))
		return "26.2.1.1: VMREAD/VMWRITE bitmap addresses not 4-KByte aligned or beyond the physical-address width";
	if ((proc2 & SEC_ENABLE_VPID) && s->vpid == 0)
		return "26.2.1.1: enable VPID is 1 and the VPID is 0000H";
	if (proc2 & SEC_ENABLE_EPT) {
		uint64_t type = s->eptp & 7;
		if (!((type == 6 && (c->ept_vpid & EPT_CAP_WB)) || (type == 0 && (c->ept_vpid & (1ull << 8)))))
			return "26.2.1.1: EPTP memory type not supported by IA32_VMX_EPT_VPID_CAP";
		if (((s->eptp >> 3) & 7) != 3)
			return "26.2.1.1: EPTP page-walk length minus 1 is not 3";
		if ((s->eptp & EPTP_AD_ENABLE) && !(c->ept_vpid & (1ull << 21)))
			return "26.2.1.1: EPTP enables accessed/dirty flags the processor lacks";
		if ((s->eptp & 0xf80) || !phys_ok(s->eptp & ~0xfffull, c->phys_addr_bits))
			return "26.2.1.1: EPTP reserved bits 11:7 or bits beyond the physical-address width set";
	}
	if ((proc2 & SEC_UNRESTRICTED_GUEST) && !(proc2 & SEC_ENABLE_EPT))
		return "26.2.1.1: unrestricted guest is 1 and enable EPT is 0";
	const char *apic = check_apic_virtualization(s, c);
	if (apic)
		return apic;
	if (!controls_ok(s->exit, c->exit))
		return "26.2.1.2: VM-exit controls outside IA32_VMX_(TRUE_)EXIT_CTLS";
	if (!(s->pin & PIN_PREEMPTION_TIMER) && (s->exit & EXIT_SAVE_PREEMPTION_TIMER))
		return "26.2.1.2: save VMX-preemption timer is 1 and activate VMX-preemption timer is 0";
	if (!controls_ok(s->entry, c->entry))
		return "26.2.1.3: VM-entry controls outside IA32_VMX_(TRUE_)ENTRY_CTLS";
	return check_event_injection(s, c);
}

static const char *check_host(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	if (!fixed_ok(s->host_cr0, c->cr0_fixed0, c->cr0_fixed1))
		return "26.2.2: host CR0 does not honour IA32_VMX_CR0_FIXED0/1";
	if (!fixed_ok(s->host_cr4, c->cr4_fixed0, c->cr4_fixed1))
		return "26.2.2: host CR4 does not honour IA32_VMX_CR4_FIXED0/1";
	if (!phys_ok(s->host_cr3, c->phys_addr_bits))
		return "26.2.2: host CR3 sets bits beyond the physical-address width";
	if (!x86_canonical(s->host_sysenter_esp) || !x86_canonical(s->host_sysenter_eip))
		return "26.2.2: host IA32_SYSENTER_ESP or IA32_SYSENTER_EIP is not canonical";
	if (!x86_canonical(s->host_rip) || !x86_canonical(s->host_fs_base) || !x86_canonical(s->host_gs_base) ||
	    !x86_canonical(s->host_tr_base) || !x86_canonical(s->host_gdtr_base) || !x86_canonical(s->host_idtr_base))
		return "26.2.2/26.2.3: a host base address or RIP is not canonical";
	uint16_t sels[] = { s->host_cs, s->host_ss, s->host_ds, s->host_es, s->host_fs, s->host_gs, s->host_tr };
	for (unsigned i = 0; i < sizeof sels / sizeof sels[0]; i++)
		if (sels[i] & 7)
			return "26.2.3: a host selector has RPL or TI set";
	if (s->host_cs == 0)
		return "26.2.3: host CS selector is 0000H";
	if (s->host_tr == 0)
		return "26.2.3: host TR selector is 0000H";
	int host64 = (s->exit & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
	if (s->processor_ia32e && !host64)
		return "26.2.4: the processor is in IA-32e mode and host address-space size is 0";
	if (!host64 && s->host_ss == 0)
		return "26.2.3: host SS is 0000H with host address-space size 0";
	if (host64 && !(s->host_cr4 & CR4_PAE))
		return "26.2.4: host address-space size is 1 and host CR4.PAE is 0";
	if (s->exit & EXIT_LOAD_IA32_EFER) {
		if (s->host_efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return "26.2.2: host IA32_EFER reserved bits set";
		if (!!(s->host_efer & EFER_LMA) != host64 || !!(s->host_efer & EFER_LME) != host64)
			return "26.2.2: host IA32_EFER.LMA/LME differ from the host address-space size control";
	}
	return NULL;
}

static const char *check_data_segment(const struct vmcs_seg *sg, const char *what)
{
	if (sg->ar & AR_UNUSABLE)
		return NULL;
	if (!(AR_TYPE(sg->ar) & 1))
		return what; /* must be accessed */
	if ((AR_TYPE(sg->ar) & 8) && !(AR_TYPE(sg->ar) & 2))
		return what; /* a code segment here must be readable */
	if (!AR_S(sg->ar) || !AR_P(sg->ar) || (sg->ar & AR_RESERVED))
		return what;
	if ((sg->limit & 0xfff) != 0xfff && AR_G(sg->ar))
		return what;
	if ((sg->limit >> 20) && !AR_G(sg->ar))
		return what;
	return NULL;
}

/*
 * The guest checks over the fields a VMM changes around every exit of its
 * guest (RIP, RFLAGS, activity and interruptibility state), read with the
 * rest of the state as it is: also run alone by vmcs_check_hot_phased().
 */
#define PENDING_DBG_VALID 0x500full /* B3:B0, enabled breakpoint (12), BS (14); RTM (16) without RTM is reserved */

/* 26.3.1.5: activity state and the event to inject, as they constrain each other. */
static const char *check_activity(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	uint32_t info = s->entry_intr_info;
	unsigned vector = intr_info_vector(info), type = intr_info_type(info);
	if (s->activity_state > 3)
		return "26.3.1.5: guest activity state invalid";
	if (s->activity_state && !((c->misc >> (5 + s->activity_state)) & 1))
		return "26.3.1.5: guest activity state not supported (IA32_VMX_MISC bits 8:6)";
	if (s->activity_state == 1 && AR_DPL(s->ss.ar) != 0)
		return "26.3.1.5: HLT activity state with SS.DPL not 0";
	if (s->activity_state && (s->interruptibility & 3))
		return "26.3.1.5: an inactive activity state with blocking by STI or MOV SS";
	if (!intr_info_valid(info))
		return NULL;
	if (s->activity_state == 3)
		return "26.3.1.5: event injection into the wait-for-SIPI state";
	if (s->activity_state == 2 &&
	    !(type == INTR_TYPE_NMI || (type == INTR_TYPE_HW_EXCEPTION && vector == VECTOR_MC)))
		return "26.3.1.5: injection into shutdown of an event other than an NMI or #MC";
	if (s->activity_state == 1 &&
	    !(type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI ||
	      (type == INTR_TYPE_HW_EXCEPTION && (vector == VECTOR_DB || vector == VECTOR_MC)) ||
	      (type == INTR_TYPE_OTHER && vector == 0)))
		return "26.3.1.5: injection into HLT of an event other than an external interrupt, NMI, #DB or #MC";
	return NULL;
}

/* 26.3.1.5: interruptibility state against RFLAGS, the event to inject and virtual NMIs. */
static const char *check_interruptibility(const struct vmcs_check_state *s)
{
	uint32_t info = s->entry_intr_info, blocking = s->interruptibility;
	int valid = intr_info_valid(info);
	unsigned type = intr_info_type(info);
	if (blocking & ~0x1fu)
		return "26.3.1.5: guest interruptibility-state reserved bits set";
	if (blocking & 0x10)
		return "26.3.1.5: enclave interruption (bit 4) set, and nestlab offers no SGX";
	if ((blocking & 3) == 3)
		return "26.3.1.5: blocking by STI and by MOV SS both set";
	if ((blocking & 1) && !(s->guest_rflags & RFLAGS_IF))
		return "26.3.1.5: blocking by STI with RFLAGS.IF 0";
	if (valid && type == INTR_TYPE_EXT_INTR && (blocking & 3))
		return "26.3.1.5: external-interrupt injection with blocking by STI or MOV SS";
	if (valid && type == INTR_TYPE_NMI && (blocking & 2))
		return "26.3.1.5: NMI injection with blocking by MOV SS";
	if (blocking & 4)
		return "26.3.1.5: blocking by SMI outside SMM";
	if ((s->pin & PIN_VIRTUAL_NMIS) && valid && type == INTR_TYPE_NMI && (blocking & 8))
		return "26.3.1.5: NMI injection with blocking by NMI under virtual NMIs";
	return NULL;
}

/* 26.3.1.5: pending debug exceptions. */
static const char *check_pending_dbg(const struct vmcs_check_state *s)
{
	if (s->pending_dbg & ~PENDING_DBG_VALID)
		return "26.3.1.5: guest pending debug exceptions reserved bits set";
	if ((s->interruptibility & 3) || s->activity_state == 1) {
		int single_step = (s->guest_rflags & RFLAGS_TF) && !(s->guest_debugctl & DEBUGCTL_BTF);
		if (single_step != !!(s->pending_dbg & DBG_BS))
			return "26.3.1.5: pending debug exceptions BS does not match RFLAGS.TF and DEBUGCTL.BTF";
	}
	return NULL;
}

/*
 * The guest checks over the fields a VMM changes around every exit of its
 * guest (RIP, RFLAGS, activity and interruptibility state, pending debug
 * exceptions, the event to inject), read with the rest of the state as it
 * is: also run alone by vmcs_check_hot_phased().
 */
static const char *check_guest_hot(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	int ia32e = (s->entry & ENTRY_IA32E_MODE_GUEST) != 0;
	const char *bad;
	/* 26.3.1.4 RIP and RFLAGS. */
	if (!(ia32e && AR_L(s->cs.ar)) && (s->guest_rip >> 32))
		return "26.3.1.4: guest RIP bits 63:32 set outside 64-bit mode";
	if (ia32e && AR_L(s->cs.ar) && !x86_canonical(s->guest_rip))
		return "26.3.1.4: guest RIP not canonical";
	if (!(s->guest_rflags & 2) || (s->guest_rflags & 0xffffffffffc08028ull))
		return "26.3.1.4: guest RFLAGS bit 1 clear or a reserved bit set";
	if (ia32e && (s->guest_rflags & (1ull << 17)))
		return "26.3.1.4: guest RFLAGS.VM is 1 in IA-32e mode";
	if (intr_info_valid(s->entry_intr_info) && intr_info_type(s->entry_intr_info) == INTR_TYPE_EXT_INTR &&
	    !(s->guest_rflags & RFLAGS_IF))
		return "26.3.1.4: external-interrupt injection with RFLAGS.IF 0";
	/* 26.3.1.5 non-register state. */
	if ((bad = check_activity(s, c)) || (bad = check_interruptibility(s)) || (bad = check_pending_dbg(s)))
		return bad;
	return NULL;
}

static const char *check_guest(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	uint32_t proc2 = active_proc2(s);
	uint64_t fixed0 = c->cr0_fixed0;
	/* Unrestricted guests may clear PE and PG (26.3.1.1). */
	if (proc2 & SEC_UNRESTRICTED_GUEST)
		fixed0 &= ~(CR0_PE | CR0_PG);
	if (!fixed_ok(s->guest_cr0, fixed0, c->cr0_fixed1))
		return "26.3.1.1: guest CR0 does not honour IA32_VMX_CR0_FIXED0/1";
	if ((s->guest_cr0 & CR0_PG) && !(s->guest_cr0 & CR0_PE))
		return "26.3.1.1: guest CR0.PG is 1 and CR0.PE is 0";
	if (!fixed_ok(s->guest_cr4, c->cr4_fixed0, c->cr4_fixed1))
		return "26.3.1.1: guest CR4 does not honour IA32_VMX_CR4_FIXED0/1";
	int ia32e = (s->entry & ENTRY_IA32E_MODE_GUEST) != 0;
	if (ia32e && (!(s->guest_cr0 & CR0_PG) || !(s->guest_cr4 & CR4_PAE)))
		return "26.3.1.1: IA-32e mode guest requires CR0.PG and CR4.PAE";
	if (!ia32e && (s->guest_cr4 & (1ull << 17)))
		return "26.3.1.1: CR4.PCIDE is 1 outside IA-32e mode";
	if (!phys_ok(s->guest_cr3, c->phys_addr_bits))
		return "26.3.1.1: guest CR3 sets bits beyond the physical-address width";
	if (s->guest_dr7 >> 32)
		return "26.3.1.1: guest DR7 bits 63:32 set";
	if (s->entry & ENTRY_LOAD_IA32_EFER) {
		if (s->guest_efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return "26.3.1.1: guest IA32_EFER reserved bits set";
		if (!!(s->guest_efer & EFER_LMA) != ia32e)
			return "26.3.1.1: guest IA32_EFER.LMA differs from the IA-32e mode guest control";
		if ((s->guest_cr0 & CR0_PG) && !!(s->guest_efer & EFER_LME) != ia32e)
			return "26.3.1.1: guest IA32_EFER.LME differs from LMA with paging on";
	}
	/* 26.3.1.2 segment registers (protected/IA-32e mode, no virtual-8086). */
	if (s->tr.selector & 4)
		return "26.3.1.2: guest TR selector TI flag set";
	if (!(s->ldtr.ar & AR_UNUSABLE) && (s->ldtr.selector & 4))
		return "26.3.1.2: guest LDTR selector TI flag set";
	if (!(proc2 & SEC_UNRESTRICTED_GUEST) && (s->ss.selector & 3) != (s->cs.selector & 3))
		return "26.3.1.2: guest SS.RPL differs from CS.RPL";
	uint32_t cs_type = AR_TYPE(s->cs.ar);
	if (s->cs.ar & AR_UNUSABLE)
		return "26.3.1.2: guest CS is unusable";
	if (!(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 ||
	      (cs_type == 3 && (proc2 & SEC_UNRESTRICTED_GUEST))))
		return "26.3.1.2: guest CS type is not an accessed code segment";
	if (!AR_S(s->cs.ar) || !AR_P(s->cs.ar) || (s->cs.ar & AR_RESERVED))
		return "26.3.1.2: guest CS S, P or reserved access-rights bits wrong";
	if (ia32e && AR_L(s->cs.ar) && AR_DB(s->cs.ar))
		return "26.3.1.2: guest CS.L and CS.D/B both 1 in IA-32e mode";
	if (!(s->ss.ar & AR_UNUSABLE) && AR_TYPE(s->ss.ar) != 3 && AR_TYPE(s->ss.ar) != 7)
		return "26.3.1.2: guest SS type is not a read/write accessed data segment";
	const char *bad;
	if ((bad = check_data_segment(&s->ss, "26.3.1.2: guest SS access rights or limit invalid")) ||
	    (bad = check_data_segment(&s->ds, "26.3.1.2: guest DS access rights or limit invalid")) ||
	    (bad = check_data_segment(&s->es, "26.3.1.2: guest ES access rights or limit invalid")) ||
	    (bad = check_data_segment(&s->fs, "26.3.1.2: guest FS access rights or limit invalid")) ||
	    (bad = check_data_segment(&s->gs, "26.3.1.2: guest GS access rights or limit invalid")))
		return bad;
	if (!x86_canonical(s->fs.base) || !x86_canonical(s->gs.base) || !x86_canonical(s->tr.base) ||
	    (!(s->ldtr.ar & AR_UNUSABLE) && !x86_canonical(s->ldtr.base)))
		return "26.3.1.2: a guest FS/GS/TR/LDTR base is not canonical";
	if (s->tr.ar & AR_UNUSABLE)
		return "26.3.1.2: guest TR is unusable";
	if (ia32e ? AR_TYPE(s->tr.ar) != 11 : (AR_TYPE(s->tr.ar) != 3 && AR_TYPE(s->tr.ar) != 11))
		return "26.3.1.2: guest TR type is not a busy TSS";
	if (AR_S(s->tr.ar) || !AR_P(s->tr.ar) || (s->tr.ar & AR_RESERVED))
		return "26.3.1.2: guest TR S, P or reserved access-rights bits wrong";
	if (!(s->ldtr.ar & AR_UNUSABLE) && (AR_TYPE(s->ldtr.ar) != 2 || AR_S(s->ldtr.ar) || !AR_P(s->ldtr.ar)))
		return "26.3.1.2: guest LDTR usable but not an LDT descriptor";
	/* 26.3.1.3 descriptor-table registers. */
	if (!x86_canonical(s->gdtr_base) || !x86_canonical(s->idtr_base))
		return "26.3.1.3: guest GDTR/IDTR base not canonical";
	if ((s->gdtr_limit | s->idtr_limit) >> 16)
		return "26.3.1.3: guest GDTR/IDTR limit bits 31:16 set";
	return check_guest_hot(s, c);
}

/*
 * 26.3.1.5, the VMCS link pointer: checked last, and a failure has exit
 * qualification 4 (26.8), hence a phase of its own.  Without VMCS
 * shadowing nestlab wants it all ones (the SDM would accept a pointer to
 * an ordinary VMCS, which no processor then uses: a documented
 * deviation).  With shadowing, what the pointer names (revision and
 * shadow-VMCS indicator) lies in memory: the caller checks that.
 */
static const char *check_link_pointer(const struct vmcs_check_state *s, const struct vmcs_check_caps *c)
{
	uint32_t proc2 = active_proc2(s);
	if (s->link_pointer == ~0ull)
		return NULL;
	if (!(proc2 & SEC_VMCS_SHADOWING))
		return "26.3.1.5: VMCS link pointer is not FFFFFFFF_FFFFFFFFH";
	if ((s->link_pointer & 0xfff) || !phys_ok(s->link_pointer, c->phys_addr_bits))
		return "26.3.1.5: VMCS link pointer bits 11:0 set or beyond the physical-address width";
	return NULL;
}

static void fill_seg(struct vmcs_seg *sg, const uint64_t *f, unsigned sel, unsigned base, unsigned limit,
		     unsigned ar)
{
	sg->selector = (uint16_t)f[sel];
	sg->base = f[base];
	sg->limit = (uint32_t)f[limit];
	sg->ar = (uint32_t)f[ar];
}
#define FILL_SEG(dst, SEG)                                                                   \
	fill_seg(dst, f, VMCS12_IDX_GUEST_##SEG##_SELECTOR, VMCS12_IDX_GUEST_##SEG##_BASE,    \
		 VMCS12_IDX_GUEST_##SEG##_LIMIT, VMCS12_IDX_GUEST_##SEG##_AR_BYTES)
#define F(NAME) (f[VMCS12_IDX_##NAME])

void vmcs_check_state_hot_from_fields(struct vmcs_check_state *s, const uint64_t *f)
{
	s->entry = (uint32_t)F(VM_ENTRY_CONTROLS);
	s->entry_intr_info = (uint32_t)F(VM_ENTRY_INTR_INFO_FIELD);
	s->entry_insn_len = (uint32_t)F(VM_ENTRY_INSTRUCTION_LEN);
	s->entry_error_code = (uint32_t)F(VM_ENTRY_EXCEPTION_ERROR_CODE);
	s->pin = (uint32_t)F(PIN_BASED_VM_EXEC_CONTROL);
	s->cs.ar = (uint32_t)F(GUEST_CS_AR_BYTES);
	s->ss.ar = (uint32_t)F(GUEST_SS_AR_BYTES);
	s->pending_dbg = F(GUEST_PENDING_DBG_EXCEPTIONS);
	s->guest_debugctl = F(GUEST_IA32_DEBUGCTL);
	s->guest_rflags = F(GUEST_RFLAGS);
	s->guest_rip = F(GUEST_RIP);
	s->activity_state = (uint32_t)F(GUEST_ACTIVITY_STATE);
	s->interruptibility = (uint32_t)F(GUEST_INTERRUPTIBILITY_INFO);
}

void vmcs_check_state_from_fields(struct vmcs_check_state *s, const uint64_t *f)
{
	vmcs_check_state_hot_from_fields(s, f); /* the rest below; CS and SS are filled whole again */
	s->proc = (uint32_t)F(CPU_BASED_VM_EXEC_CONTROL);
	s->proc2 = (uint32_t)F(SECONDARY_VM_EXEC_CONTROL);
	s->exit = (uint32_t)F(VM_EXIT_CONTROLS);
	s->cr3_target_count = (uint32_t)F(CR3_TARGET_COUNT);
	s->vpid = (uint16_t)F(VIRTUAL_PROCESSOR_ID);
	s->eptp = F(EPT_POINTER);
	s->io_bitmap_a = F(IO_BITMAP_A);
	s->io_bitmap_b = F(IO_BITMAP_B);
	s->msr_bitmap = F(MSR_BITMAP);
	s->virtual_apic_addr = F(VIRTUAL_APIC_PAGE_ADDR);
	s->apic_access_addr = F(APIC_ACCESS_ADDR);
	s->tpr_threshold = (uint32_t)F(TPR_THRESHOLD);
	s->vmread_bitmap = F(VMREAD_BITMAP);
	s->vmwrite_bitmap = F(VMWRITE_BITMAP);
	s->host_cr0 = F(HOST_CR0);
	s->host_cr3 = F(HOST_CR3);
	s->host_cr4 = F(HOST_CR4);
	s->host_efer = F(HOST_IA32_EFER);
	s->host_cs = (uint16_t)F(HOST_CS_SELECTOR);
	s->host_ss = (uint16_t)F(HOST_SS_SELECTOR);
	s->host_ds = (uint16_t)F(HOST_DS_SELECTOR);
	s->host_es = (uint16_t)F(HOST_ES_SELECTOR);
	s->host_fs = (uint16_t)F(HOST_FS_SELECTOR);
	s->host_gs = (uint16_t)F(HOST_GS_SELECTOR);
	s->host_tr = (uint16_t)F(HOST_TR_SELECTOR);
	s->host_fs_base = F(HOST_FS_BASE);
	s->host_gs_base = F(HOST_GS_BASE);
	s->host_tr_base = F(HOST_TR_BASE);
	s->host_gdtr_base = F(HOST_GDTR_BASE);
	s->host_idtr_base = F(HOST_IDTR_BASE);
	s->host_rip = F(HOST_RIP);
	s->host_sysenter_esp = F(HOST_IA32_SYSENTER_ESP);
	s->host_sysenter_eip = F(HOST_IA32_SYSENTER_EIP);
	s->guest_cr0 = F(GUEST_CR0);
	s->guest_cr3 = F(GUEST_CR3);
	s->guest_cr4 = F(GUEST_CR4);
	s->guest_efer = F(GUEST_IA32_EFER);
	s->guest_dr7 = F(GUEST_DR7);
	FILL_SEG(&s->cs, CS);
	FILL_SEG(&s->ss, SS);
	FILL_SEG(&s->ds, DS);
	FILL_SEG(&s->es, ES);
	FILL_SEG(&s->fs, FS);
	FILL_SEG(&s->gs, GS);
	FILL_SEG(&s->tr, TR);
	FILL_SEG(&s->ldtr, LDTR);
	s->gdtr_base = F(GUEST_GDTR_BASE);
	s->idtr_base = F(GUEST_IDTR_BASE);
	s->gdtr_limit = (uint32_t)F(GUEST_GDTR_LIMIT);
	s->idtr_limit = (uint32_t)F(GUEST_IDTR_LIMIT);
	s->link_pointer = F(VMCS_LINK_POINTER);
}
#undef F

const char *vmcs_check_phased(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps,
			      enum vmcs_check_phase *phase)
{
	const char *why;
	*phase = VMCS_CHECK_CONTROLS;
	if ((why = check_controls(s, caps)))
		return why;
	*phase = VMCS_CHECK_HOST;
	if ((why = check_host(s, caps)))
		return why;
	*phase = VMCS_CHECK_GUEST;
	if ((why = check_guest(s, caps)))
		return why;
	*phase = VMCS_CHECK_LINK_POINTER;
	if ((why = check_link_pointer(s, caps)))
		return why;
	*phase = VMCS_CHECK_OK;
	return NULL;
}

const char *vmcs_check_hot_phased(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps,
				  enum vmcs_check_phase *phase)
{
	const char *why;
	*phase = VMCS_CHECK_CONTROLS;
	if ((why = check_event_injection(s, caps)))
		return why;
	*phase = VMCS_CHECK_GUEST;
	if ((why = check_guest_hot(s, caps)))
		return why;
	*phase = VMCS_CHECK_OK;
	return NULL;
}

const char *vmcs_check(const struct vmcs_check_state *s, const struct vmcs_check_caps *caps)
{
	enum vmcs_check_phase phase;
	return vmcs_check_phased(s, caps, &phase);
}
