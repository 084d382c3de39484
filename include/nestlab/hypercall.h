/*
 * The nestlab hypercall ABI, offered by every nestlab VMM to its VMs.
 *
 * A guest executes VMCALL with the function number in RAX and arguments in
 * RDI, RSI, RDX, RCX (the System V order, so a C wrapper is a few movs).
 * The VMM writes the result to RAX and resumes the guest after the VMCALL;
 * every other register is preserved.  Addresses are guest-physical; a
 * buffer must lie wholly inside the guest's memory or the call fails with
 * NL_HC_EFAULT and nothing is read.
 */
#ifndef NESTLAB_HYPERCALL_H
#define NESTLAB_HYPERCALL_H

/* Function numbers (RAX). */
#define NL_HC_CONSOLE_WRITE 1 /* RDI=gpa, RSI=len: text for the console, tagged with the VM's path */
#define NL_HC_EMIT_RECORD   2 /* RDI=gpa, RSI=len: one JSON object; the VMM adds "path" and forwards it */
#define NL_HC_EXIT          3 /* RDI=status: the VM is finished; never returns */
#define NL_HC_NOP           4 /* returns NL_HC_OK at once: the round-trip benchmark */
#define NL_HC_YIELD         5 /* give up the rest of the time slice */
#define NL_HC_SET_TIMER     6 /* reserved: one-shot timer (issue 3+) */
#define NL_HC_SCHED_REPORT  7 /* reserved: derived scheduling interface to the parent */
#define NL_HC_GET_MANIFEST  8 /* reserved: a child VMM fetches its sub-manifest */
#define NL_HC_FORWARD_RECORD 9 /* RDI=gpa, RSI=len (at most NL_REC_MAX_LINE): a whole record line
				* (with "path") from a child VMM, its own or one of its VMs';
				* refused unless "path" is the VM's own path or lies below it */
#define NL_HC_IRQ_SETUP     10 /* RDI=gpa of a struct nl_irq_page (4 KiB aligned; 0: none), RSI=vector
				* base (>= 32, <= 240), RDX=lines to unmask (bit N: line N): every line
				* N of the VM to vector base + N, masked unless its bit is set
				* (nestlab/irq_lines.h) */
#define NL_HC_IRQ_PROGRAM   11 /* RDI=line (< NL_IRQ_LINES), RSI=vector (>= 32), RDX=masked (0 or 1):
				* one entry of the VM's redirection table */
#define NL_HC_COUNT         12 /* one past the highest number */

/* Results (RAX), as signed 64-bit values. */
#define NL_HC_OK      0
#define NL_HC_EINVAL  (-1) /* an argument out of range (e.g. a record that is not a JSON object) */
#define NL_HC_ENOSYS  (-2) /* no such function, or reserved and not implemented */
#define NL_HC_EFAULT  (-3) /* a buffer outside the guest's memory */

/* Largest buffer accepted by CONSOLE_WRITE and EMIT_RECORD. */
#define NL_HC_MAX_TEXT 1024

#endif
