/* The VMX capability MSRs offered to a child VMM: consistent, narrowed by features, mapped by number. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nested.h"
#include "nestlab/manifest.h"
#include "vmx_caps.h"
#include "fake_caps.h"

static struct vmx_caps skylake(void) { return fake_skylake_caps(); }

static uint32_t must1(uint64_t c) { return (uint32_t)c; }
static uint32_t may1(uint64_t c) { return (uint32_t)(c >> 32); }

#define PIN_DEFAULT1   0x00000016u
#define PROC_DEFAULT1  0x0401e172u
#define EXIT_DEFAULT1  0x00036dffu
#define ENTRY_DEFAULT1 0x000011ffu

static void assert_consistent(const struct nested_caps *c)
{
	const uint64_t all[] = { c->pinbased, c->procbased, c->exit, c->entry, c->true_pinbased,
				 c->true_procbased, c->true_exit, c->true_entry, c->procbased2 };
	for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
		CU_ASSERT_EQUAL(must1(all[i]) & ~may1(all[i]), 0); /* every must-be-1 bit may be 1 */

	/* SDM A.2: TRUE and non-TRUE agree on may-be-1; non-TRUE adds the default1 class to must-be-1. */
	const uint64_t pairs[4][2] = { { c->pinbased, c->true_pinbased }, { c->procbased, c->true_procbased },
				       { c->exit, c->true_exit }, { c->entry, c->true_entry } };
	const uint32_t default1[4] = { PIN_DEFAULT1, PROC_DEFAULT1, EXIT_DEFAULT1, ENTRY_DEFAULT1 };
	for (unsigned i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(may1(pairs[i][0]), may1(pairs[i][1]));
		CU_ASSERT_EQUAL(must1(pairs[i][0]), must1(pairs[i][1]) | default1[i]);
	}

	/* Features that depend on others are only offered with them. */
	if (may1(c->true_pinbased) & PIN_VIRTUAL_NMIS)
		CU_ASSERT((may1(c->true_pinbased) & PIN_NMI_EXITING) != 0);
	if (may1(c->true_procbased) & CPU_NMI_WINDOW_EXITING)
		CU_ASSERT((may1(c->true_pinbased) & PIN_VIRTUAL_NMIS) != 0);
	if (may1(c->true_exit) & EXIT_SAVE_PREEMPTION_TIMER)
		CU_ASSERT((may1(c->true_pinbased) & PIN_PREEMPTION_TIMER) != 0);
	if (c->ept_vpid & EPT_CAP_INVEPT)
		CU_ASSERT((c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)) != 0);
	if (c->ept_vpid & VPID_CAP_INVVPID)
		CU_ASSERT((c->ept_vpid & (VPID_CAP_INVVPID_ADDR | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL |
					 VPID_CAP_INVVPID_SINGLE_NOGLOBAL)) != 0);
}

static void assert_within_real(const struct nested_caps *c, const struct vmx_caps *r)
{
	const uint64_t offered[] = { c->true_pinbased, c->true_procbased & ~((uint64_t)NESTED_PROC_EMULATED << 32),
				     c->procbased2, c->true_exit, c->true_entry };
	const uint64_t real[] = { r->pinbased, r->procbased, r->procbased2, r->exit, r->entry };
	for (unsigned i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(may1(offered[i]) & ~may1(real[i]), 0);
		CU_ASSERT_EQUAL(must1(offered[i]), must1(real[i])); /* allowed-0 settings are the real ones */
	}
	CU_ASSERT_EQUAL(c->ept_vpid & ~r->ept_vpid, 0);
}

static void test_basic(void)
{
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	CU_ASSERT_EQUAL(c.basic & 0x7fffffffu, VMCS12_REVISION);
	CU_ASSERT_EQUAL(c.basic & 0x80000000u, 0);
	CU_ASSERT_EQUAL((c.basic >> 32) & 0x1fff, VMCS12_SIZE);
	CU_ASSERT_EQUAL((c.basic >> 50) & 0xf, 6); /* write-back */
	CU_ASSERT((c.basic & VMX_BASIC_TRUE_CTLS) != 0);
	CU_ASSERT_EQUAL(c.basic & (1ull << 48), 0); /* full physical-address width */
	CU_ASSERT_EQUAL(c.basic & (1ull << 49), 0); /* no dual-monitor SMM */
}

static void test_full_offer_is_consistent_and_within_real(void)
{
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	assert_within_real(&c, &r);

	const uint32_t pin = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER;
	CU_ASSERT_EQUAL(may1(c.true_pinbased) & pin, pin);
	const uint32_t proc = CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_HLT_EXITING | CPU_INVLPG_EXITING |
			      CPU_MWAIT_EXITING | CPU_RDPMC_EXITING | CPU_RDTSC_EXITING | CPU_CR3_LOAD_EXITING |
			      CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING |
			      CPU_NMI_WINDOW_EXITING | CPU_MOV_DR_EXITING | CPU_UNCOND_IO_EXITING | CPU_USE_IO_BITMAPS |
			      CPU_USE_MSR_BITMAPS | CPU_MONITOR_EXITING | CPU_PAUSE_EXITING | CPU_ACTIVATE_SECONDARY;
	CU_ASSERT_EQUAL(may1(c.true_procbased) & proc, proc);
	CU_ASSERT_EQUAL(may1(c.true_procbased) & CPU_TPR_SHADOW, 0);
	/* A processor without the monitor trap flag (Bochs's skylake_x): the child gets one all the same. */
	struct vmx_caps no_mtf = r;
	no_mtf.procbased &= ~((uint64_t)CPU_MONITOR_TRAP_FLAG << 32);
	nested_caps_compute(&c, &no_mtf, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	assert_within_real(&c, &no_mtf);
	CU_ASSERT_EQUAL(may1(c.true_procbased) & CPU_MONITOR_TRAP_FLAG, CPU_MONITOR_TRAP_FLAG);
	CU_ASSERT_EQUAL(may1(c.procbased) & CPU_MONITOR_TRAP_FLAG, CPU_MONITOR_TRAP_FLAG);
	const uint32_t sec = SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_ENABLE_RDTSCP |
			     SEC_WBINVD_EXITING | SEC_DESCRIPTOR_TABLE_EXITING | SEC_VMCS_SHADOWING;
	CU_ASSERT_EQUAL(may1(c.procbased2), sec); /* exactly these: no unrestricted guest, APIC, VMFUNC, ... */
	const uint32_t ex = EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE |
			    EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
			    EXIT_SAVE_PREEMPTION_TIMER | EXIT_ACK_INTR_ON_EXIT;
	CU_ASSERT_EQUAL(may1(c.true_exit) & ~EXIT_DEFAULT1, ex & ~EXIT_DEFAULT1);
	CU_ASSERT_EQUAL(may1(c.true_exit) & ex, ex);
	const uint32_t en = ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER;
	CU_ASSERT_EQUAL(may1(c.true_entry) & en, en);
	CU_ASSERT_EQUAL(may1(c.true_entry) & ~ENTRY_DEFAULT1, en & ~ENTRY_DEFAULT1);

	/* EPT/VPID: 4-level WB walks, 2 MiB pages, the INV types; not 1 GiB, A/D, UC or execute-only. */
	const uint64_t ev = EPT_CAP_WALK_LENGTH_4 | EPT_CAP_WB | EPT_CAP_2MB_PAGE | EPT_CAP_INVEPT |
			    EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR |
			    VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL | VPID_CAP_INVVPID_SINGLE_NOGLOBAL;
	CU_ASSERT_EQUAL(c.ept_vpid, ev);
	CU_ASSERT_EQUAL(c.vmfunc, 0);
}

static void test_misc_and_fixed_bits(void)
{
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 1);
	CU_ASSERT_EQUAL(c.misc & 0x1f, 5);               /* the real preemption-timer rate */
	CU_ASSERT((c.misc & (1ull << 6)) != 0);                 /* HLT activity state */
	CU_ASSERT_EQUAL(c.misc & (3ull << 7), 0);        /* not shutdown / wait-for-SIPI */
	CU_ASSERT_EQUAL((c.misc >> 16) & 0x1ff, 0);      /* no CR3-target values */
	CU_ASSERT((c.misc & (1ull << 29)) != 0);         /* VMWRITE to exit-information fields, as the processor */
	CU_ASSERT_EQUAL(c.misc >> 32, 0);                /* no MSEG */
	r.misc &= ~(1ull << 29);
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 1);
	CU_ASSERT_EQUAL(c.misc & (1ull << 29), 0); /* ... and only where it allows it */
	r = skylake();
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	CU_ASSERT_EQUAL(c.misc & (1ull << 29), 0); /* ... and only to a child that hosts a VMM */
	r = skylake();
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 1);
	CU_ASSERT_EQUAL(c.cr0_fixed0, r.cr0_fixed0);
	CU_ASSERT_EQUAL(c.cr0_fixed1, r.cr0_fixed1);
	CU_ASSERT_EQUAL(c.cr4_fixed0, r.cr4_fixed0);
	CU_ASSERT_EQUAL(c.cr4_fixed1, r.cr4_fixed1);
}

static void test_vmcs_enum_covers_every_field(void)
{
	static const uint32_t encodings[] = {
#define X(name, enc, attrs) enc,
#include "nestlab/vmcs_fields.def"
#undef X
	};
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, 0, 0);
	unsigned max = (unsigned)(c.vmcs_enum >> 1) & 0x1ff;
	int reached = 0;
	for (unsigned i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
		unsigned index = (encodings[i] >> 1) & 0x1ff;
		CU_ASSERT(index <= max);
		reached |= index == max;
	}
	CU_ASSERT_TRUE(reached);
	CU_ASSERT_EQUAL(c.vmcs_enum & ~0x3feull, 0);
}

static void test_features_narrow_the_offer(void)
{
	struct vmx_caps r = skylake();
	struct nested_caps c;

	nested_caps_compute(&c, &r, 0, 0);
	assert_consistent(&c);
	assert_within_real(&c, &r);
	/* VMCS shadowing follows the processor, not the child's features (it serves the child's child). */
	CU_ASSERT_EQUAL(may1(c.procbased2) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_VMCS_SHADOWING), SEC_VMCS_SHADOWING);
	CU_ASSERT((may1(c.procbased2) & SEC_ENABLE_RDTSCP) != 0);
	CU_ASSERT_EQUAL(c.ept_vpid, 0);

	nested_caps_compute(&c, &r, NL_FEAT_EPT, 0);
	assert_consistent(&c);
	CU_ASSERT_EQUAL(may1(c.procbased2) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_VMCS_SHADOWING), SEC_ENABLE_EPT | SEC_VMCS_SHADOWING);
	CU_ASSERT((c.ept_vpid & EPT_CAP_INVEPT_SINGLE) != 0);
	CU_ASSERT_EQUAL(c.ept_vpid >> 32, 0); /* no INVVPID part */

	nested_caps_compute(&c, &r, NL_FEAT_VPID, 0);
	assert_consistent(&c);
	CU_ASSERT_EQUAL(may1(c.procbased2) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_VMCS_SHADOWING), SEC_ENABLE_VPID | SEC_VMCS_SHADOWING);
	CU_ASSERT_EQUAL(c.ept_vpid & 0xffffffffull, 0); /* no EPT part */
	CU_ASSERT((c.ept_vpid & VPID_CAP_INVVPID_SINGLE_NOGLOBAL) != 0);

	/* The child's own shadowing feature (this VMM shadowing it) changes nothing in the offer. */
	nested_caps_compute(&c, &r, NL_FEAT_VMCS_SHADOW | NL_FEAT_EPT, 0);
	CU_ASSERT_EQUAL(may1(c.procbased2) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID | SEC_VMCS_SHADOWING), SEC_ENABLE_EPT | SEC_VMCS_SHADOWING);
}

static void test_real_processor_narrows_the_offer(void)
{
	/* An older processor: no VMCS shadowing, no INVEPT single-context, no 2 MiB EPT pages. */
	struct vmx_caps r = skylake();
	r.procbased2 &= ~((uint64_t)SEC_VMCS_SHADOWING << 32);
	r.has_vmcs_shadowing = 0;
	r.ept_vpid &= ~(EPT_CAP_INVEPT_SINGLE | EPT_CAP_2MB_PAGE);
	r.has_ept_2m = 0;
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	assert_within_real(&c, &r);
	CU_ASSERT_EQUAL(may1(c.procbased2) & SEC_VMCS_SHADOWING, 0);
	CU_ASSERT_EQUAL(c.ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_2MB_PAGE), 0);
	CU_ASSERT((c.ept_vpid & EPT_CAP_INVEPT_ALL) != 0);

	/* No INVEPT type at all: no INVEPT. */
	r.ept_vpid &= ~EPT_CAP_INVEPT_ALL;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	CU_ASSERT_EQUAL(c.ept_vpid & EPT_CAP_INVEPT, 0);

	/* No preemption timer (penryn-like): its exit control goes with it. */
	r = skylake();
	r.pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	CU_ASSERT_EQUAL(may1(c.true_pinbased) & PIN_PREEMPTION_TIMER, 0);
	CU_ASSERT_EQUAL(may1(c.true_exit) & EXIT_SAVE_PREEMPTION_TIMER, 0);

	/* No virtual NMIs: no NMI-window exiting either. */
	r = skylake();
	r.pinbased &= ~((uint64_t)PIN_VIRTUAL_NMIS << 32);
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	CU_ASSERT_EQUAL(may1(c.true_procbased) & CPU_NMI_WINDOW_EXITING, 0);
}

static void test_no_secondary_controls(void)
{
	struct vmx_caps r = skylake();
	r.procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY << 32);
	r.procbased2 = 0;
	r.ept_vpid = 0;
	r.has_ept = r.has_vpid = r.has_ept_2m = r.has_invept = r.has_invvpid = r.has_vmcs_shadowing = 0;
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	CU_ASSERT_EQUAL(may1(c.true_procbased) & CPU_ACTIVATE_SECONDARY, 0);
	uint64_t v;
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_VMX_PROCBASED_CTLS2, &v), -1);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_VMX_EPT_VPID_CAP, &v), -1);
}

static void test_without_true_controls(void)
{
	/* A processor without TRUE MSRs reports default1 bits as must-be-1: the offer keeps them so. */
	struct vmx_caps r = skylake();
	r.basic &= ~VMX_BASIC_TRUE_CTLS;
	r.pinbased |= PIN_DEFAULT1;
	r.procbased |= PROC_DEFAULT1;
	r.exit |= EXIT_DEFAULT1;
	r.entry |= ENTRY_DEFAULT1;
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	assert_consistent(&c);
	CU_ASSERT((c.basic & VMX_BASIC_TRUE_CTLS) != 0);
	CU_ASSERT_EQUAL(c.true_procbased, c.procbased);
	CU_ASSERT_EQUAL(must1(c.true_procbased) & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING),
			CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING);
}

static void test_rdmsr_maps_numbers(void)
{
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	const struct {
		uint32_t msr;
		uint64_t want;
	} map[] = {
		{ MSR_IA32_VMX_BASIC, c.basic },
		{ MSR_IA32_VMX_PINBASED_CTLS, c.pinbased },
		{ MSR_IA32_VMX_PROCBASED_CTLS, c.procbased },
		{ MSR_IA32_VMX_EXIT_CTLS, c.exit },
		{ MSR_IA32_VMX_ENTRY_CTLS, c.entry },
		{ MSR_IA32_VMX_MISC, c.misc },
		{ MSR_IA32_VMX_CR0_FIXED0, c.cr0_fixed0 },
		{ MSR_IA32_VMX_CR0_FIXED1, c.cr0_fixed1 },
		{ MSR_IA32_VMX_CR4_FIXED0, c.cr4_fixed0 },
		{ MSR_IA32_VMX_CR4_FIXED1, c.cr4_fixed1 },
		{ MSR_IA32_VMX_VMCS_ENUM, c.vmcs_enum },
		{ MSR_IA32_VMX_PROCBASED_CTLS2, c.procbased2 },
		{ MSR_IA32_VMX_EPT_VPID_CAP, c.ept_vpid },
		{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, c.true_pinbased },
		{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, c.true_procbased },
		{ MSR_IA32_VMX_TRUE_EXIT_CTLS, c.true_exit },
		{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, c.true_entry },
	};
	for (unsigned i = 0; i < sizeof map / sizeof map[0]; i++) {
		uint64_t v = 0x5555;
		CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, map[i].msr, &v), 0);
		CU_ASSERT_EQUAL(v, map[i].want);
	}
	/* The numbers really are the SDM's (not just consistent with the header). */
	uint64_t v;
	nested_caps_rdmsr(&c, 0x480, &v);
	CU_ASSERT_EQUAL(v, c.basic);
	nested_caps_rdmsr(&c, 0x48e, &v);
	CU_ASSERT_EQUAL(v, c.true_procbased);
	nested_caps_rdmsr(&c, 0x48b, &v);
	CU_ASSERT_EQUAL(v, c.procbased2);

	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_VMX_VMFUNC, &v), -1); /* VM functions not offered */
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, 0x47f, &v), -1);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, 0x492, &v), -1);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_FEATURE_CONTROL, &v), -1);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_EFER, &v), -1);

	/* Without EPT and VPID the EPT/VPID capability MSR does not exist. */
	nested_caps_compute(&c, &r, NL_FEAT_VMCS_SHADOW, 0);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_VMX_EPT_VPID_CAP, &v), -1);
	CU_ASSERT_EQUAL(nested_caps_rdmsr(&c, MSR_IA32_VMX_PROCBASED_CTLS2, &v), 0);
}

static void test_what_a_nestlab_vmm_asks_for_is_offered(void)
{
	/* The controls vmm/vmcs_setup.c requests for its own VMs must all be available one level down. */
	struct vmx_caps r = skylake();
	struct nested_caps c;
	nested_caps_compute(&c, &r, NL_FEAT_ALL, 0);
	uint32_t missing;
	vmx_adjust_controls(PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER, c.true_pinbased, &missing);
	CU_ASSERT_EQUAL(missing, 0);
	vmx_adjust_controls(CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_MWAIT_EXITING | CPU_MONITOR_EXITING |
				    CPU_ACTIVATE_SECONDARY,
			    c.true_procbased, &missing);
	CU_ASSERT_EQUAL(missing, 0);
	vmx_adjust_controls(SEC_ENABLE_EPT | SEC_ENABLE_VPID, c.procbased2, &missing);
	CU_ASSERT_EQUAL(missing, 0);
	vmx_adjust_controls(EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER, c.true_exit, &missing);
	CU_ASSERT_EQUAL(missing, 0);
	vmx_adjust_controls(ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER, c.true_entry, &missing);
	CU_ASSERT_EQUAL(missing, 0);
}

void register_suite_nested_caps(void)
{
	CU_pSuite s = CU_add_suite("nested_caps", NULL, NULL);
	CU_add_test(s, "IA32_VMX_BASIC", test_basic);
	CU_add_test(s, "full offer is consistent and within the real", test_full_offer_is_consistent_and_within_real);
	CU_add_test(s, "misc and fixed bits", test_misc_and_fixed_bits);
	CU_add_test(s, "VMCS_ENUM covers every field", test_vmcs_enum_covers_every_field);
	CU_add_test(s, "features narrow the offer", test_features_narrow_the_offer);
	CU_add_test(s, "the real processor narrows the offer", test_real_processor_narrows_the_offer);
	CU_add_test(s, "no secondary controls", test_no_secondary_controls);
	CU_add_test(s, "without TRUE controls", test_without_true_controls);
	CU_add_test(s, "RDMSR maps MSR numbers", test_rdmsr_maps_numbers);
	CU_add_test(s, "what a nestlab VMM asks for is offered", test_what_a_nestlab_vmm_asks_for_is_offered);
}
