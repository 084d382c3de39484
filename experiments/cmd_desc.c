/*
 * `nestlab validate` and `nestlab manifest`: the description half of the
 * tool, usable without any backend.  validate is what an editor or CI runs
 * on descriptions; manifest shows exactly what L0 would be handed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "model.h"

static void validate_usage(FILE *out)
{
	fprintf(out,
		"usage: %s validate [--images DIR] FILE...\n"
		"\n"
		"Check experiment descriptions (.xml against configs/nestlab.xsd, or .json)\n"
		"and the rules both formats share, without running anything; every image\n"
		"a VM names must be in DIR (default, as for run: ../images beside the\n"
		"nestlab executable) as <image>.elf.  Prints\n"
		"\"FILE: ok\" for each good file and \"FILE:LINE: FIELD: MESSAGE\" on stderr\n"
		"for each bad one.\n"
		"\n"
		"Exit status: 0 when every file is valid, %d when one is not, %d on bad usage.\n",
		nl_prog, NL_EXIT_DESCRIPTION, NL_EXIT_USAGE);
}

/* Is argv[i] validate's --images (its value, the next argument, is then not a file)? */
static int is_images_option(int argc, char **argv, int i)
{
	return !strcmp(argv[i], "--images") && i + 1 < argc;
}

/* The images of --images DIR, or of the folder run would use; NULL (with a notice) when unreadable. */
static const struct nl_image_set *validate_images(const char *given)
{
	static struct nl_image_set set;
	static char dir[4096];
	char err[512];

	if (nl_images_dir(given, dir, sizeof dir, err, sizeof err) || nl_images_list(dir, &set)) {
		fprintf(stderr, "%s validate: notice: cannot read the images folder %s; image names not checked\n",
			nl_prog, dir[0] ? dir : err);
		return NULL;
	}
	return &set;
}

int nl_cmd_validate(int argc, char **argv)
{
	int files = 0, bad = 0;
	int options_done = 0;
	const char *images_dir = NULL;
	const struct nl_image_set *images = NULL;
	int images_looked = 0;

	for (int i = 1; i < argc; i++) {
		if (!options_done && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
			validate_usage(stdout);
			return NL_EXIT_SUCCESS;
		}
		if (!options_done && is_images_option(argc, argv, i)) {
			images_dir = argv[++i];
		} else if (!options_done && !strcmp(argv[i], "--")) {
			options_done = 1;
		} else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s validate: unknown option '%s'\n", nl_prog, argv[i]);
			validate_usage(stderr);
			return NL_EXIT_USAGE;
		}
	}
	options_done = 0;
	for (int i = 1; i < argc; i++) {
		static struct nl_experiment exp;
		struct nl_diag diag;

		if (!options_done && is_images_option(argc, argv, i)) {
			i++;
			continue;
		}
		if (!options_done && !strcmp(argv[i], "--")) {
			options_done = 1;
			continue;
		}
		files++;
		if (!images_looked++)
			images = validate_images(images_dir);
		if (nl_desc_load_for(argv[i], images, &exp, &diag) == 0) {
			printf("%s: ok\n", argv[i]);
		} else {
			nl_diag_print(stderr, &diag);
			bad++;
		}
	}
	if (files == 0) {
		fprintf(stderr, "%s validate: no description given\n", nl_prog);
		validate_usage(stderr);
		return NL_EXIT_USAGE;
	}
	return bad ? NL_EXIT_DESCRIPTION : NL_EXIT_SUCCESS;
}

static void manifest_usage(FILE *out)
{
	fprintf(out,
		"usage: %s manifest FILE -o OUT [--backend bochs|qemu]\n"
		"\n"
		"Check the description FILE and write the binary boot manifest L0 would\n"
		"receive for it to OUT ('-' for standard output).\n"
		"\n"
		"  -o, --output OUT     where to write the manifest\n"
		"  --backend NAME       override the description's backend (the TSC rate\n"
		"                       in the manifest depends on it)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 on success, %d for an invalid description, %d on bad usage\n"
		"or when OUT cannot be written.\n",
		nl_prog, NL_EXIT_DESCRIPTION, NL_EXIT_USAGE);
}

/* "--opt VALUE" or "--opt=VALUE": returns the value and advances *i, or NULL if argv[*i] is not opt. */
static const char *option_value(int argc, char **argv, int *i, const char *opt, int *missing)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

static int write_manifest(const char *out, const void *bytes, size_t size)
{
	FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;

	if (!f) {
		fprintf(stderr, "%s manifest: cannot write %s: %s\n", nl_prog, out, strerror(errno));
		return -1;
	}
	if (fwrite(bytes, 1, size, f) != size || (f == stdout ? fflush(f) : fclose(f)) != 0) {
		fprintf(stderr, "%s manifest: cannot write %s: %s\n", nl_prog, out, strerror(errno));
		if (f != stdout)
			remove(out);
		return -1;
	}
	return 0;
}

int nl_cmd_manifest(int argc, char **argv)
{
	const char *file = NULL, *out = NULL, *backend = NULL;
	_Alignas(8) unsigned char bytes[NL_MANIFEST_MAX_SIZE];
	struct nl_experiment exp;
	struct nl_diag diag;
	size_t size;

	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			manifest_usage(stdout);
			return NL_EXIT_SUCCESS;
		}
		if ((v = option_value(argc, argv, &i, "-o", &missing)) ||
		    (v = option_value(argc, argv, &i, "--output", &missing))) {
			out = v;
		} else if ((v = option_value(argc, argv, &i, "--backend", &missing))) {
			backend = v;
		} else if (missing) {
			fprintf(stderr, "%s manifest: option '%s' needs a value\n", nl_prog, argv[i]);
			return NL_EXIT_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s manifest: unknown option '%s'\n", nl_prog, argv[i]);
			manifest_usage(stderr);
			return NL_EXIT_USAGE;
		} else if (file) {
			fprintf(stderr, "%s manifest: one description at a time ('%s' and '%s')\n",
				nl_prog, file, argv[i]);
			return NL_EXIT_USAGE;
		} else {
			file = argv[i];
		}
	}
	if (!file || !out) {
		fprintf(stderr, "%s manifest: %s\n", nl_prog,
			!file ? "no description given" : "no output given (-o OUT)");
		manifest_usage(stderr);
		return NL_EXIT_USAGE;
	}

	if (nl_desc_load(file, &exp, &diag) ||
	    (backend && nl_experiment_set_backend(&exp, backend, &diag))) {
		nl_diag_print(stderr, &diag);
		return NL_EXIT_DESCRIPTION;
	}
	size = nl_experiment_to_manifest(&exp, bytes, sizeof bytes);
	if (size == 0) {
		/* The checks accept only what the codec can encode; reaching this is a bug here. */
		fprintf(stderr, "%s: %s: internal error: the manifest encoder refused the checked description\n",
			nl_prog, file);
		return NL_EXIT_DESCRIPTION;
	}
	return write_manifest(out, bytes, size) ? NL_EXIT_USAGE : NL_EXIT_SUCCESS;
}
