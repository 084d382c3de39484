/*
 * Building and walking EPT paging structures (SDM 29.3).  Pure logic over
 * an abstract physical memory, so the same code runs in the VMM (identity
 * mapped) and in host unit tests (a fake memory pool).  Nested VMX (issue
 * #3) walks EPT12 with ept_translate() over the child's memory.
 */
#ifndef NESTLAB_VMM_EPT_H
#define NESTLAB_VMM_EPT_H

#include <stdint.h>

struct ept_mem_ops {
	uint64_t (*alloc_page)(void *ctx);             /* a zeroed 4 KiB page, or 0 */
	void *(*phys_to_ptr)(void *ctx, uint64_t phys); /* NULL when phys is not memory */
	void *ctx;
};

#define EPT_ADDR_MASK 0x000ffffffffff000ull
#define EPT_LEVELS 4

/* Allocate an empty PML4. Returns its physical address or 0. */
uint64_t ept_create(const struct ept_mem_ops *ops);

/*
 * Map [gpa, gpa+len) to [hpa, hpa+len) with permissions perms (EPT_READ |
 * EPT_WRITE | EPT_EXEC) and write-back memory type.  All three must be
 * 4 KiB aligned; 2 MiB pages are used where both addresses and the
 * remaining length allow it and allow_2m is set.  Fails (-1) on an
 * allocation failure or when a range is already mapped.
 */
int ept_map(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
	    uint64_t len, uint64_t perms, int allow_2m);

/*
 * Walk the structure for gpa.  Returns 0 and the host-physical address and
 * leaf permissions, or -1 if some level is not present (the EPT-violation
 * case) or malformed (-2: reserved bits, the misconfiguration case).
 */
int ept_translate(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
		  uint64_t *hpa, uint64_t *perms);

/* The EPTP for root: write-back, 4-level walk (SDM 25.6.11). */
uint64_t ept_pointer(uint64_t root);

#endif
