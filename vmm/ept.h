/*
 * Building and walking EPT paging structures (SDM 29.3).  Pure logic over
 * an abstract physical memory, so the same code runs in the VMM (identity
 * mapped) and in host unit tests (a fake memory pool).  Nested VMX (issue
 * #3) walks EPT12 with ept_walk() over the child's memory.
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
 * Map the 4 KiB page at gpa to hpa with perms, replacing an existing 4 KiB
 * mapping of it (a shadow EPT refills a page whose permissions grew).
 * -1 on an unaligned address, an allocation failure, or when a 2 MiB page
 * already covers gpa.
 */
int ept_map_page(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
		 uint64_t perms);

/* The outcome of a walk, in the order the SDM checks them (29.3.3). */
enum ept_walk_status {
	EPT_WALK_OK = 0,
	EPT_WALK_NOT_PRESENT = -1, /* an entry with bits 2:0 clear: the EPT-violation case */
	EPT_WALK_MISCONFIG = -2,   /* a present entry that is malformed (29.3.3.1) */
	EPT_WALK_BAD_TABLE = -3,   /* an entry (or the root) names a table that is not memory */
};

struct ept_walk {
	uint64_t addr;  /* EPT_WALK_OK: the translated address */
	uint64_t perms; /* EPT_RWX bits ANDed over every entry read, 0 if one was not present */
	int level;      /* the leaf's level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB), or where the walk stopped */
};

/*
 * Walk the 4-level structure rooted at root for gpa, as the processor does
 * (SDM 29.3.2), checking each present entry for the misconfigurations of
 * 29.3.3.1.  nestlab never offers execute-only translations, so an entry
 * with X but not R is a misconfiguration like one with W but not R.
 * Accessed/dirty flags are neither checked nor set.
 */
enum ept_walk_status ept_walk(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
			      struct ept_walk *w);

/*
 * ept_walk() reduced to three answers: 0 and the host-physical address and
 * effective permissions, -1 if some level is not present (the EPT-violation
 * case), -2 if the structure is malformed (the misconfiguration case).
 */
int ept_translate(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
		  uint64_t *hpa, uint64_t *perms);

/*
 * Free every table of the structure rooted at root (not the memory its
 * leaves map), root included.  Returns how many leaf entries it held.
 */
uint64_t ept_destroy(const struct ept_mem_ops *ops, uint64_t root, void (*free_page)(void *ctx, uint64_t page));

/* The EPTP for root: write-back, 4-level walk (SDM 25.6.11). */
uint64_t ept_pointer(uint64_t root);

#endif
