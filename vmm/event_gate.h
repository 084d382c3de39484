/*
 * Whether a VM entry may inject an external interrupt now, as the SDM's
 * entry checks on the guest state say (Vol. 3 26.3.1.5, "Checks on Guest
 * Non-Register State": an external interrupt needs RFLAGS.IF = 1 and no
 * blocking by STI or by MOV SS), and only one event fits the entry's
 * interruption-information field (an exception the VMM injects goes first;
 * the interrupt waits for the window after it).  Pure: the callers read the
 * three values from the VMCS the entry will use.  Guests are never entered
 * halted (HLT exits and the VMM waits), so the activity state is not asked.
 */
#ifndef NESTLAB_VMM_EVENT_GATE_H
#define NESTLAB_VMM_EVENT_GATE_H

#include <stdint.h>
#include "nestlab/vmx.h"

static inline int event_gate_open(uint64_t rflags, uint32_t interruptibility, uint32_t entry_intr_info)
{
	return (rflags & RFLAGS_IF) && !(interruptibility & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !intr_info_valid(entry_intr_info);
}

#endif
