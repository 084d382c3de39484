/*
 * The operand of a VMX instruction that exited, from the VM-exit
 * instruction-information field and the exit qualification (SDM Vol. 3
 * 28.2.5, the tables for VMCLEAR/VMPTRLD/VMPTRST/VMXON, INVEPT/INVVPID and
 * VMREAD/VMWRITE).  The three formats share their memory-operand bits:
 *
 *   1:0   scaling (index × 1, 2, 4, 8)
 *   6:3   reg1 (VMREAD/VMWRITE register operand)
 *   9:7   address size (0 16-bit, 1 32-bit, 2 64-bit)
 *   10    VMREAD/VMWRITE: 1 = register operand, 0 = memory
 *   17:15 segment register (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS)
 *   21:18 index register, 22 index invalid
 *   26:23 base register,  27 base invalid
 *   31:28 reg2 (VMREAD/VMWRITE field encoding, INVEPT/INVVPID type)
 *
 * The exit qualification holds the displacement already sign-extended to
 * 64 bits (SDM 28.2.1), so adding it and truncating to the address size
 * gives the effective address for every displacement size.
 */
#include "nested.h"

#define SEG_FS 4u
#define SEG_GS 5u

static unsigned bits(uint32_t v, unsigned lo, unsigned n)
{
	return (v >> lo) & ((1u << n) - 1u);
}

unsigned vmx_insn_reg1(uint32_t insn_info) { return bits(insn_info, 3, 4); }
unsigned vmx_insn_reg2(uint32_t insn_info) { return bits(insn_info, 28, 4); }
int vmx_insn_reg1_is_reg(uint32_t insn_info) { return (int)bits(insn_info, 10, 1); }

uint32_t vmx_mem_operand_gprs(uint32_t insn_info)
{
	uint32_t used = 0;
	if (!bits(insn_info, 27, 1))
		used |= 1u << bits(insn_info, 23, 4);
	if (!bits(insn_info, 22, 1))
		used |= 1u << bits(insn_info, 18, 4);
	return used;
}

unsigned vmx_mem_operand_seg(uint32_t insn_info) { return bits(insn_info, 15, 3); }

int vmx_decode_mem_operand(uint32_t insn_info, uint64_t qualification, const uint64_t gprs[16],
			   const uint64_t seg_base[6], int long_mode, struct vmx_operand *out)
{
	unsigned asz = bits(insn_info, 7, 3);
	unsigned seg = bits(insn_info, 15, 3);
	if (asz > 2 || seg > SEG_GS)
		return -1; /* reserved encodings: no processor reports them */

	out->addr_size = 2u << asz;
	out->seg = seg;
	/* Bit 10 is defined only for VMREAD/VMWRITE; for the other formats
	 * it is 0 or undefined, and their callers ignore is_reg, so the
	 * address below is computed whatever bit 10 says. */
	out->is_reg = vmx_insn_reg1_is_reg(insn_info);
	out->reg = vmx_insn_reg1(insn_info);

	uint64_t ea = qualification;
	if (!bits(insn_info, 27, 1))
		ea += gprs[bits(insn_info, 23, 4)];
	if (!bits(insn_info, 22, 1))
		ea += gprs[bits(insn_info, 18, 4)] << bits(insn_info, 0, 2);
	if (out->addr_size < 8)
		ea &= (1ull << (8 * out->addr_size)) - 1;

	/* In 64-bit mode only FS and GS have a base (SDM Vol. 1 3.4.2.1);
	 * outside it every segment does and linear addresses are 32 bits. */
	if (long_mode)
		out->linear = ea + ((seg == SEG_FS || seg == SEG_GS) ? seg_base[seg] : 0);
	else
		out->linear = (seg_base[seg] + ea) & 0xffffffffull;
	return 0;
}
