/*
 * The guest side of the nestlab hypercall ABI (include/nestlab/hypercall.h):
 * VMCALL with the function number in RAX, arguments in RDI, RSI, RDX, RCX,
 * the result in RAX.  The VMM preserves every other register.
 *
 * The "memory" clobber matters: a console or record buffer is read by the
 * VMM straight from guest memory, so the compiler must have stored it
 * before the VMCALL and must not cache memory across it.
 */
#ifndef NESTLAB_LEAF_HYPERCALL_H
#define NESTLAB_LEAF_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

#include "nestlab/hypercall.h"

static inline int64_t hc_call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;
	register uint64_t r_a3 __asm__("rcx") = a3;

	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r_a3)
			 : "memory");
	return ret;
}

/* Text for the console; the VMM tags it with this VM's path. */
static inline int64_t hc_console_write(const char *text, size_t len)
{
	return hc_call(NL_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)text, len, 0, 0);
}

/* One JSON object, without "path": the VMM puts this VM's path first. */
static inline int64_t hc_emit_record(const char *json, size_t len)
{
	return hc_call(NL_HC_EMIT_RECORD, (uint64_t)(uintptr_t)json, len, 0, 0);
}

/* The null hypercall: one exit and one entry, nothing else. */
static inline int64_t hc_nop(void)
{
	return hc_call(NL_HC_NOP, 0, 0, 0, 0);
}

static inline int64_t hc_yield(void)
{
	return hc_call(NL_HC_YIELD, 0, 0, 0, 0);
}

/*
 * The VM is finished.  The VMM never resumes it; should one do so anyway,
 * the guest halts for good (interrupts are off) rather than run on into
 * whatever follows.
 */
__attribute__((noreturn)) static inline void hc_exit(uint64_t status)
{
	hc_call(NL_HC_EXIT, status, 0, 0, 0);
	for (;;)
		__asm__ volatile("hlt");
}

#endif
