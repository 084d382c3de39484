/* Building the GRUB ISO; see iso.h. */
#define _GNU_SOURCE
#include "iso.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "results.h"

#define MKRESCUE_TIMEOUT_S 300
#define PATH_CAP (NL_SOURCE_PATH_MAX + 64)

void nl_iso_images_of(const struct nl_experiment *exp, struct nl_iso_images *out)
{
	memset(out, 0, sizeof *out);
	for (unsigned i = 0; i < exp->vm_count; i++) {
		unsigned k;
		for (k = 0; k < out->count; k++)
			if (!strcmp(out->names[k], exp->vms[i].image))
				break;
		if (k == out->count && out->count < NL_MAX_VMS)
			snprintf(out->names[out->count++], NL_NAME_MAX, "%s", exp->vms[i].image);
	}
}

static int append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/*
 * A GRUB command that fails inside a menu entry leaves GRUB showing the
 * error on a screen nobody watches and waiting for a key: the run would sit
 * there until the wall-clock limit.  So every command is checked, and a
 * failure is told on COM1 (the one output the host reads) before GRUB
 * powers the machine off, which ends the backend at once.
 */
static const char cannot_boot_fn[] =
	"function nestlab_cannot_boot {\n"
	"\tserial --unit=0 --speed=115200\n"
	"\tterminal_output serial\n"
	"\techo \"\"\n" /* GRUB clears the new terminal first: keep that off the message's line */
	"\techo \"" NL_ISO_BOOT_FAILURE "$1\"\n"
	"\thalt\n"
	"}\n\n";

static int checked(char *buf, size_t cap, size_t *len, const char *cmd, const char *failure)
{
	return append(buf, cap, len, "\tif %s; then true; else nestlab_cannot_boot \"%s\"; fi\n", cmd,
		      failure);
}

int nl_iso_grub_cfg(const char *title, const struct nl_iso_images *imgs, char *buf, size_t cap)
{
	size_t len = 0;
	char cmd[128], failure[128];
	/* No menu to wait at: the run is unattended and its time is measured. */
	int bad = append(buf, cap, &len, "set timeout=0\nset default=0\n\n%s", cannot_boot_fn);
	bad |= append(buf, cap, &len, "menuentry \"nestlab %s\" {\n", title);
	snprintf(cmd, sizeof cmd, "multiboot2 /boot/%s.elf", NL_VMM_IMAGE);
	snprintf(failure, sizeof failure, "/boot/%s.elf is not a multiboot2 kernel", NL_VMM_IMAGE);
	bad |= checked(buf, cap, &len, cmd, failure);
	/* A module's command line is its name: that is how L0 tells them apart. */
	bad |= checked(buf, cap, &len, "module2 /boot/manifest.bin manifest",
		       "cannot load /boot/manifest.bin");
	for (unsigned i = 0; i < imgs->count; i++) {
		snprintf(cmd, sizeof cmd, "module2 /boot/%s.elf %s", imgs->names[i], imgs->names[i]);
		snprintf(failure, sizeof failure, "cannot load /boot/%s.elf", imgs->names[i]);
		bad |= checked(buf, cap, &len, cmd, failure);
	}
	bad |= append(buf, cap, &len, "\tboot\n\tnestlab_cannot_boot \"the boot command failed\"\n}\n");
	return bad ? -1 : (int)len;
}

static int image_path(char *buf, size_t cap, const char *dir, const char *name)
{
	return nl_pathf(buf, cap, "%s/%s.elf", dir, name);
}

static int check_one(const char *dir, const char *name, char *err, size_t cap)
{
	char path[PATH_CAP];
	if (image_path(path, sizeof path, dir, name)) {
		nl_msgf(err, cap, "%s: path too long", dir);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		nl_msgf(err, cap, "image %s: %s (build it with `make`, or point --images at its folder)",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

int nl_iso_check_images(const char *images_dir, const struct nl_iso_images *imgs, char *err,
			size_t cap)
{
	if (check_one(images_dir, NL_VMM_IMAGE, err, cap))
		return -1;
	for (unsigned i = 0; i < imgs->count; i++)
		if (check_one(images_dir, imgs->names[i], err, cap))
			return -1;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The staging directory is ours alone (mkdtemp), so removing it whole is safe. */
static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int stage(const char *staging, const char *title, const char *images_dir,
		 const struct nl_iso_images *imgs, const char *manifest_path, char *err, size_t cap)
{
	char path[PATH_CAP], from[PATH_CAP], cfg[8192];
	/* staging is a short mkdtemp name: paths under it always fit in PATH_CAP. */
	nl_pathf(path, sizeof path, "%s/boot/grub", staging);
	if (nl_results_mkdirs(path, err, cap))
		return -1;

	int len = nl_iso_grub_cfg(title, imgs, cfg, sizeof cfg);
	nl_pathf(path, sizeof path, "%s/boot/grub/grub.cfg", staging);
	if (len < 0 || nl_results_write(path, cfg, (size_t)len, err, cap))
		return -1;

	nl_pathf(path, sizeof path, "%s/boot/manifest.bin", staging);
	if (nl_results_copy(manifest_path, path, err, cap))
		return -1;

	/* Copies, not links: grub-mkrescue's xorriso does not follow symbolic links. */
	for (int i = -1; i < (int)imgs->count; i++) {
		const char *name = i < 0 ? NL_VMM_IMAGE : imgs->names[i];
		if (i >= 0 && !strcmp(name, NL_VMM_IMAGE))
			continue; /* a child VMM's image is the kernel's own file */
		if (image_path(from, sizeof from, images_dir, name)) {
			nl_msgf(err, cap, "%s: path too long", images_dir);
			return -1;
		}
		nl_pathf(path, sizeof path, "%s/boot/%s.elf", staging, name);
		if (nl_results_copy(from, path, err, cap))
			return -1;
	}
	return 0;
}

int nl_iso_build(const char *title, const char *images_dir, const struct nl_iso_images *imgs,
		 const char *manifest_path, const char *iso_path, const char *log_path, char *err,
		 size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	char staging[PATH_CAP / 2];
	if (nl_pathf(staging, sizeof staging, "%s/nestlab-iso-XXXXXX", tmp && *tmp ? tmp : "/tmp") ||
	    !mkdtemp(staging)) {
		nl_msgf(err, cap, "cannot create a staging directory in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		return -1;
	}
	int r = stage(staging, title, images_dir, imgs, manifest_path, err, cap);
	if (!r) {
		struct nl_argv a;
		nl_argv_init(&a);
		nl_argv_add(&a, "grub-mkrescue");
		nl_argv_add(&a, "-o");
		nl_argv_add(&a, "%s", iso_path);
		nl_argv_add(&a, "%s", staging);
		struct nl_proc_result res;
		if (a.overflow) {
			nl_msgf(err, cap, "grub-mkrescue: arguments too long");
			r = -1;
		} else if (nl_proc_run(a.argv, log_path, MKRESCUE_TIMEOUT_S, NULL, NULL, &res)) {
			char how[256];
			nl_proc_describe(&res, how, sizeof how);
			nl_msgf(err, cap, "grub-mkrescue %s (its output is in %s)", how, log_path);
			r = -1;
		}
	}
	remove_tree(staging);
	return r;
}
