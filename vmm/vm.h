/*
 * A VM as the VMM owns it: its memory, its EPT, its VPID, its VMCS, its
 * registers, its state and its counters.  Nothing here is shared between
 * VMs; the VMM core reaches a VM only through its struct vm.
 */
#ifndef NESTLAB_VMM_VM_H
#define NESTLAB_VMM_VM_H

#include <stdint.h>
#include "nestlab/guest_boot.h"
#include "nestlab/manifest.h"
#include "nestlab/vmx.h"
#include "nestlab/hypercall.h"
#include "vlapic.h"
#include "apicv.h"

/* Guest general-purpose registers not held in the VMCS; order fixed by vmx_entry.S. */
struct nested_vm;

/*
 * A VMCS this VMM can enter, as KVM's loaded VMCS: where it is, whether
 * it was launched, the HOST_RSP vmx_run() last wrote into it, and what
 * its exits and failed entries mean.  The run loop enters a VM's current
 * context (vm->vmcs) and asks nothing else: its VMCS01, or the VMCS02 of
 * the L2 a child VMM runs (nested/), whose ops are the nested ones.
 */
struct vmcs_ctx_ops; /* vmm.h */

struct vmcs_ctx {
	uint64_t hpa;
	int launched;
	uint64_t host_rsp;                /* HOST_RSP as vmx_run() last wrote it here; 0 = never */
	const struct vmcs_ctx_ops *ops;
};

struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

enum vm_state {
	VM_RUNNABLE, /* the scheduler may run it */
	VM_BLOCKED,  /* waits for a time or an event (vmm/vmm_sched.c keeps it in step with the scheduler) */
	VM_EXITED,   /* NL_HC_EXIT */
	VM_FAULTED,  /* stopped for an illegal act (EPT violation, exception, ...) */
	VM_TIMEOUT,  /* the experiment's duration ran out */
	VM_FAILED,   /* could not be built or entered */
};

struct vm_counters {
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t exits_unknown;   /* basic reasons nestlab does not name */
	uint64_t exits_total;
	uint64_t hypercalls[NL_HC_COUNT];
	uint64_t entries;         /* VM entries (launch + resume) */
};

#define VM_CONSOLE_LINE 160

/* Single-stepping the VM's first instructions (vmm/single_step.c). */
struct vm_step {
	uint32_t wanted;     /* the description's single_steps */
	uint32_t left;       /* steps still to take; 0 = not stepping */
	int by_tf;           /* RFLAGS.TF + #DB exiting: the processor offers no monitor trap flag */
	uint64_t steps;      /* steps taken */
	uint64_t first_rip;  /* RIP after the first step */
	uint64_t last_rip;   /* RIP after the last step */
	uint64_t rip_hash;   /* FNV-1a over the RIP after each step: the path the VM took */
	uint64_t first_tsc, last_tsc; /* when the first and the last step were taken */
};

/* What the VMM did to get interrupts into the VM (vmm/vm_events.c). */
struct vm_event_counters {
	uint64_t injected;          /* external interrupts injected at a VM entry */
	uint64_t window_asks;       /* interrupt-window exiting turned on: an interrupt waited for IF or blocking */
	uint64_t window_exits;      /* interrupt-window exits that came */
	uint64_t window_wait_ticks; /* TSC ticks from asking for the window to its exit, summed */
	uint64_t window_wait_max;
	uint64_t timer_delay_ticks; /* TSC ticks from a LAPIC timer expiration to the VMM seeing it, summed */
	uint64_t timer_delay_max;
	uint64_t hlt_blocks;        /* HLTs that blocked the VM: nothing deliverable was pending */
	uint64_t hlt_passed;        /* HLTs that did not: an interrupt was ready */
	uint64_t l1_exits;          /* external-interrupt exits emulated for a child VMM's L2 (nested/) */
	uint64_t l1_exits_acked;    /* ... of them with the vector acknowledged on exit */
	uint64_t xapic_accesses;    /* MOVs to or from the xAPIC page, decoded and emulated */
	uint64_t nmi_injected;      /* NMIs injected at a VM entry */
	uint64_t nmi_window_asks;   /* NMI-window exiting turned on: an NMI waited for the guest's IRET */
	uint64_t nmi_window_exits;  /* NMI-window exits that came */
	/* A child VMM's events while its L2 runs (nested/nested_interrupt.c), as VMCS12 says. */
	uint64_t l1_nmi_exits;      /* NMI exits emulated for L1 ("NMI exiting") */
	uint64_t l2_injected;       /* L1's external interrupts delivered through L2's IDT (no "external-interrupt exiting") */
	uint64_t l2_nmi_injected;   /* L1's NMIs delivered through L2's IDT (no "NMI exiting") */
	uint64_t l2_window_asks;    /* an interrupt or NMI window of this VMM's own in VMCS02, not L1's */
	uint64_t l2_window_exits;   /* ... that came */
};

/*
 * The VM's interrupt state: its local APIC (vlapic.h) and what the VMM
 * does about delivering from it.  When the VMM must look at it again is the
 * VM's TIMER_LAPIC time (vm_events.h): the APIC timer's next expiration, or
 * 0 ("before the next entry") once something may have become deliverable.
 */
struct vm_events {
	struct vlapic lapic;
	uint8_t window;             /* interrupt-window exiting is on in the VM's VMCS01 */
	uint8_t nmi_window;         /* NMI-window exiting is on in the VM's VMCS01 */
	uint8_t for_l1_later;       /* an event of L1's waits for L1's next emulated exit (nested/) */
	uint8_t at_halt;            /* the next look follows the VM's HLT: no STI shadow can be open */
	uint64_t window_since;      /* TSC when it was turned on */
	struct vm_event_counters count;
};

/* APIC virtualization for the VM (vmm/apicv_vm.c); the emulated APIC in vm_events stays its model. */
enum apicv_state {
	APICV_OFF,         /* not asked for: the APIC is emulated */
	APICV_ON,          /* TPR shadow, APIC-register virtualization, virtual-interrupt delivery in VMCS01 */
	APICV_UNAVAILABLE, /* asked for, but the processor beneath this VMM does not offer the controls */
};

struct vm_apicv {
	uint8_t state;             /* enum apicv_state */
	uint8_t image_stale;       /* the emulated APIC changed beyond TPR/IRR/ISR: write the page image before entry */
	uint8_t pulled;            /* the page was pulled since the last push: the guest has not run since */
	uint64_t vapic_hpa;        /* its virtual-APIC page */
	uint64_t access_hpa;       /* its APIC-access page (xAPIC mode) */
	uint64_t mapped_gpa;       /* where EPT maps the APIC-access page; 0 = nowhere */
	uint64_t eoi_exit[4];      /* the EOI-exit bitmap VMCS01 holds */
	uint8_t eoi_level;         /* it may have a bit set: a level-triggered vector was in the TMR */
	struct apicv_sync sync;
	struct apicv_counters count;
};

struct vm {
	unsigned index;                   /* manifest index */
	unsigned slot;                    /* its place among this VMM's VMs: its scheduler entity */
	char name[NL_NAME_MAX];
	char path[NL_PATH_MAX];
	const struct nl_manifest_vm *desc;
	int hosts_vmm;                    /* a VMM-kind VM runs somewhere below it */

	uint64_t mem_hpa;                 /* host-physical base of its memory */
	uint64_t mem_bytes;
	uint64_t ept_root;                /* host-physical PML4 of its EPT */
	uint64_t eptp;
	uint16_t vpid;                    /* 0 = VPID off for this VM */
	struct vmcs_ctx vmcs01;           /* its own VMCS */
	struct vmcs_ctx *vmcs;            /* the context it runs in now: &vmcs01, or its L2's VMCS02 (nested/) */

	struct guest_regs regs;
	enum vm_state state;
	int64_t exit_status;
	char stop_reason[160];

	char console[VM_CONSOLE_LINE];    /* partial console line */
	unsigned console_len;

	struct vm_counters count;
	struct vm_step step;
	struct vm_events ev;
	struct vm_apicv apicv;

	/* MSRs a guest may write that no VMCS field holds. */
	uint64_t msr_kernel_gs_base;
	uint64_t msr_pat;

	/* A VM that is itself a VMM (NL_VM_VMM): its virtual VMX, NULL for a leaf. */
	struct nested_vm *nested;
};

static inline void *vm_gpa_ptr(const struct vm *vm, uint64_t gpa) { return (void *)(uintptr_t)(vm->mem_hpa + gpa); }
/* Whether [gpa, gpa+len) lies wholly inside the VM's memory (no overflow). */
static inline int vm_gpa_range_ok(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return gpa < vm->mem_bytes && len <= vm->mem_bytes - gpa;
}

const char *vm_state_name(enum vm_state s);

/* Not stopped: runnable or blocked. */
static inline int vm_alive(const struct vm *vm)
{
	return vm->state == VM_RUNNABLE || vm->state == VM_BLOCKED;
}

#endif
