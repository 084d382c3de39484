/* The few privileged reads the hostile guest needs to describe its own state as VMCS host state. */
#ifndef NESTLAB_HOSTILE_X86_H
#define NESTLAB_HOSTILE_X86_H

#include <stdint.h>

struct table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Debug registers: not switched by VM entries and exits, so L2 sees DR0 and DR6 as they are here. */
static inline uint64_t read_dr6(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}
static inline void write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" ::"r"(v)); }
static inline void write_dr0(uint64_t v) { __asm__ volatile("mov %0, %%dr0" ::"r"(v)); }

static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

struct selectors {
	uint16_t cs, ss, ds, es, fs, gs, tr;
};

static inline void read_selectors(struct selectors *s)
{
	__asm__ volatile("mov %%cs, %0" : "=r"(s->cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(s->ss));
	__asm__ volatile("mov %%ds, %0" : "=r"(s->ds));
	__asm__ volatile("mov %%es, %0" : "=r"(s->es));
	__asm__ volatile("mov %%fs, %0" : "=r"(s->fs));
	__asm__ volatile("mov %%gs, %0" : "=r"(s->gs));
	__asm__ volatile("str %0" : "=r"(s->tr));
}

static inline struct table_register read_gdtr(void)
{
	struct table_register t;
	__asm__ volatile("sgdt %0" : "=m"(t));
	return t;
}

static inline struct table_register read_idtr(void)
{
	struct table_register t;
	__asm__ volatile("sidt %0" : "=m"(t));
	return t;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

#endif
