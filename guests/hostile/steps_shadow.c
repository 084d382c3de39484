/*
 * Step 10: VMCS shadowing for this VM's own L2, where the parent offers it
 * (SDM Vol. 3 25.10).  A shadow VMCS may be made current but not entered
 * (26.1); the VMREAD bitmap must be aligned (26.2.1.1); the link pointer
 * must name a shadow VMCS (26.3.1.5, exit qualification 4); and L2's
 * VMREAD/VMWRITE act on the shadow VMCS without an exit here, with the
 * SDM's outcomes, but for a field whose VMREAD-bitmap bit is set.
 */
#include <string.h>

#include "check.h"
#include "fmt.h"
#include "nestlab/vmx.h"
#include "steps.h"
#include "vmx_do.h"

#define FIELD_L1_WROTE VMCS_CR0_READ_SHADOW /* L1 puts VALUE_L1_WROTE there; L2 reads it */
#define FIELD_L2_WRITES VMCS_CR4_READ_SHADOW
#define FIELD_EXITS VMCS_GUEST_RIP          /* its VMREAD-bitmap bit is set */
#define VALUE_L1_WROTE 0x1234u
#define VALUE_L2_WRITES 0x5678u

static struct vmx_region vmcs_shadow, vmcs_plain;
static uint8_t vmread_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t vmwrite_bitmap[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* A value L2 stored and the RFLAGS after the instruction that produced it. */
static void check_l2_read(const char *name, uint64_t value_gpa, uint64_t rflags_gpa)
{
	char want[GOT_MAX], got[GOT_MAX], flags[GOT_MAX];
	struct outcome r = outcome_of(l2_read_u64(rflags_gpa));
	uint64_t v = l2_read_u64(value_gpa);
	outcome_format(r, flags, sizeof flags);
	nl_snprintf(want, sizeof want, "VMsucceed, 0x%x", VALUE_L1_WROTE);
	nl_snprintf(got, sizeof got, "%s, 0x%llx", flags, (unsigned long long)v);
	check_text(name, want, got, r.kind == OUT_SUCCEED && v == VALUE_L1_WROTE);
}

/* L2 ran l2_shadow_probe and its last VMREAD exited here (vmcs_l2 current). */
static void check_l2_results(uint64_t vmcs_l2)
{
	const uint64_t res = L2_SHADOW_RESULTS_GPA;
	check_l2_read("l2_vmread_from_shadow_vmcs", res, res + 8);
	check_l2_read("l2_vmread_from_shadow_vmcs_to_memory", res + 16, res + 24);
	check_outcome("l2_vmwrite_to_shadow_vmcs", vm_succeed(), outcome_of(l2_read_u64(res + 32)));
	/* VMfailValid in VMX non-root operation: the error goes into the VMCS in control (vmcs_l2). */
	check_outcome("l2_vmread_unsupported_field", vm_fail_valid(VMXERR_UNSUPPORTED_VMCS_COMPONENT),
		      outcome_of(l2_read_u64(res + 40)));
	do_vmptrld(pa_of(&vmcs_shadow));
	check_field("l2_vmwrite_landed_in_shadow_vmcs", FIELD_L2_WRITES, VALUE_L2_WRITES);
	do_vmclear(pa_of(&vmcs_shadow));
	do_vmptrld(vmcs_l2);
}

void step_vmcs_shadowing(struct hostile *h, uint64_t vmcs_l2)
{
	uint64_t proc2 = 0, rip = 0;
	do_vmread(VMCS_SECONDARY_VM_EXEC_CONTROL, &proc2);
	do_vmread(VMCS_GUEST_RIP, &rip);
	do_vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2 | SEC_VMCS_SHADOWING);
	if (!((h->vmx.proc2 >> 32) & SEC_VMCS_SHADOWING)) {
		/* Not offered: a control L2 may not have (26.2.1.1). */
		check_outcome("vmresume_vmcs_shadowing_not_offered", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
			      do_vmresume());
		do_vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
		return;
	}
	memset(vmread_bitmap, 0, sizeof vmread_bitmap);
	memset(vmwrite_bitmap, 0, sizeof vmwrite_bitmap);
	vmread_bitmap[(FIELD_EXITS & 0x7fff) >> 3] |= (uint8_t)(1u << (FIELD_EXITS & 7));
	do_vmwrite(VMCS_VMREAD_BITMAP, pa_of(vmread_bitmap) + 8);
	do_vmwrite(VMCS_VMWRITE_BITMAP, pa_of(vmwrite_bitmap));
	check_outcome("vmresume_vmread_bitmap_unaligned", vm_fail_valid(VMXERR_ENTRY_INVALID_CONTROL_FIELD),
		      do_vmresume());
	do_vmwrite(VMCS_VMREAD_BITMAP, pa_of(vmread_bitmap));

	/*
	 * The shadow VMCS, filled through VMPTRLD and VMWRITE.  It stays active
	 * (no VMCLEAR): a shadow VMCS may be (SDM 25.10), and L2 must still
	 * find in it what was written.
	 */
	vmcs_shadow.revision = h->vmx.revision | VMCS_SHADOW_INDICATOR;
	do_vmclear(pa_of(&vmcs_shadow));
	check_outcome("vmptrld_shadow_vmcs", vm_succeed(), do_vmptrld(pa_of(&vmcs_shadow)));
	do_vmwrite(FIELD_L1_WROTE, VALUE_L1_WROTE);
	check_outcome("vmresume_with_shadow_vmcs_current", vm_fail_invalid(), do_vmresume());
	do_vmptrld(vmcs_l2);

	/* A link pointer to an ordinary VMCS: VM-entry failure, qualification 4 (26.3.1.5, 26.8). */
	vmcs_plain.revision = h->vmx.revision;
	do_vmwrite(VMCS_VMCS_LINK_POINTER, pa_of(&vmcs_plain));
	if (check_outcome("vmresume_link_pointer_not_shadow",
			  vm_exit(EXIT_REASON_ENTRY_FAIL | EXIT_REASON_INVALID_GUEST_STATE), do_vmresume()))
		check_field("vmresume_link_pointer_qualification", VMCS_EXIT_QUALIFICATION, ENTRY_FAIL_QUAL_LINK_POINTER);

	do_vmwrite(VMCS_VMCS_LINK_POINTER, pa_of(&vmcs_shadow));
	const uint64_t args = L2_SHADOW_ARGS_GPA;
	l2_write_u64(args, FIELD_L1_WROTE);
	l2_write_u64(args + 8, FIELD_L2_WRITES);
	l2_write_u64(args + 16, VALUE_L2_WRITES);
	l2_write_u64(args + 24, UNSUPPORTED_FIELD);
	l2_write_u64(args + 32, FIELD_EXITS);
	do_vmwrite(VMCS_GUEST_RIP, l2_code_gpa(l2_shadow_probe));
	if (check_outcome("l2_vmread_with_bitmap_bit_set_exits", vm_exit(EXIT_REASON_VMREAD), do_vmresume()))
		check_l2_results(vmcs_l2);

	/*
	 * A VMREAD whose memory destination EPT12 does not map: the parent
	 * serves it in this VM's place, so the fault is this VM's to hear, as
	 * an EPT violation (28.2.1: a data write, linear address valid and
	 * translated, no EPT12 rights).
	 */
	do_vmwrite(VMCS_GUEST_RIP, l2_code_gpa(l2_shadow_ept_probe));
	if (check_outcome("l2_vmread_to_unmapped_page_ept_violation", vm_exit(EXIT_REASON_EPT_VIOLATION),
			  do_vmresume())) {
		check_field("l2_vmread_ept_violation_gpa", VMCS_GUEST_PHYSICAL_ADDRESS, L2_UNMAPPED_GPA);
		check_field("l2_vmread_ept_violation_qualification", VMCS_EXIT_QUALIFICATION,
			    EPT_QUAL_WRITE | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_TRANSLATED);
	}

	do_vmwrite(VMCS_VMCS_LINK_POINTER, ~0ull);
	do_vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	do_vmwrite(VMCS_GUEST_RIP, rip);
}
