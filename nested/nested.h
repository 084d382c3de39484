/*
 * VMX virtualised for a child VMM: the shared types of nested/.
 *
 * Words used throughout (KVM's convention): L1 is the child VMM running in
 * a VM of this VMM (L0 from its point of view), L2 is a VM of L1.  VMCS01
 * is this VMM's VMCS for L1, VMCS12 the VMCS that L1 builds for L2 (in L1's
 * memory, in nestlab's own layout below), VMCS02 the VMCS this VMM really
 * runs L2 with.  EPT12 is L1's EPT for L2, EPT01 maps L1's memory, EPT02 =
 * EPT12 ∘ EPT01 is what the processor walks while L2 runs.
 *
 * Everything declared here except nested_runtime.h's functions is pure C
 * over plain data (guest memory is a base pointer and a size), so it runs
 * in host unit tests and at any level of the stack.
 */
#ifndef NESTLAB_NESTED_H
#define NESTLAB_NESTED_H

#include <stddef.h>
#include <stdint.h>
#include "nestlab/vmx.h"

/* ---- L1's memory, as this VMM sees it: contiguous, L1-physical 0..size ---- */
struct guest_mem {
	uint8_t *base;
	uint64_t size;
};
static inline int guest_mem_ok(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	return gpa < m->size && len <= m->size - gpa;
}
static inline void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa) { return m->base + gpa; }

/* ---- VMCS12: nestlab's documented in-memory layout (nested/vmcs12.c) ----
 *
 * A 4 KiB region in L1's memory:
 *   0   u32 revision identifier (VMCS12_REVISION, what IA32_VMX_BASIC reports to L1)
 *   4   u32 VMX-abort indicator
 *   8   u32 launch state: 0 clear, 1 launched
 *   12  u32 layout version (VMCS12_LAYOUT_VERSION)
 *   64  u64 value of field i of include/nestlab/vmcs_fields.def, i = 0, 1, ...
 * A field narrower than 64 bits keeps its value zero-extended.
 */
#define VMCS12_REVISION       0x4e4c3132u /* "21LN": not any real processor's */
#define VMCS12_LAYOUT_VERSION 1u
#define VMCS12_FIELDS_OFFSET  64u
#define VMCS12_SIZE           4096u
#define VMCS12_LAUNCH_CLEAR    0u
#define VMCS12_LAUNCH_LAUNCHED 1u

/* The field index (VMCS12_IDX_*, VMCS12_NFIELDS) is defined in nestlab/vmx.h. */

struct vmcs12 {
	uint32_t revision;
	uint32_t abort;
	uint32_t launch_state;
	uint32_t layout;
	uint8_t reserved[VMCS12_FIELDS_OFFSET - 16];
	uint64_t field[VMCS12_NFIELDS];
};
_Static_assert(sizeof(struct vmcs12) <= VMCS12_SIZE, "VMCS12 fits its 4 KiB region");

/* Index of an encoding in the field table, or -1 (VMREAD/VMWRITE then fail with error 12). */
int vmcs12_index_of(uint32_t encoding);
/* Read a field by encoding, masked to its width; 0 if unknown. */
uint64_t vmcs12_get(const struct vmcs12 *v, uint32_t encoding);
/* Write a field by encoding, masked to its width (no read-only check: that is VMWRITE's). */
void vmcs12_set(struct vmcs12 *v, uint32_t encoding, uint64_t value);
#define V12(v, NAME) ((v)->field[VMCS12_IDX_##NAME])
/* VMCS12's secondary controls as they act: all 0 unless "activate secondary controls" is set (SDM 25.6.2). */
static inline uint32_t vmcs12_proc2(const struct vmcs12 *v)
{
	if (!(V12(v, CPU_BASED_VM_EXEC_CONTROL) & CPU_ACTIVATE_SECONDARY))
		return 0;
	return (uint32_t)V12(v, SECONDARY_VM_EXEC_CONTROL);
}

/* ---- The VMX capabilities this VMM offers a child (nested/vmx_msr.c) ---- */
struct vmx_caps; /* the real (or parent-virtual) ones: vmm/vmx_caps.h */
struct nested_caps {
	uint64_t basic, pinbased, procbased, procbased2, exit, entry, misc;
	uint64_t true_pinbased, true_procbased, true_exit, true_entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum, ept_vpid, vmfunc;
};
/*
 * What this VMM can really virtualise for a child, narrowed by the child's
 * features (NL_FEAT_EPT, NL_FEAT_VPID, NL_FEAT_VMCS_SHADOW) and by whether
 * it hosts a VMM of its own (hosts_vmm, from the manifest): a consistent
 * set, so that whatever L1 derives from them passes the VMCS12 checks.
 */
void nested_caps_compute(struct nested_caps *out, const struct vmx_caps *real, uint32_t features, int hosts_vmm);
/* RDMSR of a VMX capability MSR (0x480-0x491) by L1: 0 and *value, or -1 (→ #GP). */
int nested_caps_rdmsr(const struct nested_caps *c, uint32_t msr, uint64_t *value);

/* ---- Decoding a VMX instruction's operand (nested/vmx_insn_decode.c) ---- */
/*
 * From VMX_INSTRUCTION_INFO and the exit qualification (displacement), SDM
 * Vol. 3 Table 28-9 (VMCLEAR/VMPTRLD/VMPTRST/VMXON/INVEPT/INVVPID) and
 * 28-10 (VMREAD/VMWRITE).  gprs[] is RAX, RCX, RDX, RBX, RSP, RBP, RSI,
 * RDI, R8..R15 in the processor's register numbering.
 */
struct vmx_operand {
	int is_reg;         /* register operand (VMREAD dest / VMWRITE source with bit 10 set) */
	unsigned reg;       /* register number when is_reg */
	uint64_t linear;    /* linear address of a memory operand */
	unsigned addr_size; /* 2, 4 or 8 bytes */
	unsigned seg;       /* segment register number (0 ES .. 5 GS) */
};
int vmx_decode_mem_operand(uint32_t insn_info, uint64_t qualification, const uint64_t gprs[16],
			   const uint64_t seg_base[6], int long_mode, struct vmx_operand *out);
/*
 * What vmx_decode_mem_operand() reads of its inputs: the GPRs (bit n for
 * register n) and the segment register the address uses.  A caller may
 * fetch only those: under a parent VMM each VMREAD may be an exit.
 */
uint32_t vmx_mem_operand_gprs(uint32_t insn_info);
unsigned vmx_mem_operand_seg(uint32_t insn_info);
/* VMREAD/VMWRITE: the "reg1"/"reg2" fields (Table 28-10). */
unsigned vmx_insn_reg2(uint32_t insn_info); /* the field-encoding register */
unsigned vmx_insn_reg1(uint32_t insn_info); /* the value register when bit 10 is set */
int vmx_insn_reg1_is_reg(uint32_t insn_info);
/* INVEPT/INVVPID: the type register ("reg2"). */

/* ---- Guest-linear to guest-physical through L1's own page tables ---- */
/* 4-level paging (CR0.PG, CR4.PAE, EFER.LMA) or no paging; -1 on a not-present entry (→ #PF). */
int guest_linear_to_phys(const struct guest_mem *m, uint64_t cr0, uint64_t cr3, uint64_t cr4,
			 uint64_t efer, uint64_t linear, int write, uint64_t *gpa);
/* The same walk with the tables read through r (L2's tables lie behind EPT12): read_u64 gives 0 or -1. */
struct gpa_reader {
	int (*read_u64)(void *ctx, uint64_t gpa, uint64_t *out);
	void *ctx; /* the reader may note why a read failed there */
};
int guest_linear_to_phys_via(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4,
			     uint64_t efer, uint64_t linear, int write, uint64_t *gpa);
/* The walk for an instruction fetch at CPL cpl: -1 also where the fetch would fault (XD, U/S, SMEP). */
int guest_linear_fetch_via(const struct gpa_reader *r, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
			   unsigned cpl, uint64_t linear, uint64_t *gpa);

/* ---- VMX instruction semantics (nested/vmx_insn.c): outcomes per SDM Vol. 3 ch. 31 ---- */
enum nvmx_outcome {
	NVMX_SUCCEED,      /* VMsucceed: CF=PF=AF=ZF=SF=OF=0 */
	NVMX_FAIL_INVALID, /* VMfailInvalid: CF=1 */
	NVMX_FAIL_VALID,   /* VMfailValid: ZF=1, error number in VMCS12's VM-instruction error field */
	NVMX_UD,           /* inject #UD */
	NVMX_GP,           /* inject #GP(0) */
	NVMX_ENTER,        /* VMLAUNCH/VMRESUME passed the instruction checks: go to VMCS12 checks */
};

struct nvmx_result {
	enum nvmx_outcome outcome;
	unsigned error; /* VMXERR_* for NVMX_FAIL_VALID */
};

/* L1's virtual VMX state, one per VM that is a VMM. */
struct nvmx {
	int vmxon;               /* in VMX operation */
	uint64_t vmxon_ptr;      /* L1-physical */
	uint64_t current;        /* L1-physical address of the current VMCS12, ~0 if none */
	struct vmcs12 *cache;    /* this VMM's copy of the current VMCS12 (VMCS12_SIZE bytes) */
	int cache_dirty;
	const struct nested_caps *caps;
	unsigned phys_addr_bits;
};

#define NVMX_NO_VMCS (~0ull)

/*
 * Each takes what the instruction names (already decoded and, for memory
 * operands, read from L1's memory by the caller) and changes only nvmx,
 * the cache and L1's memory (VMCLEAR writes the launch state back).
 * cpl, cr4_vmxe, in_vm86, long_mode_cs: the conditions of the SDM's
 * "IF (not in VMX operation) or ... THEN #UD / ELSIF CPL > 0 THEN #GP".
 */
struct nvmx_ctx {
	unsigned cpl;
	int cr4_vmxe;        /* L1's CR4.VMXE as it sees it */
	int cr0_pe, rflags_vm, long_mode, cs_l; /* mode checks (#UD outside protected mode) */
	uint64_t cr0, cr4, feature_control;     /* VMXON's checks */
};
struct nvmx_result nvmx_vmxon(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr);
struct nvmx_result nvmx_vmxoff(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c);
struct nvmx_result nvmx_vmclear(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr);
/*
 * Where VMPTRLD puts the data of the VMCS12 it makes current: a processor
 * may keep the data of several active VMCSs (SDM 25.11.1), and so may the
 * caller (nested_vmcs12_slots.c), which decides before the checks and
 * changes nothing itself until they pass.  cache: the copy to use; loaded:
 * it holds ptr's data already (an active VMCS12 kept), so nothing is read
 * from memory; otherwise evict is the VMCS12 whose data it holds until
 * then (NVMX_NO_VMCS: none), written back to L1's memory before ptr's is
 * loaded into it.  A caller with one cache passes it, evict the current
 * VMCS12, loaded 0.
 */
struct nvmx_vmcs12_place {
	struct vmcs12 *cache;
	uint64_t evict;
	int loaded;
};
struct nvmx_result nvmx_vmptrld(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c, uint64_t ptr,
				const struct nvmx_vmcs12_place *place);
struct nvmx_result nvmx_vmptrst(struct nvmx *n, const struct nvmx_ctx *c, uint64_t *ptr_out);
struct nvmx_result nvmx_vmread(struct nvmx *n, const struct nvmx_ctx *c, uint64_t encoding, uint64_t *value);
struct nvmx_result nvmx_vmwrite(struct nvmx *n, const struct nvmx_ctx *c, uint64_t encoding, uint64_t value);
/*
 * L2's VMREAD/VMWRITE that L1's VMCS shadowing let through (VMCS12 enables
 * it and the field's bitmap bit is clear): the VMX non-root branch of the
 * SDM's pseudo-code, on the shadow VMCS that VMCS12's link pointer names (a
 * region of L1's memory in VMCS12 layout).  c describes L2 (its CPL and
 * mode); the #UD mode checks and the exit decision were made before.  A
 * VMfailValid's error number goes into VMCS12, the VMCS in control of L2.
 */
struct nvmx_result nvmx_l2_vmread(struct nvmx *n, const struct guest_mem *m, const struct nvmx_ctx *c,
				  uint64_t encoding, uint64_t *value);
struct nvmx_result nvmx_l2_vmwrite(struct nvmx *n, struct guest_mem *m, const struct nvmx_ctx *c,
				   uint64_t encoding, uint64_t value);
/* launch: 1 for VMLAUNCH, 0 for VMRESUME; blocked_by_movss from the interruptibility state. */
struct nvmx_result nvmx_vmentry_insn(struct nvmx *n, const struct nvmx_ctx *c, int launch, int blocked_by_movss);
/* INVEPT/INVVPID operand checks (type supported, descriptor reserved bits, VPID 0 rules). */
struct nvmx_result nvmx_invept(struct nvmx *n, const struct nvmx_ctx *c, uint64_t type, const uint64_t desc[2]);
struct nvmx_result nvmx_invvpid(struct nvmx *n, const struct nvmx_ctx *c, uint64_t type, const uint64_t desc[2]);
/*
 * The #UD/#GP checks an instruction makes before it touches its memory
 * operand (VMXON's own when is_vmxon): NVMX_SUCCEED, NVMX_UD or NVMX_GP.
 */
enum nvmx_outcome nvmx_fault_gate(const struct nvmx *n, const struct nvmx_ctx *c, int is_vmxon);

/* Write the cache back to L1's memory (VMCLEAR, VMPTRLD of another, VMXOFF). */
void nvmx_flush(struct nvmx *n, struct guest_mem *m);
/* A copy of VMCS12 addr's data back into L1's memory; 0 when addr names none there (NVMX_NO_VMCS, not L1's). */
int nvmx_write_back(struct guest_mem *m, uint64_t addr, const struct vmcs12 *data);

/* ---- Reflection: does an exit of L2 belong to L1? (nested/reflect.c) ---- */
struct reflect_input {
	uint32_t reason;        /* basic exit reason */
	uint64_t qualification;
	uint32_t intr_info;     /* VM_EXIT_INTR_INFO (exceptions) */
	uint32_t intr_error_code; /* VM_EXIT_INTR_ERROR_CODE: a #PF's error code (mask/match rule) */
	uint32_t msr;           /* ECX for MSR exits */
	uint64_t cr_value;      /* MOV to CR0/CR4: the value of the register the qualification names */
	uint64_t vmcs_field;    /* VMREAD/VMWRITE: the field-encoding register (32 bits outside 64-bit mode) */
	const struct guest_mem *l1mem; /* to read L1's I/O, MSR and VMREAD/VMWRITE bitmaps */
};
enum reflect_decision {
	REFLECT_TO_L1,   /* L1 asked for this exit (or it is unconditional): emulate a VM exit into L1 */
	HANDLE_IN_L0,    /* not L1's: this VMM handles it (its time slice, or L2 doing what L1 allowed) */
	HANDLE_EPT,      /* EPT violation or misconfiguration: the shadow-EPT code decides */
};
/*
 * HANDLE_IN_L0 for an instruction means "L1 lets L2 do this": the runtime
 * carries it out against L1's view (a port or MSR of L1, CR0/CR4 bits that
 * L1 does not own).  External interrupts and NMIs are judged as L1's: the
 * runtime consumes its own (its timer, its console) before asking.  The
 * preemption timer always comes back HANDLE_IN_L0: whose timer it was is
 * the runtime's to know.
 */
enum reflect_decision nested_reflect(const struct vmcs12 *v12, const struct reflect_input *in);

/*
 * The reflection rule of one exit reason, a column of the exit table
 * (include/nestlab/vmx_exit_reasons.def, vmm/exit_table.h), and the rules
 * that read more than one control.
 */
enum reflect_rule_kind {
	RULE_NONE,    /* a reason nestlab does not know: L2's event, so L1's */
	RULE_L1,      /* unconditional in VMX non-root operation, or only L1 can have enabled it */
	RULE_L0,      /* this VMM's own: physical events and its own timer */
	RULE_EPT,     /* the shadow-EPT code decides */
	RULE_PIN,     /* L1's pin-based control `bit` */
	RULE_PROC,    /* L1's primary processor-based control `bit` */
	RULE_PROC2,   /* L1's secondary processor-based control `bit` */
	RULE_FN,      /* a rule that reads more than one control */
};
typedef enum reflect_decision (*reflect_rule_fn)(const struct vmcs12 *, const struct reflect_input *);
struct reflect_rule {
	enum reflect_rule_kind kind;
	uint32_t bit;
	reflect_rule_fn fn;
};
enum reflect_decision reflect_exception_or_nmi(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_cr_access(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_io_instruction(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_msr_access(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_vmcs_access(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_pause(const struct vmcs12 *v, const struct reflect_input *in);
enum reflect_decision reflect_invpcid(const struct vmcs12 *v, const struct reflect_input *in);

/* ---- VMCS02 controls: what L1 asked for, plus what this VMM needs (nested/vmcs02_merge.c) ---- */
/*
 * Primary controls offered to a child even where the processor lacks them,
 * because this VMM emulates them: the monitor trap flag, by RFLAGS.TF and
 * #DB exiting in VMCS02 (vmcs02_merge.c, nested_exit.c).
 */
#define NESTED_PROC_EMULATED CPU_MONITOR_TRAP_FLAG

struct vmcs02_controls {
	uint32_t pin, proc, proc2, exit, entry, exception_bitmap;
	/*
	 * L1 asked for the monitor trap flag and the processor has none: the
	 * runtime single-steps L2 with RFLAGS.TF, the exception bitmap
	 * intercepts #DB, and each single-step trap reaches L1 as an MTF exit.
	 */
	int step_by_tf;
};
/*
 * What the runtime owes the result: VMCS02 always loads EFER on entry, so
 * GUEST_IA32_EFER of VMCS02 is VMCS12's when L1 loads it and otherwise L1's
 * own EFER with LMA and LME following "IA-32e mode guest" (SDM 27.3.2.1);
 * likewise DR7/DEBUGCTL (L1's when L1 does not load debug controls).  PAT
 * is switched by the processor only when L1 loads it, and then VMCS02's
 * HOST_IA32_PAT is this VMM's PAT.  VMCS02 uses no I/O or MSR bitmaps: every
 * port and MSR access of L2 exits, and nested_reflect() reads L1's bitmaps.
 * nested_caps_compute() must not offer what this drops: posted interrupts,
 * TPR shadow, APIC-access virtualisation, PAUSE-loop exiting, VM functions,
 * XSAVES, execute-only EPT (ept_walk() treats it as a misconfiguration).
 */
void nested_merge_controls(const struct vmcs12 *v12, const struct vmx_caps *real, struct vmcs02_controls *out);

/* ---- An exception during another event's delivery (nested/event_combine.c) ---- */
enum event_combination { DELIVER_SECOND, DELIVER_DOUBLE_FAULT, TRIPLE_FAULT };
/* first_idt_info: the IDT-vectoring information of the exit (the event being delivered); 0 when none. */
enum event_combination nested_combine_events(uint32_t first_idt_info, unsigned second_vector);

/* ---- Shadow EPT (nested/ept_shadow.c) ---- */
struct ept_mem_ops;
struct shadow_ept {
	uint64_t root02;        /* this VMM's EPT02 PML4 (host-physical), 0 before the first fill */
	uint64_t eptp12;        /* the EPT12 pointer it was built from */
	uint64_t faults;        /* EPT violations of L2 handed to shadow_ept_fault() */
	uint64_t fills;         /* 4 KiB EPT02 entries written */
	uint64_t drops;         /* EPT02 entries discarded by shadow_ept_drop() */
	uint64_t reflected;     /* faults given to L1 (violation or misconfiguration of EPT12) */
};
enum shadow_ept_result {
	SEPT_FILLED,        /* EPT02 now maps the page: resume L2 */
	SEPT_REFLECT,       /* EPT12 does not allow the access: reflect an EPT violation to L1 */
	SEPT_MISCONFIG,     /* EPT12 is malformed: reflect an EPT misconfiguration to L1 */
	SEPT_L1_FAULT,      /* EPT12 points outside L1's memory: L1's own fault */
	SEPT_NO_MEMORY,
	SEPT_STALE,         /* EPT02 was built from another EPTP12: shadow_ept_drop(), then retry */
};
/*
 * An L2 access to gpa2 (qualification bits 0-2 = read/write/fetch) found
 * no EPT02 entry.  Walk EPT12 in L1's memory; if it allows the access and
 * maps inside L1's memory (EPT01 = L1's memory base + offset), map the 4 KiB
 * page in EPT02 with EPT12's permissions.  *qual12 gets the qualification
 * to reflect (SDM 28.2.1: access bits, and bits 3-5 the EPT12 permissions).
 * The host-physical address of L1-physical a is (uintptr_t)l1mem->base + a:
 * every level identity-maps the memory it owns (base is 4 KiB aligned).
 */
enum shadow_ept_result shadow_ept_fault(struct shadow_ept *s, const struct ept_mem_ops *ops,
					const struct guest_mem *l1mem, uint64_t eptp12, uint64_t gpa2,
					uint64_t qual, uint64_t *qual12);
/*
 * An access of L2 that this VMM makes on L2's behalf (an emulated
 * instruction's operand, a walk of L2's page tables): L2-physical gpa2 to
 * L1-physical *gpa1 through EPT12, qual giving the access (bits 0-2) and
 * the linear-address bits 7-8 as for an EPT violation.  SEPT_FILLED means
 * translated; SEPT_REFLECT an EPT violation for L1 (*qual12 its
 * qualification), SEPT_MISCONFIG a misconfiguration, SEPT_L1_FAULT an
 * EPT12 that points outside L1's memory (len bytes from *gpa1 must be
 * L1's).  EPT02 is not touched.
 */
enum shadow_ept_result shadow_ept_access(const struct guest_mem *l1mem, uint64_t eptp12, uint64_t gpa2, uint64_t len,
					 uint64_t qual, uint64_t *gpa1, uint64_t *qual12);
/*
 * The EPT02 root to run L2 with (its EPTP is ept_pointer() of it), created
 * empty the first time: 0 when out of memory, or when EPT02 was built from
 * another EPTP12 (drop it first).
 */
uint64_t shadow_ept_root(struct shadow_ept *s, const struct ept_mem_ops *ops, uint64_t eptp12);
/*
 * L1's INVEPT (or a new EPTP12): drop EPT02 so it refills lazily; the
 * runtime then invalidates what the processor cached for EPT02's EPTP.
 */
void shadow_ept_drop(struct shadow_ept *s, const struct ept_mem_ops *ops, void (*free_page)(void *ctx, uint64_t page));

/* ---- VPID02 for (L1, VPID12) (nested/vpid_map.c) ---- */
#define VPID_MAP_SLOTS 16
struct vpid_map {
	uint16_t vpid12[VPID_MAP_SLOTS];
	uint16_t vpid02[VPID_MAP_SLOTS];
	unsigned used;
	uint16_t next_free, last; /* VPID02 range this child may use: [next_free, last] */
};
void vpid_map_init(struct vpid_map *m, uint16_t first, uint16_t last);
/* The VPID02 for vpid12 (allocated on first use); 0 if the range is exhausted (then flush on every entry). */
uint16_t vpid_map_get(struct vpid_map *m, uint16_t vpid12);

/* What an INVVPID of L1 becomes: which VPID02s to invalidate and how. */
struct invvpid_plan {
	int type;             /* INVVPID type to execute, -1 for none */
	uint16_t vpid02[VPID_MAP_SLOTS];
	unsigned count;
	uint64_t gla;
};
void vpid_map_translate_invvpid(const struct vpid_map *m, uint64_t type12, uint16_t vpid12, uint64_t gla,
				struct invvpid_plan *out);

/* ---- Counters one VMM keeps about the VMMs it hosts ---- */
enum nvmx_insn_kind {
	NVMX_I_VMXON, NVMX_I_VMXOFF, NVMX_I_VMCLEAR, NVMX_I_VMPTRLD, NVMX_I_VMPTRST, NVMX_I_VMREAD,
	NVMX_I_VMWRITE, NVMX_I_VMLAUNCH, NVMX_I_VMRESUME, NVMX_I_INVEPT, NVMX_I_INVVPID, NVMX_I_COUNT
};
struct nested_counters {
	uint64_t emulated[NVMX_I_COUNT];
	uint64_t reflected[EXIT_REASON_MAX];     /* L2 exits reflected to L1, by reason */
	uint64_t handled[EXIT_REASON_MAX];       /* L2 exits this VMM handled itself, by reason */
	uint64_t reflected_ticks;                /* TSC ticks spent emulating reflected exits */
	uint64_t invept[3], invvpid[4];          /* by type, as L1 issued them */
	uint64_t vmentry_failures;               /* VMLAUNCH/VMRESUME refused by the VMCS12 checks */
	uint64_t entry_checks_full;              /* entries whose VMCS12 got every check */
	uint64_t entry_checks_hot;               /* entries that changed only hot fields: only their checks */
	uint64_t l2_vmcs_served[2];              /* L2 VMREADs [0] / VMWRITEs [1] served from L1's shadow VMCS */
	uint64_t mtf_made_up;                    /* MTF exits made up: single-step traps (no MTF in the processor),
						  * after an event's delivery, after an instruction emulated here */
	/* VMREADs/VMWRITEs that exited, by VMCS12 field index: what shadowing did not absorb. */
	uint32_t trapped_vmread[VMCS12_NFIELDS], trapped_vmwrite[VMCS12_NFIELDS];
};
const char *nvmx_insn_name(enum nvmx_insn_kind k);

#endif
