/* The child platform's parts (l1/): what l1_main puts together. */
#ifndef NESTLAB_L1_L1_H
#define NESTLAB_L1_L1_H

#include <stdint.h>

#include "nestlab/guest_boot.h"
#include "platform_ops.h"

/* The platform a child VMM stands on: its parent's hypercalls (platform.c). */
extern const struct platform_ops l1_ops;

/*
 * What is wrong with the boot information the parent gave, or NULL: magic,
 * version, path, level, memory size, and every module inside memory, above
 * the image [image_start, image_end) and below the stack (boot_info.c).
 */
const char *l1_boot_info_problem(const struct nl_guest_boot *b, uint64_t image_start, uint64_t image_end);

/* Take the modules of checked boot information as platform_module()'s (platform.c). */
void l1_modules_init(const struct nl_guest_boot *b);
unsigned l1_module_count(void);

/*
 * Feed platform_alloc() with this VMM's memory: [1 MiB, memory_bytes) minus
 * the image, the modules and the top NL_GUEST_STACK_BYTES (memory.c).
 * Returns 0 with *free_bytes, or -1 with *why.
 */
int l1_memory_init(const struct nl_guest_boot *b, uint64_t image_start, uint64_t image_end,
		   uint64_t *free_bytes, const char **why);

#endif
