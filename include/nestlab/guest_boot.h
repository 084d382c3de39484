/*
 * What a VMM tells a leaf guest at entry.  The guest starts in 64-bit mode
 * with paging on (guest-physical memory identity-mapped from 0 to 1 GiB
 * with 2 MiB pages, so addresses past its memory reach EPT violations, not
 * page faults), interrupts off, RSP at the top of its memory and RDI
 * holding the guest-physical address of this structure.
 *
 * Guest-physical layout built by the VMM:
 *   0x0000  not mapped by EPT use (null page; left unused)
 *   0x1000  struct nl_guest_boot
 *   0x2000  GDT (null, 64-bit code 0x08, data 0x10, TSS 0x18); the TSS at 0x2800
 *   0x3000  PML4, 0x4000 PDPT, 0x5000 PD (page tables of the identity map)
 *   0x100000 and up: the ELF image's PT_LOAD segments (the image is linked there)
 *   memory_bytes - 1 downwards: the stack
 *
 * A guest that is itself a nestlab VMM (NL_VM_VMM) gets the same, plus its
 * level and its boot modules (its sub-manifest as "manifest", then every
 * image its own VMs need), copied by the parent above the child's image,
 * 4 KiB aligned, below the stack's 64 KiB.  It is entered not at its ELF
 * entry (the 32-bit multiboot2 one) but at the address its child-entry
 * marker names (struct nl_child_entry).
 */
#ifndef NESTLAB_GUEST_BOOT_H
#define NESTLAB_GUEST_BOOT_H

#include <stdint.h>
#include "manifest.h"

#define NL_GUEST_BOOT_MAGIC   0x544f4f42474c4e00ull /* "\0NLGBOOT" */
#define NL_GUEST_BOOT_VERSION 2u /* 2: level and modules for a child VMM */

#define NL_GUEST_BOOT_GPA   0x1000ull
#define NL_GUEST_GDT_GPA    0x2000ull
#define NL_GUEST_PML4_GPA   0x3000ull
#define NL_GUEST_PDPT_GPA   0x4000ull
#define NL_GUEST_PD_GPA     0x5000ull
#define NL_GUEST_IMAGE_GPA  0x100000ull /* lowest address a guest image may load at */
#define NL_GUEST_MAP_LIMIT  0x40000000ull /* the guest page tables map [0, 1 GiB) */
#define NL_GUEST_STACK_BYTES 0x10000ull   /* the top 64 KiB of guest memory: the entry stack */

#define NL_GUEST_CS 0x08
#define NL_GUEST_DS 0x10
#define NL_GUEST_TSS_SEL 0x18   /* a 16-byte 64-bit TSS descriptor */
#define NL_GUEST_GDT_LIMIT 0x27 /* null, code, data, TSS (two slots) */
#define NL_GUEST_TSS_GPA 0x2800ull /* the TSS itself, in the GDT page */

#define NL_PATH_MAX 128u
#define NL_GUEST_MAX_MODULES 8u

/*
 * The child-entry marker: a VMM image holds one, 8-byte aligned, in the
 * first 32 KiB of its lowest loaded segment (right after its multiboot2
 * header).  A parent that finds it enters the image at entry64 in 64-bit
 * mode with this file's contract; an image without it is not a nestlab VMM.
 */
#define NL_CHILD_ENTRY_MAGIC 0x31444c4948434c4eull /* "NLCHILD1" read as little-endian */
#define NL_CHILD_ENTRY_SCAN  0x8000ull             /* how far from the image's start to look */

struct nl_child_entry {
	uint64_t magic;   /* NL_CHILD_ENTRY_MAGIC */
	uint64_t entry64; /* guest-physical address of the 64-bit entry */
};

/* A boot module the parent copied into a child VMM's memory. */
struct nl_boot_module {
	char name[NL_NAME_MAX];  /* "manifest" or an image name, NUL padded */
	uint64_t gpa;            /* 4 KiB aligned */
	uint64_t size;           /* bytes */
};

struct nl_guest_boot {
	uint64_t magic;
	uint32_t version;
	uint32_t vm_index;       /* index in the manifest */
	char name[NL_NAME_MAX];
	char path[NL_PATH_MAX];  /* e.g. "L0/vm0" */
	uint64_t memory_bytes;
	uint64_t seed;           /* experiment seed mixed with the VM index */
	uint64_t image_end;      /* first guest-physical byte after the loaded image */
	uint64_t tsc_khz;
	struct nl_workload workload;
	/* From version 2; leaf guests ignore them. */
	uint32_t level;          /* the level of the VMM this guest is, if it is one: parent's + 1 */
	uint32_t module_count;   /* entries used in modules[] (0 for a leaf) */
	struct nl_boot_module modules[NL_GUEST_MAX_MODULES];
};

/* It must fit in its page, below the GDT; "well under" leaves room to grow. */
_Static_assert(sizeof(struct nl_guest_boot) <= 1024, "struct nl_guest_boot stays well under 4 KiB");
_Static_assert(sizeof(struct nl_guest_boot) <= NL_GUEST_GDT_GPA - NL_GUEST_BOOT_GPA,
	       "struct nl_guest_boot fits below the guest GDT");

#endif
