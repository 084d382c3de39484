/* L2's memory, EPT12 and VMCS (see l2.h).  SDM Vol. 3 chapter 25 for the fields, 26.2-26.3 for their rules. */
#include <string.h>

#include "fmt.h"
#include "l2.h"
#include "nestlab/vmx.h"
#include "probe.h"
#include "x86.h"

#define PAGE_SIZE 4096u
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7)
#define EXIT_STACK_BYTES 8192u

/* What L2 needs, as in vmm/vmcs_setup.c, minus the preemption timer: armed at 0 it would end L2 at once. */
static const uint32_t want_pin = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING;
static const uint32_t want_proc = CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING | CPU_ACTIVATE_SECONDARY;
static const uint32_t want_proc2 = SEC_ENABLE_EPT;
static const uint32_t want_exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER;
static const uint32_t want_entry = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER;

struct ept12 {
	uint64_t pml4[512], pdpt[512], pd[512], pt[512];
};

static uint8_t l2_pages[L2_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct ept12 ept_own __attribute__((aligned(PAGE_SIZE)));
static struct ept12 ept_outside __attribute__((aligned(PAGE_SIZE)));
/* HOST_RSP: VM exits land on a stack of their own; probe.S switches back at once. */
static uint8_t exit_stack[EXIT_STACK_BYTES] __attribute__((aligned(16)));

extern const uint8_t l2_code_start[], l2_code_end[];

uint64_t l2_code_gpa(const uint8_t *label)
{
	return L2_CODE_GPA + (uint64_t)(label - l2_code_start);
}

void l2_write_u64(uint64_t gpa, uint64_t value)
{
	memcpy(&l2_pages[gpa / PAGE_SIZE][gpa % PAGE_SIZE], &value, sizeof value);
}

uint64_t l2_read_u64(uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, &l2_pages[gpa / PAGE_SIZE][gpa % PAGE_SIZE], sizeof v);
	return v;
}

/* This guest runs on its parent's identity map: a linear address is its L1-physical address. */
static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int l2_controls_choose(const struct vmx_offer *o, struct l2_controls *c, char *missing, size_t cap)
{
	uint32_t m_pin, m_proc, m_proc2, m_exit, m_entry;
	int ept_ok = (o->ept_vpid & EPT_CAP_WB) && (o->ept_vpid & EPT_CAP_WALK_LENGTH_4);

	c->pin = vmx_adjust_controls(want_pin, o->pin, &m_pin);
	c->proc = vmx_adjust_controls(want_proc, o->proc, &m_proc);
	c->proc2 = vmx_adjust_controls(want_proc2, o->proc2, &m_proc2);
	c->exit = vmx_adjust_controls(want_exit, o->exit, &m_exit);
	c->entry = vmx_adjust_controls(want_entry, o->entry, &m_entry);
	if (!(m_pin | m_proc | m_proc2 | m_exit | m_entry) && ept_ok)
		return 0;
	nl_snprintf(missing, cap, "missing pin 0x%x proc 0x%x proc2 0x%x exit 0x%x entry 0x%x%s", m_pin, m_proc,
		    m_proc2, m_exit, m_entry, ept_ok ? "" : ", EPT WB/4-level");
	return -1;
}

/* L2's page tables (one 2 MiB page over L2-physical 0) and its code. */
static void l2_fill_pages(void)
{
	uint64_t *pml4 = (uint64_t *)(void *)l2_pages[L2_PML4_GPA / PAGE_SIZE];
	uint64_t *pdpt = (uint64_t *)(void *)l2_pages[L2_PML4_GPA / PAGE_SIZE + 1];
	uint64_t *pd = (uint64_t *)(void *)l2_pages[L2_PML4_GPA / PAGE_SIZE + 2];

	memset(l2_pages, 0, sizeof l2_pages);
	pml4[0] = (L2_PML4_GPA + PAGE_SIZE) | PTE_P | PTE_RW;
	pdpt[0] = (L2_PML4_GPA + 2 * PAGE_SIZE) | PTE_P | PTE_RW;
	pd[0] = 0 | PTE_P | PTE_RW | PTE_PS;
	memcpy(l2_pages[L2_CODE_GPA / PAGE_SIZE], l2_code_start, (size_t)(l2_code_end - l2_code_start));
}

/* EPT12 (SDM 29.3.2): L2-physical page i -> L1-physical page_pa(i), read/write/execute, write-back. */
static uint64_t ept12_build(struct ept12 *t, uint64_t first_target, int own_pages)
{
	memset(t, 0, sizeof *t);
	t->pml4[0] = pa_of(t->pdpt) | EPT_RWX;
	t->pdpt[0] = pa_of(t->pd) | EPT_RWX;
	t->pd[0] = pa_of(t->pt) | EPT_RWX;
	for (unsigned i = 0; i < L2_PAGES; i++) {
		uint64_t target = own_pages ? pa_of(l2_pages[i]) : first_target + (uint64_t)i * PAGE_SIZE;
		t->pt[i] = target | EPT_RWX | EPT_MEMTYPE_WB;
	}
	return pa_of(t->pml4) | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
}

uint64_t l2_eptp_own(void)
{
	l2_fill_pages();
	return ept12_build(&ept_own, 0, 1);
}

uint64_t l2_eptp_outside(uint64_t outside)
{
	l2_fill_pages();
	return ept12_build(&ept_outside, outside, 0);
}

/* VMWRITEs in a row; after the first one that does not succeed the rest are skipped. */
struct writer {
	struct outcome first_failure; /* VMsucceed while none failed */
	uint32_t field;
};

static void put(struct writer *w, uint32_t field, uint64_t value)
{
	if (w->first_failure.kind != OUT_SUCCEED)
		return;
	struct outcome r = outcome_of(probe_vmwrite(field, value));
	if (r.kind != OUT_SUCCEED) {
		w->first_failure = r;
		w->field = field;
	}
}

static void put_controls(struct writer *l, const struct vmx_offer *o, const struct l2_controls *c,
			 uint64_t eptp)
{
	put(l, VMCS_PIN_BASED_VM_EXEC_CONTROL, c->pin);
	put(l, VMCS_CPU_BASED_VM_EXEC_CONTROL, c->proc);
	put(l, VMCS_SECONDARY_VM_EXEC_CONTROL, c->proc2);
	put(l, VMCS_VM_EXIT_CONTROLS, c->exit);
	put(l, VMCS_VM_ENTRY_CONTROLS, c->entry);
	put(l, VMCS_EXCEPTION_BITMAP, 0xffffffffu); /* every exception of L2 is this VMM's */
	put(l, VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
	put(l, VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
	put(l, VMCS_CR3_TARGET_COUNT, 0);
	put(l, VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	put(l, VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	put(l, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	put(l, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	put(l, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
	put(l, VMCS_VM_ENTRY_INSTRUCTION_LEN, 0);
	put(l, VMCS_TSC_OFFSET, 0);
	put(l, VMCS_EPT_POINTER, eptp);
	/* L2 owns no CR0/CR4 bit that VMX fixes (nor paging and PAE): as vmcs_setup.c. */
	put(l, VMCS_CR0_GUEST_HOST_MASK, o->cr0_fixed0 | ~o->cr0_fixed1 | CR0_PG | CR0_PE);
	put(l, VMCS_CR4_GUEST_HOST_MASK, o->cr4_fixed0 | ~o->cr4_fixed1 | CR4_PAE);
	put(l, VMCS_VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (26.3.1.5) */
}

/* The base of the TSS that TR names, from its 16-byte descriptor in the GDT (SDM 8.2.3). */
static uint64_t tss_base(const struct table_register *gdtr, uint16_t tr)
{
	const uint64_t *d = (const uint64_t *)(uintptr_t)(gdtr->base + (tr & ~7u));
	return ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24) | ((d[1] & 0xffffffffull) << 32);
}

static uint64_t msr_or_zero(uint32_t msr)
{
	uint64_t v = 0;
	if (probe_faulted(probe_rdmsr(msr, &v)))
		return 0;
	return v;
}

/* Host state = this guest as it runs now; a VM exit resumes it at hostile_vm_exit (26.2.2-26.2.4). */
static void put_host(struct writer *l)
{
	struct selectors s;
	struct table_register gdtr = read_gdtr(), idtr = read_idtr();

	read_selectors(&s);
	put(l, VMCS_HOST_CR0, read_cr0());
	put(l, VMCS_HOST_CR3, read_cr3());
	put(l, VMCS_HOST_CR4, read_cr4());
	put(l, VMCS_HOST_CS_SELECTOR, s.cs);
	put(l, VMCS_HOST_SS_SELECTOR, s.ss);
	put(l, VMCS_HOST_DS_SELECTOR, s.ds);
	put(l, VMCS_HOST_ES_SELECTOR, s.es);
	put(l, VMCS_HOST_FS_SELECTOR, s.fs);
	put(l, VMCS_HOST_GS_SELECTOR, s.gs);
	put(l, VMCS_HOST_TR_SELECTOR, s.tr);
	put(l, VMCS_HOST_FS_BASE, msr_or_zero(MSR_IA32_FS_BASE));
	put(l, VMCS_HOST_GS_BASE, msr_or_zero(MSR_IA32_GS_BASE));
	put(l, VMCS_HOST_TR_BASE, tss_base(&gdtr, s.tr));
	put(l, VMCS_HOST_GDTR_BASE, gdtr.base);
	put(l, VMCS_HOST_IDTR_BASE, idtr.base);
	put(l, VMCS_HOST_IA32_SYSENTER_CS, 0);
	put(l, VMCS_HOST_IA32_SYSENTER_ESP, 0);
	put(l, VMCS_HOST_IA32_SYSENTER_EIP, 0);
	put(l, VMCS_HOST_IA32_EFER, msr_or_zero(MSR_IA32_EFER));
	put(l, VMCS_HOST_RSP, pa_of(exit_stack + sizeof exit_stack));
	put(l, VMCS_HOST_RIP, (uint64_t)(uintptr_t)hostile_vm_exit);
}

static void put_segment(struct writer *l, uint32_t selector_field, uint16_t selector, uint32_t ar)
{
	/* Segment i's selector, limit, access rights and base are ES's encodings + 2i (SDM Appendix B). */
	unsigned index = (selector_field - VMCS_GUEST_ES_SELECTOR) / 2;
	put(l, selector_field, selector);
	put(l, VMCS_GUEST_ES_LIMIT + 2 * index, 0xffffffffu);
	put(l, VMCS_GUEST_ES_AR_BYTES + 2 * index, ar);
	put(l, VMCS_GUEST_ES_BASE + 2 * index, 0);
}

/* L2 starts in 64-bit mode with paging on, flat segments (26.3.1). */
static void put_guest(struct writer *l, const struct vmx_offer *o)
{
	const uint32_t code64 = 0xa09b; /* G, L, P, DPL 0, S, execute/read accessed */
	const uint32_t data = 0xc093;   /* G, D/B, P, DPL 0, S, read/write accessed */
	uint64_t cr0 = ((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG) | o->cr0_fixed0) & o->cr0_fixed1;
	uint64_t cr4 = ((CR4_PAE | CR4_VMXE) | o->cr4_fixed0) & o->cr4_fixed1;

	put(l, VMCS_GUEST_CR0, cr0);
	put(l, VMCS_CR0_READ_SHADOW, cr0);
	put(l, VMCS_GUEST_CR3, L2_PML4_GPA);
	put(l, VMCS_GUEST_CR4, cr4);
	put(l, VMCS_CR4_READ_SHADOW, cr4 & ~CR4_VMXE);
	put(l, VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	put_segment(l, VMCS_GUEST_ES_SELECTOR, 0x10, data);
	put_segment(l, VMCS_GUEST_CS_SELECTOR, 0x08, code64);
	put_segment(l, VMCS_GUEST_SS_SELECTOR, 0x10, data);
	put_segment(l, VMCS_GUEST_DS_SELECTOR, 0x10, data);
	put_segment(l, VMCS_GUEST_FS_SELECTOR, 0x10, data);
	put_segment(l, VMCS_GUEST_GS_SELECTOR, 0x10, data);
	/* TR must be a usable busy 64-bit TSS although L2 never uses it. */
	put(l, VMCS_GUEST_TR_SELECTOR, 0x18);
	put(l, VMCS_GUEST_TR_BASE, 0);
	put(l, VMCS_GUEST_TR_LIMIT, 0x67);
	put(l, VMCS_GUEST_TR_AR_BYTES, 0x8b);
	put(l, VMCS_GUEST_LDTR_SELECTOR, 0);
	put(l, VMCS_GUEST_LDTR_BASE, 0);
	put(l, VMCS_GUEST_LDTR_LIMIT, 0);
	put(l, VMCS_GUEST_LDTR_AR_BYTES, 0x10000); /* unusable */
	put(l, VMCS_GUEST_GDTR_BASE, 0);
	put(l, VMCS_GUEST_GDTR_LIMIT, 0x27);
	put(l, VMCS_GUEST_IDTR_BASE, 0);
	put(l, VMCS_GUEST_IDTR_LIMIT, 0);
	put(l, VMCS_GUEST_DR7, 0x400);
	put(l, VMCS_GUEST_IA32_DEBUGCTL, 0);
	put(l, VMCS_GUEST_RSP, L2_STACK_TOP);
	put(l, VMCS_GUEST_RIP, L2_CODE_GPA);
	put(l, VMCS_GUEST_RFLAGS, 0x2);
	put(l, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	put(l, VMCS_GUEST_SYSENTER_CS, 0);
	put(l, VMCS_GUEST_SYSENTER_ESP, 0);
	put(l, VMCS_GUEST_SYSENTER_EIP, 0);
	put(l, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	put(l, VMCS_GUEST_ACTIVITY_STATE, 0);
}

struct outcome l2_vmcs_write(const struct vmx_offer *o, const struct l2_controls *c, uint64_t eptp,
			     uint32_t *failed_field)
{
	struct writer w = { vm_succeed(), 0 };

	put_controls(&w, o, c, eptp);
	put_host(&w);
	put_guest(&w, o);
	*failed_field = w.field;
	return w.first_failure;
}

void l2_ept12_own_perms(unsigned page, uint64_t perms)
{
	ept_own.pt[page] = pa_of(l2_pages[page]) | perms | EPT_MEMTYPE_WB;
}

void l2_put_gate(unsigned vector, uint64_t handler)
{
	uint64_t low = (handler & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
	l2_write_u64(L2_IDT_GPA + 16 * vector, low);
	l2_write_u64(L2_IDT_GPA + 16 * vector + 8, handler >> 32);
}
