/* The VMM's own VM-entry checks (SDM 26.2-26.3) over synthetic VMCS values. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nestlab/vmx.h"
#include "vmcs_check.h"
#include "single_step.h"

/* Capabilities shaped like a Skylake-class processor with TRUE controls. */
static const struct vmcs_check_caps caps = {
	.pinbased = 0x000000ff00000016ull,
	.procbased = 0xfff9fffe04006172ull,
	.procbased2 = 0x003fffff00000000ull,
	.exit = 0x01ffffff00036dfbull,
	.entry = 0x0003ffff000011fbull,
	.cr0_fixed0 = 0x80000021ull,
	.cr0_fixed1 = 0xffffffffull,
	.cr4_fixed0 = 0x2000ull,
	.cr4_fixed1 = 0x3767ffull,
	.ept_vpid = 0xf0106734141ull,
	.misc = 0x40, /* activity states: HLT only */
	.phys_addr_bits = 40,
};

static struct vmcs_check_state good(void)
{
	struct vmcs_check_state s;
	memset(&s, 0, sizeof s);
	s.pin = (uint32_t)caps.pinbased | PIN_PREEMPTION_TIMER;
	s.proc = (uint32_t)caps.procbased | CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_ACTIVATE_SECONDARY;
	s.proc2 = SEC_ENABLE_EPT | SEC_ENABLE_VPID;
	s.exit = (uint32_t)caps.exit | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_EFER;
	s.entry = (uint32_t)caps.entry | ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER;
	s.vpid = 1;
	s.eptp = 0x1234000 | 6 | (3 << 3);
	s.host_cr0 = 0x80000033;
	s.host_cr3 = 0x300000;
	s.host_cr4 = CR4_PAE | CR4_VMXE;
	s.host_efer = EFER_LME | EFER_LMA;
	s.host_cs = 0x08;
	s.host_ss = s.host_ds = s.host_es = s.host_fs = s.host_gs = 0x10;
	s.host_tr = 0x18;
	s.host_rip = 0x201000;
	s.guest_cr0 = 0x80010033;
	s.guest_cr3 = 0x3000;
	s.guest_cr4 = CR4_PAE | CR4_VMXE;
	s.guest_efer = EFER_LME | EFER_LMA;
	s.guest_dr7 = 0x400;
	s.guest_rflags = 2;
	s.guest_rip = 0x100000;
	s.cs = (struct vmcs_seg){ 0x08, 0, 0xffffffff, 0xa09b };
	struct vmcs_seg data = { 0x10, 0, 0xffffffff, 0xc093 };
	s.ss = s.ds = s.es = s.fs = s.gs = data;
	s.tr = (struct vmcs_seg){ 0x18, 0x2800, 0x67, 0x8b };
	s.ldtr = (struct vmcs_seg){ 0, 0, 0, 0x10000 };
	s.gdtr_base = 0x2000;
	s.gdtr_limit = 0x27;
	s.link_pointer = ~0ull;
	s.processor_ia32e = 1;
	return s;
}

#define EXPECT_FAIL(mutation, section)                                        \
	do {                                                                  \
		struct vmcs_check_state s = good();                           \
		mutation;                                                     \
		const char *why = vmcs_check(&s, &caps);                      \
		CU_ASSERT_PTR_NOT_NULL(why);                                  \
		if (why)                                                      \
			CU_ASSERT_PTR_NOT_NULL(strstr(why, section));         \
	} while (0)

static void test_good_state_passes(void)
{
	struct vmcs_check_state s = good();
	CU_ASSERT_PTR_NULL(vmcs_check(&s, &caps));
}

static void test_control_checks(void)
{
	EXPECT_FAIL(s.pin &= ~0x16u, "26.2.1.1");              /* a must-be-1 bit cleared */
	EXPECT_FAIL(s.pin |= 1u << 9, "26.2.1.1");             /* a bit outside may-be-1 */
	EXPECT_FAIL(s.proc2 |= 1u << 30, "secondary");
	EXPECT_FAIL(s.vpid = 0, "VPID");
	EXPECT_FAIL(s.eptp = (s.eptp & ~0x38ull) | (2 << 3), "page-walk length");
	EXPECT_FAIL(s.eptp = (s.eptp & ~7ull) | 1, "memory type");
	EXPECT_FAIL(s.cr3_target_count = 5, "CR3-target");
	EXPECT_FAIL((s.proc |= CPU_USE_MSR_BITMAPS, s.msr_bitmap = 0x1234), "MSR bitmap");
	EXPECT_FAIL((s.pin &= ~PIN_PREEMPTION_TIMER, s.exit |= EXIT_SAVE_PREEMPTION_TIMER), "26.2.1.2");
	EXPECT_FAIL(s.entry &= ~0x11fbu, "26.2.1.3");
	EXPECT_FAIL((s.pin |= PIN_VIRTUAL_NMIS, s.pin &= ~PIN_NMI_EXITING), "virtual NMIs is 1");
	EXPECT_FAIL(s.proc |= CPU_NMI_WINDOW_EXITING, "NMI-window exiting");
}

static void test_event_injection_checks(void)
{
	const uint32_t valid = INTR_INFO_VALID, hw_exception = INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT,
	       deliver = INTR_INFO_ERROR_CODE;
	struct vmcs_check_state ok = good();
	ok.entry_intr_info = valid | hw_exception | deliver | VECTOR_GP; /* #GP with its error code */
	CU_ASSERT_PTR_NULL(vmcs_check(&ok, &caps));
	ok.entry_intr_info = intr_info_event(INTR_TYPE_SW_INTR, 0x80); /* INT 0x80 */
	ok.entry_insn_len = 2;
	CU_ASSERT_PTR_NULL(vmcs_check(&ok, &caps));
	EXPECT_FAIL(s.entry_intr_info = intr_info_event(INTR_TYPE_RESERVED, 0), "reserved interruption type");
	/* Type 7, vector 0: a pending MTF VM exit, where the monitor trap flag may be 1 (these caps: it may). */
	ok.entry_intr_info = intr_info_event(INTR_TYPE_OTHER, 0);
	CU_ASSERT_PTR_NULL(vmcs_check(&ok, &caps));
	EXPECT_FAIL(s.entry_intr_info = intr_info_event(INTR_TYPE_OTHER, 1), "vector other than 0");
	struct vmcs_check_caps no_mtf = caps;
	no_mtf.procbased &= ~((uint64_t)CPU_MONITOR_TRAP_FLAG << 32);
	CU_ASSERT_PTR_NOT_NULL(vmcs_check(&ok, &no_mtf));
	EXPECT_FAIL(s.entry_intr_info = intr_info_event(INTR_TYPE_NMI, 3), "NMI injection");
	EXPECT_FAIL(s.entry_intr_info = valid | hw_exception | 32, "above 31");
	EXPECT_FAIL(s.entry_intr_info = valid | hw_exception | VECTOR_PF, "deliver-error-code"); /* #PF without */
	EXPECT_FAIL(s.entry_intr_info = valid | hw_exception | deliver | VECTOR_UD, "deliver-error-code"); /* #UD with */
	EXPECT_FAIL(s.entry_intr_info = valid | hw_exception | (1u << 20) | VECTOR_UD, "reserved bits");
	EXPECT_FAIL((s.entry_intr_info = intr_info_event(INTR_TYPE_SW_INTR, 0x80), s.entry_insn_len = 0), "instruction length");
	EXPECT_FAIL((s.entry_intr_info = valid | hw_exception | deliver | VECTOR_GP, s.entry_error_code = 0x10000),
		    "error code bits 31:16");
	/* Not valid: nothing else in the field matters. */
	struct vmcs_check_state idle = good();
	idle.entry_intr_info = 0x7fffffff;
	CU_ASSERT_PTR_NULL(vmcs_check(&idle, &caps));
}

static void test_host_checks(void)
{
	EXPECT_FAIL(s.host_sysenter_eip = 0x0000800000000000ull, "SYSENTER");
	EXPECT_FAIL(s.exit &= ~EXIT_HOST_ADDR_SPACE_SIZE, "26.2.4");
	EXPECT_FAIL(s.host_cr0 &= ~CR0_PG, "host CR0");
	EXPECT_FAIL(s.host_cr4 &= ~CR4_VMXE, "host CR4");
	EXPECT_FAIL(s.host_tr = 0, "host TR");
	EXPECT_FAIL(s.host_cs = 0, "host CS");
	EXPECT_FAIL(s.host_ds = 0x13, "RPL or TI");
	EXPECT_FAIL(s.host_rip = 0x0000800000000000ull, "canonical");
	EXPECT_FAIL(s.host_efer &= ~EFER_LMA, "LMA/LME");
}

static void test_guest_checks(void)
{
	EXPECT_FAIL(s.guest_cr0 &= ~CR0_NE, "guest CR0");
	EXPECT_FAIL(s.guest_cr4 &= ~CR4_PAE, "IA-32e");
	EXPECT_FAIL(s.guest_efer &= ~EFER_LMA, "LMA");
	EXPECT_FAIL(s.cs.ar = 0xe09b, "CS.L and CS.D/B");
	EXPECT_FAIL(s.cs.ar = 0xa093, "CS type");
	EXPECT_FAIL(s.ss.ar = 0xc09b, "SS type");
	EXPECT_FAIL(s.ds.ar = 0xc013, "DS access rights");
	EXPECT_FAIL(s.tr.ar = 0x89, "busy TSS");
	EXPECT_FAIL(s.tr.ar = 0x1008b, "TR is unusable");
	EXPECT_FAIL((s.ldtr.ar = 0x82, s.ldtr.selector = 0x4), "LDTR");
	EXPECT_FAIL(s.guest_rflags = 0, "RFLAGS bit 1");
	EXPECT_FAIL(s.guest_rflags = 0x2 | (1ull << 15), "RFLAGS");
	EXPECT_FAIL(s.guest_rip = 0xffff800000000000ull - 1, "RIP not canonical");
	EXPECT_FAIL(s.link_pointer = 0, "link pointer");
	EXPECT_FAIL(s.activity_state = 4, "activity state");
	EXPECT_FAIL(s.interruptibility = 3, "STI and by MOV SS");
	EXPECT_FAIL(s.gdtr_limit = 0x10000, "GDTR/IDTR limit");
	EXPECT_FAIL(s.ss.selector = 0x13, "SS.RPL");
}

/* VMCS shadowing: the bitmaps are controls (VMfailValid 7); the link pointer has a phase of its own (qualification 4). */
static void test_vmcs_shadowing_checks(void)
{
	enum vmcs_check_phase phase;
	struct vmcs_check_state s = good();
	s.proc2 |= SEC_VMCS_SHADOWING;
	s.vmread_bitmap = 0x7000;
	s.vmwrite_bitmap = 0x8000;
	CU_ASSERT_PTR_NULL(vmcs_check_phased(&s, &caps, &phase)); /* link pointer all ones: no shadow VMCS yet */
	s.link_pointer = 0x9000;
	CU_ASSERT_PTR_NULL(vmcs_check_phased(&s, &caps, &phase));
	s.vmwrite_bitmap = 0x8010;
	CU_ASSERT_PTR_NOT_NULL(vmcs_check_phased(&s, &caps, &phase));
	CU_ASSERT_EQUAL(phase, VMCS_CHECK_CONTROLS);
	s.vmwrite_bitmap = 1ull << 50; /* beyond the physical-address width */
	CU_ASSERT_PTR_NOT_NULL(vmcs_check_phased(&s, &caps, &phase));
	CU_ASSERT_EQUAL(phase, VMCS_CHECK_CONTROLS);
	s.vmwrite_bitmap = 0x8000;
	s.link_pointer = 0x9008;
	const char *why = vmcs_check_phased(&s, &caps, &phase);
	CU_ASSERT_EQUAL(phase, VMCS_CHECK_LINK_POINTER);
	CU_ASSERT_PTR_NOT_NULL(why && strstr(why, "link pointer"));
	/* Without shadowing the bitmaps are not looked at, and nestlab wants no link pointer at all. */
	s.proc2 &= ~SEC_VMCS_SHADOWING;
	s.vmread_bitmap = 1;
	s.link_pointer = 0x9000;
	CU_ASSERT_PTR_NOT_NULL(vmcs_check_phased(&s, &caps, &phase));
	CU_ASSERT_EQUAL(phase, VMCS_CHECK_LINK_POINTER);
	s.link_pointer = ~0ull;
	CU_ASSERT_PTR_NULL(vmcs_check_phased(&s, &caps, &phase));
}

/* The hot checks alone fail exactly where the full checks fail on the hot fields, in the same phase. */
#define EXPECT_HOT_FAIL(mutation, section, expected_phase)                       \
	do {                                                                     \
		struct vmcs_check_state s = good();                              \
		enum vmcs_check_phase full_phase, hot_phase;                     \
		mutation;                                                        \
		const char *full = vmcs_check_phased(&s, &caps, &full_phase);    \
		const char *hot = vmcs_check_hot_phased(&s, &caps, &hot_phase);         \
		CU_ASSERT_PTR_NOT_NULL(hot);                                     \
		CU_ASSERT_PTR_EQUAL(hot, full);                                  \
		CU_ASSERT_EQUAL(hot_phase, expected_phase);                      \
		CU_ASSERT_EQUAL(full_phase, expected_phase);                     \
		if (hot)                                                         \
			CU_ASSERT_PTR_NOT_NULL(strstr(hot, section));            \
	} while (0)

static void test_hot_checks(void)
{
	const uint32_t gp_with_code = intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_GP) | INTR_INFO_ERROR_CODE;
	enum vmcs_check_phase phase;
	struct vmcs_check_state s = good();
	CU_ASSERT_PTR_NULL(vmcs_check_hot_phased(&s, &caps, &phase));
	CU_ASSERT_EQUAL(phase, VMCS_CHECK_OK);
	EXPECT_HOT_FAIL(s.entry_intr_info = intr_info_event(INTR_TYPE_RESERVED, 0), "reserved interruption type",
			VMCS_CHECK_CONTROLS);
	EXPECT_HOT_FAIL(s.guest_rip = 0xffff800000000000ull - 1, "RIP not canonical", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL(s.guest_rflags = 0x2 | (1ull << 17), "RFLAGS.VM", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL(s.activity_state = 4, "activity state", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL(s.interruptibility = 3, "STI and by MOV SS", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL(s.activity_state = 3, "not supported", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL((s.activity_state = 1, s.entry_intr_info = gp_with_code), "into HLT", VMCS_CHECK_GUEST);
	EXPECT_HOT_FAIL((s.entry_intr_info = gp_with_code, s.entry_error_code = 1u << 16),
			"error code bits 31:16", VMCS_CHECK_CONTROLS);
	EXPECT_HOT_FAIL(s.pending_dbg = 1ull << 4, "pending debug exceptions reserved", VMCS_CHECK_GUEST);
	/* Outside 64-bit mode RIP's upper half must be clear: the mode comes from the (unchanged) CS and entry controls. */
	EXPECT_HOT_FAIL((s.entry &= ~ENTRY_IA32E_MODE_GUEST, s.guest_efer = 0, s.cs.ar = 0xc09b, s.guest_rip = 1ull << 32),
			"63:32", VMCS_CHECK_GUEST);
	/* What only the other checks read is not looked at: a bad CR0 passes the hot checks. */
	s.guest_cr0 &= ~CR0_NE;
	CU_ASSERT_PTR_NULL(vmcs_check_hot_phased(&s, &caps, &phase));
	CU_ASSERT_PTR_NOT_NULL(vmcs_check(&s, &caps));
}

/* The hot filler copies what the hot checks read, and nothing else. */
static void test_hot_state_from_fields(void)
{
	uint64_t f[VMCS12_NFIELDS];
	memset(f, 0, sizeof f);
	f[VMCS12_IDX_GUEST_RIP] = 0x1234;
	f[VMCS12_IDX_GUEST_RFLAGS] = 0x202;
	f[VMCS12_IDX_GUEST_CS_AR_BYTES] = 0xa09b;
	f[VMCS12_IDX_VM_ENTRY_CONTROLS] = ENTRY_IA32E_MODE_GUEST;
	f[VMCS12_IDX_VM_ENTRY_INTR_INFO_FIELD] = 0x80000b0d;
	f[VMCS12_IDX_VM_ENTRY_INSTRUCTION_LEN] = 3;
	f[VMCS12_IDX_GUEST_ACTIVITY_STATE] = 1;
	f[VMCS12_IDX_GUEST_INTERRUPTIBILITY_INFO] = 2;
	f[VMCS12_IDX_GUEST_CR0] = 0x99;
	f[VMCS12_IDX_VM_ENTRY_EXCEPTION_ERROR_CODE] = 7;
	f[VMCS12_IDX_GUEST_PENDING_DBG_EXCEPTIONS] = 1ull << 14;
	f[VMCS12_IDX_GUEST_IA32_DEBUGCTL] = 2;
	f[VMCS12_IDX_GUEST_SS_AR_BYTES] = 0xc0f3;
	f[VMCS12_IDX_PIN_BASED_VM_EXEC_CONTROL] = 0x16;
	struct vmcs_check_state s = good();
	vmcs_check_state_hot_from_fields(&s, f);
	CU_ASSERT_EQUAL(s.guest_rip, 0x1234);
	CU_ASSERT_EQUAL(s.guest_rflags, 0x202);
	CU_ASSERT_EQUAL(s.cs.ar, 0xa09b);
	CU_ASSERT_EQUAL(s.entry, ENTRY_IA32E_MODE_GUEST);
	CU_ASSERT_EQUAL(s.entry_intr_info, 0x80000b0d);
	CU_ASSERT_EQUAL(s.entry_insn_len, 3);
	CU_ASSERT_EQUAL(s.activity_state, 1);
	CU_ASSERT_EQUAL(s.interruptibility, 2);
	CU_ASSERT_EQUAL(s.entry_error_code, 7);
	CU_ASSERT_EQUAL(s.pending_dbg, 1ull << 14);
	CU_ASSERT_EQUAL(s.guest_debugctl, 2);
	CU_ASSERT_EQUAL(s.ss.ar, 0xc0f3);
	CU_ASSERT_EQUAL(s.pin, 0x16);
	CU_ASSERT_EQUAL(s.guest_cr0, good().guest_cr0); /* left as it was */
}

/*
 * Single-stepping by RFLAGS.TF (vmm/single_step.h): from any state that
 * passes the entry checks (blocking by STI or MOV SS, active or HLT, BTF,
 * TF and BS as they may be), the state step_entry_state() makes passes them
 * too, stepping or not; it sets TF exactly when stepping an active guest,
 * then with no STI blocking (BS pending with it would step at once), and
 * leaves BS alone where no rule fixes it.  step_drop_stale_bs() keeps BS
 * only under MOV-SS blocking.
 */
static void test_step_entry_state_passes_the_entry_checks(void)
{
	const uint64_t pendings[] = { 0, DBG_BS, DBG_BS | 1, 1 };
	unsigned passed_in = 0;
	for (uint32_t blocking = 0; blocking < 3; blocking++)
		for (uint32_t activity = 0; activity < 2; activity++)
			for (unsigned p = 0; p < 4; p++)
				for (unsigned bits = 0; bits < 8; bits++) {
					int tf = bits & 1, btf = (bits >> 1) & 1, step = (bits >> 2) & 1;
					struct vmcs_check_state st = good();
					st.guest_rflags |= RFLAGS_IF | (tf ? RFLAGS_TF : 0);
					st.interruptibility = blocking;
					st.activity_state = activity;
					st.guest_debugctl = btf ? DEBUGCTL_BTF : 0;
					st.pending_dbg = pendings[p];
					if (vmcs_check(&st, &caps))
						continue; /* only states a VMM could have entered with */
					passed_in++;
					struct step_entry e = step_entry_state(st.guest_rflags, st.pending_dbg,
									       st.interruptibility, activity,
									       st.guest_debugctl, step);
					st.guest_rflags = e.rflags;
					st.pending_dbg = e.pending_dbg;
					st.interruptibility = e.interruptibility;
					CU_ASSERT_PTR_NULL(vmcs_check(&st, &caps));
					CU_ASSERT_EQUAL(!!(e.rflags & RFLAGS_TF), tf || (step && activity == 0));
					if (step && activity == 0)
						CU_ASSERT_EQUAL(e.interruptibility & INTERRUPTIBILITY_STI, 0);
					CU_ASSERT_EQUAL(e.pending_dbg & ~DBG_BS, pendings[p] & ~DBG_BS);
					if (!(e.interruptibility & 3) && activity == 0)
						CU_ASSERT_EQUAL(e.pending_dbg, pendings[p]);
				}
	CU_ASSERT(passed_in >= 32);
	CU_ASSERT_EQUAL(step_drop_stale_bs(DBG_BS | 1, 0), 1);
	CU_ASSERT_EQUAL(step_drop_stale_bs(DBG_BS | 1, INTERRUPTIBILITY_STI), 1);
	CU_ASSERT_EQUAL(step_drop_stale_bs(DBG_BS | 1, INTERRUPTIBILITY_MOV_SS), DBG_BS | 1);
}

/* 26.3.1.5 (and 26.3.1.4): activity state, interruptibility, pending debug exceptions, the event to inject. */
static void test_non_register_state_checks(void)
{
	const uint32_t valid = INTR_INFO_VALID, ext_int = INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT,
	       nmi = (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | VECTOR_NMI,
	       hw_exception = INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT;
	const uint64_t rf_if = 1ull << 9, rf_tf = 1ull << 8, bs = 1ull << 14;
	/* Activity states IA32_VMX_MISC does not offer (wait-for-SIPI, shutdown) are refused. */
	EXPECT_FAIL(s.activity_state = 3, "not supported");
	EXPECT_FAIL(s.activity_state = 2, "not supported");
	struct vmcs_check_state hlt = good();
	hlt.activity_state = 1;
	CU_ASSERT_PTR_NULL(vmcs_check(&hlt, &caps));
	EXPECT_FAIL((s.activity_state = 1, s.ss.ar |= 3u << 5), "SS.DPL");
	EXPECT_FAIL((s.activity_state = 1, s.guest_rflags |= rf_if, s.interruptibility = 1), "inactive activity state");
	/* In HLT only external interrupts, NMIs, #DB and #MC may be injected. */
	EXPECT_FAIL((s.activity_state = 1, s.entry_intr_info = valid | hw_exception | INTR_INFO_ERROR_CODE | VECTOR_GP), "into HLT");
	hlt.guest_rflags |= rf_if;
	hlt.entry_intr_info = valid | ext_int | 0x20;
	CU_ASSERT_PTR_NULL(vmcs_check(&hlt, &caps));
	hlt.entry_intr_info = valid | hw_exception | VECTOR_MC;
	CU_ASSERT_PTR_NULL(vmcs_check(&hlt, &caps));
	/* Interruptibility against RFLAGS.IF and the event. */
	EXPECT_FAIL(s.interruptibility = 1, "blocking by STI with RFLAGS.IF 0");
	EXPECT_FAIL(s.entry_intr_info = valid | ext_int | 0x20, "RFLAGS.IF 0");
	EXPECT_FAIL((s.guest_rflags |= rf_if, s.interruptibility = 2, s.entry_intr_info = valid | ext_int | 0x20),
		    "external-interrupt injection with blocking");
	EXPECT_FAIL((s.interruptibility = 2, s.entry_intr_info = valid | nmi), "NMI injection with blocking by MOV SS");
	EXPECT_FAIL(s.interruptibility = 4, "SMI");
	EXPECT_FAIL((s.pin |= PIN_VIRTUAL_NMIS | PIN_NMI_EXITING, s.interruptibility = 8, s.entry_intr_info = valid | nmi),
		    "virtual NMIs");
	/* Pending debug exceptions: reserved bits, and BS following TF when blocked or halted. */
	EXPECT_FAIL(s.pending_dbg = 1ull << 4, "pending debug exceptions reserved");
	EXPECT_FAIL((s.guest_rflags |= rf_if | rf_tf, s.interruptibility = 1), "BS");
	EXPECT_FAIL((s.guest_rflags |= rf_if, s.interruptibility = 1, s.pending_dbg = bs), "BS");
	struct vmcs_check_state step = good();
	step.guest_rflags |= rf_if | rf_tf;
	step.interruptibility = 1;
	step.pending_dbg = bs;
	CU_ASSERT_PTR_NULL(vmcs_check(&step, &caps));
	/* In shutdown only NMIs and #MC may be injected (where shutdown is offered); no enclave interruption. */
	struct vmcs_check_caps all_states = caps;
	all_states.misc |= 0x1c0;
	struct vmcs_check_state down = good();
	down.activity_state = 2;
	down.entry_intr_info = valid | nmi;
	CU_ASSERT_PTR_NULL(vmcs_check(&down, &all_states));
	down.entry_intr_info = valid | hw_exception | VECTOR_MC;
	CU_ASSERT_PTR_NULL(vmcs_check(&down, &all_states));
	down.entry_intr_info = valid | hw_exception | VECTOR_DB;
	CU_ASSERT_PTR_NOT_NULL(vmcs_check(&down, &all_states));
	down.entry_intr_info = 0;
	down.activity_state = 3;
	CU_ASSERT_PTR_NULL(vmcs_check(&down, &all_states));
	down.entry_intr_info = valid | nmi;
	CU_ASSERT_PTR_NOT_NULL(vmcs_check(&down, &all_states));
	EXPECT_FAIL(s.interruptibility = 0x10, "enclave");
	/* Guest EFER reserved bits, when the entry loads EFER. */
	EXPECT_FAIL(s.guest_efer |= 1ull << 12, "IA32_EFER reserved");
}

static void test_unrestricted_guest_relaxes_pe_pg(void)
{
	struct vmcs_check_state s = good();
	s.proc2 |= SEC_UNRESTRICTED_GUEST;
	s.entry &= ~ENTRY_IA32E_MODE_GUEST;
	s.guest_efer = 0;
	s.guest_cr0 = CR0_NE | CR0_ET;
	s.guest_rip = 0x7c00;
	s.cs.ar = 0xc09b;
	CU_ASSERT_PTR_NULL(vmcs_check(&s, &caps));
	s.proc2 &= ~SEC_UNRESTRICTED_GUEST;
	CU_ASSERT_PTR_NOT_NULL(vmcs_check(&s, &caps));
}

void register_suite_vmcs_check(void)
{
	CU_pSuite s = CU_add_suite("vmcs_check", NULL, NULL);
	CU_add_test(s, "the VMCS nestlab builds passes", test_good_state_passes);
	CU_add_test(s, "VMCS shadowing: bitmaps and link pointer", test_vmcs_shadowing_checks);
	CU_add_test(s, "VM-execution/exit/entry control checks", test_control_checks);
	CU_add_test(s, "host-state checks", test_host_checks);
	CU_add_test(s, "event-injection checks", test_event_injection_checks);
	CU_add_test(s, "guest-state checks", test_guest_checks);
	CU_add_test(s, "unrestricted guest relaxes CR0.PE/PG", test_unrestricted_guest_relaxes_pe_pg);
	CU_add_test(s, "non-register state: activity, interruptibility, pending debug exceptions",
		    test_non_register_state_checks);
	CU_add_test(s, "hot checks alone: same verdict and phase on the hot fields", test_hot_checks);
	CU_add_test(s, "single-stepping by TF: an entry state the checks accept", test_step_entry_state_passes_the_entry_checks);
	CU_add_test(s, "hot checks read only the hot fields", test_hot_state_from_fields);
}
