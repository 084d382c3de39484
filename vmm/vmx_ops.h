/*
 * VMX instructions and typed VMCS accessors.  Every VMCS access in the VMM
 * goes through vmcs_read{16,32,64,nat} / vmcs_write*, so a field is always
 * accessed at its architectural width; the field list lives in
 * include/nestlab/vmcs_fields.def.
 */
#ifndef NESTLAB_VMM_VMX_OPS_H
#define NESTLAB_VMM_VMX_OPS_H

#include <stdint.h>
#include "nestlab/vmx.h"

/* Outcome of a VMX instruction (SDM 31.2): VMsucceed, VMfailInvalid (CF=1), VMfailValid (ZF=1). */
enum vmx_result { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

#define VMX_RESULT_ASM "setc %b[cf]\n\tsetz %b[zf]\n\t"

static inline enum vmx_result vmx_result_of(uint8_t cf, uint8_t zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

static inline enum vmx_result vmxon(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %[pa]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [pa] "m"(phys)
			 : "cc", "memory");
	return vmx_result_of(cf, zf);
}

static inline enum vmx_result vmclear(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %[pa]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [pa] "m"(phys)
			 : "cc", "memory");
	return vmx_result_of(cf, zf);
}

static inline enum vmx_result vmptrld(uint64_t phys)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %[pa]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [pa] "m"(phys)
			 : "cc", "memory");
	return vmx_result_of(cf, zf);
}

static inline enum vmx_result vmx_vmread(uint64_t field, uint64_t *value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmread %[f], %[v]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf), [v] "=r"(*value)
			 : [f] "r"(field)
			 : "cc");
	return vmx_result_of(cf, zf);
}

static inline enum vmx_result vmx_vmwrite(uint64_t field, uint64_t value)
{
	uint8_t cf, zf;
	__asm__ volatile("vmwrite %[v], %[f]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [f] "r"(field), [v] "rm"(value)
			 : "cc");
	return vmx_result_of(cf, zf);
}

/*
 * VMREAD for loops over field lists where a field the processor lacks
 * simply reads 0: a failed VMREAD leaves the destination as it was (SDM
 * 31.3), so no flags need testing.
 */
static inline uint64_t vmx_vmread_or_zero(uint64_t field)
{
	uint64_t value = 0;
	__asm__ volatile("vmread %[f], %[v]" : [v] "+r"(value) : [f] "r"(field) : "cc");
	return value;
}

/* One field and its value, for vmx_vmwrite_list(). */
struct vmcs_kv {
	uint64_t field, value;
};

/*
 * VMWRITE each kv[i] into the current VMCS in order, the loop unrolled so
 * that a field costs three instructions (load the encoding, VMWRITE from
 * memory, branch on failure): the emulated VM exit of a child VMM writes
 * some forty.  Returns the index of the first write that failed (its field
 * stays unwritten, later ones too), or n when all succeeded.
 */
static inline unsigned vmx_vmwrite_list(const struct vmcs_kv *kv, unsigned n)
{
	unsigned i;
#pragma GCC unroll 8
	for (i = 0; i < n; i++)
		__asm__ goto("vmwrite %[v], %[f]\n\t"
			     "jbe %l[failed]" /* CF or ZF: VMfailInvalid or VMfailValid */
			     :
			     : [f] "r"(kv[i].field), [v] "m"(kv[i].value)
			     : "cc"
			     : failed);
	return n;
failed:
	return i;
}

struct invept_desc {
	uint64_t eptp, reserved;
};
struct invvpid_desc {
	uint64_t vpid, gla;
};

static inline enum vmx_result invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = { eptp, 0 };
	uint8_t cf, zf;
	__asm__ volatile("invept %[d], %[t]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [d] "m"(d), [t] "r"(type)
			 : "cc", "memory");
	return vmx_result_of(cf, zf);
}

static inline enum vmx_result invvpid(uint64_t type, uint16_t vpid, uint64_t gla)
{
	struct invvpid_desc d = { vpid, gla };
	uint8_t cf, zf;
	__asm__ volatile("invvpid %[d], %[t]\n\t" VMX_RESULT_ASM
			 : [cf] "=q"(cf), [zf] "=q"(zf)
			 : [d] "m"(d), [t] "r"(type)
			 : "cc", "memory");
	return vmx_result_of(cf, zf);
}

/*
 * Typed accessors.  A wrong-width access is a bug in the VMM, caught at
 * run time by vmcs_width_fault() (it records the field and stops L0), since
 * the encodings are plain enum values.
 */
void vmcs_width_fault(uint32_t field, enum vmcs_width used);
void vmcs_access_fault(uint32_t field, int is_write, enum vmx_result r);

#define VMCS_ACCESSORS(suffix, type, width)                                      \
	static inline type vmcs_read##suffix(enum vmcs_field f)                  \
	{                                                                        \
		uint64_t v = 0;                                                  \
		enum vmx_result r;                                               \
		if (vmcs_field_width(f) != (width))                              \
			vmcs_width_fault(f, (width));                            \
		r = vmx_vmread(f, &v);                                           \
		if (r != VMX_OK)                                                 \
			vmcs_access_fault(f, 0, r);                              \
		return (type)v;                                                  \
	}                                                                        \
	static inline void vmcs_write##suffix(enum vmcs_field f, type v)         \
	{                                                                        \
		enum vmx_result r;                                               \
		if (vmcs_field_width(f) != (width))                              \
			vmcs_width_fault(f, (width));                            \
		r = vmx_vmwrite(f, (uint64_t)v);                                 \
		if (r != VMX_OK)                                                 \
			vmcs_access_fault(f, 1, r);                              \
	}
VMCS_ACCESSORS(16, uint16_t, VMCS_W16)
VMCS_ACCESSORS(32, uint32_t, VMCS_W32)
VMCS_ACCESSORS(64, uint64_t, VMCS_W64)
VMCS_ACCESSORS(nat, uint64_t, VMCS_WNAT)
#undef VMCS_ACCESSORS

#endif
