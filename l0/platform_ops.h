/*
 * Which platform the VMM image stands on.  One image serves every level:
 * started by GRUB it is L0 on the hardware,
 * started by a parent nestlab VMM it is a child.  Its entry decides which
 * and selects the matching table before anything else runs; the functions
 * of platform.h that differ between the two go through this table, the rest
 * (records, memory, host state, descriptor tables) are shared code.
 */
#ifndef NESTLAB_L0_PLATFORM_OPS_H
#define NESTLAB_L0_PLATFORM_OPS_H

#include <stddef.h>
#include "frame_alloc.h"
#include "platform.h"

struct platform_ops {
	/* Console text: COM1 at L0, CONSOLE_WRITE hypercalls for a child. */
	void (*con_write)(const char *s, size_t n);
	/* One finished record line, no newline: COM1 at L0, FORWARD_RECORD for a child. */
	void (*write_record_line)(const char *line, size_t n);
	/* Boot modules: multiboot2 at L0, the parent's copies for a child. */
	const struct boot_module *(*module)(const char *name);
	/* Power off (L0) or leave with NL_HC_EXIT (a child). */
	__attribute__((noreturn)) void (*shutdown)(int status);
};

/*
 * Make ops this image's platform, with its path ("L0", "L0/hv1", ...; copied)
 * and level (0 at the root).  Called first thing by l0_main and l1_main;
 * nothing of platform.h works before.  A child may call it again once it
 * has checked its boot information and knows its real path and level.
 */
void platform_select(const struct platform_ops *ops, const char *path, unsigned level);

/* The frames platform_alloc() hands out; each platform feeds it at boot. */
extern struct frame_alloc platform_frames;

#endif
