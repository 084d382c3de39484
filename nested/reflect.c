/*
 * Exit reflection: does an exit of L2 belong to L1?
 *
 * VMCS02 exits on everything L1 asked for plus what this VMM needs for
 * itself (vmcs02_merge.c), so every exit of L2 is looked at here first.
 * The answer replays the processor's own decision as if L2 ran under
 * VMCS12 alone: SDM Vol. 3 26.1.2 (instructions that always exit), 26.1.3
 * (instructions that exit by control), 26.2 (other causes), with the
 * control fields of 25.6.  One rule per basic exit reason, a column of the
 * exit table (include/nestlab/vmx_exit_reasons.def); the rules that read
 * more than one control are here.
 */
#include "nested.h"
#include "exit_table.h"

#define CR0_TS (1ull << 3)

/* Control-register access qualification (SDM 28.2.1, CR accesses). */
#define CR_QUAL_NUMBER(q)   ((unsigned)(q) & 15u)
#define CR_QUAL_TYPE(q)     ((unsigned)((q) >> 4) & 3u)
#define CR_QUAL_LMSW_SRC(q) (((q) >> 16) & 0xffffu)
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

/* I/O instruction qualification (SDM 28.2.1, I/O instructions). */
#define IO_QUAL_SIZE(q)     ((unsigned)((q) & 7u) + 1u) /* 0, 1, 3 encode 1, 2, 4 bytes */
#define IO_QUAL_PORT(q)     ((unsigned)((q) >> 16) & 0xffffu)

static enum reflect_decision l1_if(int cond) { return cond ? REFLECT_TO_L1 : HANDLE_IN_L0; }

static uint32_t pin12(const struct vmcs12 *v) { return (uint32_t)V12(v, PIN_BASED_VM_EXEC_CONTROL); }
static uint32_t proc12(const struct vmcs12 *v) { return (uint32_t)V12(v, CPU_BASED_VM_EXEC_CONTROL); }


/*
 * Bit n of a bitmap at L1-physical address base: 1, 0, or -1 when that
 * byte is not in L1's memory.  Every caller treats -1 as "exit": the
 * processor would read whatever lies there, and giving the exit to L1 is
 * the answer that never lets L2 act behind L1's back.
 */
static int l1_bitmap_bit(const struct guest_mem *m, uint64_t base, uint64_t n)
{
	uint64_t gpa = base + n / 8;
	if (!m || gpa < base || !guest_mem_ok(m, gpa, 1))
		return -1;
	const uint8_t *byte = guest_mem_ptr(m, gpa);
	return (*byte >> (n % 8)) & 1;
}

/*
 * Exceptions and NMIs (SDM 26.2).  An NMI exits when "NMI exiting" is set.
 * An exception exits when its bit in the exception bitmap is set, except
 * #PF: with PFEC the error code, it exits when (PFEC & mask) == match and
 * bit 14 is set, or when they differ and bit 14 is clear (25.6.3).  A
 * machine check is the physical machine's: this VMM keeps it.
 */
enum reflect_decision reflect_exception_or_nmi(const struct vmcs12 *v, const struct reflect_input *in)
{
	unsigned vector = intr_info_vector(in->intr_info);
	if (intr_info_type(in->intr_info) == INTR_TYPE_NMI)
		return l1_if(pin12(v) & PIN_NMI_EXITING);
	if (vector == VECTOR_MC)
		return HANDLE_IN_L0;
	if (vector >= 32)
		return REFLECT_TO_L1; /* no exception has such a vector: not this VMM's to judge */
	int in_bitmap = (int)((V12(v, EXCEPTION_BITMAP) >> vector) & 1);
	if (vector == VECTOR_PF) {
		uint32_t mask = (uint32_t)V12(v, PAGE_FAULT_ERROR_CODE_MASK);
		uint32_t match = (uint32_t)V12(v, PAGE_FAULT_ERROR_CODE_MATCH);
		int matches = (in->intr_error_code & mask) == match;
		return l1_if(matches ? in_bitmap : !in_bitmap);
	}
	return l1_if(in_bitmap);
}

/*
 * MOV to CR0/CR4 exits unless the source agrees with the read shadow in
 * every bit the guest/host mask owns (SDM 26.1.3).  CLTS exits when CR0.TS
 * is set in both the mask and the read shadow.  LMSW exits when it would
 * set CR0.PE that the mask owns and the shadow has clear, or change any of
 * CR0[3:1] that the mask owns (LMSW can never clear PE).  MOV to/from CR3
 * follow "CR3-load/store exiting"; this VMM offers no CR3-target values
 * (IA32_VMX_MISC bits 24:16 read 0), so a CR3 load exits whenever the
 * control is set.  MOV to/from CR8 follow "CR8-load/store exiting".
 */
enum reflect_decision reflect_cr_access(const struct vmcs12 *v, const struct reflect_input *in)
{
	uint64_t q = in->qualification;
	uint32_t proc = proc12(v);
	uint64_t cr0_mask = V12(v, CR0_GUEST_HOST_MASK), cr0_shadow = V12(v, CR0_READ_SHADOW);

	switch (CR_QUAL_TYPE(q)) {
	case CR_MOV_TO:
		switch (CR_QUAL_NUMBER(q)) {
		case 0:
			return l1_if(((in->cr_value ^ cr0_shadow) & cr0_mask) != 0);
		case 3:
			return l1_if(proc & CPU_CR3_LOAD_EXITING);
		case 4:
			return l1_if(((in->cr_value ^ V12(v, CR4_READ_SHADOW)) & V12(v, CR4_GUEST_HOST_MASK)) != 0);
		case 8:
			return l1_if(proc & CPU_CR8_LOAD_EXITING);
		}
		break;
	case CR_MOV_FROM:
		switch (CR_QUAL_NUMBER(q)) {
		case 3:
			return l1_if(proc & CPU_CR3_STORE_EXITING);
		case 8:
			return l1_if(proc & CPU_CR8_STORE_EXITING);
		}
		break;
	case CR_CLTS:
		return l1_if(cr0_mask & cr0_shadow & CR0_TS);
	case CR_LMSW: {
		uint64_t src = CR_QUAL_LMSW_SRC(q);
		if ((cr0_mask & src & CR0_PE) && !(cr0_shadow & CR0_PE))
			return REFLECT_TO_L1;
		return l1_if(((src ^ cr0_shadow) & cr0_mask & 0xeu) != 0);
	}
	}
	return HANDLE_IN_L0; /* an access no control of L1 can catch */
}

/*
 * I/O instructions (SDM 26.1.3, 25.6.4).  Without "use I/O bitmaps",
 * "unconditional I/O exiting" decides.  With them, bitmap A covers ports
 * 0000-7FFF and B 8000-FFFF, and the access exits if the bit of any port
 * it touches is set; an access that wraps past FFFF always exits.
 */
enum reflect_decision reflect_io_instruction(const struct vmcs12 *v, const struct reflect_input *in)
{
	uint32_t proc = proc12(v);
	if (!(proc & CPU_USE_IO_BITMAPS))
		return l1_if(proc & CPU_UNCOND_IO_EXITING);
	unsigned port = IO_QUAL_PORT(in->qualification), size = IO_QUAL_SIZE(in->qualification);
	if (port + size - 1 > 0xffffu)
		return REFLECT_TO_L1;
	for (unsigned p = port; p < port + size; p++) {
		uint64_t bitmap = p < 0x8000 ? V12(v, IO_BITMAP_A) : V12(v, IO_BITMAP_B);
		if (l1_bitmap_bit(in->l1mem, bitmap, p & 0x7fffu) != 0)
			return REFLECT_TO_L1;
	}
	return HANDLE_IN_L0;
}

/*
 * RDMSR/WRMSR (SDM 26.1.3, 25.6.9).  Without "use MSR bitmaps" every one
 * exits.  The 4 KiB bitmap holds four 1 KiB quarters: read 0-1FFF, read
 * C0000000-C0001FFF, write 0-1FFF, write C0000000-C0001FFF.  An MSR in
 * neither range always exits.
 */
enum reflect_decision reflect_msr_access(const struct vmcs12 *v, const struct reflect_input *in)
{
	if (!(proc12(v) & CPU_USE_MSR_BITMAPS))
		return REFLECT_TO_L1;
	uint64_t quarter = in->reason == EXIT_REASON_MSR_WRITE ? 2 : 0;
	uint32_t msr = in->msr;
	if (msr >= 0xc0000000u && msr <= 0xc0001fffu) {
		quarter += 1;
		msr -= 0xc0000000u;
	} else if (msr > 0x1fffu) {
		return REFLECT_TO_L1;
	}
	return l1_if(l1_bitmap_bit(in->l1mem, V12(v, MSR_BITMAP), quarter * 1024 * 8 + msr) != 0);
}

/*
 * VMREAD/VMWRITE (SDM 26.1.3, 25.6.15).  Without VMCS shadowing they always
 * exit.  With it, they exit when bits 63:15 of the field encoding are not
 * all 0 or when the field's bit (bits 14:0) is set in the VMREAD/VMWRITE
 * bitmap; otherwise they act on L1's shadow VMCS (VMCS12's link pointer),
 * which the runtime does in L1's place.
 */
enum reflect_decision reflect_vmcs_access(const struct vmcs12 *v, const struct reflect_input *in)
{
	if (!(vmcs12_proc2(v) & SEC_VMCS_SHADOWING))
		return REFLECT_TO_L1;
	if (in->vmcs_field >> 15)
		return REFLECT_TO_L1;
	uint64_t bitmap = in->reason == EXIT_REASON_VMREAD ? V12(v, VMREAD_BITMAP) : V12(v, VMWRITE_BITMAP);
	return l1_if(l1_bitmap_bit(in->l1mem, bitmap, in->vmcs_field) != 0);
}

/* PAUSE exits on "PAUSE exiting", or on "PAUSE-loop exiting" when a loop is detected (26.1.3). */
enum reflect_decision reflect_pause(const struct vmcs12 *v, const struct reflect_input *in)
{
	(void)in;
	return l1_if((proc12(v) & CPU_PAUSE_EXITING) || (vmcs12_proc2(v) & SEC_PAUSE_LOOP_EXITING));
}

/* INVPCID exits when both "INVLPG exiting" and "enable INVPCID" are set (26.1.3). */
enum reflect_decision reflect_invpcid(const struct vmcs12 *v, const struct reflect_input *in)
{
	(void)in;
	return l1_if((proc12(v) & CPU_INVLPG_EXITING) && (vmcs12_proc2(v) & SEC_ENABLE_INVPCID));
}

enum reflect_decision nested_reflect(const struct vmcs12 *v12, const struct reflect_input *in)
{
	uint32_t reason = EXIT_REASON_BASIC(in->reason);
	if (reason >= EXIT_REASON_MAX)
		return REFLECT_TO_L1;
	const struct reflect_rule *r = &exit_reasons[reason].reflect;
	switch (r->kind) {
	case RULE_NONE:
	case RULE_L1:
		return REFLECT_TO_L1;
	case RULE_L0:
		return HANDLE_IN_L0;
	case RULE_EPT:
		return HANDLE_EPT;
	case RULE_PIN:
		return l1_if(pin12(v12) & r->bit);
	case RULE_PROC:
		return l1_if(proc12(v12) & r->bit);
	case RULE_PROC2:
		return l1_if(vmcs12_proc2(v12) & r->bit);
	case RULE_FN:
		return r->fn(v12, in);
	}
	return REFLECT_TO_L1;
}
