/* The images folder and what it holds; see images.h. */
#define _GNU_SOURCE
#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results.h"

int nl_images_dir(const char *given, char *out, size_t cap, char *err, size_t err_cap)
{
	char exe[PATH_MAX], guess[PATH_MAX + 16], resolved[PATH_MAX];
	ssize_t n;

	if (given) {
		nl_msgf(out, cap, "%s", given);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0) {
		nl_msgf(err, err_cap, "cannot tell where the nestlab executable is (%s); use --images",
			strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	nl_msgf(guess, sizeof guess, "%s/../images", dirname(exe));
	nl_msgf(out, cap, "%s", realpath(guess, resolved) ? resolved : guess);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int nl_images_list(const char *dir, struct nl_image_set *set)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	memset(set, 0, sizeof *set);
	set->dir = dir;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		/* Only names a description could give: anything else is no image of ours. */
		if (len <= 4 || strcmp(e->d_name + len - 4, ".elf") || len - 4 >= NL_NAME_MAX)
			continue;
		if (set->count == NL_IMAGES_MAX) {
			set->more++; /* listed no further; an image is still found by its file (images_has()) */
			continue;
		}
		memcpy(set->names[set->count], e->d_name, len - 4);
		set->names[set->count][len - 4] = '\0';
		if (!nl_desc_name_ok(set->names[set->count]))
			continue;
		set->count++;
	}
	closedir(d);
	qsort(set->names, set->count, sizeof set->names[0], by_name);
	return 0;
}
