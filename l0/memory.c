/*
 * Physical memory for L0 and its VMs: feeds the allocator behind
 * platform_alloc() (platform_memory.c).  Only memory below 4 GiB is handed
 * out, because that is all boot.S identity-maps and the VMM dereferences
 * physical addresses directly.
 */
#include "memory.h"
#include "platform_ops.h"

#define MIB (1024ull * 1024ull)
#define MAPPED_LIMIT (4096ull * MIB)
/* Real-mode IVT, BIOS data, EBDA, VGA and ROMs: never ours to hand out. */
#define LOW_MEMORY_END MIB

extern char __image_start[], __image_end[];

static uint64_t clip_to_mapped(uint64_t base, uint64_t len)
{
	if (base >= MAPPED_LIMIT)
		return 0;
	return len < MAPPED_LIMIT - base ? len : MAPPED_LIMIT - base;
}

static int add_usable(const struct mb2_info *mb, uint64_t *usable)
{
	*usable = 0;
	for (unsigned i = 0; i < mb->region_count; i++) {
		const struct mb2_region *r = &mb->regions[i];
		if (r->type != MB2_MEMORY_AVAILABLE)
			continue;
		uint64_t len = clip_to_mapped(r->base, r->len);
		if (len == 0)
			continue;
		if (frame_alloc_add(&platform_frames, r->base, len))
			return -1;
	}
	/* Without a memory map, the basic tag still tells us the RAM above 1 MiB. */
	if (mb->region_count == 0 && mb->basic_upper_bytes)
		if (frame_alloc_add(&platform_frames, MIB, clip_to_mapped(MIB, mb->basic_upper_bytes)))
			return -1;
	*usable = platform_frames.free_bytes;
	return 0;
}

int memory_init(const struct mb2_info *mb, struct memory_summary *sum, const char **why)
{
	frame_alloc_init(&platform_frames);
	if (add_usable(mb, &sum->usable_bytes)) {
		*why = "memory map has more usable ranges than the frame allocator holds";
		return -1;
	}

	int rc = frame_alloc_reserve(&platform_frames, 0, LOW_MEMORY_END);
	rc |= frame_alloc_reserve(&platform_frames, (uint64_t)(uintptr_t)__image_start,
				  (uint64_t)(uintptr_t)(__image_end - __image_start));
	rc |= frame_alloc_reserve(&platform_frames, mb->phys, mb->size);
	for (unsigned i = 0; i < mb->module_count; i++)
		rc |= frame_alloc_reserve(&platform_frames, mb->modules[i].start, mb->modules[i].size);
	if (rc) {
		*why = "reserving the image and modules split the free memory into too many ranges";
		return -1;
	}
	sum->free_bytes = platform_frames.free_bytes;
	if (sum->free_bytes == 0) {
		*why = "no free memory below 4 GiB once the image and modules are reserved";
		return -1;
	}
	return 0;
}
