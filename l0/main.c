/*
 * L0's C entry: bring the platform up, take the manifest in, hand over to
 * the VMM core.  Every way this can fail ends with an "end" record whose
 * reason says what went wrong, then a shutdown with NL_EXIT_FAILED.
 */
#include "fmt.h"
#include "gdt.h"
#include "idt.h"
#include "memory.h"
#include "multiboot2.h"
#include "nestlab/manifest.h"
#include "nestlab/records.h"
#include "platform.h"
#include "serial.h"

#define MANIFEST_MODULE "manifest"

/* Both outlive l0_main's callers: the VMM core keeps pointers into them. */
static struct mb2_info boot_info;
static struct nl_manifest_view manifest;

__attribute__((noreturn)) void l0_main(uint64_t mb2_info_phys);

static __attribute__((noreturn)) void fail_with(const char *what, const char *why)
{
	char reason[256];
	nl_snprintf(reason, sizeof reason, "%s: %s", what, why);
	platform_finish(0, reason);
}

static void boot_record(const struct memory_summary *mem)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_BOOT);
	jsonw_u64(&w, "level", 0);
	jsonw_u64(&w, "memory_bytes", mem->usable_bytes);
	jsonw_u64(&w, "free_bytes", mem->free_bytes);
	jsonw_u64(&w, "modules", boot_info.module_count);
	if (boot_info.modules_dropped)
		jsonw_u64(&w, "modules_dropped", boot_info.modules_dropped);
	if (boot_info.regions_dropped)
		jsonw_u64(&w, "memory_regions_dropped", boot_info.regions_dropped);
	jsonw_str(&w, "cmdline", boot_info.cmdline);
	rec_emit(&w);
}

static const char *manifest_error_name(int code)
{
	switch (code) {
	case NL_MFE_SHORT: return "short";
	case NL_MFE_MAGIC: return "magic";
	case NL_MFE_VERSION: return "version";
	case NL_MFE_LAYOUT: return "layout";
	case NL_MFE_CHECKSUM: return "checksum";
	case NL_MFE_STRING: return "string";
	case NL_MFE_TREE: return "tree";
	case NL_MFE_VALUE: return "value";
	default: return "unknown";
	}
}

static __attribute__((noreturn)) void refuse_manifest(const char *error, const char *why)
{
	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_MANIFEST_ERROR);
	jsonw_str(&w, "error", error);
	jsonw_str(&w, "reason", why);
	rec_emit(&w);
	fail_with("manifest refused", why);
}

static void take_manifest(void)
{
	const struct boot_module *m = platform_module(MANIFEST_MODULE);
	if (!m)
		refuse_manifest("missing", "no multiboot2 module named \"" MANIFEST_MODULE "\"");

	const char *why = "no reason given";
	int rc = nl_manifest_decode((const void *)(uintptr_t)m->start, (size_t)m->size, &manifest, &why);
	if (rc)
		refuse_manifest(manifest_error_name(rc), why);

	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_MANIFEST);
	jsonw_str(&w, "experiment", manifest.hdr->experiment);
	jsonw_u64(&w, "vms", manifest.hdr->vm_count);
	jsonw_u64(&w, "seed", manifest.hdr->seed);
	jsonw_u64(&w, "duration_ms", manifest.hdr->duration_ms);
	rec_emit(&w);
}

void l0_main(uint64_t mb2_info_phys)
{
	serial_init();
	gdt_init();
	idt_init();
	/* A line of plain text first: it marks where L0's output starts in a shared console log. */
	con_printf("nestlab L0: long mode, console up\n");

	const char *why;
	if (mb2_parse(mb2_info_phys, &boot_info, &why))
		fail_with("multiboot2 information refused", why);
	struct memory_summary mem;
	if (memory_init(&boot_info, &mem, &why))
		fail_with("physical memory", why);
	boot_record(&mem);

	take_manifest();
	vmm_main(&manifest);
}
