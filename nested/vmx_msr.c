/*
 * The VMX capability MSRs this VMM reports to a child VMM (SDM Vol. 3
 * Appendix A): only what it can virtualise correctly, and a set that is
 * consistent in itself (every must-be-1 bit may be 1, the TRUE and
 * non-TRUE variants agree as A.2 requires, MSRs exist only when the
 * controls that announce them may be 1).
 *
 * For each control word: the allowed-0 settings (must-be-1 bits) are the
 * real ones, since VMCS02 has to honour them anyway, and the allowed-1
 * settings are the real ones narrowed to what nested/ can reflect.
 */
#include "nested.h"
#include "nestlab/manifest.h"
#include "vmx_caps.h"

/* The "default1" controls of SDM A.2: reported as must-be-1 by the non-TRUE MSRs. */
#define PIN_DEFAULT1   0x00000016u
#define PROC_DEFAULT1  0x0401e172u
#define EXIT_DEFAULT1  0x00036dffu
#define ENTRY_DEFAULT1 0x000011ffu

#define BASIC_REGION_SIZE_SHIFT 32
#define BASIC_MEMTYPE_SHIFT     50
#define BASIC_MEMTYPE_WB        6ull

#define MISC_PREEMPT_RATE       0x1full
#define MISC_ACTIVITY_HLT       (1ull << 6)

#define VMCS_ENUM_INDEX_SHIFT   1
#define VMCS_ENUM_INDEX_MASK    0x1ffu

/* What nested/ can reflect to L1 faithfully, per control word. */
#define OFFER_PIN (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER)
/* Not the TPR shadow (no virtual APIC page is built for L2).  The monitor
 * trap flag is offered whatever the processor has (NESTED_PROC_EMULATED). */
#define OFFER_PROC                                                                             \
	(CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_HLT_EXITING | CPU_INVLPG_EXITING | \
	 CPU_MWAIT_EXITING | CPU_RDPMC_EXITING | CPU_RDTSC_EXITING | CPU_CR3_LOAD_EXITING |        \
	 CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING |                    \
	 CPU_NMI_WINDOW_EXITING | CPU_MOV_DR_EXITING | CPU_UNCOND_IO_EXITING | CPU_USE_IO_BITMAPS | \
	 CPU_USE_MSR_BITMAPS | CPU_MONITOR_EXITING | CPU_PAUSE_EXITING | CPU_ACTIVATE_SECONDARY)
/* Unrestricted guest is not offered: L2 always runs paged protected mode. */
#define OFFER_PROC2_ALWAYS (SEC_ENABLE_RDTSCP | SEC_WBINVD_EXITING | SEC_DESCRIPTOR_TABLE_EXITING)
/* "Acknowledge interrupt on exit": an emulated external-interrupt exit then carries the vector (nested_interrupt.c). */
#define OFFER_EXIT                                                                          \
	(EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE |                                 \
	 EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER | \
	 EXIT_SAVE_PREEMPTION_TIMER | EXIT_ACK_INTR_ON_EXIT)
#define OFFER_ENTRY (ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER)

#define OFFER_EPT_CAPS                                                                \
	(EPT_CAP_WALK_LENGTH_4 | EPT_CAP_WB | EPT_CAP_2MB_PAGE | EPT_CAP_INVEPT |      \
	 EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define OFFER_VPID_CAPS                                                                     \
	(VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL | \
	 VPID_CAP_INVVPID_SINGLE_NOGLOBAL)
#define INVEPT_TYPES (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)
#define INVVPID_TYPES                                                                   \
	(VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL |        \
	 VPID_CAP_INVVPID_SINGLE_NOGLOBAL)

static uint32_t must1_of(uint64_t ctl) { return (uint32_t)ctl; }
static uint32_t may1_of(uint64_t ctl) { return (uint32_t)(ctl >> 32); }
static uint64_t make_ctl(uint32_t must1, uint32_t may1) { return ((uint64_t)may1 << 32) | must1; }

/* The real must-be-1 bits stay; the may-be-1 bits are the real ones within offer. */
static uint64_t narrow(uint64_t real, uint32_t offer)
{
	uint32_t must1 = must1_of(real);
	return make_ctl(must1, (may1_of(real) & offer) | must1);
}

/* The non-TRUE variant of a TRUE control MSR: the default1 class is must-be-1 (SDM A.2). */
static uint64_t non_true(uint64_t true_ctl, uint32_t default1)
{
	return make_ctl(must1_of(true_ctl) | default1, may1_of(true_ctl) | default1);
}

/* Highest field index among the encodings VMCS12 holds (IA32_VMX_VMCS_ENUM bits 9:1). */
static uint64_t vmcs_enum(void)
{
	static const uint32_t encodings[] = {
#define X(name, enc, attrs) enc,
#include "nestlab/vmcs_fields.def"
#undef X
	};
	unsigned max = 0;
	for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
		unsigned index = (encodings[i] >> VMCS_ENUM_INDEX_SHIFT) & VMCS_ENUM_INDEX_MASK;
		if (index > max)
			max = index;
	}
	return (uint64_t)max << VMCS_ENUM_INDEX_SHIFT;
}

/* An INVxxx bit with none of its types left is no instruction at all. */
static uint64_t drop_empty(uint64_t caps, uint64_t insn_bit, uint64_t types)
{
	if (!(caps & insn_bit) || !(caps & types))
		caps &= ~(insn_bit | types);
	return caps;
}

void nested_caps_compute(struct nested_caps *out, const struct vmx_caps *real, uint32_t features, int hosts_vmm)
{
	*out = (struct nested_caps){ 0 };
	out->basic = VMCS12_REVISION | ((uint64_t)VMCS12_SIZE << BASIC_REGION_SIZE_SHIFT) |
		     (BASIC_MEMTYPE_WB << BASIC_MEMTYPE_SHIFT) | VMX_BASIC_TRUE_CTLS;

	/* Pin-based: virtual NMIs only with NMI exiting (SDM 26.2.1.1 ties them). */
	uint32_t offer_pin = OFFER_PIN;
	if (!(may1_of(real->pinbased) & PIN_NMI_EXITING))
		offer_pin &= ~PIN_VIRTUAL_NMIS;
	out->true_pinbased = narrow(real->pinbased, offer_pin);
	uint32_t pin1 = may1_of(out->true_pinbased);

	/* Secondary: the feature-dependent parts only where the level may use them and the processor has them. */
	uint32_t offer2 = OFFER_PROC2_ALWAYS;
	if ((features & NL_FEAT_EPT) && real->has_ept)
		offer2 |= SEC_ENABLE_EPT;
	if ((features & NL_FEAT_VPID) && real->has_vpid)
		offer2 |= SEC_ENABLE_VPID;
	/*
	 * VMCS shadowing, where the processor has it: L2's VMREAD/VMWRITE that
	 * L1's bitmaps let through are served by this VMM from L1's shadow VMCS
	 * (nested/nested_l2_vmcs.c), never reflected.  (NL_FEAT_VMCS_SHADOW
	 * is another matter: whether this VMM shadows the child's own
	 * VMREAD/VMWRITE, nested/vmcs_shadow.c.)  Whether L1 uses it for its
	 * child is that child's own vmcs-shadowing feature.
	 */
	if (real->has_vmcs_shadowing)
		offer2 |= SEC_VMCS_SHADOWING;
	/* real->procbased2 is 0 when the processor has no secondary controls. */
	out->procbased2 = narrow(real->procbased2, offer2);
	uint32_t sec1 = may1_of(out->procbased2);

	uint32_t offer_proc = OFFER_PROC;
	if (!(pin1 & PIN_VIRTUAL_NMIS))
		offer_proc &= ~CPU_NMI_WINDOW_EXITING; /* NMI-window exiting needs virtual NMIs */
	if (!sec1)
		offer_proc &= ~CPU_ACTIVATE_SECONDARY;
	out->true_procbased = narrow(real->procbased, offer_proc);
	out->true_procbased |= (uint64_t)NESTED_PROC_EMULATED << 32;
	if (!(may1_of(out->true_procbased) & CPU_ACTIVATE_SECONDARY))
		out->procbased2 = 0; /* the MSR does not exist then (SDM A.3.3) */

	uint32_t offer_exit = OFFER_EXIT;
	if (!(pin1 & PIN_PREEMPTION_TIMER))
		offer_exit &= ~EXIT_SAVE_PREEMPTION_TIMER;
	out->true_exit = narrow(real->exit, offer_exit);
	out->true_entry = narrow(real->entry, OFFER_ENTRY);

	out->pinbased = non_true(out->true_pinbased, PIN_DEFAULT1);
	out->procbased = non_true(out->true_procbased, PROC_DEFAULT1);
	out->exit = non_true(out->true_exit, EXIT_DEFAULT1);
	out->entry = non_true(out->true_entry, ENTRY_DEFAULT1);

	/* No CR3-target values, no MSR-list size beyond the minimum (512), no SMM. */
	out->misc = (real->misc & MISC_PREEMPT_RATE) | (real->misc & MISC_ACTIVITY_HLT);
	/*
	 * VMWRITE to the exit-information fields, where the processor allows
	 * it and the child hosts a VMM (vmx_insn.c honours it): what lets the
	 * child put them into the shadow VMCS it offers its own child, so that
	 * VMREADs of the exit reason need no exit to it.
	 */
	if (hosts_vmm)
		out->misc |= real->misc & VMX_MISC_VMWRITE_ANY_FIELD;

	/* L2 runs under the same CR0/CR4 constraints as the real VMX operation. */
	out->cr0_fixed0 = real->cr0_fixed0;
	out->cr0_fixed1 = real->cr0_fixed1;
	out->cr4_fixed0 = real->cr4_fixed0;
	out->cr4_fixed1 = real->cr4_fixed1;
	out->vmcs_enum = vmcs_enum();

	uint64_t want = 0;
	if (sec1 & SEC_ENABLE_EPT)
		want |= OFFER_EPT_CAPS;
	if (sec1 & SEC_ENABLE_VPID)
		want |= OFFER_VPID_CAPS;
	uint64_t ev = want & real->ept_vpid;
	ev = drop_empty(ev, EPT_CAP_INVEPT, INVEPT_TYPES);
	ev = drop_empty(ev, VPID_CAP_INVVPID, INVVPID_TYPES);
	out->ept_vpid = ev;
	out->vmfunc = 0;
}

int nested_caps_rdmsr(const struct nested_caps *c, uint32_t msr, uint64_t *value)
{
	uint32_t proc1 = may1_of(c->true_procbased);
	uint32_t sec1 = (proc1 & CPU_ACTIVATE_SECONDARY) ? may1_of(c->procbased2) : 0;
	switch (msr) {
	case MSR_IA32_VMX_BASIC: *value = c->basic; return 0;
	case MSR_IA32_VMX_PINBASED_CTLS: *value = c->pinbased; return 0;
	case MSR_IA32_VMX_PROCBASED_CTLS: *value = c->procbased; return 0;
	case MSR_IA32_VMX_EXIT_CTLS: *value = c->exit; return 0;
	case MSR_IA32_VMX_ENTRY_CTLS: *value = c->entry; return 0;
	case MSR_IA32_VMX_MISC: *value = c->misc; return 0;
	case MSR_IA32_VMX_CR0_FIXED0: *value = c->cr0_fixed0; return 0;
	case MSR_IA32_VMX_CR0_FIXED1: *value = c->cr0_fixed1; return 0;
	case MSR_IA32_VMX_CR4_FIXED0: *value = c->cr4_fixed0; return 0;
	case MSR_IA32_VMX_CR4_FIXED1: *value = c->cr4_fixed1; return 0;
	case MSR_IA32_VMX_VMCS_ENUM: *value = c->vmcs_enum; return 0;
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS: *value = c->true_pinbased; return 0;
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS: *value = c->true_procbased; return 0;
	case MSR_IA32_VMX_TRUE_EXIT_CTLS: *value = c->true_exit; return 0;
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS: *value = c->true_entry; return 0;
	/* The MSRs below exist only when the controls that announce them may be 1 (SDM A.3.3, A.10, A.11). */
	case MSR_IA32_VMX_PROCBASED_CTLS2:
		if (!(proc1 & CPU_ACTIVATE_SECONDARY))
			return -1;
		*value = c->procbased2;
		return 0;
	case MSR_IA32_VMX_EPT_VPID_CAP:
		if (!(sec1 & (SEC_ENABLE_EPT | SEC_ENABLE_VPID)))
			return -1;
		*value = c->ept_vpid;
		return 0;
	case MSR_IA32_VMX_VMFUNC:
		if (!(sec1 & SEC_ENABLE_VMFUNC))
			return -1;
		*value = c->vmfunc;
		return 0;
	default:
		return -1;
	}
}
