/* MOV to and from a memory-mapped register, decoded (mmio_decode.h). */
#include "mmio_decode.h"

/* Bytes of ModRM, SIB and displacement from the ModRM byte at p (64-bit addressing: 67 changes nothing here). */
static int addressing_len(const uint8_t *p, unsigned left)
{
	if (left < 1)
		return -1;
	unsigned modrm = p[0], mod = modrm >> 6, rm = modrm & 7, len = 1;
	if (mod == 3)
		return -1; /* a register operand: no memory access to emulate */
	if (rm == 4) { /* SIB follows */
		if (left < 2)
			return -1;
		len++;
		if (mod == 0 && (p[1] & 7) == 5)
			len += 4; /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative disp32 */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len <= left ? (int)len : -1;
}

static uint64_t little_endian(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int mmio_decode(const uint8_t *code, unsigned n, struct mmio_insn *out)
{
	unsigned i = 0, opsize16 = 0, rex = 0, addr32 = 0;
	if (n > MMIO_INSN_MAX)
		n = MMIO_INSN_MAX;
	/* Legacy prefixes, then at most one REX right before the opcode (SDM Vol. 2 2.2.1). */
	for (; i < n; i++) {
		uint8_t b = code[i];
		if (b == 0x66)
			opsize16 = 1;
		else if (b == 0x67)
			addr32 = 1;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65)
			continue;
		else
			break;
	}
	if (i < n && (code[i] & 0xf0) == 0x40)
		rex = code[i++];
	if (i >= n)
		return -1;
	uint8_t op = code[i++];
	if (op >= 0xa0 && op <= 0xa3) {
		/* MOV AL/eAX/rAX to or from moffs: a 64-bit address, 32 with 67 (SDM Vol. 2 MOV, "moffs"). */
		unsigned alen = addr32 ? 4 : 8;
		if (i + alen > n)
			return -1;
		*out = (struct mmio_insn){ 0 };
		out->size = op == 0xa0 || op == 0xa2 ? 1 : (rex & 0x8) ? 8 : opsize16 ? 2 : 4;
		out->store = op >= 0xa2;
		out->reg = 0;
		out->len = i + alen;
		return 0;
	}
	int byte_op = op == 0x88 || op == 0x8a || op == 0xc6;
	if (op != 0x88 && op != 0x89 && op != 0x8a && op != 0x8b && op != 0xc6 && op != 0xc7)
		return -1;
	int alen = addressing_len(code + i, n - i);
	if (alen < 0)
		return -1;
	unsigned modrm = code[i];
	*out = (struct mmio_insn){ 0 };
	out->size = byte_op ? 1 : (rex & 0x8) ? 8 : opsize16 ? 2 : 4;
	out->store = op != 0x8a && op != 0x8b;
	if (op == 0xc6 || op == 0xc7) {
		if (((modrm >> 3) & 7) != 0)
			return -1; /* C6/C7 with reg != 0 is not MOV */
		unsigned isz = out->size == 8 ? 4 : out->size; /* imm32 sign-extended for 64-bit */
		if (i + (unsigned)alen + isz > n)
			return -1;
		uint64_t imm = little_endian(code + i + alen, isz);
		if (out->size == 8 && (imm & 0x80000000ull))
			imm |= 0xffffffff00000000ull;
		out->has_imm = 1;
		out->imm = imm;
		out->len = i + (unsigned)alen + isz;
		return 0;
	}
	out->reg = ((modrm >> 3) & 7) | ((rex & 0x4) ? 8 : 0);
	/* Without REX, 8-bit registers 4-7 are AH, CH, DH, BH (SDM Vol. 2 Table 3-1). */
	if (byte_op && !rex && out->reg >= 4) {
		out->high_byte = 1;
		out->reg -= 4;
	}
	out->len = i + (unsigned)alen;
	return 0;
}
