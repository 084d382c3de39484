/*
 * Checking what the parent handed over before trusting any of it: a child
 * VMM reads its path, level and modules from here, and a module outside its
 * memory would have it read or allocate what is not there.
 */
#include "l1.h"

#define PAGE 4096ull
/* Far beyond any stack the description allows (L0 to L3): a level this high is garbage. */
#define LEVEL_MAX 16u

static int terminated(const char *s, unsigned cap)
{
	for (unsigned i = 0; i < cap; i++)
		if (!s[i])
			return i > 0;
	return 0;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

const char *l1_boot_info_problem(const struct nl_guest_boot *b, uint64_t image_start, uint64_t image_end)
{
	if (b->magic != NL_GUEST_BOOT_MAGIC)
		return "bad magic (not nestlab boot information)";
	if (b->version != NL_GUEST_BOOT_VERSION)
		return "boot information of another version";
	if (!terminated(b->path, NL_PATH_MAX) || b->path[0] != 'L')
		return "path is empty, not terminated, or not a level path";
	if (b->level == 0 || b->level > LEVEL_MAX)
		return "level out of range for a child VMM";
	if (b->memory_bytes > NL_GUEST_MAP_LIMIT || b->memory_bytes % PAGE)
		return "memory_bytes beyond the 1 GiB identity map, or not whole pages";
	if (b->memory_bytes < NL_GUEST_STACK_BYTES || image_end > b->memory_bytes - NL_GUEST_STACK_BYTES)
		return "memory too small for this image and its entry stack";
	if (b->module_count > NL_GUEST_MAX_MODULES)
		return "more modules than NL_GUEST_MAX_MODULES";
	for (unsigned i = 0; i < b->module_count; i++) {
		const struct nl_boot_module *m = &b->modules[i];
		if (!terminated(m->name, NL_NAME_MAX))
			return "a module name is empty or not terminated";
		if (m->gpa % PAGE || m->gpa < NL_GUEST_IMAGE_GPA || m->size == 0)
			return "a module is unaligned, empty or below 1 MiB";
		if (m->size > b->memory_bytes - NL_GUEST_STACK_BYTES ||
		    m->gpa > b->memory_bytes - NL_GUEST_STACK_BYTES - m->size)
			return "a module runs past memory or into the entry stack";
		if (overlaps(m->gpa, m->size, image_start, image_end - image_start))
			return "a module overlaps this VMM's image";
	}
	return 0;
}
