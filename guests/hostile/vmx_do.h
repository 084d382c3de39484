/*
 * The hostile guest's VMX instructions as outcomes (probe.h does the
 * instruction, outcome.h says what it did), the regions they name, and a
 * check of one field of the current VMCS.
 */
#ifndef NESTLAB_HOSTILE_VMX_DO_H
#define NESTLAB_HOSTILE_VMX_DO_H

#include <stdint.h>

#include "outcome.h"
#include "probe.h"

#define PAGE_SIZE 4096u
#define GOT_MAX 96
/* No processor defines a field with this encoding: natural-width host state, index 0x3ff. */
#define UNSUPPORTED_FIELD 0x7ffeu

/* A VMXON region or VMCS: 4 KiB aligned, revision identifier first (SDM 25.2, 25.11.5). */
struct vmx_region {
	uint32_t revision;
	uint8_t data[PAGE_SIZE - sizeof(uint32_t)];
} __attribute__((aligned(PAGE_SIZE)));

/* This guest runs on its parent's identity map: a linear address is its L1-physical address. */
static inline uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline struct outcome do_vmxon(uint64_t pa) { return outcome_of(probe_vmxon(&pa)); }
static inline struct outcome do_vmclear(uint64_t pa) { return outcome_of(probe_vmclear(&pa)); }
static inline struct outcome do_vmptrld(uint64_t pa) { return outcome_of(probe_vmptrld(&pa)); }
static inline struct outcome do_vmread(uint32_t field, uint64_t *v) { return outcome_of(probe_vmread(field, v)); }
static inline struct outcome do_vmwrite(uint32_t field, uint64_t v) { return outcome_of(probe_vmwrite(field, v)); }
static inline struct outcome do_vmlaunch(void) { return outcome_of(probe_vmentry(0)); }
static inline struct outcome do_vmresume(void) { return outcome_of(probe_vmentry(1)); }

/* A check that VMREAD of field in the current VMCS succeeds and gives expected; returns 1 if so. */
int check_field(const char *name, uint32_t field, uint64_t expected);

#endif
