/*
 * The steps of the hostile guest (see steps.h).  Every expected outcome
 * follows the pseudo-code of its instruction in SDM Vol. 3 chapter 31,
 * where VMfail(n) means VMfailValid(n) when a VMCS is current and
 * VMfailInvalid when none is; VM-entry checks follow chapter 26.
 */
#include "../leaf/emit.h"
#include "check.h"
#include "fmt.h"
#include "nestlab/vmx.h"
#include "nested.h" /* the documented VMCS12 layout, which step_edit_active_vmcs() writes into */
#include "probe.h"
#include "steps.h"
#include "vmx_do.h"
#include "x86.h"
#include <string.h>


static struct vmx_region vmxon_region;
static struct vmx_region wrong_revision; /* a revision identifier the parent did not announce */
static struct vmx_region vmcs_l2;        /* the VMCS of steps 5-9 */
static struct vmx_region vmcs_last;      /* the fresh VMCS of step 11 */
static struct vmx_region vmcs_other;     /* made current while vmcs_l2's memory is edited */

/* "#GP" and the like for a probe that faulted. */
static void fault_text(uint64_t raw, char *buf, size_t cap)
{
	outcome_format(outcome_of(raw), buf, cap);
}

static int read_msr_check(const char *name, uint32_t msr, uint64_t *value, const char *expected,
			  uint64_t must_be_set)
{
	char got[GOT_MAX];
	uint64_t raw = probe_rdmsr(msr, value);

	if (probe_faulted(raw)) {
		fault_text(raw, got, sizeof got);
		return check_text(name, expected, got, 0);
	}
	nl_snprintf(got, sizeof got, "0x%llx", (unsigned long long)*value);
	return check_text(name, expected, got, (*value & must_be_set) == must_be_set);
}

int step_discover(struct hostile *h)
{
	uint32_t a, b, c, d;
	uint64_t fc = 0;
	char got[GOT_MAX], missing[GOT_MAX];

	cpuid(1, &a, &b, &c, &d);
	int vmx = (c & CPUID_1_ECX_VMX) != 0;
	check_text("cpuid_vmx", "CPUID.1:ECX.VMX=1", vmx ? "CPUID.1:ECX.VMX=1" : "CPUID.1:ECX.VMX=0", vmx);

	/* SDM 23.7: VMXON needs IA32_FEATURE_CONTROL locked (bit 0) with VMXON outside SMX allowed (bit 2). */
	read_msr_check("feature_control", MSR_IA32_FEATURE_CONTROL, &fc, "bits 0 and 2 set",
		       FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);

	/* SDM A.1: bits 30:0 are the revision identifier, bit 31 is always 0. */
	uint64_t raw = probe_rdmsr(MSR_IA32_VMX_BASIC, &h->vmx.basic);
	uint32_t revision = (uint32_t)h->vmx.basic & 0x7fffffffu;
	int basic_ok = !probe_faulted(raw) && revision != 0 && !(h->vmx.basic & (1ull << 31));
	if (probe_faulted(raw))
		fault_text(raw, got, sizeof got);
	else
		nl_snprintf(got, sizeof got, "revision 0x%x (IA32_VMX_BASIC 0x%llx)", revision,
			    (unsigned long long)h->vmx.basic);
	check_text("vmx_basic", "a revision identifier", got, basic_ok);
	if (!vmx || !basic_ok)
		return -1;

	uint32_t failed_msr = vmx_offer_read(&h->vmx);
	if (failed_msr)
		nl_snprintf(got, sizeof got, "RDMSR 0x%x faulted", failed_msr);
	check_text("vmx_capability_msrs", "readable", failed_msr ? got : "readable", !failed_msr);
	if (failed_msr)
		return 0;
	h->controls_ok = !l2_controls_choose(&h->vmx, &h->ctl, missing, sizeof missing);
	check_text("l2_controls_offered", "offered", h->controls_ok ? "offered" : missing, h->controls_ok);
	return 0;
}

void step_outside_vmx_operation(struct hostile *h)
{
	uint64_t cr4 = read_cr4();

	/* The parent's contract does not say CR4.VMXE starts clear; make it so, to test that alone. */
	if (cr4 & CR4_VMXE)
		probe_write_cr4(cr4 & ~CR4_VMXE);
	vmxon_region.revision = h->vmx.revision;
	/* SDM 31.3: every VMX instruction is #UD with CR4.VMXE = 0, VMXON included. */
	check_outcome("vmxon_with_cr4_vmxe_clear", fault(VECTOR_UD), do_vmxon(pa_of(&vmxon_region)));
	check_outcome("vmptrld_with_cr4_vmxe_clear", fault(VECTOR_UD), do_vmptrld(pa_of(&vmcs_l2)));
}

int step_vmxon(struct hostile *h)
{
	char got[GOT_MAX];
	uint64_t raw = probe_write_cr4(read_cr4() | CR4_VMXE);
	int set = !probe_faulted(raw) && (read_cr4() & CR4_VMXE);

	if (probe_faulted(raw))
		fault_text(raw, got, sizeof got);
	check_text("cr4_vmxe_set", "CR4.VMXE=1", probe_faulted(raw) ? got : set ? "CR4.VMXE=1" : "CR4.VMXE=0", set);
	if (!set)
		return -1;

	/* SDM 31.3: outside VMX operation every VMX instruction but VMXON is #UD. */
	check_outcome("vmptrld_before_vmxon", fault(VECTOR_UD), do_vmptrld(pa_of(&vmcs_l2)));
	check_outcome("vmxoff_before_vmxon", fault(VECTOR_UD), outcome_of(probe_vmxoff()));

	/* VMXON: an unaligned region or a wrong revision is VMfailInvalid (nothing can be current yet). */
	wrong_revision.revision = h->vmx.revision ^ 1u;
	check_outcome("vmxon_unaligned_region", vm_fail_invalid(), do_vmxon(pa_of(&vmxon_region) + 0x10));
	check_outcome("vmxon_wrong_revision", vm_fail_invalid(), do_vmxon(pa_of(&wrong_revision)));
	if (!check_outcome("vmxon", vm_succeed(), do_vmxon(pa_of(&vmxon_region))))
		return -1;
	/* In VMX root operation VMXON is VMfail(15): VMfailInvalid while no VMCS is current. */
	check_outcome("vmxon_in_root_without_current_vmcs", vm_fail_invalid(), do_vmxon(pa_of(&vmxon_region)));
	return 0;
}

void step_no_current_vmcs(struct hostile *h)
{
	uint64_t v = 0, current = 0;
	char got[GOT_MAX];

	(void)h;
	/* SDM 31.3: VMREAD, VMWRITE and VMLAUNCH with an invalid current-VMCS pointer are VMfailInvalid. */
	check_outcome("vmread_without_current_vmcs", vm_fail_invalid(), do_vmread(VMCS_GUEST_RIP, &v));
	check_outcome("vmwrite_without_current_vmcs", vm_fail_invalid(), do_vmwrite(VMCS_GUEST_RIP, 0));
	check_outcome("vmlaunch_without_current_vmcs", vm_fail_invalid(), do_vmlaunch());
	/* VMPTRST then stores FFFFFFFF_FFFFFFFFH, the invalid pointer. */
	struct outcome r = outcome_of(probe_vmptrst(&current));
	if (r.kind == OUT_SUCCEED)
		nl_snprintf(got, sizeof got, "0x%llx", (unsigned long long)current);
	else
		outcome_format(r, got, sizeof got);
	check_text("vmptrst_without_current_vmcs", "0xffffffffffffffff", got,
		   r.kind == OUT_SUCCEED && current == ~0ull);
}

int step_vmptrld(struct hostile *h)
{
	uint64_t current = 0;
	char want[GOT_MAX], got[GOT_MAX];

	vmcs_l2.revision = h->vmx.revision;
	int cleared = check_outcome("vmclear", vm_succeed(), do_vmclear(pa_of(&vmcs_l2)));
	if (!check_outcome("vmptrld", vm_succeed(), do_vmptrld(pa_of(&vmcs_l2))) || !cleared)
		return -1;

	/* A VMCS is current from here: VMfail(n) is VMfailValid(n), n read back from the error field. */
	check_outcome("vmxon_in_root_with_current_vmcs", vm_fail_valid(VMXERR_VMXON_IN_VMX_ROOT),
		      do_vmxon(pa_of(&vmxon_region)));
	check_outcome("vmptrld_unaligned", vm_fail_valid(VMXERR_VMPTRLD_INVALID_ADDRESS),
		      do_vmptrld(pa_of(&vmcs_l2) + 8));
	/*
	 * Above this VM's memory: hardware would see an address within its
	 * physical-address width and leave the result undefined; nestlab treats
	 * memory a child does not own as beyond the width (nested/vmx_insn.c).
	 */
	check_outcome("vmptrld_outside_memory", vm_fail_valid(VMXERR_VMPTRLD_INVALID_ADDRESS), do_vmptrld(h->outside));
	check_outcome("vmptrld_vmxon_region", vm_fail_valid(VMXERR_VMPTRLD_VMXON_POINTER),
		      do_vmptrld(pa_of(&vmxon_region)));
	check_outcome("vmptrld_wrong_revision", vm_fail_valid(VMXERR_VMPTRLD_INCORRECT_REVISION),
		      do_vmptrld(pa_of(&wrong_revision)));
	check_outcome("vmclear_unaligned", vm_fail_valid(VMXERR_VMCLEAR_INVALID_ADDRESS),
		      do_vmclear(pa_of(&vmcs_l2) + 8));
	check_outcome("vmclear_vmxon_region", vm_fail_valid(VMXERR_VMCLEAR_VMXON_POINTER),
		      do_vmclear(pa_of(&vmxon_region)));

	/* None of the failures may have changed the current VMCS. */
	struct outcome r = outcome_of(probe_vmptrst(&current));
	nl_snprintf(want, sizeof want, "0x%llx", (unsigned long long)pa_of(&vmcs_l2));
	if (r.kind == OUT_SUCCEED)
		nl_snprintf(got, sizeof got, "0x%llx", (unsigned long long)current);
	else
		outcome_format(r, got, sizeof got);
	if (!check_text("current_vmcs_kept", want, got, r.kind == OUT_SUCCEED && current == pa_of(&vmcs_l2)))
		return -1;
	return 0;
}

void step_fields(struct hostile *h)
{
	uint64_t v = 0;
	/* SDM 31.3 VMWRITE: a read-only field is VMfail(13) unless IA32_VMX_MISC[29] allows writing exit information. */
	struct outcome read_only = (h->vmx.misc & VMX_MISC_VMWRITE_ANY_FIELD) ? vm_succeed()
									 : vm_fail_valid(VMXERR_VMWRITE_READ_ONLY_COMPONENT);

	check_outcome("vmwrite_read_only_field", read_only, do_vmwrite(VMCS_VM_EXIT_REASON, EXIT_REASON_CPUID));
	check_outcome("vmwrite_unsupported_field", vm_fail_valid(VMXERR_UNSUPPORTED_VMCS_COMPONENT),
		      do_vmwrite(UNSUPPORTED_FIELD, 0));
	check_outcome("vmread_unsupported_field", vm_fail_valid(VMXERR_UNSUPPORTED_VMCS_COMPONENT),
		      do_vmread(UNSUPPORTED_FIELD, &v));
}

void step_never_launched(struct hostile *h)
{
	uint32_t field = 0;
	char got[GOT_MAX], text[GOT_MAX];

	if (h->controls_ok) {
		struct outcome w = l2_vmcs_write(&h->vmx, &h->ctl, l2_eptp_own(), &field);
		outcome_format(w, text, sizeof text);
		if (w.kind != OUT_SUCCEED)
			nl_snprintf(got, sizeof got, "%s at field 0x%x", text, field);
		h->l2_ready = check_text("vmwrite_l2_vmcs", "VMsucceed", w.kind == OUT_SUCCEED ? text : got,
					 w.kind == OUT_SUCCEED);
	}
	/* SDM 31.3 VMCLEAR: the data go to memory, the launch state becomes clear; VMPTRLD brings them back. */
	int cleared = check_outcome("vmclear_l2_vmcs", vm_succeed(), do_vmclear(pa_of(&vmcs_l2)));
	int loaded = check_outcome("vmptrld_l2_vmcs", vm_succeed(), do_vmptrld(pa_of(&vmcs_l2)));
	if (!cleared || !loaded)
		h->l2_ready = 0;
	if (h->l2_ready)
		h->l2_ready = check_field("vmcs_data_survive_vmclear", VMCS_GUEST_RIP, L2_CODE_GPA);
	/* SDM 31.3 VMRESUME: a VMCS whose launch state is not "launched" is VMfail(5). */
	check_outcome("vmresume_never_launched", vm_fail_valid(VMXERR_VMRESUME_NONLAUNCHED_VMCS), do_vmresume());
}

/*
 * VMLAUNCH with one field changed, then the field restored.  Should L2
 * run although it must not, VMCLEAR + VMPTRLD return the VMCS to the
 * clear launch state the next check needs.
 */
static struct outcome launch_with(uint32_t field, uint64_t bad)
{
	uint64_t saved = 0;

	do_vmread(field, &saved);
	do_vmwrite(field, bad);
	struct outcome r = do_vmlaunch();
	do_vmwrite(field, saved);
	if (r.kind == OUT_EXIT && !(r.value & EXIT_REASON_ENTRY_FAIL)) {
		do_vmclear(pa_of(&vmcs_l2));
		do_vmptrld(pa_of(&vmcs_l2));
	}
	return r;
}

/* The highest pin-based control the offer says must be 0, or -1 if every bit may be 1. */
static int reserved_pin_bit(const struct vmx_offer *o)
{
	uint32_t may1 = (uint32_t)(o->pin >> 32);

	for (int bit = 31; bit >= 0; bit--)
		if (!((may1 >> bit) & 1))
			return bit;
	return -1;
}

void step_bad_vmcs(struct hostile *h)
{
	uint64_t host_cr0 = 0;
	int bit = reserved_pin_bit(&h->vmx);

	/* SDM 26.2.1: a control outside its capability MSR is VMfail(7). */
	if (bit >= 0)
		check_outcome("vmlaunch_reserved_pin_control", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
			      launch_with(VMCS_PIN_BASED_VM_EXEC_CONTROL, h->ctl.pin | (1u << bit)));
	else
		console_printf("hostile %s: every pin-based control may be 1; no reserved bit to set\n", h->name);

	/* SDM 26.2.2-26.2.3: host CR0 outside IA32_VMX_CR0_FIXED0 (PG), host TR selector 0: VMfail(8). */
	do_vmread(VMCS_HOST_CR0, &host_cr0);
	check_outcome("vmlaunch_host_cr0_without_pg", vm_fail_valid(VMXERR_ENTRY_INVALID_HOST_STATE_FIELD),
		      launch_with(VMCS_HOST_CR0, host_cr0 & ~CR0_PG));
	check_outcome("vmlaunch_host_tr_selector_zero", vm_fail_valid(VMXERR_ENTRY_INVALID_HOST_STATE_FIELD),
		      launch_with(VMCS_HOST_TR_SELECTOR, 0));

	/* SDM 26.3.1.4, 26.8: guest RFLAGS bit 1 clear is a VM exit "VM-entry failure, invalid guest state". */
	check_outcome("vmlaunch_guest_rflags_bit1_clear",
		      vm_exit(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE),
		      launch_with(VMCS_GUEST_RFLAGS, 0));
}

/*
 * SDM 27.3.1, 26.3.2.1: without "save debug controls" a VM exit leaves
 * VMCS12's DR7 as it was, so whatever L2 wrote to DR7, the next entry
 * gives it VMCS12's DR7 (with "load debug controls") or keeps L1's.
 */
static void step_l2_dr7_not_saved(void)
{
	uint64_t exitc = 0, entryc = 0, expect = 0, rip = 0;
	do_vmread(VMCS_VM_EXIT_CONTROLS, &exitc);
	do_vmread(VMCS_VM_ENTRY_CONTROLS, &entryc);
	if (exitc & EXIT_SAVE_DEBUG_CONTROLS) {
		console_printf("hostile: its exit controls save DR7; the unsaved-DR7 check does not apply\n");
		return;
	}
	if (entryc & ENTRY_LOAD_DEBUG_CONTROLS)
		do_vmread(VMCS_GUEST_DR7, &expect);
	else
		__asm__ volatile("mov %%dr7, %0" : "=r"(expect));
	do_vmwrite(VMCS_GUEST_RIP, l2_code_gpa(l2_dr7_probe));
	if (!check_outcome("vmresume_l2_writes_dr7", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		return;
	do_vmread(VMCS_GUEST_RIP, &rip);
	do_vmwrite(VMCS_GUEST_RIP, rip + 1); /* past the HLT */
	if (!check_outcome("vmresume_l2_reads_dr7", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		return;
	char want[GOT_MAX], got[GOT_MAX];
	uint64_t seen = l2_read_u64(L2_DR7_SLOT_GPA);
	nl_snprintf(want, sizeof want, "0x%llx", (unsigned long long)expect);
	nl_snprintf(got, sizeof got, "0x%llx", (unsigned long long)seen);
	check_text("l2_dr7_not_saved_by_exit", want, got, seen == expect);
}

/* Enter L2 at rip with an empty stack and rflags, expect an MTF exit at want_rip; the RSP it left. */
static uint64_t mtf_exit_at(const char *name, uint64_t rip, uint64_t rflags, uint64_t want_rip)
{
	uint64_t rsp = 0;
	do_vmwrite(VMCS_GUEST_RIP, rip);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RFLAGS, rflags);
	char rip_name[64];
	nl_snprintf(rip_name, sizeof rip_name, "%s_rip", name);
	if (check_outcome(name, vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field(rip_name, VMCS_GUEST_RIP, want_rip);
	do_vmread(VMCS_GUEST_RSP, &rsp);
	return rsp;
}


/* L2 about to be entered at rip with an empty stack, rflags, and primary controls proc. */
static void place_l2(uint64_t proc, uint64_t rip, uint64_t rflags)
{
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	do_vmwrite(VMCS_GUEST_RIP, rip);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RFLAGS, rflags);
}

/* A value compared with the one expected (often: what the same L2 did without the monitor trap flag). */
static void check_value(const char *name, uint64_t expected, uint64_t got)
{
	char w[GOT_MAX], g[GOT_MAX];
	nl_snprintf(w, sizeof w, "0x%llx", (unsigned long long)expected);
	nl_snprintf(g, sizeof g, "0x%llx", (unsigned long long)got);
	check_text(name, w, g, expected == got);
}

static uint64_t vmread_value(uint32_t f)
{
	uint64_t v = 0;
	do_vmread(f, &v);
	return v;
}

/* L1's EPT12 changed: all contexts invalidated, as software must (SDM 29.4.3). */
static void invept_all(void)
{
	struct { uint64_t eptp, rsvd; } d = { 0, 0 };
	uint64_t type = INVEPT_ALL_CONTEXT;
	__asm__ volatile("invept %0, %1" ::"m"(d), "r"(type) : "cc", "memory");
}

/*
 * The corners of the emulated monitor trap flag, each compared with the
 * same L2 run without the flag (the processor's own behaviour): CS's base
 * ignored in 64-bit mode when the parent looks for INT n; a code page
 * EPT12 makes non-executable; L2's tables remapping its code page (VPID
 * off: no translation may be kept); a data breakpoint pending at INT n; an
 * open interrupt window at INT n; STI then a JMP to itself (blocking ends
 * with the JMP) and an interrupt injected after the window opens; STI then
 * NOP with interrupt-window exiting; INT n at CPL 3 through a DPL-0 gate.
 */
static void step_l2_monitor_trap_corners(uint64_t proc)
{
	uint64_t isr = l2_code_gpa(l2_isr), frame;
	uint64_t probe = l2_code_gpa(l2_mtf_probe), int5 = l2_code_gpa(l2_int_probe);
	uint64_t nomtf = proc & ~(uint64_t)CPU_UNCOND_IO_EXITING & ~(uint64_t)CPU_MONITOR_TRAP_FLAG;
	uint64_t mtf = nomtf | CPU_MONITOR_TRAP_FLAG;
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	do_vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);

	/* CS base is ignored in 64-bit mode. */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, nomtf);
	do_vmwrite(VMCS_GUEST_CS_BASE, int5 - probe);
	do_vmwrite(VMCS_GUEST_RIP, probe);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	if (check_outcome("mtf_c1_csbase_native", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		check_field("mtf_c1_csbase_native_rip", VMCS_GUEST_RIP, probe + 2);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	mtf_exit_at("mtf_c1_csbase_mtf", probe, 0x2, probe + 1);
	do_vmwrite(VMCS_GUEST_CS_BASE, 0);

	/* EPT12 takes execute away from the code page: fetching INT 5 is an EPT violation for L1. */
	l2_ept12_own_perms(4, EPT_READ | EPT_WRITE);
	invept_all();
	uint64_t nat_reason, nat_qual, nat_rip;
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, nomtf);
	do_vmwrite(VMCS_GUEST_RIP, int5);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmresume();
	nat_reason = vmread_value(VMCS_VM_EXIT_REASON);
	nat_qual = vmread_value(VMCS_EXIT_QUALIFICATION);
	nat_rip = vmread_value(VMCS_GUEST_RIP);
	check_value("mtf_c2_noexec_native_reason", EXIT_REASON_EPT_VIOLATION, nat_reason);
	check_value("mtf_c2_noexec_native_rip", int5, nat_rip);
	place_l2(mtf, int5, 0x2);
	do_vmresume();
	check_value("mtf_c2_noexec_mtf_reason", nat_reason, vmread_value(VMCS_VM_EXIT_REASON));
	check_value("mtf_c2_noexec_mtf_qual", nat_qual, vmread_value(VMCS_EXIT_QUALIFICATION));
	check_value("mtf_c2_noexec_mtf_rip", int5, vmread_value(VMCS_GUEST_RIP));
	l2_ept12_own_perms(4, EPT_RWX);
	invept_all();

	/* L2's page tables remap the code page (VPID off: every entry flushes): the one-page cache goes stale. */
	uint64_t off = int5 & 0xfff, lin = 0x200000 + off;
	l2_write_u64(0x3008, 0x0 | 3);      /* PD[1] -> a PT at L2-physical 0 */
	l2_write_u64(0x0, 0x4000 | 3);      /* PT[0] -> the code page */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	mtf_exit_at("mtf_c3_stale_first_int5", lin, 0x2, isr);
	l2_write_u64(0x5000 + off, 0xf4f4f4f4f4f4f490ull); /* NOP, HLT... */
	l2_write_u64(0x0, 0x5000 | 3);      /* PT[0] -> the stack page */
	place_l2(nomtf, lin, 0x2);
	if (check_outcome("mtf_c3_stale_native_hlt", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		check_field("mtf_c3_stale_native_rip", VMCS_GUEST_RIP, lin + 1);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	mtf_exit_at("mtf_c3_stale_mtf_nop", lin, 0x2, lin + 1);
	l2_write_u64(0x0, 0);
	l2_write_u64(0x3008, 0);
	l2_write_u64(0x5000 + off, 0);

	/* a data breakpoint pending at INT n: the #DB comes first, its frame's RIP is INT's. */
	uint64_t entryc = 0, store = l2_code_gpa(l2_store_int_probe);
	do_vmread(VMCS_VM_ENTRY_CONTROLS, &entryc);
	do_vmwrite(VMCS_VM_ENTRY_CONTROLS, entryc | ENTRY_LOAD_DEBUG_CONTROLS);
	write_dr0(L2_WATCHED_GPA);
	do_vmwrite(VMCS_GUEST_DR7, 0x400 | 1 | (1u << 16) | (3u << 18));
	mtf_exit_at("mtf_c4_dbp_store", store, 0x2, store + 12);
	check_field("mtf_c4_dbp_pending", VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1 | (1u << 12));
	if (check_outcome("mtf_c4_dbp_next", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume())) {
		check_field("mtf_c4_dbp_handler", VMCS_GUEST_RIP, isr);
		frame = vmread_value(VMCS_GUEST_RSP);
		check_value("mtf_c4_dbp_frame_rip_is_int", store + 12, l2_read_u64(frame));
		check_field("mtf_c4_dbp_pending_after", VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	}
	do_vmwrite(VMCS_GUEST_DR7, 0x400);
	do_vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	do_vmwrite(VMCS_VM_ENTRY_CONTROLS, entryc);
	write_dr0(0);

	/* interrupt-window exiting with the window open, at INT n: the window exit comes before INT. */
	place_l2(nomtf | CPU_INTR_WINDOW_EXITING, int5, 0x2 | RFLAGS_IF);
	if (check_outcome("mtf_c5_window_native", vm_exit(EXIT_REASON_INTERRUPT_WINDOW), do_vmresume()))
		check_field("mtf_c5_window_native_rip", VMCS_GUEST_RIP, int5);
	place_l2(mtf | CPU_INTR_WINDOW_EXITING, int5, 0x2 | RFLAGS_IF);
	if (check_outcome("mtf_c5_window_mtf", vm_exit(EXIT_REASON_INTERRUPT_WINDOW), do_vmresume()))
		check_field("mtf_c5_window_mtf_rip", VMCS_GUEST_RIP, int5);
	check_value("mtf_c5_window_mtf_rsp", L2_STACK_TOP, vmread_value(VMCS_GUEST_RSP));

	/* STI; JMP $ under MTF: after the JMP, which completes at the same RIP, no blocking. */
	uint64_t sj = l2_code_gpa(l2_sti_jmp_probe);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	mtf_exit_at("mtf_c6_sti", sj, 0x2, sj + 1);
	check_field("mtf_c6_sti_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	if (check_outcome("mtf_c6_jmp1", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field("mtf_c6_jmp1_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	if (check_outcome("mtf_c6_jmp2", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field("mtf_c6_jmp2_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	/* An L1 that injects an external interrupt after what VMCS12 shows (keeping its interruptibility). */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf | CPU_INTR_WINDOW_EXITING);
	{
		struct outcome r = do_vmresume();
		check_value("mtf_c6_window_reason", EXIT_REASON_INTERRUPT_WINDOW, r.kind == OUT_EXIT ? r.value : 0xdead);
		check_field("mtf_c6_window_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	}
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_EXT_INTR, 1));
	{
		struct outcome r = do_vmresume();
		check_value("mtf_c6_inject_after_window", EXIT_REASON_MONITOR_TRAP_FLAG, r.kind == OUT_EXIT ? r.value : 0xdead);
	}
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);

	/* STI; NOP under MTF, then interrupt-window exiting: the NOP first, blocking and window consistent. */
	uint64_t sti = l2_code_gpa(l2_window_probe);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf);
	mtf_exit_at("mtf_c7_sti", sti, 0x2, sti + 1);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, mtf | CPU_INTR_WINDOW_EXITING);
	{
		struct outcome r = do_vmresume();
		check_value("mtf_c7_reason", EXIT_REASON_MONITOR_TRAP_FLAG, r.kind == OUT_EXIT ? r.value : 0xdead);
		check_field("mtf_c7_rip", VMCS_GUEST_RIP, sti + 2);
		check_value("mtf_c7_blocking", 0, vmread_value(VMCS_GUEST_INTERRUPTIBILITY_INFO));
	}
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);

	/* INT 5 at CPL 3 through a DPL-0 gate: #GP(0x2a), which L1 intercepts; native vs MTF. */
	l2_write_u64(0x1000, l2_read_u64(0x1000) | 4);
	l2_write_u64(0x2000, l2_read_u64(0x2000) | 4);
	l2_write_u64(0x3000, l2_read_u64(0x3000) | 4);
	do_vmwrite(VMCS_GUEST_CS_SELECTOR, 0x2b);
	do_vmwrite(VMCS_GUEST_CS_AR_BYTES, 0xa0fb);
	do_vmwrite(VMCS_GUEST_SS_SELECTOR, 0x33);
	do_vmwrite(VMCS_GUEST_SS_AR_BYTES, 0xc0f3);
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VECTOR_GP);
	/* What the exit reports, without the flag (the processor's INT 5) and then with it. */
	static const uint32_t reported[6] = { VMCS_VM_EXIT_REASON, VMCS_VM_EXIT_INTR_INFO, VMCS_VM_EXIT_INTR_ERROR_CODE,
					      VMCS_IDT_VECTORING_INFO_FIELD, VMCS_GUEST_RIP, VMCS_VM_EXIT_INSTRUCTION_LEN };
	static const char *const names[2][6] = {
		{ "mtf_c8_nat_reason", "mtf_c8_nat_intr", "mtf_c8_nat_err", "mtf_c8_nat_idtv", "mtf_c8_nat_rip",
		  "mtf_c8_nat_len" },
		{ "mtf_c8_mtf_reason", "mtf_c8_mtf_intr", "mtf_c8_mtf_err", "mtf_c8_mtf_idtv", "mtf_c8_mtf_rip",
		  "mtf_c8_mtf_len" },
	};
	uint64_t native[6];
	for (int with_flag = 0; with_flag < 2; with_flag++) {
		place_l2(with_flag ? mtf : nomtf, int5, 0x2);
		do_vmresume();
		for (int k = 0; k < 6; k++) {
			uint64_t got = vmread_value(reported[k]);
			if (!with_flag)
				native[k] = got;
			check_value(names[with_flag][k], native[k], got);
		}
	}
	do_vmwrite(VMCS_GUEST_CS_SELECTOR, 0x08);
	do_vmwrite(VMCS_GUEST_CS_AR_BYTES, 0xa09b);
	do_vmwrite(VMCS_GUEST_SS_SELECTOR, 0x10);
	do_vmwrite(VMCS_GUEST_SS_AR_BYTES, 0xc093);
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	do_vmwrite(VMCS_IDT_VECTORING_INFO_FIELD, 0);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
}

/*
 * The monitor trap flag around events and instructions the parent handles
 * itself (26.5.2, 26.7.2): an event delivered by the entry or raised by the
 * instruction is delivered first, and the MTF exit comes before the
 * handler's first instruction, the pushed RFLAGS as L2 had them (no TF a
 * parent may step with); an instruction the parent emulates for L2 (OUT to
 * a port this VMM does not take) is one step; after STI, the step is the
 * instruction STI's blocking covers, not none.
 */
static void step_l2_monitor_trap_events(uint64_t proc)
{
	uint64_t isr = l2_code_gpa(l2_isr), frame;
	/* Delivery loads CS from L2's GDT (at L2-physical 0, limit 0x27): selector 0x08, 64-bit code. */
	l2_write_u64(0x08, L2_CODE64_DESCRIPTOR);
	for (unsigned vector = 0; vector <= 6; vector++)
		l2_put_gate(vector, isr);
	do_vmwrite(VMCS_GUEST_IDTR_BASE, L2_IDT_GPA);
	do_vmwrite(VMCS_GUEST_IDTR_LIMIT, 7 * 16 - 1);
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 0); /* L2's exceptions are its own here */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, (proc | CPU_MONITOR_TRAP_FLAG) & ~CPU_UNCOND_IO_EXITING);

	/* An external interrupt (vector 1) injected with IF set. */
	uint64_t probe = l2_code_gpa(l2_mtf_probe);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_EXT_INTR, 1));
	frame = mtf_exit_at("mtf_after_injected_event", probe, 0x2 | RFLAGS_IF, isr);
	check_text("mtf_injected_event_pushed_rip", "the interrupted RIP",
		   l2_read_u64(frame) == probe ? "the interrupted RIP" : "another", l2_read_u64(frame) == probe);
	check_text("mtf_injected_event_pushed_rflags_no_tf", "IF, no TF",
		   l2_read_u64(frame + 16) == (0x2 | RFLAGS_IF) ? "IF, no TF" : "something else",
		   l2_read_u64(frame + 16) == (0x2 | RFLAGS_IF));
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);

	/* ICEBP: L2's own #DB, through its IDT, then the step ends. */
	uint64_t icebp = l2_code_gpa(l2_icebp_probe);
	write_dr6(0xffff0ff0ull);
	frame = mtf_exit_at("mtf_after_icebp_delivery", icebp, 0x2, isr);
	/* Its DR6 tells of no single step: the TF the parent may have stepped with was not L2's. */
	check_text("mtf_icebp_dr6_without_bs", "BS clear", (read_dr6() & DBG_BS) ? "BS set" : "BS clear",
		   !(read_dr6() & DBG_BS));
	check_text("mtf_icebp_pushed_rip_past_it", "past ICEBP", l2_read_u64(frame) == icebp + 1 ? "past ICEBP" : "elsewhere",
		   l2_read_u64(frame) == icebp + 1);

	/* UD2: a fault L2 takes through its own IDT; the pushed RIP is UD2's, the pushed RFLAGS free of TF. */
	uint64_t ud = l2_code_gpa(l2_ud_probe);
	frame = mtf_exit_at("mtf_after_own_fault_delivery", ud, 0x2, isr);
	check_text("mtf_own_fault_pushed_rip_and_rflags", "UD2's RIP, RFLAGS 0x2",
		   l2_read_u64(frame) == ud && l2_read_u64(frame + 16) == 0x2 ? "UD2's RIP, RFLAGS 0x2" : "another frame",
		   l2_read_u64(frame) == ud && l2_read_u64(frame + 16) == 0x2);

	/* INT 5: a software interrupt no exit announces; still the step ends at its handler, RFLAGS pushed free of TF. */
	uint64_t int5 = l2_code_gpa(l2_int_probe);
	frame = mtf_exit_at("mtf_after_int_n_delivery", int5, 0x2, isr);
	check_text("mtf_int_n_pushed_rip_and_rflags", "past INT 5, RFLAGS 0x2",
		   l2_read_u64(frame) == int5 + 2 && l2_read_u64(frame + 16) == 0x2 ? "past INT 5, RFLAGS 0x2"
										   : "another frame",
		   l2_read_u64(frame) == int5 + 2 && l2_read_u64(frame + 16) == 0x2);

	/* OUT to port 0x80, which no VMM takes: the parent emulates it, L1 still gets its step. */
	uint64_t out = l2_code_gpa(l2_out_probe);
	mtf_exit_at("mtf_after_emulated_out", out, 0x2, out + 2);

	/* STI, then the NOP its blocking covers: two steps, one instruction each. */
	uint64_t sti = l2_code_gpa(l2_window_probe);
	mtf_exit_at("mtf_after_sti", sti, 0x2, sti + 1);
	if (check_outcome("mtf_in_sti_shadow", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field("mtf_in_sti_shadow_rip", VMCS_GUEST_RIP, sti + 2);

	/* STI, then CPUID in its shadow: the CPUID exit still shows blocking by STI (26.3.1.5, 27.3.4). */
	uint64_t sti_cpuid = l2_code_gpa(l2_sti_cpuid_probe);
	mtf_exit_at("mtf_sti_before_cpuid", sti_cpuid, 0x2, sti_cpuid + 1);
	check_field("mtf_after_sti_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	if (check_outcome("cpuid_in_sti_shadow_exits", vm_exit(EXIT_REASON_CPUID), do_vmresume()))
		check_field("cpuid_in_sti_shadow_blocking", VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);

	/*
	 * A data breakpoint hit by the stepped instruction: the MTF exit comes
	 * first with the breakpoint pending (B0 and bit 12), the #DB is
	 * delivered at the next entry, and the step ends at its handler.
	 */
	uint64_t entryc = 0, store = l2_code_gpa(l2_store_probe);
	do_vmread(VMCS_VM_ENTRY_CONTROLS, &entryc);
	do_vmwrite(VMCS_VM_ENTRY_CONTROLS, entryc | ENTRY_LOAD_DEBUG_CONTROLS);
	write_dr0(L2_WATCHED_GPA);
	do_vmwrite(VMCS_GUEST_DR7, 0x400 | 1 | (1u << 16) | (3u << 18)); /* L0, write, 8 bytes */
	mtf_exit_at("mtf_data_breakpoint_step", store, 0x2, store + 12);
	check_field("mtf_data_breakpoint_pending", VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1 | (1u << 12));
	if (check_outcome("mtf_data_breakpoint_delivered", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field("mtf_data_breakpoint_handler", VMCS_GUEST_RIP, isr);
	do_vmwrite(VMCS_GUEST_DR7, 0x400);
	do_vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	do_vmwrite(VMCS_VM_ENTRY_CONTROLS, entryc);
	write_dr0(0);

	/* A #GP injected whose gate lies beyond the IDT limit: a double fault, which L1 intercepts. */
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VECTOR_DF);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_GP) | INTR_INFO_ERROR_CODE);
	do_vmwrite(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
	do_vmwrite(VMCS_GUEST_RIP, probe);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	if (check_outcome("double_fault_intercepted", vm_exit(EXIT_REASON_EXCEPTION_NMI), do_vmresume())) {
		check_field("double_fault_vector", VMCS_VM_EXIT_INTR_INFO,
			    intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_DF) | INTR_INFO_ERROR_CODE);
		check_field("double_fault_during_gp", VMCS_IDT_VECTORING_INFO_FIELD,
			    intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_GP) | INTR_INFO_ERROR_CODE);
	}
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 0);

	/* A pending MTF exit injected (type 7, vector 0), the flag itself off: the exit comes before any instruction. */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc & ~CPU_UNCOND_IO_EXITING);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_OTHER, 0));
	mtf_exit_at("mtf_pending_injected", out, 0x2, out);
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);

	step_l2_monitor_trap_corners(proc);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	do_vmwrite(VMCS_EXCEPTION_BITMAP, 0xffffffffu);
	do_vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	do_vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
	l2_write_u64(0x08, 0);
	do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	do_vmwrite(VMCS_GUEST_RSP, L2_STACK_TOP);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
}

/*
 * The monitor trap flag (SDM 26.5.2), which the parent offers whether its
 * processor has one or not: an entry runs one instruction of L2 and exits
 * with reason 37, no qualification (28.2.1), L2's RFLAGS and pending debug
 * exceptions as L2 has them (no trace of a TF the parent may step with).
 */
static void step_l2_monitor_trap(struct hostile *h, uint64_t hlt_rip)
{
	int offered = ((h->vmx.proc >> 32) & CPU_MONITOR_TRAP_FLAG) != 0;
	check_text("monitor_trap_flag_offered", "may be 1", offered ? "may be 1" : "must be 0", offered);
	if (!offered)
		return;
	uint64_t proc = 0, probe = l2_code_gpa(l2_mtf_probe);
	do_vmread(VMCS_CPU_BASED_VM_EXEC_CONTROL, &proc);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc | CPU_MONITOR_TRAP_FLAG);
	do_vmwrite(VMCS_GUEST_RIP, probe);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	if (check_outcome("mtf_first_step", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume())) {
		check_field("mtf_first_step_rip", VMCS_GUEST_RIP, probe + 1);
		check_field("mtf_exit_qualification", VMCS_EXIT_QUALIFICATION, 0);
		check_field("mtf_rflags_as_l2_has_them", VMCS_GUEST_RFLAGS, 0x2);
		check_field("mtf_no_pending_debug_exception", VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	}
	if (check_outcome("mtf_second_step", vm_exit(EXIT_REASON_MONITOR_TRAP_FLAG), do_vmresume()))
		check_field("mtf_second_step_rip", VMCS_GUEST_RIP, probe + 2);
	/* Flag off: L2 runs on to its HLT. */
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	if (check_outcome("mtf_off_runs_to_hlt", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		check_field("mtf_off_hlt_rip", VMCS_GUEST_RIP, probe + 2);
	step_l2_monitor_trap_events(proc);
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
}

/*
 * Event windows (mechanism 3 in docs/architecture.md, SDM 26.7.5-6): with interrupt-window
 * exiting an entry exits before any instruction when RFLAGS.IF is 1 and
 * nothing blocks interrupts, else as soon as that holds (after STI, past
 * the instruction STI blocks for); NMI-window exiting likewise when no
 * virtual NMI is blocked.  The parent must pass the controls on to the
 * processor and reflect the exits, never take them for its own.
 */
static void step_l2_event_windows(struct hostile *h, uint64_t hlt_rip)
{
	uint64_t proc = 0, pin = 0, probe = l2_code_gpa(l2_window_probe);
	do_vmread(VMCS_CPU_BASED_VM_EXEC_CONTROL, &proc);
	do_vmread(VMCS_PIN_BASED_VM_EXEC_CONTROL, &pin);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc | CPU_INTR_WINDOW_EXITING);
	do_vmwrite(VMCS_GUEST_RIP, probe);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	if (check_outcome("interrupt_window_open_at_entry", vm_exit(EXIT_REASON_INTERRUPT_WINDOW), do_vmresume()))
		check_field("interrupt_window_open_at_entry_rip", VMCS_GUEST_RIP, probe);
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2); /* closed: STI opens it, one instruction later */
	if (check_outcome("interrupt_window_after_sti", vm_exit(EXIT_REASON_INTERRUPT_WINDOW), do_vmresume()))
		check_field("interrupt_window_after_sti_rip", VMCS_GUEST_RIP, probe + 2);
	do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	check_outcome("interrupt_window_off_runs_to_hlt", vm_exit(EXIT_REASON_HLT), do_vmresume());

	int nmi_window = ((h->vmx.proc >> 32) & CPU_NMI_WINDOW_EXITING) && ((h->vmx.pin >> 32) & PIN_VIRTUAL_NMIS);
	if (nmi_window) {
		do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
		do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc | CPU_NMI_WINDOW_EXITING);
		do_vmwrite(VMCS_GUEST_RIP, probe);
		do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
		if (check_outcome("nmi_window_open_at_entry", vm_exit(EXIT_REASON_NMI_WINDOW), do_vmresume()))
			check_field("nmi_window_open_at_entry_rip", VMCS_GUEST_RIP, probe);
		/* A virtual NMI blocked: the window stays shut and L2 runs on to its HLT. */
		do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
		check_outcome("nmi_window_shut_by_blocking", vm_exit(EXIT_REASON_HLT), do_vmresume());
		do_vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
		do_vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
		do_vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	} else {
		console_printf("hostile: NMI-window exiting is not offered; its checks do not apply\n");
	}
	do_vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
}

/*
 * Editing the memory of an active VMCS that is not current is undefined
 * (SDM 25.11.1), but it must not slip a control past the parent's entry
 * checks: APIC-access virtualisation, which the parent does not offer,
 * written into vmcs_l2's memory (nestlab's documented VMCS12 layout)
 * while another VMCS is current.  The next VMRESUME may see the edit and
 * fail with VMfail(7), or — as a processor that keeps the VMCS's data
 * may — ignore it and enter L2 with the controls as they were; never enter
 * with the edited control.
 */
static void step_edit_active_vmcs(struct hostile *h)
{
	uint64_t proc2 = 0;
	do_vmread(VMCS_SECONDARY_VM_EXEC_CONTROL, &proc2);
	vmcs_other.revision = h->vmx.revision;
	do_vmclear(pa_of(&vmcs_other));
	do_vmptrld(pa_of(&vmcs_other));
	uint64_t edited = proc2 | SEC_VIRTUALIZE_APIC_ACCESSES;
	memcpy(&vmcs_l2.data[VMCS12_FIELDS_OFFSET - sizeof(uint32_t) + 8 * VMCS12_IDX_SECONDARY_VM_EXEC_CONTROL],
	       &edited, sizeof edited);
	do_vmptrld(pa_of(&vmcs_l2));
	struct outcome r = do_vmresume();
	uint64_t after = 0;
	do_vmread(VMCS_SECONDARY_VM_EXEC_CONTROL, &after);
	char got[GOT_MAX], text[GOT_MAX];
	outcome_format(r, text, sizeof text);
	nl_snprintf(got, sizeof got, "%s, secondary controls 0x%llx", text, (unsigned long long)after);
	int refused = outcome_equal(r, vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD));
	int ignored = r.kind == OUT_EXIT && !(after & SEC_VIRTUALIZE_APIC_ACCESSES);
	check_text("vmresume_after_active_vmcs_edited", "VMfailValid(7), or an entry with the edit ignored", got,
		   refused || ignored);
	do_vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	/* After VMCLEAR the memory is the VMCS (SDM 31.3): the same edit there must count. */
	do_vmclear(pa_of(&vmcs_l2));
	memcpy(&vmcs_l2.data[VMCS12_FIELDS_OFFSET - sizeof(uint32_t) + 8 * VMCS12_IDX_SECONDARY_VM_EXEC_CONTROL],
	       &edited, sizeof edited);
	do_vmptrld(pa_of(&vmcs_l2));
	check_outcome("vmlaunch_after_cleared_vmcs_edited", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
		      do_vmlaunch());
	do_vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	/* Launched again for the steps after this one. */
	check_outcome("vmlaunch_after_cleared_vmcs_restored", vm_exit(EXIT_REASON_HLT), do_vmlaunch());
}

/*
 * More active VMCSs than a parent may keep at once (SDM 25.11.1 lets a
 * processor keep their data anywhere until VMCLEAR): each keeps what was
 * written into it, and vmcs_l2, made current again, still runs L2.
 */
#define MANY_VMCS 5
static struct vmx_region vmcs_many[MANY_VMCS];

static void step_many_active_vmcs(struct hostile *h, uint64_t hlt_rip)
{
	char want[GOT_MAX], got[GOT_MAX];
	unsigned kept = 0;
	for (unsigned i = 0; i < MANY_VMCS; i++) {
		vmcs_many[i].revision = h->vmx.revision;
		do_vmclear(pa_of(&vmcs_many[i]));
		do_vmptrld(pa_of(&vmcs_many[i]));
		do_vmwrite(VMCS_GUEST_RIP, 0x1000u + i);
	}
	for (unsigned i = 0; i < MANY_VMCS; i++) {
		uint64_t v = 0;
		do_vmptrld(pa_of(&vmcs_many[i]));
		if (do_vmread(VMCS_GUEST_RIP, &v).kind == OUT_SUCCEED && v == 0x1000u + i)
			kept++;
	}
	nl_snprintf(want, sizeof want, "%u of %u", MANY_VMCS, MANY_VMCS);
	nl_snprintf(got, sizeof got, "%u of %u", kept, MANY_VMCS);
	check_text("many_active_vmcs_keep_their_data", want, got, kept == MANY_VMCS);
	do_vmptrld(pa_of(&vmcs_l2));
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
	check_outcome("vmresume_after_many_active_vmcs", vm_exit(EXIT_REASON_HLT), do_vmresume());
}

void step_run_l2(struct hostile *h)
{
	/* CPUID in L2 always exits (SDM 25.1.2): the parent must reflect the exit here, at HOST_RIP. */
	struct outcome r = do_vmlaunch();
	int cpuid_exit = check_outcome("vmlaunch_l2_cpuid_exit", vm_exit(EXIT_REASON_CPUID), r);
	if (cpuid_exit) {
		check_field("l2_exit_guest_rip", VMCS_GUEST_RIP, L2_CODE_GPA);
		check_field("l2_exit_instruction_length", VMCS_VM_EXIT_INSTRUCTION_LEN, L2_CPUID_LEN);
	}
	/* SDM 31.3 VMLAUNCH: a VMCS whose launch state is not clear is VMfail(4). */
	check_outcome("vmlaunch_launched_vmcs", vm_fail_valid(VMXERR_VMLAUNCH_NONCLEAR_VMCS), do_vmlaunch());
	if (!cpuid_exit)
		return;
	/* Past CPUID, L2 halts, and HLT exiting brings it back. */
	uint64_t hlt_rip = L2_CODE_GPA + L2_CPUID_LEN;
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
	if (!check_outcome("vmresume_l2_hlt_exit", vm_exit(EXIT_REASON_HLT), do_vmresume()))
		return;
	/*
	 * Entries that change one field after a good one: the parent may then
	 * check only what changed, and must still give the SDM's outcome.
	 * SDM 26.3.1.4: a non-canonical RIP in 64-bit mode fails the guest
	 * checks (a VM exit, the VMCS stays launched).
	 */
	do_vmwrite(VMCS_GUEST_RIP, 0x0000800000000000ull);
	check_outcome("vmresume_noncanonical_rip", vm_exit(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE),
		      do_vmresume());
	do_vmwrite(VMCS_GUEST_RIP, hlt_rip);
	check_outcome("vmresume_rip_restored", vm_exit(EXIT_REASON_HLT), do_vmresume());
	/* SDM 26.2.1.3: injecting an event of the reserved type 1 is VMfail(7). */
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_RESERVED, 0));
	check_outcome("vmresume_reserved_event_type", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
		      do_vmresume());
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	check_outcome("vmresume_event_restored", vm_exit(EXIT_REASON_HLT), do_vmresume());
	/* SDM 26.2.3: host TR selector 0 after good entries is still VMfail(8). */
	uint64_t host_tr = 0;
	do_vmread(VMCS_HOST_TR_SELECTOR, &host_tr);
	do_vmwrite(VMCS_HOST_TR_SELECTOR, 0);
	check_outcome("vmresume_host_tr_selector_zero", vm_fail_valid(VMXERR_ENTRY_INVALID_HOST_STATE_FIELD),
		      do_vmresume());
	do_vmwrite(VMCS_HOST_TR_SELECTOR, host_tr);
	check_outcome("vmresume_host_tr_restored", vm_exit(EXIT_REASON_HLT), do_vmresume());
	/* SDM 26.2.1.3: an injected exception's error code has bits 31:16 clear: else VMfail(7). */
	const uint32_t gp_with_code = intr_info_event(INTR_TYPE_HW_EXCEPTION, VECTOR_GP) | INTR_INFO_ERROR_CODE;
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, gp_with_code);
	do_vmwrite(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000);
	check_outcome("vmresume_error_code_bits_31_16", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
		      do_vmresume());
	do_vmwrite(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
	/* SDM 26.3.1.5: in the HLT state only an external interrupt, NMI, #DB or #MC may be injected. */
	do_vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
	check_outcome("vmresume_gp_into_hlt", vm_exit(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE),
		      do_vmresume());
	do_vmwrite(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	do_vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	check_outcome("vmresume_activity_restored", vm_exit(EXIT_REASON_HLT), do_vmresume());
	/*
	 * SDM 26.3.1.5: an activity state IA32_VMX_MISC does not offer is a
	 * guest-state failure.  Wait-for-SIPI entered for real would never
	 * come back: the parent must refuse it, not hang.
	 */
	if (!(h->vmx.misc & VMX_MISC_WAIT_FOR_SIPI)) {
		do_vmwrite(VMCS_GUEST_ACTIVITY_STATE, 3);
		check_outcome("vmresume_wait_for_sipi_not_offered",
			      vm_exit(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE), do_vmresume());
		do_vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	}
	/* SDM 24.11.2: a VMWRITE of a 64-bit field's high half (encoding + 1) leaves the low half as it is. */
	uint64_t efer = 0;
	do_vmread(VMCS_GUEST_IA32_EFER, &efer);
	do_vmwrite(VMCS_GUEST_IA32_EFER + 1, efer >> 32);
	check_field("vmwrite_high_half_keeps_low", VMCS_GUEST_IA32_EFER, efer);
	step_l2_dr7_not_saved();
	step_l2_monitor_trap(h, hlt_rip);
	step_l2_event_windows(h, hlt_rip);
	step_l2_external_interrupts(h, hlt_rip);
	step_many_active_vmcs(h, hlt_rip);
	step_edit_active_vmcs(h);
	step_vmcs_shadowing(h, pa_of(&vmcs_l2));
}

void step_ept12_outside(struct hostile *h)
{
	uint32_t field = 0;
	char got[GOT_MAX], text[GOT_MAX];

	vmcs_last.revision = h->vmx.revision;
	struct outcome r = do_vmclear(pa_of(&vmcs_last));
	if (r.kind == OUT_SUCCEED)
		r = do_vmptrld(pa_of(&vmcs_last));
	if (r.kind == OUT_SUCCEED)
		r = l2_vmcs_write(&h->vmx, &h->ctl, l2_eptp_outside(h->outside), &field);
	if (r.kind != OUT_SUCCEED) {
		outcome_format(r, text, sizeof text);
		nl_snprintf(got, sizeof got, "setting up the VMCS failed: %s", text);
		check_text("ept12_outside_memory", "this VM stopped by its parent", got, 0);
		return;
	}
	console_printf("hostile %s: last step: L2 under an EPT12 that maps L1-physical 0x%llx, outside this "
		       "VM's memory; the parent should stop this VM now\n",
		       h->name, (unsigned long long)h->outside);
	r = do_vmlaunch();
	outcome_format(r, text, sizeof text);
	nl_snprintf(got, sizeof got, "%s, and this VM went on", text);
	check_text("ept12_outside_memory", "this VM stopped by its parent", got, 0);
}
