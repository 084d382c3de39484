/*
 * The manifest intake, shared by L0 (GRUB's module) and a child VMM (the
 * sub-manifest its parent copied in): one decoder, one set of records, so
 * a refusal reads the same at any level.
 */
#include "fmt.h"
#include "manifest_intake.h"
#include "nestlab/records.h"
#include "platform.h"

static struct nl_manifest_view manifest;

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
	char buf[NL_REC_MAX_LINE], reason[256];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_MANIFEST_ERROR);
	jsonw_str(&w, NL_KEY_ERROR, error);
	jsonw_str(&w, NL_KEY_REASON, why);
	rec_emit(&w);
	nl_snprintf(reason, sizeof reason, "manifest refused: %s", why);
	platform_finish(0, reason);
}

const struct nl_manifest_view *manifest_intake(void)
{
	const struct boot_module *m = platform_module(MANIFEST_MODULE);
	if (!m)
		refuse_manifest("missing", "no boot module named \"" MANIFEST_MODULE "\"");

	const char *why = "no reason given";
	int rc = nl_manifest_decode((const void *)(uintptr_t)m->start, (size_t)m->size, &manifest, &why);
	if (rc)
		refuse_manifest(manifest_error_name(rc), why);

	char buf[NL_REC_MAX_LINE];
	struct jsonw w;
	rec_begin(&w, buf, sizeof buf, platform_path(), NL_REC_MANIFEST);
	jsonw_str(&w, "experiment", manifest.hdr->experiment);
	jsonw_u64(&w, "vms", manifest.hdr->vm_count);
	jsonw_hex(&w, "seed", manifest.hdr->seed); /* a string: JSON parsers keep integers below 2^63 only */
	jsonw_u64(&w, "duration_ms", manifest.hdr->duration_ms);
	rec_emit(&w);
	return &manifest;
}
