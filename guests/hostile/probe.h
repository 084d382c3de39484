/*
 * Probes: one VMX instruction (or RDMSR, MOV to CR4) executed so that
 * whatever the parent answers comes back as a value instead of ending the
 * guest (probe.S, with trap.S catching the exceptions).  A probe returns
 *   - RFLAGS right after the instruction when it completed (the VMX
 *     outcome is in CF and ZF, SDM Vol. 3 31.2),
 *   - PROBE_FAULT | vector when it raised an exception instead,
 *   - PROBE_EXITED when VMLAUNCH/VMRESUME entered L2 (or failed its
 *     guest-state checks) and a VM exit brought control to HOST_RIP
 *     (hostile_vm_exit); VM_EXIT_REASON then says why.
 * RFLAGS never has bit 62 or 63 set, so the three cannot be confused.
 */
#ifndef NESTLAB_HOSTILE_PROBE_H
#define NESTLAB_HOSTILE_PROBE_H

#define PROBE_FAULT_BIT  63
#define PROBE_EXITED_BIT 62

#ifndef __ASSEMBLER__
#include <stdint.h>

#define PROBE_FAULT  (1ull << PROBE_FAULT_BIT)
#define PROBE_EXITED (1ull << PROBE_EXITED_BIT)
#define PROBE_VECTOR(raw) ((unsigned)((raw) & 0xff))

/* Memory operands name a variable holding the 64-bit physical address, as the instructions do. */
uint64_t probe_vmxon(const uint64_t *region_pa);
uint64_t probe_vmxoff(void);
uint64_t probe_vmclear(const uint64_t *vmcs_pa);
uint64_t probe_vmptrld(const uint64_t *vmcs_pa);
uint64_t probe_vmptrst(uint64_t *vmcs_pa);
/* Register forms: the field encoding in a register, the value in a register. */
uint64_t probe_vmread(uint64_t field, uint64_t *value);
uint64_t probe_vmwrite(uint64_t field, uint64_t value);
/* resume = 0: VMLAUNCH, 1: VMRESUME.  HOST_RIP must be hostile_vm_exit. */
uint64_t probe_vmentry(int resume);
/* RDMSR into *value (untouched on a fault), MOV to CR4. */
uint64_t probe_rdmsr(uint32_t msr, uint64_t *value);
uint64_t probe_write_cr4(uint64_t value);

/* Where VM exits land (HOST_RIP); only probe_vmentry() may be running when one does. */
void hostile_vm_exit(void);

static inline int probe_faulted(uint64_t raw) { return (raw & PROBE_FAULT) != 0; }
#endif

#endif
