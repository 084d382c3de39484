/*
 * ELF64 executable loader (see elf64.h).  Two passes: the first checks the
 * header and every loadable segment against the file and the destination;
 * only when all of them pass does the second copy anything, so a refused
 * image leaves the destination untouched.
 */
#include <stddef.h>
#include <stdint.h>

#include "elf64.h"

#define EI_NIDENT 16
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PF_X 1

/* More program headers than any leaf or VMM image has; bounds the checks. */
#define MAX_PHNUM 64

struct elf64_ehdr {
	unsigned char e_ident[EI_NIDENT];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 header layout");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header layout");

static int refuse(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

/* Whether [addr, addr + len) lies inside [lo, hi), without overflow. */
static int range_inside(uint64_t addr, uint64_t len, uint64_t lo, uint64_t hi)
{
	return addr >= lo && addr <= hi && len <= hi - addr;
}

/* The file may be unaligned: read headers by copying, never through a cast. */
static void read_phdr(const unsigned char *file, const struct elf64_ehdr *eh, unsigned i,
		      struct elf64_phdr *ph)
{
	__builtin_memcpy(ph, file + eh->e_phoff + (uint64_t)i * sizeof *ph, sizeof *ph);
}

static const char *check_header(const unsigned char *file, size_t size, struct elf64_ehdr *eh)
{
	if (size < sizeof *eh)
		return "file shorter than an ELF64 header";
	__builtin_memcpy(eh, file, sizeof *eh);
	if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' || eh->e_ident[2] != 'L' ||
	    eh->e_ident[3] != 'F')
		return "not an ELF file (bad magic)";
	if (eh->e_ident[4] != ELFCLASS64)
		return "not a 64-bit ELF file";
	if (eh->e_ident[5] != ELFDATA2LSB)
		return "not a little-endian ELF file";
	if (eh->e_ident[6] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return "unknown ELF version";
	if (eh->e_machine != EM_X86_64)
		return "not an x86-64 ELF file";
	if (eh->e_type != ET_EXEC)
		return "not an executable (ET_EXEC) ELF file";
	if (eh->e_phentsize != sizeof(struct elf64_phdr))
		return "program header entry size is not 56";
	if (eh->e_phnum == 0 || eh->e_phnum > MAX_PHNUM)
		return "program header count is 0 or too large";
	if (!range_inside(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), 0, size))
		return "program headers lie outside the file";
	return NULL;
}

static const char *check_segment(const struct elf64_phdr *ph, size_t size, uint64_t lo, uint64_t hi)
{
	if (ph->p_filesz > ph->p_memsz)
		return "segment file size exceeds its memory size";
	if (!range_inside(ph->p_offset, ph->p_filesz, 0, size))
		return "segment contents lie outside the file";
	if (!range_inside(ph->p_paddr, ph->p_memsz, lo, hi))
		return "segment physical address range outside the allowed memory";
	if (!range_inside(ph->p_vaddr, ph->p_memsz, lo, hi))
		return "segment virtual address range outside the allowed memory";
	return NULL;
}

int elf64_load(const void *image, size_t size, void *dst, uint64_t dst_base,
	       uint64_t dst_size, uint64_t min_addr, struct elf64_load_result *out,
	       const char **why)
{
	const unsigned char *file = image;
	struct elf64_ehdr eh;
	const char *bad = check_header(file, size, &eh);
	if (bad)
		return refuse(why, bad);
	if (dst_size > ~0ull - dst_base)
		return refuse(why, "destination range wraps around the address space");
	uint64_t lo = min_addr > dst_base ? min_addr : dst_base;
	uint64_t hi = dst_base + dst_size;

	unsigned loads = 0;
	int entry_ok = 0;
	uint64_t lowest = ~0ull, highest = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		read_phdr(file, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		bad = check_segment(&ph, size, lo, hi);
		if (bad)
			return refuse(why, bad);
		/* Overlapping segments would let one's zero fill wipe another's bytes. */
		for (unsigned k = 0; k < i; k++) {
			struct elf64_phdr other;
			read_phdr(file, &eh, k, &other);
			if (other.p_type == PT_LOAD && other.p_memsz &&
			    ph.p_paddr < other.p_paddr + other.p_memsz &&
			    other.p_paddr < ph.p_paddr + ph.p_memsz)
				return refuse(why, "loadable segments overlap");
		}
		if ((ph.p_flags & PF_X) && eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz)
			entry_ok = 1;
		if (ph.p_paddr < lowest)
			lowest = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > highest)
			highest = ph.p_paddr + ph.p_memsz;
		loads++;
	}
	if (loads == 0)
		return refuse(why, "no loadable segment");
	if (!entry_ok)
		return refuse(why, "entry point outside every executable segment");

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		read_phdr(file, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		unsigned char *to = (unsigned char *)dst + (ph.p_paddr - dst_base);
		__builtin_memcpy(to, file + ph.p_offset, ph.p_filesz);
		__builtin_memset(to + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	if (out) {
		out->entry = eh.e_entry;
		out->lowest = lowest;
		out->highest = highest;
	}
	return 0;
}
