/*
 * Physical memory allocator fed from the multiboot2 memory map.  Pure logic
 * (ranges of addresses, no access to the memory itself), tested on the host.
 *
 * Free memory is a sorted list of disjoint ranges; reserve() cuts ranges
 * out (images, modules, the manifest, low memory), alloc() carves an aligned
 * run of bytes from the lowest range that fits, free() gives it back and
 * merges neighbours.
 */
#ifndef NESTLAB_LIB_FRAME_ALLOC_H
#define NESTLAB_LIB_FRAME_ALLOC_H

#include <stdint.h>

#define FRAME_SIZE 4096ull
#define FRAME_ALLOC_MAX_RANGES 64

struct frame_range {
	uint64_t start, end; /* [start, end), frame aligned */
};

struct frame_alloc {
	struct frame_range r[FRAME_ALLOC_MAX_RANGES];
	unsigned n;
	uint64_t free_bytes;
};

void frame_alloc_init(struct frame_alloc *fa);
/* Adds usable memory; rounds inwards to frames. Returns -1 if the table is full. */
int frame_alloc_add(struct frame_alloc *fa, uint64_t start, uint64_t len);
/* Removes [start, start+len) (rounded outwards to frames) from the free ranges. */
int frame_alloc_reserve(struct frame_alloc *fa, uint64_t start, uint64_t len);
/* Returns the address of len bytes (rounded up to frames) aligned to align (power of two >= 4096), or 0. */
uint64_t frame_alloc_alloc(struct frame_alloc *fa, uint64_t len, uint64_t align);
int frame_alloc_free(struct frame_alloc *fa, uint64_t start, uint64_t len);

#endif
