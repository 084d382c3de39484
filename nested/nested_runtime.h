/*
 * The nested-VMX runtime: what the VMM core calls for a VM that is itself a
 * VMM.  The decisions live in nested/'s pure files (nested.h); these
 * functions apply them with real VMX instructions.
 */
#ifndef NESTLAB_NESTED_RUNTIME_H
#define NESTLAB_NESTED_RUNTIME_H

#include "ept.h"
#include "guest_state.h"
#include "nested.h"
#include "vmm.h"
#include "vmx_ops.h"
#include "vmm_sched.h"

#define NESTED_SEPT_SLOTS 4 /* EPT02s kept per child, one per EPTP12 it uses */
#define NESTED_VMCS02_SLOTS 2 /* VMCS02s kept per child, one per VMCS12 it enters */
#define NESTED_VMCS12_SLOTS 4 /* active VMCS12s whose data this VMM keeps per child */

/*
 * An active VMCS12 this VMM keeps, as a processor keeps the data of the
 * VMCSs it has active (SDM 25.11.1): made current again by VMPTRLD without
 * a reload from L1's memory, with what this VMM knows of it intact (its
 * checks passed, its host-state list, its own shadow VMCS).  VMCLEAR writes
 * it back and frees the slot; so does its eviction.  L1 editing the memory
 * of an active VMCS changes nothing here, which the SDM allows: such
 * edits are undefined, and none can slip past the entry checks.
 */
struct nested_vmcs12_slot {
	uint64_t addr;                /* L1-physical address of the VMCS12; NVMX_NO_VMCS: free */
	struct vmcs12 *cache;         /* its data (VMCS12_SIZE bytes) */
	uint64_t last_used;           /* a counter stamp: the least recently used is evicted */
	/*
	 * VMCS12 fields L1 changed since its last entry to L2 (through the
	 * shadow VMCS or a trapped VMWRITE).  When only fields of the hot
	 * checks changed (vmcs12_hot_only) the next entry runs only those
	 * checks and rewrites only those fields of VMCS02.
	 */
	struct {
		uint8_t mark[VMCS12_NFIELDS];
		uint8_t list[VMCS12_NFIELDS];
		unsigned count;
		int cold;             /* some other field changed, or something this VMM does not track */
		uint64_t passed_for;  /* the VMCS12 whose full check passed last (NVMX_NO_VMCS: none) */
		int passed_l1_ia32e;  /* L1's mode then: the host checks depend on it */
		uint64_t proc_passed; /* VMCS12's primary controls when the checks last passed */
	} changed;
	/*
	 * VMCS01's guest-state values that emulate loading L1's host state
	 * (SDM 27.5), built from VMCS12's host-state area and exit controls;
	 * rebuilt when one of those may have changed (a cold change).
	 */
	struct {
		struct vmcs_kv kv[56];    /* 49 used */
		unsigned n;
		int stale;
	} host_load;
	/* Its shadow VMCS (VMCS shadowing on) and what that holds, so a sync copies only changes. */
	uint64_t shadow_hpa;
	uint64_t shadow_image[VMCS12_NFIELDS];
	uint8_t shadow_known[VMCS12_NFIELDS];
	uint64_t shadow_image_for;    /* the VMCS12 whose values the image was last compared with in full */
};

/*
 * A VMCS02 and what this VMM knows of it.  A child that switches between
 * VMCS12s (a VMM with two guests, or the middle VMM at depth 3 switching
 * between its child's VMCS and its grandchild's) finds its VMCS02 as it
 * left it, instead of one rebuilt and self-checked from nothing.
 */
struct nested_vmcs02 {
	struct vmcs_ctx ctx;               /* the context L2 runs in (vm->vmcs while it does) */
	uint64_t for_vmcs12;               /* the VMCS12 it was built from; NVMX_NO_VMCS: none */
	uint64_t image[VMCS12_NFIELDS];    /* what it holds, so entries write only changed fields (put()) */
	uint8_t known[VMCS12_NFIELDS];
	uint32_t proc;                     /* its primary controls as merged (an entry may drop one: nested_mtf_before_entry()) */
};

/*
 * The monitor trap flag emulated for a child (nested_mtf.h and .c, which
 * alone read and write this): set by its before-entry hook at every
 * emulated entry of L2, read by its on-exit hook at L2's exits.  An MTF exit owed
 * after an event's delivery is no field here but a time in the timer
 * multiplexer (TIMER_MTF_OWED), the one record of it.
 */
struct nested_mtf {
	int by_tf;                       /* L2 steps by RFLAGS.TF: L1 asked for the MTF, VMCS02's controls lack it */
	int l2_own_tf;                   /* RFLAGS.TF was L2's own at the last entry (not the emulated MTF's) */
	int sti_dropped;                 /* the entry dropped STI blocking to step (step_entry_state()), at step_rip */
	uint64_t step_rip;               /* where the step the last entry began starts, and whether */
	int step_if;                     /* RFLAGS.IF was set there (an STI that sets it blocks, one that does not, not) */
	/*
	 * The L1-physical page of L2's code the emulated MTF last read an
	 * opcode from (nested_l2_code_byte()), kept as a TLB keeps it: until
	 * L1's INVEPT or INVVPID (nested_mtf_forget_code()), or another CR3
	 * or EPTP12.
	 */
	struct {
		int valid;
		uint64_t cr3, eptp12, linear_page, gpa1_page;
	} code_tlb;
};

struct nested_vm {
	struct nvmx nvmx;
	struct nested_caps caps;
	struct guest_mem l1mem;
	struct nested_vmcs02 vmcs02s[NESTED_VMCS02_SLOTS];
	struct nested_vmcs02 *v02;       /* the one for the current VMCS12 (L2 runs on it) */
	unsigned vmcs02_next;            /* round-robin victim when a new VMCS12 needs one */
	struct shadow_ept sept[NESTED_SEPT_SLOTS];
	unsigned sept_next;              /* round-robin victim when every slot is taken */
	struct shadow_ept *active_sept;  /* the EPT02 of the L2 running now */
	/*
	 * EPT02 tables come from this child's own pool, capped, and freed pages
	 * are kept for reuse: however its EPT12 aliases memory, a child cannot
	 * drain the memory other VMs' tables come from.
	 */
	struct ept_mem_ops ept02_ops;
	uint64_t ept02_free;             /* recycled pages, linked through their first word */
	uint64_t ept02_pages, ept02_limit;
	struct vpid_map vpids;
	/* What the last emulated entry changed in VMCS12, undone if the processor then refuses VMCS02. */
	int entry_was_launch;
	uint64_t entry_intr_info12;
	uint64_t reflect_started;        /* TSC at the L2 exit being reflected */
	struct nested_counters count;
	/*
	 * VMCS12's copy of L2's state outside the hot fields may be older than
	 * VMCS02's (lazy sync).  Safe for entry: VMCS02's image says what it
	 * was written with, so an unchanged stale value is never written back.
	 */
	int l2_state_stale;
	struct vm *vm;                   /* the child VMM this is the virtual VMX of */
	struct nested_mtf mtf;
	uint32_t exit_controls_at_exit;  /* VMCS12's VM-exit controls at the last reflected exit */
	/*
	 * The interrupt- and NMI-window exiting bits this VMM set in VMCS02 for
	 * itself (an event of L1's waiting for L2 to take it), over v02->proc;
	 * never L1's, never in VMCS12; dropped at every emulated exit.
	 */
	uint32_t own_windows;
	struct nested_vmcs12_slot vmcs12s[NESTED_VMCS12_SLOTS];
	struct nested_vmcs12_slot *cur;  /* the current VMCS12's slot (some free one while there is none) */
	uint64_t slot_clock;
	struct {
		uint64_t vmcs_hpa;       /* slot 0's shadow VMCS; 0 when shadowing is off for this child */
		uint64_t vmread_bitmap;  /* a set bit makes L1's VMREAD of that encoding exit */
		uint64_t vmwrite_bitmap;
		uint8_t list[VMCS12_NFIELDS];     /* VMCS12 indices of the fields held in the shadow VMCS */
		unsigned count;
		uint8_t listed[VMCS12_NFIELDS];   /* by VMCS12 index: whether the field is in list */
		uint8_t rw_list[VMCS12_NFIELDS];  /* those L1 may also VMWRITE without an exit */
		unsigned rw_count;
		/* Cache fields this VMM changed since the last push (a reflected exit pushes only these). */
		uint8_t noted[VMCS12_NFIELDS];
		uint8_t noted_mark[VMCS12_NFIELDS];
		unsigned noted_count;
		int exit_load;                    /* the VF_EXIT_LOAD fields shadowed too (the child hosts a VMM) */
		uint64_t syncs_in, syncs_out;     /* copies shadow → cache and cache → shadow */
	} shadow;
};

/* Set up the virtual VMX of a VMM-kind VM after vm_build(); its VMCS01 is current. */
int nested_vm_init(struct vm *vm, const struct vmx_caps *real, const char **why);

/*
 * VMXON ... INVVPID executed by a VM (L1 context), one handler each (the
 * exit table's handler column, nested_insn.c); for a leaf each injects #UD.
 */
enum exit_action nested_vmxon_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmxoff_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmclear_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmptrld_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmptrst_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmread_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmwrite_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_vmentry_exit(struct vm *vm, const struct exit_info *ei);       /* VMLAUNCH, VMRESUME */
enum exit_action nested_invept_invvpid_exit(struct vm *vm, const struct exit_info *ei);

/* An exit of L2 (the VMCS02 context's exit op), and one that failed L2's entry (SDM 26.8). */
enum exit_action nested_l2_exit(struct vm *vm, const struct exit_info *ei);
enum exit_action nested_l2_entry_failure(struct vm *vm, uint32_t raw_reason, const struct exit_info *ei);

/*
 * RFLAGS after a VMX instruction's VMsucceed, VMfailInvalid or VMfailValid
 * (SDM 31.2): CF, PF, AF, ZF, SF and OF cleared, then CF or ZF set.
 */
static inline uint64_t nvmx_rflags_after(uint64_t rflags, enum nvmx_outcome o)
{
	rflags &= ~RFLAGS_ARITH;
	if (o == NVMX_FAIL_INVALID)
		rflags |= RFLAGS_CF;
	else if (o == NVMX_FAIL_VALID)
		rflags |= RFLAGS_ZF;
	return rflags;
}

/*
 * The linear address of the memory operand of the VMX instruction that
 * exited (VMCS of the VM that ran it current; info its instruction
 * information): 0, or -1 for an encoding no processor reports.
 */
int nested_operand_linear(const struct vm *vm, const struct exit_info *ei, uint32_t info, int mode64,
			  uint64_t *linear);

/*
 * Where a len-byte operand lies in L1's memory: one piece, or two when it
 * crosses a page (the pages need not be adjacent there).  split() sets
 * the lengths from the linear address; the caller translates each piece.
 */
struct l1_pieces {
	uint64_t gpa1[2];
	unsigned len[2];
};
void nested_pieces_split(struct l1_pieces *p, uint64_t linear, unsigned len);
void nested_copy_to_pieces(struct nested_vm *nv, const struct l1_pieces *p, const void *src);
void nested_copy_from_pieces(struct nested_vm *nv, const struct l1_pieces *p, void *dst);

/*
 * L2's VMREAD/VMWRITE that L1's VMCS shadowing lets through (VMCS02
 * current): run on L1's shadow VMCS in L2's context (nested_l2_vmcs.c).
 */
enum exit_action nested_l2_vmcs_access(struct vm *vm, const struct exit_info *ei);
/*
 * One VM exit emulated into L1 (SDM 27.1-27.5: VMCS12's exit fields, then
 * L1's host state).  Every exit L1 gets, the processor's reflected or one
 * this VMM makes up, and every VM-entry failure L1 hears of as an exit
 * (26.8), is described by one of these and finished by
 * nested_emulate_exit() alone: the copy from VMCS02, the fields the
 * description gives, the preemption-timer value saved, L1's host state,
 * the shadow VMCS, the counters.
 */
enum emulated_exit_from {
	EXIT_AS_REPORTED, /* L2's exit as the processor reported it in VMCS02: all of it copied, nothing given */
	EXIT_MADE_UP,     /* by this VMM: L2's state, and the exit fields not given, copied from VMCS02 */
	EXIT_NO_ENTRY,    /* an entry that never happened (26.8): nothing copied, VMCS12 as L1 left it */
};
#define EXIT_GIVES_EVENT     (1u << 0) /* intr_info and intr_error_code, not VMCS02's (27.2.2) */
#define EXIT_GIVES_ADDRESSES (1u << 1) /* gpa and linear: an EPT12 fault of an access this VMM made for L2 */
#define EXIT_NO_DELIVERY     (1u << 2) /* no instruction length, no event in delivery; pending_dbg, blocking ORed */
#define EXIT_SHADOW_IN_FULL  (1u << 3) /* the shadow VMCS compared with all of VMCS12, not the noted fields only */
struct emulated_exit {
	enum emulated_exit_from from;
	unsigned flags;                  /* EXIT_GIVES_*, EXIT_NO_DELIVERY, EXIT_SHADOW_IN_FULL */
	/* Reason and qualification are given unless from is EXIT_AS_REPORTED. */
	uint32_t reason;                 /* as VMCS12 shows it: bit 31 set for a VM-entry failure (24.9.1) */
	uint64_t qualification;
	uint32_t intr_info, intr_error_code; /* EXIT_GIVES_EVENT */
	uint64_t gpa, linear;            /* EXIT_GIVES_ADDRESSES; linear only where qualification bit 7 says valid */
	uint64_t pending_dbg;            /* EXIT_NO_DELIVERY: debug exceptions still pending at the exit */
	uint32_t blocking;               /* EXIT_NO_DELIVERY: interruptibility L2's state keeps at the exit */
};
/* Emulate x into L1 (VMCS02 current, but for EXIT_NO_ENTRY); L1 runs next: returns EXIT_RESUME. */
enum exit_action nested_emulate_exit(struct vm *vm, const struct emulated_exit *x);

/*
 * L1's local APIC has an interrupt or NMI to deliver while L2 runs
 * (vm_events.c asks, before an entry of VMCS02): as VMCS12 says, an
 * emulated external-interrupt or NMI exit, which leaves vm in VMCS01, or
 * delivery through L2's IDT (injected into VMCS02, or a window of this
 * VMM's own in VMCS02 until L2 can take it) (nested_interrupt.c).
 */
void nested_l2_interrupt(struct vm *vm, uint64_t now);
/* An interrupt- or NMI-window exit of L2 (control: which) that L1 did not ask for: this VMM's own window. */
enum exit_action nested_l2_own_window_open(struct vm *vm, const struct exit_info *ei, uint32_t control);
/* At an emulated exit (VMCS02 current): this VMM's own windows go, what waited for them is L1's to take now. */
void nested_l2_drop_own_windows(struct vm *vm);
/* Count an exit of L2 this VMM handled itself; returns a. */
enum exit_action nested_handled(struct vm *vm, const struct exit_info *ei, enum exit_action a);

/* The byte of L2's code at rip (through CS, L2's tables and EPT12; VMCS02 current): 0, or -1 if unreachable. */
int nested_l2_code_byte(struct vm *vm, uint64_t rip, uint8_t *out);

/*
 * An exception L2's instruction raises (a fault, error code given): an
 * exit to L1 if VMCS12's exception bitmap asks for it, else injected
 * into L2 by the next entry.
 */
enum exit_action nested_l2_exception(struct vm *vm, unsigned vector, uint32_t error_code);

/* The kept VMCS12s (nested_vmcs12_slots.c).  Caches: NESTED_VMCS12_SLOTS regions of VMCS12_SIZE from first_cache. */
void nested_vmcs12_slots_init(struct nested_vm *nv, uint64_t first_cache);
/*
 * L1's VMPTRLD of ptr (c: L1's mode): nvmx_vmptrld() makes it current when
 * its checks pass, from its slot if this VMM keeps it, else loaded from
 * L1's memory into a free slot or the least recently used one (written
 * back first).  *kept is 1 when it was kept: what this VMM knows of it, its
 * shadow VMCS included, still holds.
 */
struct nvmx_result nested_vmcs12_vmptrld(struct vm *vm, const struct nvmx_ctx *c, uint64_t ptr, int *kept);
/* L1's memory at ptr brought up to date from a kept copy (VMCLEAR, an entry that reads it there). */
void nested_vmcs12_write_back(struct vm *vm, uint64_t ptr);
/* After VMCLEAR of ptr: a copy kept of it (not current) is no longer valid. */
void nested_vmcs12_forget(struct vm *vm, uint64_t ptr);
/* VMXOFF: every kept VMCS12 but the current one (nvmx_vmxoff() flushes that) back to memory. */
void nested_vmcs12_write_back_all(struct vm *vm);

/* VMLAUNCH/VMRESUME of VMCS02 itself failed: a bug of this VMM's merge; stops the VM. */
void nested_vmcs02_entry_failed(struct vm *vm, int rc);

/* The "nested" record: emulated VMX instructions, reflected vs handled exits, EPT02, INV*. */
void nested_record_counters(const struct vm *vm);

/* Whether a VMCS12 field is read by no check but the hot ones (vmcs_check_hot_phased()). */
extern uint8_t vmcs12_hot_only[VMCS12_NFIELDS];

/* This VMM changed VMCS12 field idx in the cache: the shadow VMCS, if it holds the field, needs it. */
static inline void nested_shadow_note(struct nested_vm *nv, unsigned idx)
{
	if (nv->shadow.listed[idx] && !nv->shadow.noted_mark[idx]) {
		nv->shadow.noted_mark[idx] = 1;
		nv->shadow.noted[nv->shadow.noted_count++] = (uint8_t)idx;
	}
}

/* Something beyond the hot fields of VMCS12 changed (or may have): the next entry and exit redo it all. */
static inline void nested_vmcs12_cold(struct nested_vm *nv)
{
	nv->cur->changed.cold = 1;
	nv->cur->host_load.stale = 1;
}

static inline void nested_vmcs12_changed(struct nested_vm *nv, unsigned idx)
{
	struct nested_vmcs12_slot *cur = nv->cur;
	if (!cur->changed.mark[idx]) {
		cur->changed.mark[idx] = 1;
		cur->changed.list[cur->changed.count++] = (uint8_t)idx;
	}
	if (!vmcs12_hot_only[idx])
		nested_vmcs12_cold(nv);
}

/* Keep VMCS02's image right: a value read from it, or a field the processor changed behind it. */
static inline void nested_vmcs02_note(struct nested_vm *nv, unsigned vmcs12_idx, uint64_t value)
{
	nv->v02->image[vmcs12_idx] = value;
	nv->v02->known[vmcs12_idx] = 1;
}
/*
 * A VMCS02 write (VMCS02 current) through its image: a VMWRITE only when
 * the value is not the one VMCS02 holds, so a VMRESUME after L1 changed two
 * fields costs two VMWRITEs, not a hundred.
 */
static inline void nested_vmcs02_put(struct nested_vm *nv, unsigned vmcs12_idx, uint64_t value)
{
	struct nested_vmcs02 *v02 = nv->v02;
	if (v02->known[vmcs12_idx] && v02->image[vmcs12_idx] == value)
		return;
	vmx_vmwrite(vmcs_field_encodings[vmcs12_idx], value);
	v02->image[vmcs12_idx] = value;
	v02->known[vmcs12_idx] = 1;
}
/* A field of VMCS02 (by VMCS12 index) the processor may have changed behind the image. */
static inline void nested_vmcs02_forget(struct nested_vm *nv, unsigned vmcs12_idx)
{
	nv->v02->known[vmcs12_idx] = 0;
}

/* Bring all of L2's state from VMCS02 into VMCS12 when L1 may see it (VMREAD, flush to memory). */
void nested_materialize_l2_state(struct vm *vm);

/* Inject a hardware exception into the VM through the current VMCS. */
void vm_inject_exception(struct vm *vm, unsigned vector, int has_error, uint32_t error_code);

#endif
