/*
 * VMCS02's control fields: what L1 asked for in VMCS12, plus what this VMM
 * must keep to stay in charge of the machine while L2 runs.
 *
 * Every exit of L2 comes to this VMM first; nested_reflect() then decides
 * whether L1 asked for it.  So adding an exiting control here never changes
 * what L1 sees, it only costs exits; leaving out one that L1 asked for would
 * hide an exit from L1.  Controls that make the processor use an address
 * (bitmaps, APIC pages, posted-interrupt descriptors, VM-function tables)
 * are taken from L1 only where VMCS02 can honour them without one: the
 * addresses in VMCS12 are L1-physical, and a bitmap shared by L1 and the
 * processor would let L1 open ports and MSRs that are this VMM's.
 */
#include "nested.h"
#include "vmx_caps.h"

/* Pin-based controls (SDM 25.6.1) L1 may have as they are. */
static const uint32_t pin_from_l1 = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |
				    PIN_PREEMPTION_TIMER;
static const uint32_t pin_own = PIN_EXT_INTR_EXITING  /* a physical interrupt is this VMM's (its timer, its console) */
			      | PIN_NMI_EXITING       /* and so is a physical NMI */
			      | PIN_PREEMPTION_TIMER; /* this VMM's time slice bounds L2 as it bounds any guest;
						       * the runtime programs the nearer of its and L1's deadline */

/*
 * Primary controls (SDM 25.6.2) L1 may have as they are: plain exiting
 * controls and TSC offsetting (VMCS01 gives L1 the real TSC, so VMCS02's
 * offset is L1's own).  Not from L1: "use TPR shadow" (a virtual-APIC page),
 * "use I/O bitmaps" and "use MSR bitmaps" (L1-physical bitmaps the
 * processor cannot read for this VMM), "activate secondary controls"
 * (always set below).
 */
static const uint32_t proc_from_l1 = CPU_INTR_WINDOW_EXITING | CPU_USE_TSC_OFFSETTING | CPU_HLT_EXITING |
				     CPU_INVLPG_EXITING | CPU_MWAIT_EXITING | CPU_RDPMC_EXITING |
				     CPU_RDTSC_EXITING | CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING |
				     CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING | CPU_NMI_WINDOW_EXITING |
				     CPU_MOV_DR_EXITING | CPU_UNCOND_IO_EXITING | CPU_MONITOR_TRAP_FLAG |
				     CPU_MONITOR_EXITING | CPU_PAUSE_EXITING;
static const uint32_t proc_own =
	CPU_UNCOND_IO_EXITING    /* no port is L2's: every IN/OUT exits, and nested_reflect() reads
				  * L1's I/O bitmaps to decide whose it is.  With "use MSR bitmaps"
				  * clear, every RDMSR/WRMSR exits too and is judged the same way. */
	| CPU_HLT_EXITING          /* a halting L2 gives the CPU back, as a leaf does under VMCS01 */
	| CPU_MWAIT_EXITING        /* no guest puts the real CPU to sleep */
	| CPU_MONITOR_EXITING      /* nor arms its address monitor */
	| CPU_ACTIVATE_SECONDARY;  /* for EPT02 */

/*
 * Secondary controls (SDM 25.6.2) L1 may have as they are.  Not from L1:
 * APIC-access virtualisation (an APIC-access page), VMCS shadowing (VMCS02
 * is never shadowed: L2's VMREAD/VMWRITE exit and reflect.c consults L1's
 * bitmaps), PAUSE-loop exiting and XSAVES (fields nestlab does not carry),
 * VM functions (EPTP switching would bypass EPT02).
 */
static const uint32_t proc2_from_l1 = SEC_DESCRIPTOR_TABLE_EXITING | SEC_ENABLE_RDTSCP |
				      SEC_ENABLE_VPID /* VPID12 becomes a VPID02 (vpid_map.c) */ |
				      SEC_WBINVD_EXITING | SEC_UNRESTRICTED_GUEST | SEC_RDRAND_EXITING |
				      SEC_ENABLE_INVPCID | SEC_RDSEED_EXITING;
static const uint32_t proc2_own = SEC_ENABLE_EPT; /* EPT02 = EPT12 ∘ EPT01, or EPT01 when L1 has no EPT */

/*
 * VM-exit controls (SDM 25.7.1) describe the host the processor returns to,
 * and on an exit of L2 that is this VMM, not L1: L1's are emulated by the
 * runtime when it reflects.  This VMM runs in 64-bit mode with its own
 * EFER, and needs L2's EFER and debug controls saved to give them to L1.
 * PAT is switched by the processor only when L1 has L2 load its own.
 * A real external interrupt while L2 runs is always this VMM's own (its
 * timer): it is acknowledged on exit, as under VMCS01, so that it does not
 * stay pending and end every entry of L2 at once.  L1's interrupts are
 * emulated, never real (nested_interrupt.c).
 */
static const uint32_t exit_own = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
				 EXIT_SAVE_DEBUG_CONTROLS | EXIT_ACK_INTR_ON_EXIT;

/*
 * VM-entry controls (SDM 25.8.1): L2's mode and PAT as L1 asked.  EFER and
 * the debug controls are always loaded: without that, L2 would start with
 * this VMM's EFER and DR7 (the processor's state at the entry), not L1's.
 */
static const uint32_t entry_from_l1 = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_PAT;
static const uint32_t entry_own = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_DEBUG_CONTROLS;

void nested_merge_controls(const struct vmcs12 *v12, const struct vmx_caps *real, struct vmcs02_controls *out)
{
	uint32_t pin12 = (uint32_t)V12(v12, PIN_BASED_VM_EXEC_CONTROL);
	uint32_t proc12 = (uint32_t)V12(v12, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2_12 = vmcs12_proc2(v12);
	uint32_t entry12 = (uint32_t)V12(v12, VM_ENTRY_CONTROLS);

	uint32_t exit = exit_own;
	if (entry12 & ENTRY_LOAD_IA32_PAT)
		exit |= EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT; /* L2's PAT for L1, this VMM's back */

	/* Last, what the processor beneath can do (SDM A.3-A.5): bits it
	 * requires are set, bits it lacks are dropped; the runtime checks that
	 * what it cannot do without (EPT) survived. */
	/*
	 * Without "NMI exiting" in VMCS12 (then without virtual NMIs too,
	 * 26.2.1.1) L1's NMIs reach L2 through its IDT, injected by this VMM
	 * (nested_interrupt.c).  VMCS02 exits on NMIs whatever L1 says, and
	 * with NMI exiting alone IRET would leave the blocking an injected NMI
	 * sets for ever (SDM 25.3, IRET): virtual NMIs make L2's IRET end it
	 * and give the NMI window that tells this VMM so.  Blocking by NMI
	 * then means for L2 what it means without NMI exiting, as L1 set it.
	 */
	uint32_t pin = (pin12 & pin_from_l1) | pin_own;
	if (!(pin12 & PIN_NMI_EXITING))
		pin |= PIN_VIRTUAL_NMIS;
	out->pin = vmx_adjust_controls(pin, real->pinbased, 0);
	out->proc = vmx_adjust_controls((proc12 & proc_from_l1) | proc_own, real->procbased, 0);
	out->proc2 = 0;
	if (out->proc & CPU_ACTIVATE_SECONDARY)
		out->proc2 = vmx_adjust_controls((proc2_12 & proc2_from_l1) | proc2_own, real->procbased2, 0);
	out->exit = vmx_adjust_controls(exit, real->exit, 0);
	out->entry = vmx_adjust_controls((entry12 & entry_from_l1) | entry_own, real->entry, 0);
	/* This VMM handles no exception of L2 itself: L1's bitmap is all it needs. */
	out->exception_bitmap = (uint32_t)V12(v12, EXCEPTION_BITMAP);
	/*
	 * But while RFLAGS.TF stands in for a monitor trap flag the processor
	 * lacks, every exception: the single-step trap is this VMM's, and one
	 * L2 takes through its own IDT must be delivered without TF and be
	 * followed by the MTF exit (nested_exit.c); every #PF exits then too
	 * (the runtime clears the error-code mask and match).
	 */
	out->step_by_tf = (proc12 & CPU_MONITOR_TRAP_FLAG) && !(out->proc & CPU_MONITOR_TRAP_FLAG);
	if (out->step_by_tf)
		out->exception_bitmap = 0xffffffffu;
}
