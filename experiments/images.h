/*
 * Where the images a run boots live (build/images/<image>.elf beside
 * build/bin/nestlab, or --images DIR) and which there are: one lookup for
 * `nestlab run`, which boots them, and `nestlab validate`, which checks that
 * a description names only images that exist.
 */
#ifndef NESTLAB_IMAGES_H
#define NESTLAB_IMAGES_H

#include <stddef.h>

#include "model.h"

/* The images folder: given (--images) as is, else ../images beside the executable. 0 or -1 with err. */
int nl_images_dir(const char *given, char *out, size_t cap, char *err, size_t err_cap);

/* The <name>.elf files of dir, sorted, into *set (set->dir = dir). 0, or -1 when dir cannot be read. */
int nl_images_list(const char *dir, struct nl_image_set *set);

#endif
