/*
 * The multiboot2 information structure (multiboot2 specification, 3.6).
 * It comes from the loader, so every size is checked against the bounds of
 * the structure and of its tag before anything is read through it.
 */
#include <stddef.h>
#include <string.h>

#include "multiboot2.h"

#define TAG_END      0
#define TAG_CMDLINE  1
#define TAG_MODULE   3
#define TAG_BASIC_MEMINFO 4
#define TAG_MMAP     6

#define TAG_ALIGN    8
/* Anything larger than this is not a structure GRUB built. */
#define INFO_MAX_SIZE (1u << 20)

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_module {
	uint32_t type, size;
	uint32_t mod_start, mod_end;
	/* char cmdline[]: NUL-terminated */
};

struct mb2_tag_basic_meminfo {
	uint32_t type, size;
	uint32_t mem_lower, mem_upper; /* KiB below 1 MiB, KiB above 1 MiB */
};

struct mb2_tag_mmap {
	uint32_t type, size;
	uint32_t entry_size, entry_version;
	/* entries follow */
};

struct mb2_mmap_entry {
	uint64_t base, len;
	uint32_t type, reserved;
};

static const struct mb2_info *parsed;

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* Length of the NUL-terminated string at s within n bytes, or -1 if unterminated. */
static long bounded_strlen(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			return (long)i;
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int parse_module(const uint8_t *tag, uint32_t size, struct mb2_info *out, const char **why)
{
	struct mb2_tag_module m;
	if (size < sizeof m)
		return fail(why, "module tag shorter than its fixed fields");
	__builtin_memcpy(&m, tag, sizeof m);
	const char *cmd = (const char *)tag + sizeof m;
	if (bounded_strlen(cmd, size - sizeof m) < 0)
		return fail(why, "module command line not NUL-terminated inside its tag");
	if (m.mod_end < m.mod_start)
		return fail(why, "module ends before it starts");
	if (out->module_count == MB2_MAX_MODULES) {
		out->modules_dropped++;
		return 0;
	}

	unsigned i = out->module_count++;
	/* The module's name is the first word of its command line. */
	while (is_space(*cmd))
		cmd++;
	char *name = out->module_names[i];
	size_t n = 0;
	while (cmd[n] && !is_space(cmd[n]) && n < MB2_MODULE_NAME_MAX - 1) {
		name[n] = cmd[n];
		n++;
	}
	name[n] = '\0';
	out->modules[i] = (struct boot_module){
		.name = name,
		.start = m.mod_start,
		.size = (uint64_t)m.mod_end - m.mod_start,
	};
	return 0;
}

static int parse_mmap(const uint8_t *tag, uint32_t size, struct mb2_info *out, const char **why)
{
	struct mb2_tag_mmap h;
	if (size < sizeof h)
		return fail(why, "memory map tag shorter than its fixed fields");
	__builtin_memcpy(&h, tag, sizeof h);
	/* Later versions may grow an entry; never shrink it below what we read. */
	if (h.entry_size < sizeof(struct mb2_mmap_entry) || h.entry_size % 8)
		return fail(why, "memory map entry size too small or misaligned");
	for (uint32_t off = sizeof h; size - off >= h.entry_size; off += h.entry_size) {
		struct mb2_mmap_entry e;
		__builtin_memcpy(&e, tag + off, sizeof e);
		if (e.len == 0)
			continue;
		if (out->region_count == MB2_MAX_REGIONS) {
			out->regions_dropped++;
			continue;
		}
		out->regions[out->region_count++] = (struct mb2_region){ e.base, e.len, e.type };
	}
	return 0;
}

int mb2_parse(uint64_t phys, struct mb2_info *out, const char **why)
{
	__builtin_memset(out, 0, sizeof *out);
	if (phys == 0 || phys % TAG_ALIGN)
		return fail(why, "information structure address is null or misaligned");
	const uint8_t *base = (const uint8_t *)(uintptr_t)phys;
	uint32_t total;
	__builtin_memcpy(&total, base, sizeof total);
	if (total < 2 * sizeof(uint32_t) + sizeof(struct mb2_tag) || total > INFO_MAX_SIZE)
		return fail(why, "information structure size out of bounds");
	out->phys = phys;
	out->size = total;

	int seen_end = 0, seen_mmap = 0;
	uint32_t off = 2 * sizeof(uint32_t); /* total_size, reserved */
	while (!seen_end) {
		if (total - off < sizeof(struct mb2_tag))
			return fail(why, "tag header runs past the end of the structure");
		struct mb2_tag t;
		__builtin_memcpy(&t, base + off, sizeof t);
		if (t.size < sizeof t || t.size > total - off)
			return fail(why, "tag size out of bounds");
		const uint8_t *tag = base + off;
		int rc = 0;
		switch (t.type) {
		case TAG_END:
			seen_end = 1;
			break;
		case TAG_CMDLINE: {
			const char *s = (const char *)tag + sizeof t;
			long n = bounded_strlen(s, t.size - sizeof t);
			if (n < 0)
				return fail(why, "command line not NUL-terminated inside its tag");
			size_t keep = (size_t)n < MB2_CMDLINE_MAX - 1 ? (size_t)n : MB2_CMDLINE_MAX - 1;
			__builtin_memcpy(out->cmdline, s, keep);
			out->cmdline[keep] = '\0';
			break;
		}
		case TAG_MODULE:
			rc = parse_module(tag, t.size, out, why);
			break;
		case TAG_BASIC_MEMINFO: {
			struct mb2_tag_basic_meminfo b;
			if (t.size < sizeof b)
				return fail(why, "basic memory tag shorter than its fields");
			__builtin_memcpy(&b, tag, sizeof b);
			out->basic_lower_bytes = (uint64_t)b.mem_lower * 1024;
			out->basic_upper_bytes = (uint64_t)b.mem_upper * 1024;
			break;
		}
		case TAG_MMAP:
			seen_mmap = 1;
			rc = parse_mmap(tag, t.size, out, why);
			break;
		default:
			break; /* tags L0 does not use */
		}
		if (rc)
			return rc;
		/* Tags start 8-aligned; the padding after the last one may be absent. */
		uint32_t next = (t.size + TAG_ALIGN - 1) & ~(uint32_t)(TAG_ALIGN - 1);
		if (!seen_end && next > total - off)
			return fail(why, "no end tag inside the structure");
		off += next;
	}
	if (!seen_mmap && out->basic_upper_bytes == 0)
		return fail(why, "neither a memory map nor basic memory information");
	parsed = out;
	return 0;
}

const struct boot_module *mb2_module(const char *name)
{
	if (!parsed || !name)
		return NULL;
	for (unsigned i = 0; i < parsed->module_count; i++)
		if (strcmp(parsed->modules[i].name, name) == 0)
			return &parsed->modules[i];
	return NULL;
}
