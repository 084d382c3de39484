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

static int map_one(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa, uint64_t hpa,
		   uint64_t perms, int leaf_level)
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
	if (*e & EPT_RWX)
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
		if (map_one(ops, root, gpa, hpa, perms, big ? 2 : 1))
			return -1;
		gpa += step;
		hpa += step;
		len -= step;
	}
	return 0;
}

int ept_translate(const struct ept_mem_ops *ops, uint64_t root, uint64_t gpa,
		  uint64_t *hpa, uint64_t *perms)
{
	uint64_t *table = ops->phys_to_ptr(ops->ctx, root & EPT_ADDR_MASK);
	for (int level = EPT_LEVELS; level >= 1; level--) {
		if (!table)
			return -2;
		uint64_t e = table[level_index(gpa, level)];
		if (!(e & EPT_RWX))
			return -1;
		/* Write without read is a misconfiguration (SDM 29.3.3.1). */
		if ((e & (EPT_READ | EPT_WRITE)) == EPT_WRITE)
			return -2;
		int leaf = level == 1 || (e & EPT_LARGE_PAGE);
		if (leaf) {
			if (level > 2)
				return -2; /* 1 GiB pages are not built by nestlab */
			uint64_t span = 1ull << (12 + 9 * (level - 1));
			*hpa = (e & EPT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
			*perms = e & EPT_RWX;
			return 0;
		}
		table = ops->phys_to_ptr(ops->ctx, e & EPT_ADDR_MASK);
	}
	return -2;
}
