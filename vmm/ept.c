/* EPT paging-structure builder and walker; see ept.h. */
#include "ept.h"
#include "nestlab/vmx.h"

#define PAGE_4K (1ull << 12)
#define PAGE_2M (1ull << 21)

static unsigned level_index(uint64_t gpa, int level)
{
	/* level 4 = PML4 (bits 47:39) ... level 1 = PT (bits 20:12). */
	return (unsigned)((gpa >> (12 + 9 * (level - 1))) & 511);
}

uint64_t ept_create(const struct ept_mem_ops *ops)
{
	return ops->alloc_page(ops->ctx);
}

uint64_t ept_pointer(uint64_t root)
{
	return (root & EPT_ADDR_MASK) | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
}

/* The table one level below entry *e, created (read/write/execute, so that
 * only leaf entries restrict access) when absent. */
static uint64_t *next_table(const struct ept_mem_ops *ops, uint64_t *e)
{
	if (!(*e & EPT_RWX)) {
		uint64_t page = ops->alloc_page(ops->ctx);
		if (!page)
			return 0;
		*e = page | EPT_RWX;
	} else if (*e & EPT_LARGE_PAGE) {
		return 0; /* already mapped by a large page */
	}
	return ops->phys_to_ptr(ops->ctx, *e & EPT_ADDR_MASK);
}

/* Write the leaf for gpa at leaf_level, creating tables on the way.  An
 * existing leaf is an error unless replace is set. */
static int map_one(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
		   uint64_t perms, int leaf_level, int replace)
{
	uint64_t *table = ops->phys_to_ptr(ops->ctx, root);
	for (int level = EPT_LEVELS; level > leaf_level; level--) {
		if (!table)
			return -1;
		table = next_table(ops, &table[level_index(gpa, level)]);
	}
	if (!table)
		return -1;
	uint64_t *e = &table[level_index(gpa, leaf_level)];
	if ((*e & EPT_RWX) && !replace)
		return -1; /* a second mapping of one guest page is a builder bug */
	*e = hpa | (perms & EPT_RWX) | EPT_MEMTYPE_WB | (leaf_level == 2 ? EPT_LARGE_PAGE : 0);
	return 0;
}

int ept_map(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
	    uint64_t len, uint64_t perms, int allow_2m)
{
	if ((gpa | hpa | len) & (PAGE_4K - 1))
		return -1;
	while (len) {
		int big = allow_2m && !((gpa | hpa) & (PAGE_2M - 1)) && len >= PAGE_2M;
		uint64_t step = big ? PAGE_2M : PAGE_4K;
		if (map_one(ops, root, gpa, hpa, perms, big ? 2 : 1, 0))
			return -1;
		gpa += step;
		hpa += step;
		len -= step;
	}
	return 0;
}

int ept_map_page(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
		 uint64_t perms)
{
	if ((gpa | hpa) & (PAGE_4K - 1))
		return -1;
	return map_one(ops, root, gpa, hpa, perms, 1, 1);
}

/*
 * Reserved bits and memory types of a present entry (SDM 29.3.2, Tables
 * 29-1 to 29-6; 29.3.3.1).  A non-leaf entry has bits 7:3 reserved (so a
 * PML4E can never be a leaf); a leaf must not use memory types 2, 3 or 7,
 * and a 1 GiB or 2 MiB leaf must not set the address bits below its
 * alignment.  Bits above MAXPHYADDR are not checked here: the walker's
 * phys_to_ptr refuses any table outside memory, and a caller that maps a
 * leaf checks the address it gets.
 */
static int entry_malformed(uint64_t e, int level, int leaf)
{
	if (!leaf)
		return (e & 0xf8) != 0;
	unsigned memtype = (unsigned)(e >> 3) & 7;
	if (memtype == 2 || memtype == 3 || memtype == 7)
		return 1;
	if (level == 3)
		return (e & 0x3ffff000ull) != 0; /* bits 29:12 */
	if (level == 2)
		return (e & 0x001ff000ull) != 0; /* bits 20:12 */
	return 0;
}

enum ept_walk_status ept_walk(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
			      struct ept_walk *w)
{
	w->addr = 0;
	w->perms = EPT_RWX;
	uint64_t *table = ops->phys_to_ptr(ops->ctx, root & EPT_ADDR_MASK);
	/* Four reads at most, whatever the entries say: a structure that points
	 * back at itself cannot make the walk loop. */
	for (int level = EPT_LEVELS; level >= 1; level--) {
		w->level = level;
		if (!table)
			return EPT_WALK_BAD_TABLE;
		uint64_t e = table[level_index(gpa, level)];
		/* The access rights of a translation are those of every entry on
		 * the way, ANDed (SDM 29.3.3.2); a not-present entry makes them 0. */
		w->perms &= e & EPT_RWX;
		if (!(e & EPT_RWX))
			return EPT_WALK_NOT_PRESENT;
		/* Write without read (010b, 110b) is always a misconfiguration, and
		 * execute-only (100b) is one too where it is not offered (29.3.3.1). */
		if (!(e & EPT_READ))
			return EPT_WALK_MISCONFIG;
		int leaf = level == 1 || (level <= 3 && (e & EPT_LARGE_PAGE));
		if (entry_malformed(e, level, leaf))
			return EPT_WALK_MISCONFIG;
		if (leaf) {
			uint64_t span = 1ull << (12 + 9 * (level - 1));
			w->addr = (e & EPT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
			return EPT_WALK_OK;
		}
		table = ops->phys_to_ptr(ops->ctx, e & EPT_ADDR_MASK);
	}
	return EPT_WALK_MISCONFIG; /* not reached: level 1 is always a leaf */
}

int ept_translate(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
		  uint64_t *hpa, uint64_t *perms)
{
	struct ept_walk w;
	switch (ept_walk(ops, root, gpa, &w)) {
	case EPT_WALK_OK:
		*hpa = w.addr;
		*perms = w.perms;
		return 0;
	case EPT_WALK_NOT_PRESENT:
		return -1;
	case EPT_WALK_MISCONFIG:
	case EPT_WALK_BAD_TABLE:
		break;
	}
	return -2;
}

static uint64_t destroy_table(const struct ept_mem_ops *ops, uint64_t table_pa, int level,
			      void (*free_page)(void *ctx, uint64_t page))
{
	uint64_t *t = ops->phys_to_ptr(ops->ctx, table_pa);
	uint64_t leaves = 0;
	if (!t)
		return 0; /* not a page this structure could have allocated */
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		if (!(e & EPT_RWX))
			continue;
		if (level == 1 || (e & EPT_LARGE_PAGE))
			leaves++;
		else
			leaves += destroy_table(ops, e & EPT_ADDR_MASK, level - 1, free_page);
	}
	if (free_page)
		free_page(ops->ctx, table_pa);
	return leaves;
}

uint64_t ept_destroy(const struct ept_mem_ops *ops, uint64_t root, void (*free_page)(void *ctx, uint64_t page))
{
	if (!root)
		return 0;
	return destroy_table(ops, root & EPT_ADDR_MASK, EPT_LEVELS, free_page);
}
