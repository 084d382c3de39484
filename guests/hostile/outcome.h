/*
 * What a VMX instruction did, in the SDM's words (Vol. 3 31.2): VMsucceed,
 * VMfailInvalid, VMfailValid(n), an exception, or (VMLAUNCH/VMRESUME) a VM
 * exit with its exit reason.  Probe results (probe.h) become outcomes, and
 * checks compare an expected outcome with the one that happened.
 */
#ifndef NESTLAB_HOSTILE_OUTCOME_H
#define NESTLAB_HOSTILE_OUTCOME_H

#include <stddef.h>
#include <stdint.h>
#include "nestlab/vmx.h" /* the exception vectors */

enum outcome_kind {
	OUT_SUCCEED,      /* CF = PF = AF = ZF = SF = OF = 0 */
	OUT_FAIL_INVALID, /* CF = 1, the others 0 */
	OUT_FAIL_VALID,   /* ZF = 1, the others 0; value = VM-instruction error */
	OUT_FAULT,        /* value = exception vector */
	OUT_EXIT,         /* value = VM_EXIT_REASON (bit 31 for a VM-entry failure) */
	OUT_BAD_FLAGS,    /* arithmetic flags no VMX outcome produces; value = RFLAGS */
};

struct outcome {
	enum outcome_kind kind;
	uint64_t value;
};

#define OUTCOME_UNREADABLE (~0ull) /* the error number or exit reason could not be read */

static inline struct outcome vm_succeed(void) { return (struct outcome){ OUT_SUCCEED, 0 }; }
static inline struct outcome vm_fail_invalid(void) { return (struct outcome){ OUT_FAIL_INVALID, 0 }; }
static inline struct outcome vm_fail_valid(unsigned error) { return (struct outcome){ OUT_FAIL_VALID, error }; }
static inline struct outcome fault(unsigned vector) { return (struct outcome){ OUT_FAULT, vector }; }
static inline struct outcome vm_exit(uint32_t reason) { return (struct outcome){ OUT_EXIT, reason }; }

/*
 * The outcome of a probe's result.  VMfailValid reads the VM-instruction
 * error field and a VM exit the exit reason, both with VMREAD of the
 * current VMCS: call it right after the probe.
 */
struct outcome outcome_of(uint64_t probe_result);

int outcome_equal(struct outcome a, struct outcome b);

/* "VMsucceed", "VMfailInvalid", "VMfailValid(9)", "#UD", "exit(0x80000021)", "RFLAGS(0x...)". */
void outcome_format(struct outcome o, char *buf, size_t cap);

#endif
