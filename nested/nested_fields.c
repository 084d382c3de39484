/*
 * The VMCS12 field lists the nested runtime walks, derived from the
 * attribute column of include/nestlab/vmcs_fields.def (described there),
 * each in that file's order: the hot fields and the read-mostly ones a
 * child's shadow VMCS holds, the fields of the hot entry checks; L2's state
 * split into what is synced from VMCS02 at every reflected exit and what
 * waits until L1 asks; the exit-information fields.
 */
#include "nested_entry.h"

struct vmcs12_index_list vmcs12_l2_state, vmcs12_exit_info, vmcs12_l2_hot, vmcs12_l2_exit_load, vmcs12_l2_rest;
struct vmcs12_index_list vmcs12_hot, vmcs12_hot_read_mostly;

static const uint8_t field_attrs[VMCS12_NFIELDS] = {
#define X(name, enc, attrs) [VMCS12_IDX_##name] = (attrs),
#include "nestlab/vmcs_fields.def"
#undef X
};

/*
 * The emulated monitor trap flag works out whether L2 steps by TF again at
 * every entry from VMCS12's primary controls (nested_mtf_before_entry()),
 * which is exact only because a change to them forces a full entry and a
 * new merge of VMCS02: they must never be a field the hot checks alone
 * may pass.  (One exception, decided at the entry: a change of the
 * event-window bits alone, nested_entry.c, which the merge takes from L1
 * unchanged and the MTF does not depend on.)
 */
enum {
#define X(name, enc, attrs) ATTRS_OF_##name = (attrs),
#include "nestlab/vmcs_fields.def"
#undef X
};
_Static_assert(!(ATTRS_OF_CPU_BASED_VM_EXEC_CONTROL & VF_HOT_CHECKED),
	       "a change to the primary controls must re-merge VMCS02 (nested_mtf.h)");

/* Read by no entry check but the hot ones: the VF_HOT_CHECKED fields and the read-only ones. */
uint8_t vmcs12_hot_only[VMCS12_NFIELDS];

/* L2's state as VMCS02 carries it: guest state but what this VMM sets there itself. */
static int is_l2_state(unsigned i)
{
	return vmcs_field_is_guest_state(vmcs_field_encodings[i]) && !(field_attrs[i] & VF_OWN);
}

int nested_field_lazy(const struct nested_vm *nv, uint32_t encoding)
{
	int i = vmcs12_index_of(encoding);
	/* A VF_OWN field is left out by its full encoding only, as the operand names it. */
	if (i < 0 || !vmcs_field_is_guest_state(encoding) ||
	    ((field_attrs[i] & VF_OWN) && encoding == vmcs_field_encodings[i]))
		return 0;
	uint8_t a = field_attrs[i];
	return !(a & VF_HOT) && (!(a & VF_EXIT_LOAD) || !nv->shadow.exit_load);
}

static void add(struct vmcs12_index_list *l, unsigned i)
{
	l->idx[l->count++] = (uint8_t)i;
}

void vmcs12_index_lists_init(void)
{
	struct vmcs12_index_list *all[] = { &vmcs12_l2_state, &vmcs12_exit_info, &vmcs12_l2_hot, &vmcs12_l2_exit_load,
					    &vmcs12_l2_rest, &vmcs12_hot, &vmcs12_hot_read_mostly };
	for (unsigned c = 0; c < sizeof all / sizeof all[0]; c++)
		all[c]->count = 0;
	for (unsigned i = 0; i < VMCS12_NFIELDS; i++) {
		uint32_t enc = vmcs_field_encodings[i];
		uint8_t a = field_attrs[i];
		vmcs12_hot_only[i] = (a & VF_HOT_CHECKED) || vmcs_field_is_readonly(enc);
		/*
		 * The primary controls are cold unless only their event-window
		 * bits moved: nested_enter() looks at the change mark and decides
		 * (an interrupt window turned on and off costs a hot entry, not a
		 * full check and a new merge).
		 */
		if (i == VMCS12_IDX_CPU_BASED_VM_EXEC_CONTROL)
			vmcs12_hot_only[i] = 1;
		if (a & VF_HOT)
			add(&vmcs12_hot, i);
		if ((a & VF_HOT) && (a & VF_READ_MOSTLY))
			add(&vmcs12_hot_read_mostly, i);
		if (is_l2_state(i)) {
			add(&vmcs12_l2_state, i);
			add((a & VF_HOT) ? &vmcs12_l2_hot : (a & VF_EXIT_LOAD) ? &vmcs12_l2_exit_load : &vmcs12_l2_rest, i);
		} else if (vmcs_field_is_readonly(enc) && !(a & VF_NOT_EXIT_INFO))
			add(&vmcs12_exit_info, i);
	}
}
