/*
 * platform_alloc() and friends over one frame allocator, whichever platform
 * fed it: L0 from the multiboot2 memory map (memory.c), a child from the
 * memory its parent gave it (l1/memory.c).  Either way physical memory is
 * identity-mapped, so the zeroing below can write through the address.
 */
#include "platform_ops.h"

struct frame_alloc platform_frames;

uint64_t platform_alloc(uint64_t bytes, uint64_t align)
{
	if (align < FRAME_SIZE)
		align = FRAME_SIZE;
	uint64_t addr = frame_alloc_alloc(&platform_frames, bytes, align);
	if (addr) {
		/* Round as the allocator did, so the whole run it handed out is clean. */
		uint64_t len = (bytes + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
		__builtin_memset((void *)(uintptr_t)addr, 0, len);
	}
	return addr;
}

void platform_free(uint64_t addr, uint64_t bytes)
{
	if (frame_alloc_free(&platform_frames, addr, bytes))
		con_printf("%s: platform_free(0x%llx, %llu) refused: not an allocated run, or the free list is full\n",
			   platform_path(), (unsigned long long)addr, (unsigned long long)bytes);
}
