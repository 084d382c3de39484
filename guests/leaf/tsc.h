/* The guest's clock: the TSC (under Bochs it counts emulated instructions). */
#ifndef NESTLAB_LEAF_TSC_H
#define NESTLAB_LEAF_TSC_H

#include <stdint.h>

/*
 * LFENCE first so that on real hardware the read is not hoisted above the
 * work being timed; the "memory" clobber keeps the compiler from moving
 * loads and stores across it either.
 */
static inline uint64_t tsc_now(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

#endif
