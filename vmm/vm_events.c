/* Interrupts into a VM: its local APIC, the APIC timer, injection and event windows (vm_events.h). */
#include "cpu.h"
#include "event_gate.h"
#include "jsonw.h"
#include "nested_runtime.h"
#include "nestlab/records.h"
#include "platform.h"
#include "vm_events.h"
#include "vmcs_setup.h"
#include "vmm.h"
#include "vmx_ops.h"
#include "single_step.h"
#include "guest_state.h"
#include "mmio_decode.h"
#include "nested.h"
#include "apicv_vm.h"

/* Every counter has its place in the record's list (nestlab/records.h). */
#define ONE(s, n) +1
_Static_assert(sizeof(struct vlapic_counters) == 8 * (0 NL_LAPIC_COUNTERS(ONE, _)), "NL_LAPIC_COUNTERS lists every counter");
_Static_assert(sizeof(struct vm_event_counters) == 8 * (0 NL_EVENT_COUNTERS(ONE, _)), "NL_EVENT_COUNTERS lists every counter");
_Static_assert(sizeof(struct apicv_counters) == 8 * (0 NL_APICV_COUNTERS(ONE, _)), "NL_APICV_COUNTERS lists every counter");
#undef ONE

void vm_events_init(struct vm *vm, uint64_t tsc_khz)
{
	uint64_t ratio = tsc_khz / VM_APIC_BUS_KHZ;
	struct vlapic_config cfg = {
		.apic_id = 0, /* one virtual CPU per VM */
		.tsc_per_bus_tick = ratio ? (uint32_t)(ratio < VLAPIC_MAX_TSC_PER_BUS_TICK ? ratio : VLAPIC_MAX_TSC_PER_BUS_TICK) : 1,
		.bsp = 1,
		.x2apic = 1,
		.tsc_deadline = 1,
		.eoi_suppress = 1,
	};
	vm->ev = (struct vm_events){ 0 };
	vlapic_init(&vm->ev.lapic, &cfg);
}

/* The timer's next expiration, as the multiplexer must know it. */
static void register_timer(struct vm *vm)
{
	uint64_t next = vlapic_timer_next(&vm->ev.lapic, 0);
	vmm_timer_set(TIMER_LAPIC, vm, next == VLAPIC_TIMER_NONE ? TIMER_NONE : next);
}

/* The APIC timer brought up to now: expirations into the IRR, how late the VMM saw them counted. */
static unsigned advance(struct vm *vm, uint64_t now)
{
	struct vlapic *l = &vm->ev.lapic;
	uint64_t due = vlapic_timer_next(l, now);
	if (due == VLAPIC_TIMER_NONE || due > now)
		return 0;
	/* How late the VMM saw it: the guest was not running, or the VMM was busy elsewhere. */
	uint64_t late = now - due;
	vm->ev.count.timer_delay_ticks += late;
	if (late > vm->ev.count.timer_delay_max)
		vm->ev.count.timer_delay_max = late;
	return vlapic_timer_advance(l, now);
}

int vm_apic_msr_read(struct vm *vm, uint32_t msr, uint64_t *val)
{
	uint64_t now = rdtsc();
	apicv_vm_pull(vm);
	/* A read shows what has come by now (vlapic.h's time contract); what came is delivered next. */
	if (advance(vm, now))
		vm_events_poke(vm);
	return vlapic_msr_read(&vm->ev.lapic, msr, now, val) == VLAPIC_OK ? 0 : -1;
}

int vm_apic_msr_write(struct vm *vm, uint32_t msr, uint64_t val)
{
	uint64_t now = rdtsc();
	apicv_vm_pull(vm);
	unsigned fired = advance(vm, now);
	enum vlapic_status st = vlapic_msr_write(&vm->ev.lapic, msr, val, now);
	if (msr != MSR_IA32_TSC_DEADLINE)
		apicv_vm_changed(vm, msr); /* IA32_TSC_DEADLINE is in no page */
	/*
	 * A new deadline in the future only moves the timer; one already past
	 * fired in the write (vlapic.c), and an EOI, TPR or self IPI may make a
	 * vector deliverable: look before the next entry.
	 */
	if (msr == MSR_IA32_TSC_DEADLINE && !fired && vlapic_pending_vector(&vm->ev.lapic) < 0)
		register_timer(vm);
	else
		vm_events_poke(vm);
	return st == VLAPIC_OK ? 0 : -1;
}

/* Turn one window-exiting control of VMCS01 (current) on or off; *flag keeps what the VMCS holds. */
static void window_control(uint32_t control, int on, uint8_t *flag)
{
	uint32_t proc = vmcs_read32(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	vmcs_write32(VMCS_CPU_BASED_VM_EXEC_CONTROL, on ? proc | control : proc & ~control);
	*flag = (uint8_t)on;
}

static void window_set(struct vm *vm, int on)
{
	window_control(CPU_INTR_WINDOW_EXITING, on, &vm->ev.window);
}

static void nmi_window_set(struct vm *vm, int on)
{
	window_control(CPU_NMI_WINDOW_EXITING, on, &vm->ev.nmi_window);
}

/* An interrupt waits for the guest's window: ask for the exit (once), and time the wait. */
static void ask_window(struct vm *vm, uint64_t now)
{
	struct vm_events *ev = &vm->ev;
	if (ev->window)
		return;
	window_set(vm, 1);
	ev->window_since = now;
	ev->count.window_asks++;
}

/* Nothing waits for the window any more. */
static void drop_window(struct vm *vm)
{
	if (vm->ev.window)
		window_set(vm, 0);
}

/*
 * The NMI the APIC latched: injected when nothing blocks it (SDM 26.3.1.5:
 * no MOV-SS blocking for an NMI; as KVM, no STI blocking either; and no
 * virtual-NMI blocking, which the processor keeps from the injection to
 * the guest's IRET).  Held by the guest's NMI handler, it waits for the NMI
 * window (where the processor has virtual NMIs); held by an STI or MOV-SS
 * shadow alone, for the interrupt window, which opens after the shielded
 * instruction when IF is set; otherwise for the VM's next exit.  Never a
 * look at once: with the shadow still reported it would exit before the
 * shielded instruction, find the same shadow, and never let it run.
 * 1 when an event is in the entry now (the NMI, or one there before it),
 * so nothing else goes in.
 */
static int deliver_nmi(struct vm *vm, uint64_t now)
{
	struct vm_events *ev = &vm->ev;
	uint32_t info = vmcs_read32(VMCS_VM_ENTRY_INTR_INFO_FIELD);
	uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (!intr_info_valid(info) &&
	    !(blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI))) {
		if (ev->nmi_window)
			nmi_window_set(vm, 0);
		vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_NMI, VECTOR_NMI));
		vlapic_nmi_take(&ev->lapic);
		ev->count.nmi_injected++;
		return 1;
	}
	if (blocking & INTERRUPTIBILITY_NMI) {
		/* Blocked by the guest's own NMI handler: the window opens at its IRET (26.7.6). */
		if (((uint32_t)(vmm_caps->pinbased >> 32) & PIN_VIRTUAL_NMIS) && !ev->nmi_window) {
			nmi_window_set(vm, 1);
			ev->count.nmi_window_asks++;
		}
	} else if (!intr_info_valid(info) && (vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF)) {
		ask_window(vm, now); /* past the shadow, the window exit's look injects it */
	}
	return intr_info_valid(info);
}

/*
 * With APIC virtualization (apicv_vm.h) an NMI goes in as without it; an
 * interrupt is the processor's to deliver from RVI once the guest can take
 * it (SDM 30.2.2), so it needs no window.  Stepped by RFLAGS.TF, the VM
 * gets no RVI until its HLT or its last step, for the reason deliver() says.
 */
static void deliver_virtualized(struct vm *vm, uint64_t now, int at_halt)
{
	int hold = vm->step.by_tf && vm_stepping(vm) && !at_halt;
	if (vlapic_nmi_pending(&vm->ev.lapic) && !hold)
		deliver_nmi(vm, now);
	/* A window an NMI asked for, once no NMI waits on it: left on, it would hold RVI's delivery back (SDM 30.2.1). */
	if (!vlapic_nmi_pending(&vm->ev.lapic))
		drop_window(vm);
	apicv_vm_enter(vm, hold);
}

/*
 * VMCS01 current: inject the deliverable vector if the guest can take it,
 * else ask for the window.  No exit of VMCS01 is followed by re-delivery
 * from its IDT-vectoring information: every exit that can interrupt a
 * delivery there (an exception, an EPT violation) stops the VM, so an
 * injection written here never displaces an event being delivered.
 */
static void deliver(struct vm *vm, uint64_t now)
{
	struct vm_events *ev = &vm->ev;
	int vector = vlapic_pending_vector(&ev->lapic), nmi = vlapic_nmi_pending(&ev->lapic);
	int at_halt = ev->at_halt;
	ev->at_halt = 0;
	if (vm->apicv.state == APICV_ON) {
		deliver_virtualized(vm, now, at_halt);
		return;
	}
	if (vector < 0 && !nmi) {
		drop_window(vm);
		return;
	}
	/*
	 * Single-stepped by RFLAGS.TF, the VM shows no STI shadow at its step
	 * exits (Bochs reports none after a stepped STI, nested_mtf.c) and the
	 * entry drops the blocking (step_entry_state()): an interrupt injected
	 * or a window asked for now could land between STI and the instruction
	 * it shields.  The interrupt waits for the VM's HLT (where the shadow
	 * has ended) or for its last step (single_step.c pokes).
	 */
	if (vm->step.by_tf && vm_stepping(vm) && !at_halt)
		return;
	/* An NMI first (SDM 6.9: above maskable interrupts); one event per entry. */
	if (nmi && deliver_nmi(vm, now)) {
		/* An interrupt waits behind it: the window opens when the guest's IF does (its handler's IRET). */
		if (vector >= 0)
			ask_window(vm, now);
		return;
	}
	if (vector < 0) {
		if (!nmi)
			drop_window(vm);
		return; /* a waiting NMI may have asked for the interrupt window itself (deliver_nmi()) */
	}
	if (!event_gate_open(vmcs_readnat(VMCS_GUEST_RFLAGS), vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO),
			     vmcs_read32(VMCS_VM_ENTRY_INTR_INFO_FIELD))) {
		ask_window(vm, now);
		return;
	}
	drop_window(vm);
	/* The acknowledge: IRR -> ISR, or the spurious vector if priorities changed meanwhile (they cannot here). */
	int taken = vlapic_ack(&ev->lapic, (unsigned)vector);
	vmcs_write32(VMCS_VM_ENTRY_INTR_INFO_FIELD, intr_info_event(INTR_TYPE_EXT_INTR, (unsigned)taken));
	ev->count.injected++;
}

void vm_events_look(struct vm *vm, uint64_t now)
{
	apicv_vm_pull(vm);
	advance(vm, now);
	register_timer(vm); /* the next look: the APIC timer's next expiration, unless poked again */
	if (vm_in_l2(vm)) {
		/* L1's interrupt while its L2 runs: VMCS12 says what becomes of it; it may bring L1 back. */
		nested_l2_interrupt(vm, now);
		if (vm_in_l2(vm))
			return;
	}
	vmcs_load(vm->vmcs01.hpa);
	deliver(vm, now);
}

void vm_events_halt(struct vm *vm)
{
	struct vm_events *ev = &vm->ev;
	apicv_vm_pull(vm);
	/* The HLT is done: the STI or MOV SS blocking it stood in has ended with it. */
	uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_INFO,
			     blocking & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	advance(vm, rdtsc());
	/* The next look follows the HLT, now or at the wake-up: no instruction runs before it, even while stepped. */
	ev->at_halt = 1;
	/* An NMI ends a halt whatever RFLAGS.IF says; an interrupt only with IF set. */
	if (vlapic_nmi_pending(&ev->lapic) ||
	    ((vmcs_readnat(VMCS_GUEST_RFLAGS) & RFLAGS_IF) && vlapic_pending_vector(&ev->lapic) >= 0)) {
		ev->count.hlt_passed++;
		vm_events_poke(vm);
		return;
	}
	ev->count.hlt_blocks++;
	/* Its APIC timer's next expiration wakes it (an own timer, folded in by block_until), not a poke. */
	register_timer(vm);
	vmm_sched_block_until(vm, SCHED_NEVER);
}

void vm_events_nmi_window_open(struct vm *vm)
{
	vm->ev.count.nmi_window_exits++;
	nmi_window_set(vm, 0);
	vm_events_poke(vm);
}

void vm_events_window_open(struct vm *vm)
{
	struct vm_events *ev = &vm->ev;
	uint64_t waited = rdtsc() - ev->window_since;
	ev->count.window_exits++;
	ev->count.window_wait_ticks += waited;
	if (waited > ev->count.window_wait_max)
		ev->count.window_wait_max = waited;
	window_set(vm, 0);
	vm_events_poke(vm);
}

unsigned vm_code_fetch(struct vm *vm, uint64_t rip, uint8_t *code, unsigned max)
{
	const struct guest_mem mem = { vm_gpa_ptr(vm, 0), vm->mem_bytes };
	uint64_t cr0 = vmcs_readnat(VMCS_GUEST_CR0), cr3 = vmcs_readnat(VMCS_GUEST_CR3);
	uint64_t cr4 = vmcs_readnat(VMCS_GUEST_CR4), efer = vmcs_read64(VMCS_GUEST_IA32_EFER), gpa = 0;
	unsigned n = 0;
	for (; n < max; n++) {
		/* A new translation at the start and where the instruction crosses into the next page. */
		if ((n == 0 || ((rip + n) & 0xfff) == 0) && guest_linear_to_phys(&mem, cr0, cr3, cr4, efer, rip + n, 0, &gpa))
			break;
		if (!guest_mem_ok(&mem, gpa, 1))
			break;
		code[n] = *(const uint8_t *)guest_mem_ptr(&mem, gpa++);
	}
	return n;
}

/*
 * The MOV at RIP that accessed offset of the xAPIC page, done on the APIC
 * and RIP moved past it; ok says the exit's own checks passed and store
 * which way the exit says the access went.  Only a data access of the
 * instruction at RIP itself is emulated (SDM 28.2.1), not during an
 * event's delivery (the IDT or a stack there), in 64-bit mode (the
 * decoder's), in the direction the MOV goes and inside the page.  Anything
 * else stops the VM.
 */
static void xapic_mov(struct vm *vm, const struct exit_info *ei, uint32_t offset, int ok, int store)
{
	struct vlapic *l = &vm->ev.lapic;
	uint8_t code[MMIO_INSN_MAX];
	struct mmio_insn in;
	if (!ok || intr_info_valid(vmcs_read32(VMCS_IDT_VECTORING_INFO_FIELD)) ||
	    !guest_64bit_mode(vmcs_read64(VMCS_GUEST_IA32_EFER)) || mmio_decode(code, vm_code_fetch(vm, vmcs_readnat(VMCS_GUEST_RIP), code, MMIO_INSN_MAX), &in) ||
	    !!store != in.store || offset + in.size > APIC_MMIO_SIZE) {
		vm_fault(vm, ei, "an access to the xAPIC page that is not a MOV nestlab emulates");
		return;
	}
	uint64_t now = rdtsc();
	apicv_vm_pull(vm);
	unsigned fired = advance(vm, now);
	if (in.store) {
		uint64_t v = in.has_imm ? in.imm : guest_gpr(vm, in.reg) >> (in.high_byte ? 8 : 0);
		vlapic_mmio_write(l, offset, in.size, v, now);
		apicv_vm_changed(vm, 0);
		vm_events_poke(vm); /* an EOI, TPR or timer write: look before the entry */
	} else {
		uint64_t v = 0, old = guest_gpr(vm, in.reg);
		vlapic_mmio_read(l, offset, in.size, now, &v);
		/* AH..BH are bits 15:8; every other register takes the load by the usual rule. */
		v = in.high_byte ? (old & ~0xff00ull) | ((v & 0xff) << 8) : gpr_after_load(old, v, in.size);
		guest_set_gpr(vm, in.reg, v);
		if (fired)
			vm_events_poke(vm); /* what came by now is delivered before the next entry */
	}
	vmcs_writenat(VMCS_GUEST_RIP, vmcs_readnat(VMCS_GUEST_RIP) + in.len);
	vm->ev.count.xapic_accesses++;
}

int vm_events_xapic_access(struct vm *vm, const struct exit_info *ei)
{
	struct vlapic *l = &vm->ev.lapic;
	if (vm_in_l2(vm) || vlapic_mode(l) != VLAPIC_MODE_XAPIC)
		return 0;
	uint64_t gpa = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS), base = vlapic_base_gpa(l);
	if (gpa < base || gpa - base >= APIC_MMIO_SIZE)
		return 0;
	uint64_t q = ei->qualification;
	/* A linear address translated to the page (not a page walk through it), not a fetch. */
	int ok = (q & (EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_TRANSLATED)) == (EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_TRANSLATED) &&
		 !(q & EPT_QUAL_FETCH);
	xapic_mov(vm, ei, (uint32_t)(gpa - base), ok, (q & EPT_QUAL_WRITE) != 0);
	return 1;
}

void vm_events_apic_access(struct vm *vm, const struct exit_info *ei)
{
	/* SDM 28.2.1 Table 28-6: only a linear data access of the instruction is a MOV to emulate. */
	unsigned type = (unsigned)((ei->qualification & APIC_ACCESS_QUAL_TYPE_MASK) >> APIC_ACCESS_QUAL_TYPE_SHIFT);
	xapic_mov(vm, ei, (uint32_t)(ei->qualification & APIC_ACCESS_QUAL_OFFSET),
		  type == APIC_ACCESS_LINEAR_READ || type == APIC_ACCESS_LINEAR_WRITE, type == APIC_ACCESS_LINEAR_WRITE);
}

void vm_events_apic_write(struct vm *vm, uint32_t offset, uint32_t val)
{
	struct vlapic *l = &vm->ev.lapic;
	uint64_t now = rdtsc();
	apicv_vm_pull(vm);
	advance(vm, now);
	if (vlapic_mode(l) == VLAPIC_MODE_X2APIC) {
		vlapic_msr_write(l, X2APIC_MSR(offset), val, now);
	} else {
		/* The processor takes ICR_HI into the page without an exit (Bochs does): the IPI the ICR_LO write sends needs it. */
		if (offset == APIC_REG_ICR_LO)
			vlapic_mmio_write(l, APIC_REG_ICR_HI, 4, apicv_vm_page_reg(vm, APIC_REG_ICR_HI), now);
		vlapic_mmio_write(l, offset, 4, val, now);
	}
	apicv_vm_changed(vm, 0);
	vm_events_poke(vm);
}

static const char *mode_name(enum vlapic_mode m)
{
	return m == VLAPIC_MODE_X2APIC ? "x2apic" : m == VLAPIC_MODE_XAPIC ? "xapic" : "disabled";
}

void vm_events_record(struct vm *vm)
{
	apicv_vm_pull(vm); /* the last EOIs the processor did */
	const struct apicv_counters *v = &vm->apicv.count;
	const struct vlapic_counters *a = &vm->ev.lapic.stats;
	const struct vm_event_counters *e = &vm->ev.count;
	/* A VM whose APIC and delivery counters are all zero has nothing to say, and bytes cost time. */
#define ANY(s, n) || (s)->n
	if (!(0 NL_LAPIC_COUNTERS(ANY, a) NL_EVENT_COUNTERS(ANY, e) NL_APICV_COUNTERS(ANY, v)))
		return;
#undef ANY
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_LAPIC);
	jsonw_str(&w, NL_KEY_VM, vm->path);
	jsonw_str(&w, "mode", mode_name(vlapic_mode(&vm->ev.lapic)));
	jsonw_str(&w, "apicv", apicv_state_name((enum apicv_state)vm->apicv.state));
	/* Zeros left out: every byte costs emulated time at the end of a run (nestlab/records.h). */
#define COUNTER(s, n)                     \
	if ((s)->n)                       \
		jsonw_u64(&w, #n, (s)->n);
	NL_LAPIC_COUNTERS(COUNTER, a)
	NL_EVENT_COUNTERS(COUNTER, e)
	NL_APICV_COUNTERS(COUNTER, v)
#undef COUNTER
	rec_emit(&w);
}
