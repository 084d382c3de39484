/*
 * The VMCS12 field lists the nested runtime walks: the hot fields a VMM
 * touches around every exit of its guest, those it only reads, those a VMM
 * touches only to emulate exits for a child VMM of its own, the fields of
 * the hot entry checks; and L2's state split into what is synced from
 * VMCS02 at every reflected exit and what waits until L1 asks.
 */
#include "nested_entry.h"

struct vmcs12_index_list vmcs12_l2_state, vmcs12_exit_info, vmcs12_l2_hot, vmcs12_l2_exit_load, vmcs12_l2_rest;

/*
 * The hot fields: what a VMM reads or writes around every exit of its guest
 * and in its own VMX-instruction emulation (mode and privilege checks,
 * operand decoding).  They are what a child's shadow VMCS holds, and the
 * part of L2's state copied eagerly at every reflected exit (the rest
 * waits in VMCS02 until L1 asks).  KVM keeps a similar list.
 */
const uint32_t nested_hot_fields[] = {
	VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS, VMCS_GUEST_INTERRUPTIBILITY_INFO,
	VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, VMCS_VMX_PREEMPTION_TIMER_VALUE,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_IA32_EFER,
	VMCS_GUEST_CS_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
	VMCS_CR0_GUEST_HOST_MASK, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW,
	VMCS_HOST_RSP, VMCS_HOST_RIP, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	VMCS_VM_ENTRY_INTR_INFO_FIELD, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, VMCS_VM_ENTRY_INSTRUCTION_LEN,
	VMCS_VM_EXIT_REASON, VMCS_EXIT_QUALIFICATION, VMCS_VM_EXIT_INSTRUCTION_LEN, VMCS_VM_EXIT_INTR_INFO,
	VMCS_VM_EXIT_INTR_ERROR_CODE, VMCS_IDT_VECTORING_INFO_FIELD, VMCS_IDT_VECTORING_ERROR_CODE,
	VMCS_VMX_INSTRUCTION_INFO, VMCS_GUEST_PHYSICAL_ADDRESS, VMCS_GUEST_LINEAR_ADDRESS,
	VMCS_VM_INSTRUCTION_ERROR,
};
const unsigned nested_hot_field_count = sizeof nested_hot_fields / sizeof nested_hot_fields[0];

/*
 * Hot fields a VMM reads around its guest's exits but rarely writes: a
 * parent shadows them for reading only, so its VMRESUME emulation need not
 * copy them back from the shadow VMCS each time (a write exits instead).
 * A VMM writes control registers, their read shadows, the activity state
 * and the pending debug exceptions only when it emulates something of its
 * guest's that is rare (a CR write, HLT, a debug event): each read
 * back costs every VMX instruction of the child, each trapped write one
 * exit.  The per-field trap counts ("vmcs_traps") show when a guest VMM
 * disagrees.
 */
const uint32_t nested_hot_read_mostly[] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_CS_AR_BYTES, VMCS_GUEST_SS_AR_BYTES,
	VMCS_GUEST_IA32_EFER, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR4_GUEST_HOST_MASK, VMCS_HOST_RSP, VMCS_HOST_RIP,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_CR0_READ_SHADOW, VMCS_CR4_READ_SHADOW,
	VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
};
const unsigned nested_hot_read_mostly_count = sizeof nested_hot_read_mostly / sizeof nested_hot_read_mostly[0];

/*
 * The guest-state fields a VMM touches only when it emulates VM entries and
 * exits for a child VMM of its own: nested_load_l1_host_state() writes
 * them and nested_enter() reads DR7 and DEBUGCTL.  A parent shadows them
 * for reading (writes still exit), so such a VMM, comparing before it
 * writes, costs its parent no exit when the values did not change.  For
 * such a child (one that hosts a VMM) they are synced eagerly at reflected
 * exits; for the others they stay lazy and unshadowed.
 */
const uint32_t nested_exit_load_fields[] = {
	VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_DS_SELECTOR,
	VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_TR_SELECTOR,
	VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
	VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_GDTR_LIMIT,
	VMCS_GUEST_IDTR_LIMIT, VMCS_GUEST_ES_AR_BYTES, VMCS_GUEST_DS_AR_BYTES, VMCS_GUEST_FS_AR_BYTES,
	VMCS_GUEST_GS_AR_BYTES, VMCS_GUEST_LDTR_AR_BYTES, VMCS_GUEST_TR_AR_BYTES, VMCS_GUEST_TR_BASE,
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP,
	VMCS_GUEST_SYSENTER_EIP, VMCS_GUEST_DR7, VMCS_GUEST_IA32_DEBUGCTL,
};
const unsigned nested_exit_load_field_count = sizeof nested_exit_load_fields / sizeof nested_exit_load_fields[0];

/*
 * The fields no check reads except the hot ones: RIP, RFLAGS, activity and
 * interruptibility state, the event to inject (26.2.1.3, 26.3.1.4-5); RSP,
 * pending debug exceptions and the preemption-timer value no check reads;
 * the exit-information fields are not part of an entry.
 */
uint8_t vmcs12_hot_only[VMCS12_NFIELDS];
static const uint32_t hot_checked_fields[] = {
	VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS, VMCS_GUEST_INTERRUPTIBILITY_INFO,
	VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, VMCS_VMX_PREEMPTION_TIMER_VALUE,
	VMCS_VM_ENTRY_INTR_INFO_FIELD, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, VMCS_VM_ENTRY_INSTRUCTION_LEN,
};

enum { L2_REST, L2_HOT, L2_EXIT_LOAD };
static uint8_t l2_class[VMCS12_NFIELDS];

int nested_field_lazy(const struct nested_vm *nv, uint32_t encoding)
{
	int i = vmcs12_index_of(encoding);
	if (i < 0 || !vmcs_field_is_guest_state(encoding) || encoding == VMCS_VMCS_LINK_POINTER ||
	    encoding == VMCS_VMX_PREEMPTION_TIMER_VALUE)
		return 0;
	return l2_class[i] == L2_REST || (l2_class[i] == L2_EXIT_LOAD && !nv->shadow.exit_load);
}

static void classify(const uint32_t *fields, unsigned count, uint8_t cls)
{
	for (unsigned k = 0; k < count; k++)
		if (l2_class[vmcs12_index_of(fields[k])] == L2_REST)
			l2_class[vmcs12_index_of(fields[k])] = cls;
}

void vmcs12_index_lists_init(void)
{
	for (unsigned k = 0; k < sizeof hot_checked_fields / sizeof hot_checked_fields[0]; k++)
		vmcs12_hot_only[vmcs12_index_of(hot_checked_fields[k])] = 1;
	for (unsigned i = 0; i < VMCS12_NFIELDS; i++)
		if (vmcs_field_is_readonly(vmcs_field_encodings[i]))
			vmcs12_hot_only[i] = 1;
	classify(nested_hot_fields, nested_hot_field_count, L2_HOT);
	classify(nested_exit_load_fields, nested_exit_load_field_count, L2_EXIT_LOAD);
	struct vmcs12_index_list *of_class[] = { &vmcs12_l2_rest, &vmcs12_l2_hot, &vmcs12_l2_exit_load };
	vmcs12_l2_state.count = vmcs12_exit_info.count = 0;
	for (unsigned c = 0; c < 3; c++)
		of_class[c]->count = 0;
	for (unsigned i = 0; i < VMCS12_NFIELDS; i++) {
		uint32_t enc = vmcs_field_encodings[i];
		if (vmcs_field_is_guest_state(enc) && enc != VMCS_VMCS_LINK_POINTER &&
		    enc != VMCS_VMX_PREEMPTION_TIMER_VALUE) {
			vmcs12_l2_state.idx[vmcs12_l2_state.count++] = (uint8_t)i;
			struct vmcs12_index_list *l = of_class[l2_class[i]];
			l->idx[l->count++] = (uint8_t)i;
		} else if (vmcs_field_is_readonly(enc) && enc != VMCS_VM_INSTRUCTION_ERROR)
			vmcs12_exit_info.idx[vmcs12_exit_info.count++] = (uint8_t)i;
	}
}
