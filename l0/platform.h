/*
 * What the platform (boot, console, memory, shutdown) offers the VMM core:
 * the root platform (l0/) on the hardware, or the child platform (l1/)
 * through its parent's hypercalls, chosen when the image boots
 * (platform_ops.h).  The VMM core sees only this interface.
 */
#ifndef NESTLAB_L0_PLATFORM_H
#define NESTLAB_L0_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include "jsonw.h"

/* Console: COM1 at L0, the parent's CONSOLE_WRITE for a child. Lines, not bytes, matter. */
void con_write(const char *s, size_t n);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Records: rec_begin() starts a JSON object in buf with "path", "type" and
 * "tsc"; the caller adds members with jsonw_*; rec_emit() closes it and
 * writes it as one line.  A record too long for buf is replaced by a
 * {"type":"record_overflow"} record, never cut.
 */
void rec_begin(struct jsonw *w, char *buf, size_t cap, const char *path, const char *type);
void rec_emit(struct jsonw *w);

/*
 * Write one finished record line (no newline; the platform ends it) to this
 * level's record channel: COM1 at L0, the parent's FORWARD_RECORD for a
 * child, which passes it up.  For lines already checked to be records
 * (rec_emit's own, a guest's spliced record, a child VMM's forwarded line).
 */
void platform_write_record_line(const char *line, size_t len);

/* The path of this VMM level ("L0", "L0/hv1") and its depth (0 for L0). */
const char *platform_path(void);
unsigned platform_level(void);

/*
 * Boot modules: at L0 the multiboot2 modules, found by their command line
 * (the first word); in a child the ones its parent copied into its memory.
 */
struct boot_module {
	const char *name;
	uint64_t start;
	uint64_t size;
};
const struct boot_module *platform_module(const char *name);

/* Physical memory (guest-physical in a child): identity-mapped, so an address is also a pointer. */
uint64_t platform_alloc(uint64_t bytes, uint64_t align); /* zeroed; 0 when none left */
void platform_free(uint64_t addr, uint64_t bytes);

/* Host state the VMM loads into every VMCS host-state area. */
struct platform_host_state {
	uint16_t cs, ss, ds, es, fs, gs, tr;
	uint64_t gdt_base, idt_base, tr_base;
};
void platform_host_state(struct platform_host_state *hs);

/*
 * The end of this level: at L0 shut the machine down (Bochs port 0x8900,
 * QEMU isa-debug-exit 0xf4); a child leaves with NL_HC_EXIT(status).
 */
__attribute__((noreturn)) void platform_shutdown(int status);

/*
 * The last word of a level: the "end" record with status "ok" or "failed"
 * and a reason, then shutdown with the matching exit status.
 */
__attribute__((noreturn)) void platform_finish(int ok, const char *reason);
/* Bring-up failed: platform_finish() with the reason "what: why". */
__attribute__((noreturn)) void platform_fail(const char *what, const char *why);

/*
 * A child VMM's interrupt lines are its parent's routes to it: program them
 * there (NL_HC_IRQ_SETUP: every line N to vector_base + N, unmasked where
 * unmask has bit N, times in the page at page_gpa).  0, or -1 when the
 * parent refuses or there is no parent (L0).
 */
int platform_parent_irq_setup(uint64_t page_gpa, unsigned vector_base, uint32_t unmask);

/* What a platform found at boot, for its "boot" record (the last three only at L0: 0 and NULL are left out). */
struct platform_boot_summary {
	uint64_t memory_bytes, free_bytes;
	unsigned modules;
	unsigned modules_dropped, regions_dropped;
	const char *cmdline;
};
void platform_boot_record(const struct platform_boot_summary *b);

/* The VMM core's entry, called by the platform once the manifest is accepted. */
struct nl_manifest_view;
__attribute__((noreturn)) void vmm_main(const struct nl_manifest_view *m);

#endif
