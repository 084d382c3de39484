/*
 * APIC virtualization for a VM (features/@apicv), the VMCS half: where
 * the processor beneath this VMM offers TPR shadow, APIC-register
 * virtualization and virtual-interrupt delivery (SDM Vol. 3 chapter 30),
 * VMCS01 runs with them, with "virtualize x2APIC mode" and the MSR bitmap
 * (apicv.h) while the guest's APIC is in x2APIC mode and "virtualize APIC
 * accesses" with an APIC-access page mapped at its base while it is in
 * xAPIC mode.  Otherwise the APIC is emulated as for every VM
 * (vm_events.h), and the lapic record says "unavailable".
 *
 * The emulated APIC stays the model: vm_events.c calls apicv_vm_pull()
 * before it looks at it in an exit and apicv_vm_enter() where it would
 * inject, which writes the page and RVI instead; the processor delivers
 * the interrupt when the guest can take it, so no interrupt window is
 * asked for.  The guest's EOIs, TPR writes and x2APIC reads no longer
 * exit; IA32_TSC_DEADLINE does (the timer multiplexer owns time).
 */
#ifndef NESTLAB_VMM_APICV_VM_H
#define NESTLAB_VMM_APICV_VM_H

#include "vm.h"
#include "vmx_caps.h"
#include "vmm.h"

/* VMCS01 current, its controls written: turn APIC virtualization on where asked and offered; -1 with *why. */
int apicv_vm_setup(struct vm *vm, const struct vmx_caps *caps, const char **why);

/* What the guest did to the virtual-APIC page since the last entry, into the emulated APIC. */
static inline void apicv_vm_pull(struct vm *vm)
{
	struct vm_apicv *a = &vm->apicv;
	/* Once per exit at most: vm_events_before_entry() says when the guest may have run since. */
	if (a->state == APICV_ON && !a->pulled) {
		apicv_pull(&vm->ev.lapic, (const uint8_t *)(uintptr_t)a->vapic_hpa, &a->sync, &a->count);
		a->pulled = 1;
	}
}

/* The VMM wrote an APIC register (msr: which MSR, 0 for the xAPIC page): the page image follows; a new
 * IA32_APIC_BASE switches the controls and the APIC-access page to the new mode (VMCS01 current). */
void apicv_vm_changed(struct vm *vm, uint32_t msr);

/* VMCS01 current, before an entry: the emulated APIC into the page, RVI and SVI; hold: no RVI yet. */
void apicv_vm_enter(struct vm *vm, int hold);

/* The 32-bit value the guest left at offset of the virtual-APIC page (an APIC-write exit's). */
static inline uint32_t apicv_vm_page_reg(const struct vm *vm, uint32_t offset)
{
	return *(const volatile uint32_t *)(uintptr_t)(vm->apicv.vapic_hpa + offset);
}

/* "on", "off" or "unavailable". */
const char *apicv_state_name(enum apicv_state s);

/* The exits APIC virtualization adds (the exit table's rows 44, 45, 56). */
enum exit_action handle_apic_access(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_eoi_induced(struct vm *vm, const struct exit_info *ei);
enum exit_action handle_apic_write(struct vm *vm, const struct exit_info *ei);

#endif
