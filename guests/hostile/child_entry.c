/*
 * The child-entry marker (include/nestlab/guest_boot.h): a parent that
 * finds it in the first NL_CHILD_ENTRY_SCAN bytes of the image treats the
 * image as a VMM and enters it at entry64 in 64-bit mode.  link.ld puts
 * the section at the image's first byte.
 */
#include "nestlab/guest_boot.h"

void hostile_entry(void);

__attribute__((used, section(".nl_child_entry"), aligned(8)))
const struct nl_child_entry hostile_child_entry = {
	.magic = NL_CHILD_ENTRY_MAGIC,
	.entry64 = (uint64_t)(uintptr_t)hostile_entry,
};
