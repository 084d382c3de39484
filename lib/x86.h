/* x86 architectural facts shared by every level, the host tool and the tests. */
#ifndef NESTLAB_LIB_X86_H
#define NESTLAB_LIB_X86_H

#include <stdint.h>

/* Canonical for 48-bit linear addresses: bits 63:47 all equal (SDM Vol. 1 3.3.7.1). */
static inline int x86_canonical(uint64_t a)
{
	uint64_t top = a >> 47;
	return top == 0 || top == 0x1ffff;
}

#define X86_EXCEPTION_VECTORS 32

/* "#PF" and "page fault" for vector 14; "?" and "unknown vector" past 31. */
const char *x86_exception_mnemonic(unsigned vector);
const char *x86_exception_description(unsigned vector);

#endif
