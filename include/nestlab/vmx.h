/*
 * VMX architecture constants shared by every level, the host tool and the
 * tests: VMCS field encodings, exit reasons, VM-instruction errors (all
 * generated from the .def lists beside this file), capability MSRs and
 * control bits.  SDM Vol. 3 chapters 25-31 and Appendix A-C.
 */
#ifndef NESTLAB_VMX_H
#define NESTLAB_VMX_H

#include <stdint.h>

enum vmcs_field {
#define X(name, enc, attrs) VMCS_##name = enc,
#include "vmcs_fields.def"
#undef X
};

/*
 * Every field's position in the field table (vmcs_fields.def order): the
 * layout of a VMCS12 (nested/nested.h) and of any VMCS read into an array.
 */
enum vmcs12_index {
#define X(name, enc, attrs) VMCS12_IDX_##name,
#include "vmcs_fields.def"
#undef X
	VMCS12_NFIELDS
};

/* A field's attributes, the third column of vmcs_fields.def (described there). */
enum vmcs_field_attr {
	VF_HOT = 1 << 0,
	VF_READ_MOSTLY = 1 << 1,
	VF_EXIT_LOAD = 1 << 2,
	VF_HOT_CHECKED = 1 << 3,
	VF_OWN = 1 << 4,
	VF_NOT_EXIT_INFO = 1 << 5,
};

/* Every field's encoding by field index (lib/vmx_names.c). */
extern const uint32_t vmcs_field_encodings[VMCS12_NFIELDS];

enum vmx_exit_reason {
#define X(name, num, ...) EXIT_REASON_##name = num,
#include "vmx_exit_reasons.def"
#undef X
	EXIT_REASON_MAX = 65, /* one past the highest basic reason nestlab knows */
};

enum vmx_insn_error {
#define X(name, num) VMXERR_##name = num,
#include "vmx_insn_errors.def"
#undef X
};

/* Width of a VMCS field from its encoding (SDM Appendix B). */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
static inline enum vmcs_width vmcs_field_width(uint32_t enc) { return (enum vmcs_width)((enc >> 13) & 3); }
static inline int vmcs_field_is_readonly(uint32_t enc) { return ((enc >> 10) & 3) == 1; }

/* Name of a basic exit reason ("VMCALL"), or NULL if nestlab does not know it. */
const char *vmx_exit_reason_name(uint32_t basic_reason);
/* Name of a VMCS field ("GUEST_RIP"), or NULL. */
const char *vmcs_field_name(uint32_t encoding);

/* Capability and control MSRs. */
#define MSR_IA32_FEATURE_CONTROL       0x03a
#define MSR_IA32_SYSENTER_CS           0x174
#define MSR_IA32_SYSENTER_ESP          0x175
#define MSR_IA32_SYSENTER_EIP          0x176
#define MSR_IA32_PAT                   0x277
#define MSR_IA32_VMX_BASIC             0x480
#define MSR_IA32_VMX_PINBASED_CTLS     0x481
#define MSR_IA32_VMX_PROCBASED_CTLS    0x482
#define MSR_IA32_VMX_EXIT_CTLS         0x483
#define MSR_IA32_VMX_ENTRY_CTLS        0x484
#define MSR_IA32_VMX_MISC              0x485
#define MSR_IA32_VMX_CR0_FIXED0        0x486
#define MSR_IA32_VMX_CR0_FIXED1        0x487
#define MSR_IA32_VMX_CR4_FIXED0        0x488
#define MSR_IA32_VMX_CR4_FIXED1        0x489
#define MSR_IA32_VMX_VMCS_ENUM         0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2   0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP      0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS    0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS   0x490
#define MSR_IA32_VMX_VMFUNC            0x491
#define MSR_IA32_EFER                  0xc0000080
#define MSR_IA32_FS_BASE               0xc0000100
#define MSR_IA32_GS_BASE               0xc0000101

#define FEATURE_CONTROL_LOCKED          (1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

#define VMX_BASIC_TRUE_CTLS             (1ull << 55)
/* IA32_VMX_MISC bit 29: VMWRITE may write any supported field, VM-exit information included (A.6). */
#define VMX_MISC_VMWRITE_ANY_FIELD      (1ull << 29)
/* Bit 31 of a VMCS region's revision word: a shadow VMCS (SDM Vol. 3 25.2). */
#define VMCS_SHADOW_INDICATOR           (1u << 31)

/* Pin-based controls. */
#define PIN_EXT_INTR_EXITING            (1u << 0)
#define PIN_NMI_EXITING                 (1u << 3)
#define PIN_VIRTUAL_NMIS                (1u << 5)
#define PIN_PREEMPTION_TIMER            (1u << 6)

/* Primary processor-based controls. */
#define CPU_INTR_WINDOW_EXITING         (1u << 2)
#define CPU_USE_TSC_OFFSETTING          (1u << 3)
#define CPU_HLT_EXITING                 (1u << 7)
#define CPU_INVLPG_EXITING              (1u << 9)
#define CPU_MWAIT_EXITING               (1u << 10)
#define CPU_RDPMC_EXITING               (1u << 11)
#define CPU_RDTSC_EXITING               (1u << 12)
#define CPU_CR3_LOAD_EXITING            (1u << 15)
#define CPU_CR3_STORE_EXITING           (1u << 16)
#define CPU_CR8_LOAD_EXITING            (1u << 19)
#define CPU_CR8_STORE_EXITING           (1u << 20)
#define CPU_TPR_SHADOW                  (1u << 21)
#define CPU_NMI_WINDOW_EXITING          (1u << 22)
#define CPU_MOV_DR_EXITING              (1u << 23)
#define CPU_UNCOND_IO_EXITING           (1u << 24)
#define CPU_USE_IO_BITMAPS              (1u << 25)
#define CPU_MONITOR_TRAP_FLAG           (1u << 27)
#define CPU_USE_MSR_BITMAPS             (1u << 28)
#define CPU_MONITOR_EXITING             (1u << 29)
#define CPU_PAUSE_EXITING               (1u << 30)
#define CPU_ACTIVATE_SECONDARY          (1u << 31)

/* Secondary processor-based controls. */
#define SEC_VIRTUALIZE_APIC_ACCESSES    (1u << 0)
#define SEC_ENABLE_EPT                  (1u << 1)
#define SEC_DESCRIPTOR_TABLE_EXITING    (1u << 2)
#define SEC_ENABLE_RDTSCP               (1u << 3)
#define SEC_VIRTUALIZE_X2APIC_MODE      (1u << 4)
#define SEC_ENABLE_VPID                 (1u << 5)
#define SEC_WBINVD_EXITING              (1u << 6)
#define SEC_UNRESTRICTED_GUEST          (1u << 7)
#define SEC_APIC_REGISTER_VIRT          (1u << 8)
#define SEC_VIRTUAL_INTR_DELIVERY       (1u << 9)
#define SEC_PAUSE_LOOP_EXITING          (1u << 10)
#define SEC_RDRAND_EXITING              (1u << 11)
#define SEC_ENABLE_INVPCID              (1u << 12)
#define SEC_ENABLE_VMFUNC               (1u << 13)
#define SEC_VMCS_SHADOWING              (1u << 14)
#define SEC_RDSEED_EXITING              (1u << 16)
#define SEC_ENABLE_XSAVES               (1u << 20)

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG_CONTROLS        (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE       (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT           (1u << 15)
#define EXIT_SAVE_IA32_PAT              (1u << 18)
#define EXIT_LOAD_IA32_PAT              (1u << 19)
#define EXIT_SAVE_IA32_EFER             (1u << 20)
#define EXIT_LOAD_IA32_EFER             (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER      (1u << 22)

/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG_CONTROLS       (1u << 2)
#define ENTRY_IA32E_MODE_GUEST          (1u << 9)
#define ENTRY_LOAD_IA32_PAT             (1u << 14)
#define ENTRY_LOAD_IA32_EFER            (1u << 15)

/* EPT (SDM 29.3). */
#define EPT_READ                        (1ull << 0)
#define EPT_WRITE                       (1ull << 1)
#define EPT_EXEC                        (1ull << 2)
#define EPT_RWX                         (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB                  (6ull << 3) /* leaf entries: memory type */
#define EPT_LARGE_PAGE                  (1ull << 7)
#define EPTP_MEMTYPE_WB                 6ull
#define EPTP_WALK_LENGTH_4              (3ull << 3)
#define EPTP_AD_ENABLE                  (1ull << 6)

/* IA32_VMX_EPT_VPID_CAP bits. */
#define EPT_CAP_WALK_LENGTH_4           (1ull << 6)
#define EPT_CAP_WB                      (1ull << 14)
#define EPT_CAP_2MB_PAGE                (1ull << 16)
#define EPT_CAP_INVEPT                  (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE           (1ull << 25)
#define EPT_CAP_INVEPT_ALL              (1ull << 26)
#define VPID_CAP_INVVPID                (1ull << 32)
#define VPID_CAP_INVVPID_ADDR           (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE         (1ull << 41)
#define VPID_CAP_INVVPID_ALL            (1ull << 42)
#define VPID_CAP_INVVPID_SINGLE_NOGLOBAL (1ull << 43)

/* EPT-violation exit qualification bits (SDM 28.2.1 Table 28-7). */
#define EPT_QUAL_READ                   (1ull << 0)
#define EPT_QUAL_WRITE                  (1ull << 1)
#define EPT_QUAL_FETCH                  (1ull << 2)
#define EPT_QUAL_GLA_VALID              (1ull << 7)
#define EPT_QUAL_GLA_TRANSLATED         (1ull << 8) /* the access was to the translation, not a paging structure; with bit 7 */

/* INVEPT / INVVPID types. */
#define INVEPT_SINGLE_CONTEXT           1
#define INVEPT_ALL_CONTEXT              2
#define INVVPID_INDIVIDUAL_ADDR         0
#define INVVPID_SINGLE_CONTEXT          1
#define INVVPID_ALL_CONTEXT             2
#define INVVPID_SINGLE_NOGLOBALS        3

/* Exit reason field: bit 31 = VM-entry failure. */
#define EXIT_REASON_ENTRY_FAIL          (1u << 31)
/* APIC-access exit qualification (SDM 28.2.1 Table 28-6): the page offset and how it was accessed. */
#define APIC_ACCESS_QUAL_OFFSET         0xfffull
#define APIC_ACCESS_QUAL_TYPE_SHIFT     12
#define APIC_ACCESS_QUAL_TYPE_MASK      (0xfull << 12)
#define APIC_ACCESS_LINEAR_READ         0u /* a data read of the instruction at RIP */
#define APIC_ACCESS_LINEAR_WRITE        1u
/* Guest interrupt status (SDM 25.4.2): RVI in bits 7:0, SVI in bits 15:8. */
#define GUEST_INTR_STATUS_SVI_SHIFT     8

/* Exit qualification of a VM-entry failure caused by the VMCS link pointer (SDM 26.8). */
#define ENTRY_FAIL_QUAL_LINK_POINTER    4u
#define EXIT_REASON_BASIC(r)            ((r) & 0xffffu)

/*
 * Interruption information: the format of the VM-entry interruption-
 * information field (SDM Vol. 3 24.8.3), of the VM-exit interruption and
 * IDT-vectoring information fields (24.9.2, 24.9.3).  Vector in bits 7:0,
 * type in bits 10:8, bit 11 an error code (delivered at entry, saved at
 * exit), bit 12 NMI unblocking due to IRET (exit only), bit 31 valid.
 */
#define INTR_INFO_VECTOR_MASK           0xffu
#define INTR_INFO_TYPE_SHIFT            8
#define INTR_INFO_ERROR_CODE            (1u << 11)
#define INTR_INFO_NMI_UNBLOCKING        (1u << 12)
#define INTR_INFO_VALID                 (1u << 31)
/* Interruption types (bits 10:8). */
#define INTR_TYPE_EXT_INTR              0u
#define INTR_TYPE_RESERVED              1u
#define INTR_TYPE_NMI                   2u
#define INTR_TYPE_HW_EXCEPTION          3u
#define INTR_TYPE_SW_INTR               4u /* INT n */
#define INTR_TYPE_PRIV_SW_EXCEPTION     5u /* INT1 (ICEBP) */
#define INTR_TYPE_SW_EXCEPTION          6u /* INT3, INTO */
#define INTR_TYPE_OTHER                 7u /* at entry: a pending MTF VM exit (vector 0) */

static inline unsigned intr_info_vector(uint32_t info) { return info & INTR_INFO_VECTOR_MASK; }
static inline unsigned intr_info_type(uint32_t info) { return (info >> INTR_INFO_TYPE_SHIFT) & 7u; }
static inline int intr_info_valid(uint32_t info) { return (info & INTR_INFO_VALID) != 0; }
static inline int intr_info_has_error_code(uint32_t info) { return (info & INTR_INFO_ERROR_CODE) != 0; }
/* A valid event of this type and vector, without an error code. */
static inline uint32_t intr_info_event(unsigned type, unsigned vector)
{
	return INTR_INFO_VALID | (type << INTR_INFO_TYPE_SHIFT) | (vector & INTR_INFO_VECTOR_MASK);
}

/* Exception vectors (SDM Vol. 3 Table 6-1); names in lib/x86.c. */
#define VECTOR_DE                       0u  /* divide error */
#define VECTOR_DB                       1u  /* debug */
#define VECTOR_NMI                      2u
#define VECTOR_BP                       3u  /* breakpoint (INT3) */
#define VECTOR_OF                       4u  /* overflow (INTO) */
#define VECTOR_BR                       5u  /* bound range */
#define VECTOR_UD                       6u  /* invalid opcode */
#define VECTOR_NM                       7u  /* device not available */
#define VECTOR_DF                       8u  /* double fault */
#define VECTOR_TS                       10u /* invalid TSS */
#define VECTOR_NP                       11u /* segment not present */
#define VECTOR_SS                       12u /* stack-segment fault */
#define VECTOR_GP                       13u /* general protection */
#define VECTOR_PF                       14u /* page fault */
#define VECTOR_MF                       16u /* x87 floating-point error */
#define VECTOR_AC                       17u /* alignment check */
#define VECTOR_MC                       18u /* machine check */
#define VECTOR_XM                       19u /* SIMD floating-point */
#define VECTOR_VE                       20u /* virtualization exception */
#define VECTOR_CP                       21u /* control protection */

/* CPUID. */
#define CPUID_1_ECX_VMX                 (1u << 5)
#define CPUID_1_ECX_HYPERVISOR          (1u << 31)
#define CPUID_HV_LEAF_BASE              0x40000000u
#define NL_CPUID_SIGNATURE              "nestlabVMM  " /* 12 bytes in EBX, ECX, EDX of leaf 0x40000000 */
#define NL_CPUID_LEAF_INFO              0x40000001u    /* EAX = nesting level of the VMM answering */

/* Control registers. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_OSFXSR (1ull << 9)
#define CR4_VMXE (1ull << 13)
#define CR4_SMEP (1ull << 20)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_TF (1ull << 8) /* trap flag: a single-step #DB after the next instruction */
#define RFLAGS_IF (1ull << 9)
#define DEBUGCTL_BTF (1ull << 1)
/* BS, single step: bit 14 of DR6, of the pending-debug-exceptions field and of a #DB exit's qualification. */
#define DBG_BS (1ull << 14)
/* Guest interruptibility state (SDM 25.4.2): blocking by STI and by MOV SS. */
#define INTERRUPTIBILITY_STI    (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_NMI    (1u << 3)

/*
 * Adjust a wanted control value against a capability MSR value whose low
 * half holds the allowed 0-settings (bits that must be 1) and whose high
 * half holds the allowed 1-settings (SDM A.3).  *missing gets the wanted
 * bits the processor cannot set.
 */
static inline uint32_t vmx_adjust_controls(uint32_t want, uint64_t cap, uint32_t *missing)
{
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
	if (missing)
		*missing = want & ~may1;
	return (want | must1) & may1;
}

#endif
