/*
 * Loading an ELF64 executable into a guest's memory.  Pure logic over byte
 * buffers, so it is tested on the host: every offset and size of the file
 * is checked before anything is copied.
 */
#ifndef NESTLAB_LIB_ELF64_H
#define NESTLAB_LIB_ELF64_H

#include <stddef.h>
#include <stdint.h>

struct elf64_load_result {
	uint64_t entry;
	uint64_t lowest;  /* lowest address loaded */
	uint64_t highest; /* one past the highest address loaded (incl. .bss) */
};

/*
 * Copy the PT_LOAD segments of image (size bytes) into dst, which stands for
 * guest-physical addresses [dst_base, dst_base + dst_size); zero-fill each
 * segment's memsz beyond filesz.  Every segment must lie inside
 * [min_addr, dst_base + dst_size).  Returns 0, or -1 with *why set.
 */
int elf64_load(const void *image, size_t size, void *dst, uint64_t dst_base,
	       uint64_t dst_size, uint64_t min_addr, struct elf64_load_result *out,
	       const char **why);

#endif
