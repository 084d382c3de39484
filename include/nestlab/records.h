/*
 * The record stream.  Every nestlab level writes records to its console
 * channel as one JSON object per line; L0's channel is COM1.  Every record
 * has "path" (the producing VM's path: "L0", "L0/vm0", ...) first and
 * "type" second; records produced by a VMM itself also carry "tsc".
 * The host tool treats a line that starts with '{' as a record and any
 * other line as free console text.
 *
 * The type names below are the contract between the bare-metal producers
 * and the host's parser; this is their one definition.
 */
#ifndef NESTLAB_RECORDS_H
#define NESTLAB_RECORDS_H

#define NL_REC_MAX_LINE 1536 /* longest record line any level may emit, newline excluded */

/* Records from a VMM (L0 today). */
#define NL_REC_BOOT           "boot"           /* level came up: "level", "memory_bytes", "free_bytes" */
#define NL_REC_MANIFEST       "manifest"       /* manifest accepted: "experiment", "vms", "seed" */
#define NL_REC_MANIFEST_ERROR "manifest_error" /* manifest refused: "error" (NL_MFE_* name), "reason" */
#define NL_REC_VMX_CAPS       "vmx_caps"       /* capability MSRs as hex strings */
#define NL_REC_VMX_UNAVAILABLE "vmx_unavailable" /* "reason": why VMX cannot be used */
#define NL_REC_VM_START       "vm_start"       /* a VM was built: "vm", "image", "memory_bytes", "memory_hpa", "eptp", "vpid", "entry" */
#define NL_REC_VM_STOP        "vm_stop"        /* a VM ended: "state", "exit_status", "reason" */
#define NL_REC_VM_FAULT       "vm_fault"       /* a VM did something fatal (EPT violation, triple fault, ...) */
#define NL_REC_EXITS          "exits"          /* per-VM exit counts by reason name, at the end */
#define NL_REC_NESTED         "nested"         /* per child VMM: emulated VMX instructions, reflected vs handled exits, EPT02, INV* */
#define NL_REC_SINGLE_STEP    "single_step"    /* per stepped VM: "wanted", "steps", "mechanism", RIPs and their hash */
#define NL_REC_VMCS_TRAPS     "vmcs_traps"     /* per child VMM: its VMREADs/VMWRITEs that exited, by field (most frequent) */
#define NL_REC_SCHED          "sched"          /* per VMM at the end: its scheduler, "decisions", "switches", "ticks_deciding", ... */
#define NL_REC_LAPIC          "lapic"          /* per VM at the end: its local APIC's mode, "apicv", NL_LAPIC_COUNTERS, NL_EVENT_COUNTERS, NL_APICV_COUNTERS */
#define NL_REC_IRQ            "irq"            /* per line of a VMM at the end: "line", "source", "route", asserted/delivered/taken_by_vmm/coalesced/masked */
#define NL_REC_CONSOLE        "console"        /* "text": a line a guest wrote to its console */
#define NL_REC_EXCEPTION      "exception"      /* a CPU exception in the VMM itself: fatal */
#define NL_REC_BENCH          "bench"          /* a figure measured by the VMM */
#define NL_REC_END            "end"            /* last record: "status" ("ok" or "failed"), "reason" */
#define NL_REC_OVERFLOW       "record_overflow" /* stands in for a record too long to emit: NL_KEY_OVERFLOW_OF = its type */

/* Records from a leaf guest (emitted through NL_HC_EMIT_RECORD). */
#define NL_REC_GUEST_START    "guest_start"
#define NL_REC_GUEST_PHASE    "phase"          /* "phase", "count", "ticks" */
#define NL_REC_GUEST_REPORT   "report"         /* the guest's final summary */
#define NL_REC_GUEST_CHECK    "check"          /* a test guest's check: "name", "expected", "got", "ok" */
#define NL_REC_WAKEUP         "wakeup"         /* a leaf's timer wake-ups: count, min/avg/p50/p99/max in TSC ticks, ... */
#define NL_REC_IRQ_GUEST      "irq_guest"      /* per line of a leaf that received any: "line", "count", min/p50/p99/max ticks from assertion */
#define NL_REC_WAKEUP_HIST    "wakeup_hist"    /* before it: NL_KEY_BUCKETS [[bucket, count], ...] or "outliers" */

/*
 * The keys of a level's "sched" record (vmm/vmm_sched.c), besides
 * "policy" and "quantum_us": the scheduler's counters (sched/sched.h), each
 * left out by the VMM when it is zero — at the end of a run COM1 carries
 * every byte at 115200 baud, which a child VMM's deadline margin must
 * cover — and filled in as 0 by the host.  "timer_expired" holds one
 * count per timer source (sched/timer_mux.h), in this order, likewise.
 */
#define NL_SCHED_COUNTERS(X) X(decisions) X(switches) X(ticks_deciding) X(yields) X(preemptions) X(blocks) \
	X(wakeups) X(idle) X(idle_ticks) X(bad_picks)
/* The lapic record's counters: struct vlapic_counters (vmm/vlapic.h) and struct vm_event_counters (vmm/vm.h). */
#define NL_LAPIC_COUNTERS(X, s) X(s, accepted) X(s, coalesced) X(s, rejected) X(s, delivered) X(s, spurious) \
	X(s, eoi) X(s, eoi_empty) X(s, eoi_broadcasts) X(s, timer_fires) X(s, timer_missed) X(s, timer_masked) \
	X(s, ipi_self) X(s, ipi_nowhere) X(s, ipi_unsupported) X(s, nmi_coalesced) X(s, nmi_taken) \
	X(s, errors) X(s, gp) X(s, ignored)
#define NL_EVENT_COUNTERS(X, s) X(s, injected) X(s, window_asks) X(s, window_exits) X(s, window_wait_ticks) \
	X(s, window_wait_max) X(s, timer_delay_ticks) X(s, timer_delay_max) X(s, hlt_blocks) X(s, hlt_passed) \
	X(s, l1_exits) X(s, l1_exits_acked) X(s, xapic_accesses) X(s, nmi_injected) X(s, nmi_window_asks) \
	X(s, nmi_window_exits) X(s, l1_nmi_exits) X(s, l2_injected) X(s, l2_nmi_injected) X(s, l2_window_asks) \
	X(s, l2_window_exits)
/* APIC virtualization's (vmm/apicv.h struct apicv_counters), with "apicv": "on" | "off" | "unavailable". */
#define NL_APICV_COUNTERS(X, s) X(s, apicv_delivered) X(s, apicv_eois) X(s, apicv_self_ipis) X(s, eoi_exits) \
	X(s, apic_write_exits) X(s, apic_access_exits)
#define NL_TIMER_SOURCES(X) X(run_deadline) X(sched) X(output) X(irq) X(child_preemption) X(mtf_owed) X(lapic_timer)

/*
 * The keys of the records that the host reads (experiments/records.c,
 * results.c, outcome.c): one spelling, used by every emitter and by the
 * host, so that a renamed key is a compile error on both sides rather
 * than a silent null in summary.json.
 */
#define NL_KEY_PATH        "path"        /* every record: who produced it */
#define NL_KEY_TYPE        "type"        /* every record: one of NL_REC_* */
#define NL_KEY_TSC         "tsc"         /* a VMM's records: its TSC when it wrote the record */
#define NL_KEY_VM          "vm"          /* vm_start, vm_stop, vm_fault, exits, nested, ...: the VM it is about */
#define NL_KEY_STATE       "state"       /* vm_stop: NL_VM_STATE_* */
#define NL_KEY_EXIT_STATUS "exit_status" /* vm_stop */
#define NL_KEY_REASON      "reason"      /* vm_stop, end, manifest_error, vmx_unavailable: in words */
#define NL_KEY_STATUS      "status"      /* end ("ok"/"failed"), a guest's report */
#define NL_KEY_ERROR       "error"       /* manifest_error: the NL_MFE_* name */
#define NL_KEY_TEXT        "text"        /* console */
#define NL_KEY_PHASE       "phase"       /* a guest's phase record: which phase */
#define NL_KEY_TOTAL       "total"       /* exits: every exit of the VM */
#define NL_KEY_BY_REASON   "by_reason"   /* exits: counts by exit-reason name */
#define NL_KEY_TIMER_EXPIRED "timer_expired" /* sched: per timer source, NL_TIMER_SOURCES */
#define NL_KEY_BUCKETS     "buckets"     /* wakeup_hist: the histogram's non-empty buckets, [index, count] pairs */
#define NL_KEY_OVERFLOW_OF "of"          /* record_overflow: the type of the record that did not fit */

/* vm_stop "state" values. */
#define NL_VM_STATE_EXITED   "exited"    /* the guest called NL_HC_EXIT */
#define NL_VM_STATE_FAULTED  "faulted"   /* stopped by its VMM for an illegal act */
#define NL_VM_STATE_TIMEOUT  "timeout"   /* still running when the duration ran out */
#define NL_VM_STATE_FAILED   "failed"    /* could not be built or entered */

/* L0 shutdown status seen by the backend (QEMU isa-debug-exit and the end record). */
#define NL_EXIT_OK     0
#define NL_EXIT_FAILED 1

#endif
