/*
 * A child VMM's memory: the guest-physical memory its parent gave it,
 * identity-mapped by the parent's page tables, fed to the allocator behind
 * platform_alloc() (l0/platform_memory.c) minus what is already taken.
 */
#include "l1.h"

#define MIB (1024ull * 1024ull)
/* Below 1 MiB: the boot information, GDT and page tables the parent built. */
#define LOW_MEMORY_END MIB

int l1_memory_init(const struct nl_guest_boot *b, uint64_t image_start, uint64_t image_end,
		   uint64_t *free_bytes, const char **why)
{
	/* The parent's stack for our entry: l1_entry64 left it, but it is not ours to hand out. */
	uint64_t top = b->memory_bytes - NL_GUEST_STACK_BYTES;

	frame_alloc_init(&platform_frames);
	if (frame_alloc_add(&platform_frames, LOW_MEMORY_END, top - LOW_MEMORY_END)) {
		*why = "cannot add this VMM's memory to the frame allocator";
		return -1;
	}
	int rc = frame_alloc_reserve(&platform_frames, image_start, image_end - image_start);
	for (unsigned i = 0; i < b->module_count; i++)
		rc |= frame_alloc_reserve(&platform_frames, b->modules[i].gpa, b->modules[i].size);
	if (rc) {
		*why = "reserving the image and modules split the free memory into too many ranges";
		return -1;
	}
	*free_bytes = platform_frames.free_bytes;
	if (!*free_bytes) {
		*why = "no free memory once the image and modules are reserved";
		return -1;
	}
	return 0;
}
