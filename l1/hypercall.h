/*
 * A child VMM's side of its parent's hypercall ABI
 * (include/nestlab/hypercall.h): VMCALL with the number in RAX, arguments
 * in RDI, RSI, RDX, RCX, the result in RAX; the parent preserves every
 * other register.  "memory": the parent reads buffers straight from our
 * memory, so they must be stored before the VMCALL.
 */
#ifndef NESTLAB_L1_HYPERCALL_H
#define NESTLAB_L1_HYPERCALL_H

#include <stdint.h>

#include "nestlab/hypercall.h"

static inline int64_t l1_hypercall(uint64_t nr, uint64_t a0, uint64_t a1)
{
	int64_t ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "memory");
	return ret;
}

static inline int64_t l1_hypercall3(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	int64_t ret;
	__asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2) : "memory");
	return ret;
}

#endif
