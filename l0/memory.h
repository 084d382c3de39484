/* L0's physical memory: the frame allocator behind platform_alloc(). */
#ifndef NESTLAB_L0_MEMORY_H
#define NESTLAB_L0_MEMORY_H

#include <stdint.h>

#include "multiboot2.h"

struct memory_summary {
	uint64_t usable_bytes;  /* RAM below 4 GiB the memory map calls available */
	uint64_t free_bytes;    /* what is left after the reservations */
};

/*
 * Feed the allocator from the memory map, then reserve low memory, the VMM
 * image, the multiboot2 structure and every module.  Returns 0, or -1 with
 * *why set (too many ranges, or no free memory at all).
 */
int memory_init(const struct mb2_info *mb, struct memory_summary *sum, const char **why);

#endif
