/*
 * What L0 takes from the multiboot2 information structure GRUB hands over:
 * the memory map, the modules and the command line.
 */
#ifndef NESTLAB_L0_MULTIBOOT2_H
#define NESTLAB_L0_MULTIBOOT2_H

#include <stdint.h>

#include "platform.h"

#define MB2_MAX_REGIONS 64
#define MB2_MAX_MODULES 16
#define MB2_MODULE_NAME_MAX 32  /* including the NUL */
#define MB2_CMDLINE_MAX 256     /* including the NUL */

#define MB2_MEMORY_AVAILABLE 1

struct mb2_region {
	uint64_t base, len;
	uint32_t type;          /* MB2_MEMORY_AVAILABLE = usable RAM */
};

struct mb2_info {
	uint64_t phys, size;    /* where the structure itself lies (to reserve it) */
	char cmdline[MB2_CMDLINE_MAX];

	struct mb2_region regions[MB2_MAX_REGIONS];
	unsigned region_count;
	unsigned regions_dropped;   /* beyond MB2_MAX_REGIONS */
	/* Only if there is no memory map: the basic lower/upper memory sizes. */
	uint64_t basic_lower_bytes, basic_upper_bytes;

	struct boot_module modules[MB2_MAX_MODULES];
	char module_names[MB2_MAX_MODULES][MB2_MODULE_NAME_MAX];
	unsigned module_count;
	unsigned modules_dropped;   /* beyond MB2_MAX_MODULES */
};

/*
 * Parse the structure at physical address phys (identity-mapped) into *out
 * and remember it for mb2_module().  Returns 0, or -1 with *why set
 * when the structure is malformed (sizes or tags out of bounds).
 */
int mb2_parse(uint64_t phys, struct mb2_info *out, const char **why);

/* The module whose command line is name, from the last mb2_parse(); NULL if none (L0's platform_module). */
const struct boot_module *mb2_module(const char *name);

#endif
