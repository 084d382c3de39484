/*
 * The boot medium: a GRUB rescue ISO (grub-mkrescue) whose grub.cfg boots
 * the VMM with multiboot2 and hands it the manifest and every VM image as
 * modules, each named so L0 can find it ("manifest", "<image>").
 */
#ifndef NESTLAB_ISO_H
#define NESTLAB_ISO_H

#include <stddef.h>

#include "model.h"

#define NL_VMM_IMAGE "nestlab-vmm" /* the L0 kernel: <images>/nestlab-vmm.elf */

/* What GRUB writes on COM1, then a reason, when it cannot boot the stack. */
#define NL_ISO_BOOT_FAILURE "nestlab: GRUB cannot boot: "

/* The VM images an experiment needs, each once, in the order VMs name them. */
struct nl_iso_images {
	char names[NL_MAX_VMS][NL_NAME_MAX];
	unsigned count;
};

void nl_iso_images_of(const struct nl_experiment *exp, struct nl_iso_images *out);

/*
 * grub.cfg for them into buf.  Returns its length, or -1 if cap is too
 * small.  title names the menu entry (the experiment's name).
 */
int nl_iso_grub_cfg(const char *title, const struct nl_iso_images *imgs, char *buf, size_t cap);

/* Every image file present?  Otherwise -1 and err names the missing path. */
int nl_iso_check_images(const char *images_dir, const struct nl_iso_images *imgs, char *err,
			size_t cap);

/*
 * Stage the VMM, the images and the manifest in a temporary directory and
 * run grub-mkrescue, its output going to log_path.  Returns 0 or -1 with
 * err filled (the caller shows the log).
 */
int nl_iso_build(const char *title, const char *images_dir, const struct nl_iso_images *imgs,
		 const char *manifest_path, const char *iso_path, const char *log_path, char *err,
		 size_t cap);

#endif
