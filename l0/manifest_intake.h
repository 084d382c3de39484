/* Taking the boot manifest in: the same at every level. */
#ifndef NESTLAB_L0_MANIFEST_INTAKE_H
#define NESTLAB_L0_MANIFEST_INTAKE_H

#include "nestlab/manifest.h"

#define MANIFEST_MODULE "manifest"

/*
 * Find the boot module "manifest" (multiboot2 at L0, the parent's copy in
 * a child), decode it and emit the "manifest" record.  Does not return on
 * failure: a "manifest_error" record, then platform_finish(failed).  The
 * view points into the module, which lives as long as the level does.
 */
const struct nl_manifest_view *manifest_intake(void);

#endif
