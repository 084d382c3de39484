/*
 * The end of every emulated VM exit: L1's host state from VMCS12 loaded
 * into VMCS01 as L1's guest state (SDM Vol. 3 27.5).
 */
#include "nested_entry.h"
#include "platform.h"
#include "vmcs_setup.h"
#include "vmx_ops.h"

/*
 * A write into VMCS01 while emulating a VM exit.  Under a parent VMM (a
 * child level) a VMWRITE that the parent's shadow VMCS does not absorb
 * costs an exit, while the parent shadows these fields for reading
 * (VF_EXIT_LOAD in vmcs_fields.def): so compare first and write only a change.
 * At L0 both instructions cost the same and the write goes straight in.
 */
static int put01_compares; /* set per load: this VMM runs under a parent */

static inline void put01(uint32_t enc, uint64_t value)
{
	if (put01_compares) {
		uint64_t now;
		if (vmx_vmread(enc, &now) == VMX_OK && now == value)
			return;
	}
	enum vmx_result r = vmx_vmwrite(enc, value);
	if (r != VMX_OK)
		vmcs_access_fault(enc, 1, r);
}

static void kv_add(struct nested_vm *nv, uint32_t field, uint64_t value)
{
	nv->cur->host_load.kv[nv->cur->host_load.n++] = (struct vmcs_kv){ field, value };
}

/* A segment register as a VM exit loads it: the limit is 4 GiB but for TR (SDM 27.5.2). */
static void kv_segment(struct nested_vm *nv, uint32_t sel_f, uint32_t base_f, uint32_t limit_f, uint32_t ar_f,
		       uint16_t sel, uint64_t base, uint32_t ar)
{
	kv_add(nv, sel_f, sel);
	kv_add(nv, base_f, base);
	kv_add(nv, limit_f, sel_f == VMCS_GUEST_TR_SELECTOR ? 0x67 : 0xffffffffu);
	kv_add(nv, ar_f, ar);
}

/* What loading L1's host state writes into VMCS01 that depends on VMCS12 alone (SDM 27.5.1-27.5.3). */
static void build_host_load(struct nested_vm *nv)
{
	const struct vmcs12 *v = nv->nvmx.cache;
	uint32_t exitc = (uint32_t)V12(v, VM_EXIT_CONTROLS);
	int host64 = (exitc & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
	const uint32_t data = 0xc093, unusable = 0x10000;

	nv->cur->host_load.n = 0;
	/* CR0/CR4 as L1 sees them go to the read shadows; the real ones are written per exit. */
	kv_add(nv, VMCS_CR0_READ_SHADOW, V12(v, HOST_CR0));
	kv_add(nv, VMCS_CR4_READ_SHADOW, V12(v, HOST_CR4));
	kv_add(nv, VMCS_GUEST_CR3, V12(v, HOST_CR3));
	kv_add(nv, VMCS_GUEST_DR7, 0x400);
	kv_add(nv, VMCS_GUEST_IA32_DEBUGCTL, 0);
	kv_add(nv, VMCS_GUEST_SYSENTER_CS, (uint32_t)V12(v, HOST_IA32_SYSENTER_CS));
	kv_add(nv, VMCS_GUEST_SYSENTER_ESP, V12(v, HOST_IA32_SYSENTER_ESP));
	kv_add(nv, VMCS_GUEST_SYSENTER_EIP, V12(v, HOST_IA32_SYSENTER_EIP));
	kv_segment(nv, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR_BYTES,
		   (uint16_t)V12(v, HOST_CS_SELECTOR), 0, host64 ? 0xa09b : 0xc09b);
	kv_segment(nv, VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES,
		   (uint16_t)V12(v, HOST_SS_SELECTOR), 0, data);
	uint16_t ds = (uint16_t)V12(v, HOST_DS_SELECTOR), es = (uint16_t)V12(v, HOST_ES_SELECTOR);
	uint16_t fs = (uint16_t)V12(v, HOST_FS_SELECTOR), gs = (uint16_t)V12(v, HOST_GS_SELECTOR);
	kv_segment(nv, VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES, ds,
		   0, ds ? data : unusable);
	kv_segment(nv, VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES, es,
		   0, es ? data : unusable);
	/* FS/GS bases load even with null selectors in 64-bit mode (SDM 27.5.2). */
	kv_segment(nv, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES, fs,
		   V12(v, HOST_FS_BASE), fs ? data : unusable);
	kv_segment(nv, VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES, gs,
		   V12(v, HOST_GS_BASE), gs ? data : unusable);
	kv_segment(nv, VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR_BYTES,
		   (uint16_t)V12(v, HOST_TR_SELECTOR), V12(v, HOST_TR_BASE), 0x8b);
	kv_add(nv, VMCS_GUEST_LDTR_SELECTOR, 0);
	kv_add(nv, VMCS_GUEST_LDTR_AR_BYTES, unusable);
	kv_add(nv, VMCS_GUEST_GDTR_BASE, V12(v, HOST_GDTR_BASE));
	kv_add(nv, VMCS_GUEST_GDTR_LIMIT, 0xffff);
	kv_add(nv, VMCS_GUEST_IDTR_BASE, V12(v, HOST_IDTR_BASE));
	kv_add(nv, VMCS_GUEST_IDTR_LIMIT, 0xffff);
	kv_add(nv, VMCS_GUEST_RIP, V12(v, HOST_RIP));
	kv_add(nv, VMCS_GUEST_RSP, V12(v, HOST_RSP));
	kv_add(nv, VMCS_GUEST_RFLAGS, 0x2);
	kv_add(nv, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	kv_add(nv, VMCS_GUEST_ACTIVITY_STATE, 0);
	kv_add(nv, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	kv_add(nv, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	nv->cur->host_load.stale = 0;
}

void nested_load_l1_host_state(struct vm *vm)
{
	struct nested_vm *nv = vm->nested;
	const struct vmcs12 *v = nv->nvmx.cache;
	uint32_t exitc = (uint32_t)V12(v, VM_EXIT_CONTROLS);

	put01_compares = platform_level() > 0;
	vmcs_load(vm->vmcs01.hpa);
	/* Kept per VMCS12 (its slot): a slot loaded with another VMCS12 starts stale. */
	if (nv->cur->host_load.stale)
		build_host_load(nv);
	/* The real CR0/CR4 keep the bits this VMM owns (VMX's fixed bits) as they are in VMCS01. */
	uint64_t cr0 = V12(v, HOST_CR0), cr4 = V12(v, HOST_CR4);
	uint64_t m0 = vmcs_readnat(VMCS_CR0_GUEST_HOST_MASK), m4 = vmcs_readnat(VMCS_CR4_GUEST_HOST_MASK);
	put01(VMCS_GUEST_CR0, (cr0 & ~m0) | (vmcs_readnat(VMCS_GUEST_CR0) & m0));
	put01(VMCS_GUEST_CR4, (cr4 & ~m4) | (vmcs_readnat(VMCS_GUEST_CR4) & m4));
	uint64_t efer = vmcs_read64(VMCS_GUEST_IA32_EFER) & (EFER_SCE | EFER_NXE);
	if (exitc & EXIT_LOAD_IA32_EFER)
		efer = V12(v, HOST_IA32_EFER);
	else if (exitc & EXIT_HOST_ADDR_SPACE_SIZE)
		efer |= EFER_LME | EFER_LMA;
	put01(VMCS_GUEST_IA32_EFER, efer);
	if (exitc & EXIT_LOAD_IA32_PAT)
		vm->msr_pat = V12(v, HOST_IA32_PAT);
	const struct vmcs_kv *kv = nv->cur->host_load.kv;
	unsigned n = nv->cur->host_load.n;
	if (put01_compares) {
		for (unsigned k = 0; k < n; k++)
			put01((uint32_t)kv[k].field, kv[k].value);
	} else {
		unsigned bad = vmx_vmwrite_list(kv, n);
		if (bad < n) /* the failed write once more, for the kind of failure to report */
			vmcs_access_fault((uint32_t)kv[bad].field, 1, vmx_vmwrite(kv[bad].field, kv[bad].value));
	}
	vm->vmcs = &vm->vmcs01; /* L1 runs again */
}
