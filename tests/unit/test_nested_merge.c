/* VMCS02's controls (nested/vmcs02_merge.c): L1's wishes, this VMM's needs, the processor's limits. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nested.h"
#include "vmx_caps.h"

/* A Skylake-class processor with TRUE controls (as in test_vmcs_check.c). */
static const struct vmx_caps skylake = {
	.pinbased = 0x000000ff00000016ull,
	.procbased = 0xfff9fffe04006172ull,
	.procbased2 = 0x003fffff00000000ull,
	.exit = 0x01ffffff00036dfbull,
	.entry = 0x0003ffff000011fbull,
};

static struct vmcs12 v;
static struct vmcs02_controls c;

static void l1_asks(uint32_t pin, uint32_t proc, uint32_t proc2, uint32_t exit, uint32_t entry)
{
	memset(&v, 0, sizeof v);
	V12(&v, PIN_BASED_VM_EXEC_CONTROL) = pin;
	V12(&v, CPU_BASED_VM_EXEC_CONTROL) = proc;
	V12(&v, SECONDARY_VM_EXEC_CONTROL) = proc2;
	V12(&v, VM_EXIT_CONTROLS) = exit;
	V12(&v, VM_ENTRY_CONTROLS) = entry;
}

static int within(uint32_t value, uint64_t cap)
{
	return (value & ~(uint32_t)(cap >> 32)) == 0 && ((uint32_t)cap & ~value) == 0;
}

static void test_own_needs_when_l1_asks_nothing(void)
{
	l1_asks(0, 0, 0, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.pin & (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER),
			PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER);
	CU_ASSERT(c.proc & CPU_UNCOND_IO_EXITING);
	CU_ASSERT(c.proc & CPU_HLT_EXITING);
	CU_ASSERT(c.proc & CPU_MWAIT_EXITING);
	CU_ASSERT(c.proc & CPU_MONITOR_EXITING);
	CU_ASSERT(c.proc & CPU_ACTIVATE_SECONDARY);
	CU_ASSERT_FALSE(c.proc & (CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_TPR_SHADOW));
	CU_ASSERT_FALSE(c.proc & (CPU_RDTSC_EXITING | CPU_INVLPG_EXITING | CPU_MOV_DR_EXITING));
	CU_ASSERT_EQUAL(c.proc2, SEC_ENABLE_EPT);
	CU_ASSERT_EQUAL(c.exit & (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER),
			EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER);
	CU_ASSERT_FALSE(c.exit & (EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_PAT));
	/* A real interrupt while L2 runs is this VMM's: acknowledged so it cannot end every entry at once. */
	CU_ASSERT(c.exit & EXIT_ACK_INTR_ON_EXIT);
	CU_ASSERT(c.entry & ENTRY_LOAD_IA32_EFER);
	CU_ASSERT(c.entry & ENTRY_LOAD_DEBUG_CONTROLS);
	CU_ASSERT_FALSE(c.entry & (ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT));
	CU_ASSERT_EQUAL(c.exception_bitmap, 0);
}

static void test_l1_exiting_controls_kept(void)
{
	uint32_t proc = CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_INVLPG_EXITING | CPU_RDPMC_EXITING |
			CPU_RDTSC_EXITING | CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING | CPU_CR8_LOAD_EXITING |
			CPU_CR8_STORE_EXITING | CPU_NMI_WINDOW_EXITING | CPU_MOV_DR_EXITING |
			CPU_MONITOR_TRAP_FLAG | CPU_PAUSE_EXITING;
	l1_asks(PIN_VIRTUAL_NMIS | PIN_NMI_EXITING, proc, 0, 0, 0);
	V12(&v, EXCEPTION_BITMAP) = (1u << 14) | (1u << 6) | (1u << 3);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.proc & proc, proc);
	CU_ASSERT(c.pin & PIN_VIRTUAL_NMIS);
	CU_ASSERT_EQUAL(c.exception_bitmap, (1u << 14) | (1u << 6) | (1u << 3));
}

/*
 * L1's NMIs: without NMI exiting they go to L2's IDT, injected by this VMM,
 * so VMCS02 tracks L2's NMI blocking with virtual NMIs; with NMI exiting
 * and no virtual NMIs, VMCS02 keeps L1's choice (blocking as L1 set it).
 */
static void test_virtual_nmis_when_l1_lets_nmis_through(void)
{
	l1_asks(0, 0, 0, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.pin & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS), PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	l1_asks(PIN_NMI_EXITING, 0, 0, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT(c.pin & PIN_NMI_EXITING);
	CU_ASSERT_FALSE(c.pin & PIN_VIRTUAL_NMIS);
	/* A processor without virtual NMIs: dropped, NMI exiting kept (the runtime then lets L1's NMIs wait). */
	struct vmx_caps poor = skylake;
	poor.pinbased &= ~((uint64_t)PIN_VIRTUAL_NMIS << 32);
	l1_asks(0, 0, 0, 0, 0);
	nested_merge_controls(&v, &poor, &c);
	CU_ASSERT(c.pin & PIN_NMI_EXITING);
	CU_ASSERT_FALSE(c.pin & PIN_VIRTUAL_NMIS);
}

/* L1's monitor trap flag: the processor's where it has one, else RFLAGS.TF with #DB exiting. */
static void test_monitor_trap_flag_emulated_without_one(void)
{
	struct vmx_caps no_mtf = skylake;
	no_mtf.procbased &= ~((uint64_t)CPU_MONITOR_TRAP_FLAG << 32);
	l1_asks(0, CPU_MONITOR_TRAP_FLAG, 0, 0, 0);
	V12(&v, EXCEPTION_BITMAP) = 1u << 14;
	nested_merge_controls(&v, &no_mtf, &c);
	CU_ASSERT_FALSE(c.proc & CPU_MONITOR_TRAP_FLAG);
	CU_ASSERT_TRUE(c.step_by_tf);
	CU_ASSERT_EQUAL(c.exception_bitmap, 0xffffffffu); /* each exception is delivered without TF, then MTF */
	CU_ASSERT(within(c.proc, no_mtf.procbased));

	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT(c.proc & CPU_MONITOR_TRAP_FLAG);
	CU_ASSERT_FALSE(c.step_by_tf);
	CU_ASSERT_EQUAL(c.exception_bitmap, 1u << 14);

	l1_asks(0, 0, 0, 0, 0); /* not asked for: no stepping, no #DB exits */
	nested_merge_controls(&v, &no_mtf, &c);
	CU_ASSERT_FALSE(c.step_by_tf);
	CU_ASSERT_EQUAL(c.exception_bitmap, 0);
}

/* L1's bitmaps are L1-physical: VMCS02 exits on every port and MSR access instead. */
static void test_no_bitmaps_reach_the_processor(void)
{
	l1_asks(0, CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_TPR_SHADOW, 0, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_FALSE(c.proc & CPU_USE_IO_BITMAPS);
	CU_ASSERT_FALSE(c.proc & CPU_USE_MSR_BITMAPS);
	CU_ASSERT_FALSE(c.proc & CPU_TPR_SHADOW);
	CU_ASSERT(c.proc & CPU_UNCOND_IO_EXITING);
}

static void test_secondary_controls(void)
{
	uint32_t kept = SEC_DESCRIPTOR_TABLE_EXITING | SEC_ENABLE_RDTSCP | SEC_ENABLE_VPID | SEC_WBINVD_EXITING |
			SEC_UNRESTRICTED_GUEST | SEC_RDRAND_EXITING | SEC_ENABLE_INVPCID | SEC_RDSEED_EXITING;
	uint32_t dropped = SEC_VIRTUALIZE_APIC_ACCESSES | SEC_VMCS_SHADOWING | SEC_ENABLE_VMFUNC |
			   SEC_PAUSE_LOOP_EXITING | SEC_ENABLE_XSAVES;
	l1_asks(0, CPU_ACTIVATE_SECONDARY, kept | dropped | SEC_ENABLE_EPT, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.proc2, kept | SEC_ENABLE_EPT);
	/* EPT02 is on whether or not L1 uses EPT. */
	l1_asks(0, CPU_ACTIVATE_SECONDARY, SEC_ENABLE_VPID, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.proc2, SEC_ENABLE_VPID | SEC_ENABLE_EPT);
	/* Secondary controls that L1 did not activate count for nothing. */
	l1_asks(0, 0, ~0u, 0, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_EQUAL(c.proc2, SEC_ENABLE_EPT);
	CU_ASSERT(c.proc & CPU_ACTIVATE_SECONDARY);
}

static void test_exit_and_entry_controls(void)
{
	/* L1's exit controls describe L1's host, which VMCS02 never returns to (its ack is emulated). */
	l1_asks(0, 0, 0, EXIT_SAVE_PREEMPTION_TIMER | EXIT_LOAD_IA32_PAT, 0);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_FALSE(c.exit & (EXIT_SAVE_PREEMPTION_TIMER | EXIT_LOAD_IA32_PAT));
	CU_ASSERT(c.exit & EXIT_HOST_ADDR_SPACE_SIZE);
	/* L2 in IA-32e mode with its own PAT: the processor switches PAT both ways. */
	l1_asks(0, 0, 0, 0, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT);
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT(c.entry & ENTRY_IA32E_MODE_GUEST);
	CU_ASSERT(c.entry & ENTRY_LOAD_IA32_PAT);
	CU_ASSERT(c.entry & ENTRY_LOAD_IA32_EFER);
	CU_ASSERT_EQUAL(c.exit & (EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT), EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT);
	/* Entry to SMM and the dual-monitor treatment are never L1's to ask for. */
	l1_asks(0, 0, 0, 0, (1u << 10) | (1u << 11));
	nested_merge_controls(&v, &skylake, &c);
	CU_ASSERT_FALSE(c.entry & ((1u << 10) | (1u << 11)));
}

/* The processor's capability MSRs have the last word (SDM A.3-A.5). */
static void test_adjusted_to_the_processor(void)
{
	struct vmx_caps poor = skylake;
	poor.pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	poor.procbased2 &= ~((uint64_t)SEC_ENABLE_VPID << 32);
	l1_asks(0, CPU_ACTIVATE_SECONDARY, SEC_ENABLE_VPID, 0, 0);
	nested_merge_controls(&v, &poor, &c);
	CU_ASSERT_FALSE(c.pin & PIN_PREEMPTION_TIMER);
	CU_ASSERT_EQUAL(c.proc2, SEC_ENABLE_EPT);
	CU_ASSERT(within(c.pin, poor.pinbased));

	/* Without secondary controls there is no EPT02: the runtime sees it gone. */
	struct vmx_caps old = skylake;
	old.procbased &= ~((uint64_t)CPU_ACTIVATE_SECONDARY << 32);
	nested_merge_controls(&v, &old, &c);
	CU_ASSERT_FALSE(c.proc & CPU_ACTIVATE_SECONDARY);
	CU_ASSERT_EQUAL(c.proc2, 0);

	/* Bits the processor requires are set even if nobody asked. */
	struct vmx_caps strict = skylake;
	strict.procbased |= CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING;
	l1_asks(0, 0, 0, 0, 0);
	nested_merge_controls(&v, &strict, &c);
	CU_ASSERT_EQUAL(c.proc & (CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING),
			CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING);
}

/* Whatever L1 writes, VMCS02 is valid for the processor and keeps this VMM in charge. */
static void test_any_vmcs12_gives_a_safe_vmcs02(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < 20000; i++) {
		uint32_t r[5];
		for (unsigned k = 0; k < 5; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r[k] = (uint32_t)x;
		}
		l1_asks(r[0], r[1], r[2], r[3], r[4]);
		V12(&v, EXCEPTION_BITMAP) = (uint32_t)(x >> 32);
		nested_merge_controls(&v, &skylake, &c);
		CU_ASSERT_FATAL(within(c.pin, skylake.pinbased));
		CU_ASSERT_FATAL(within(c.proc, skylake.procbased));
		CU_ASSERT_FATAL(within(c.proc2, skylake.procbased2));
		CU_ASSERT_FATAL(within(c.exit, skylake.exit));
		CU_ASSERT_FATAL(within(c.entry, skylake.entry));
		CU_ASSERT_FATAL((c.pin & (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER)) ==
				(PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER));
		CU_ASSERT_FATAL(c.proc & CPU_UNCOND_IO_EXITING);
		CU_ASSERT_FATAL(!(c.proc & (CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS | CPU_TPR_SHADOW)));
		CU_ASSERT_FATAL(c.proc2 & SEC_ENABLE_EPT);
		CU_ASSERT_FATAL(!(c.proc2 & (SEC_VMCS_SHADOWING | SEC_ENABLE_VMFUNC | SEC_VIRTUALIZE_APIC_ACCESSES)));
		CU_ASSERT_FATAL(c.exit & EXIT_LOAD_IA32_EFER);
		CU_ASSERT_FATAL(c.entry & ENTRY_LOAD_IA32_EFER);
		CU_ASSERT_FATAL(c.exception_bitmap == (uint32_t)(x >> 32)); /* this Skylake has MTF: never by TF */
		CU_ASSERT_FATAL(!c.step_by_tf);
		/* PAT is loaded on entry exactly when it is restored on exit. */
		CU_ASSERT_FATAL(!(c.entry & ENTRY_LOAD_IA32_PAT) == !(c.exit & EXIT_LOAD_IA32_PAT));
	}
}

void register_suite_nested_merge(void)
{
	CU_pSuite s = CU_add_suite("nested_merge", NULL, NULL);
	CU_add_test(s, "this VMM's needs when L1 asks nothing", test_own_needs_when_l1_asks_nothing);
	CU_add_test(s, "L1's exiting controls and exception bitmap kept", test_l1_exiting_controls_kept);
	CU_add_test(s, "virtual NMIs in VMCS02 where L1's NMIs go to L2", test_virtual_nmis_when_l1_lets_nmis_through);
	CU_add_test(s, "no I/O or MSR bitmap reaches the processor", test_no_bitmaps_reach_the_processor);
	CU_add_test(s, "monitor trap flag: the processor's, or emulated by RFLAGS.TF", test_monitor_trap_flag_emulated_without_one);
	CU_add_test(s, "secondary controls: EPT always, VPID from L1, shadowing never", test_secondary_controls);
	CU_add_test(s, "exit controls are this VMM's, entry controls L1's", test_exit_and_entry_controls);
	CU_add_test(s, "adjusted to the processor's capabilities", test_adjusted_to_the_processor);
	CU_add_test(s, "any VMCS12 gives a safe VMCS02", test_any_vmcs12_gives_a_safe_vmcs02);
}
