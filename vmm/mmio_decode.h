/*
 * The instructions a guest uses on a memory-mapped register, decoded well
 * enough to emulate them (the xAPIC page: vm_events.c): MOV between a
 * general-purpose register and memory (88/89 store, 8A/8B load; A0-A3, the
 * accumulator and a 64-bit absolute address, which an assembler picks for
 * an address above 2 GiB) and MOV of an immediate to memory (C6 /0, C7 /0),
 * with the prefixes 64-bit code
 * puts before them (REX, 66 operand size, segment overrides, 67 address
 * size).  Which address is accessed the VMM knows from the exit (the
 * guest-physical address): the decoder gives direction, width, the
 * register or the immediate, and the length to skip.  SDM Vol. 2 chapter 2
 * (instruction format), MOV in chapter 4.  Pure: host-tested.
 */
#ifndef NESTLAB_VMM_MMIO_DECODE_H
#define NESTLAB_VMM_MMIO_DECODE_H

#include <stdint.h>

#define MMIO_INSN_MAX 15 /* the longest x86 instruction */

struct mmio_insn {
	unsigned len;      /* bytes of the whole instruction */
	unsigned size;     /* bytes accessed: 1, 2, 4 or 8 */
	int store;         /* 1: register or immediate to memory; 0: memory to register */
	int has_imm;       /* a store of imm (sign-extended to size for 8 bytes) rather than of a register */
	unsigned reg;      /* 0..15 in the SDM's order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15) */
	int high_byte;     /* an 8-bit access without REX to AH, CH, DH or BH (reg is then RAX..RBX) */
	uint64_t imm;
};

/*
 * Decode the n bytes at code (64-bit mode).  Returns 0, or -1 for anything
 * else (another opcode, a register operand, too few bytes, more than 15).
 */
int mmio_decode(const uint8_t *code, unsigned n, struct mmio_insn *out);

#endif
