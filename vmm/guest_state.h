/* Reading and changing a guest's architectural state through the current VMCS. */
#ifndef NESTLAB_VMM_GUEST_STATE_H
#define NESTLAB_VMM_GUEST_STATE_H

#include "vm.h"

/* GPR by the processor's number (0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP, 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15). */
uint64_t guest_gpr(const struct vm *vm, unsigned n);
void guest_set_gpr(struct vm *vm, unsigned n, uint64_t v);

/*
 * A GPR after a load of size bytes (1, 2, 4 or 8) of v into it: a 32-bit
 * load zero-extends into the 64-bit register, 8- and 16-bit loads keep the
 * bits above them, a 64-bit one replaces it (SDM Vol. 1 3.4.1.1).
 */
static inline uint64_t gpr_after_load(uint64_t old, uint64_t v, unsigned size)
{
	if (size >= 8)
		return v;
	uint64_t mask = (1ull << (8 * size)) - 1;
	return size == 4 ? v & mask : (old & ~mask) | (v & mask);
}

/* The guest's view of CR0/CR4: its own bits, and the read shadow where the VMM owns the bit. */
uint64_t guest_visible_cr0(void);
uint64_t guest_visible_cr4(void);
/* CPL = SS.DPL (SDM 3.4.5 / 26.3.1.2). */
unsigned guest_cpl(void);
/* 64-bit mode (SDM 3.4.5): IA32_EFER.LMA (efer, as the caller read it) and CS.L. */
int guest_64bit_mode(uint64_t efer);

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define RFLAGS_VM (1ull << 17)

#endif
