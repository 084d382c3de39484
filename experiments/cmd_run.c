/*
 * nestlab run FILE: description → manifest → ISO → backend → results folder.
 *
 * The order matters for what a user finds afterwards: an invalid
 * description stops before any folder exists; from the moment the folder
 * exists, every way out (missing image, ISO failure, crash, timeout,
 * Ctrl-C) still writes summary.json and records.jsonl saying what happened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wakeups.h"
#include "irq_table.h"
#include "backend.h"
#include "commands.h"
#include "images.h"
#include "iso.h"
#include "model.h"
#include "progress.h"
#include "records.h"
#include "results.h"

/* After L0's end record the backend should be gone at once; give it this long. */
#define END_GRACE_S 10.0
#define PATH_CAP (NL_SOURCE_PATH_MAX + 64)

struct run_opts {
	const char *file;
	const char *backend;   /* NULL: the description's */
	const char *out;       /* NULL: results/<name>-<time> */
	const char *images;    /* NULL: <bin>/../images */
	const char *manifest;  /* NULL: encode the description's */
	unsigned timeout_s;    /* 0: the description's */
	int keep_iso;
	int quiet;
};

/* Everything one run accumulates on its way. */
struct run {
	struct run_opts opt;
	struct nl_experiment exp;
	const struct nl_backend *backend;
	unsigned char *manifest;
	size_t manifest_len;
	char dir[PATH_CAP];
	char images[PATH_CAP];
	char iso[PATH_CAP];
	struct nl_backend_plan plan;
	int iso_failed;        /* grub-mkrescue failed: its log is the evidence */
	struct nl_run_facts facts;
	struct nl_records records;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s run FILE [options]\n"
		"\n"
		"Run an experiment description (.xml or .json) and write a results folder.\n"
		"\n"
		"options:\n"
		"  --backend bochs|qemu  override the description's backend\n"
		"  --out DIR             results folder (default results/<experiment>-<YYYYmmdd-HHMMSS>)\n"
		"  --images DIR          where nestlab-vmm.elf and the VM images are\n"
		"                        (default: ../images beside the nestlab executable)\n"
		"  --manifest FILE       boot this manifest instead of the description's (for testing L0)\n"
		"  --timeout SEC         wall-clock limit (default: the description's timeout)\n"
		"  --keep-iso            keep boot.iso in the results folder\n"
		"  --quiet               no progress indicator, no notices\n"
		"  --help                this text\n"
		"\n"
		"exit status: 0 ok, 1 the experiment failed, 2 usage, 3 invalid description,\n"
		"             4 the backend could not run, crashed or hung\n",
		nl_prog);
}

/* 0 → ok, 1 → --help given, -1 → usage error (already reported). */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
	enum { OPT_BACKEND = 256, OPT_OUT, OPT_IMAGES, OPT_MANIFEST, OPT_TIMEOUT, OPT_KEEP_ISO, OPT_QUIET };
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "images", required_argument, NULL, OPT_IMAGES },
		{ "manifest", required_argument, NULL, OPT_MANIFEST },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "keep-iso", no_argument, NULL, OPT_KEEP_ISO },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof *o);
	optind = 0; /* glibc: a full re-initialisation, in case getopt ran before */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (c) {
		case OPT_BACKEND: o->backend = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_IMAGES: o->images = optarg; break;
		case OPT_MANIFEST: o->manifest = optarg; break;
		case OPT_KEEP_ISO: o->keep_iso = 1; break;
		case OPT_QUIET: o->quiet = 1; break;
		case 'h': return 1;
		case OPT_TIMEOUT:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 86400 * 7 || optarg[0] == '-') {
				fprintf(stderr, "%s run: --timeout wants whole seconds, 1 or more: '%s'\n",
					nl_prog, optarg);
				return -1;
			}
			o->timeout_s = (unsigned)v;
			break;
		case '?':
		default:
			if (optopt >= OPT_BACKEND && optopt <= OPT_TIMEOUT)
				fprintf(stderr, "%s run: %s needs a value\n", nl_prog, argv[optind - 1]);
			else
				fprintf(stderr, "%s run: unknown option '%s'\n", nl_prog, argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s run: %s\n", nl_prog,
			optind >= argc ? "which description? (give one FILE)" : "one description at a time");
		return -1;
	}
	o->file = argv[optind];
	return 0;
}

/* The description, its backend and its manifest: all checked before any folder exists. */
static int prepare(struct run *r)
{
	struct nl_diag diag;
	static struct nl_image_set images;
	char err[512];
	/*
	 * An image the folder lacks is the description's mistake: refused here as
	 * validate refuses it.  A folder that cannot be read at all is not: the run
	 * then stops at boot_and_run with its own reason.
	 */
	int have_images = !nl_images_dir(r->opt.images, r->images, sizeof r->images, err, sizeof err) &&
			  !nl_images_list(r->images, &images);
	if (nl_desc_load_for(r->opt.file, have_images ? &images : NULL, &r->exp, &diag) ||
	    (r->opt.backend && nl_experiment_set_backend(&r->exp, r->opt.backend, &diag))) {
		nl_diag_print(stderr, &diag);
		return NL_EXIT_DESCRIPTION;
	}
	r->backend = nl_backend_find(r->exp.backend.name);
	if (!r->backend) {
		fprintf(stderr, "%s: %s: no backend called '%s'\n", nl_prog, r->opt.file, r->exp.backend.name);
		return NL_EXIT_DESCRIPTION;
	}
	if (r->opt.manifest) {
		/* Verbatim, however broken: this hook exists to feed L0 bad manifests. */
		char *data;
		if (nl_results_read(r->opt.manifest, &data, &r->manifest_len, err, sizeof err)) {
			fprintf(stderr, "%s run: --manifest: %s\n", nl_prog, err);
			return NL_EXIT_USAGE;
		}
		r->manifest = (unsigned char *)data;
		return 0;
	}
	r->manifest = malloc(NL_MANIFEST_MAX_SIZE);
	if (!r->manifest) {
		fprintf(stderr, "%s: out of memory\n", nl_prog);
		return NL_EXIT_BACKEND;
	}
	r->manifest_len = nl_experiment_to_manifest(&r->exp, r->manifest, NL_MANIFEST_MAX_SIZE);
	if (!r->manifest_len) {
		fprintf(stderr, "%s: %s: the experiment does not fit in a %u-byte boot manifest\n", nl_prog,
			r->opt.file, NL_MANIFEST_MAX_SIZE);
		return NL_EXIT_DESCRIPTION;
	}
	return 0;
}

/* --out DIR, or a new results/<name>-<time> (never an earlier run's folder). */
static int make_results_dir(struct run *r, char *err, size_t cap)
{
	if (r->opt.out) {
		if (snprintf(r->dir, sizeof r->dir, "%s", r->opt.out) >= (int)sizeof r->dir) {
			nl_msgf(err, cap, "%s: path too long", r->opt.out);
			return -1;
		}
		while (strlen(r->dir) > 1 && r->dir[strlen(r->dir) - 1] == '/')
			r->dir[strlen(r->dir) - 1] = '\0';
		if (nl_results_mkdirs(r->dir, err, cap))
			return -1;
		nl_results_clear(r->dir);
		return 0;
	}
	if (nl_results_mkdirs("results", err, cap))
		return -1;
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	for (int n = 1; n < 100; n++) {
		if (n == 1)
			snprintf(r->dir, sizeof r->dir, "results/%s-%s", r->exp.name, stamp);
		else
			snprintf(r->dir, sizeof r->dir, "results/%s-%s-%d", r->exp.name, stamp, n);
		if (mkdir(r->dir, 0755) == 0)
			return 0;
		if (errno != EEXIST) {
			nl_msgf(err, cap, "cannot create %s: %s", r->dir, strerror(errno));
			return -1;
		}
	}
	nl_msgf(err, cap, "cannot find a free results/%s-%s-N folder", r->exp.name, stamp);
	return -1;
}

/* The description (under its own name) and the manifest, into the folder. */
static int save_inputs(struct run *r, char *err, size_t cap)
{
	char copy[PATH_MAX], name[PATH_MAX], to[PATH_CAP];
	snprintf(copy, sizeof copy, "%s", r->opt.file);
	/* A description called, say, summary.json must not be overwritten by the results. */
	nl_msgf(name, sizeof name, "%s%s", nl_results_is_output(basename(copy)) ? "description-" : "",
		basename(copy));
	if (nl_results_path(to, sizeof to, r->dir, name) || nl_results_copy(r->opt.file, to, err, cap))
		return -1;
	nl_results_path(to, sizeof to, r->dir, "manifest.bin");
	return nl_results_write(to, r->manifest, r->manifest_len, err, cap);
}

static int on_tick(void *ctx, double elapsed)
{
	struct nl_progress *p = ctx;
	nl_progress_poll(p, elapsed);
	nl_progress_draw(p, elapsed);
	return p->end_seen && elapsed - p->end_seen_at > END_GRACE_S;
}

/* Run the backend under the limit, watching COM1; fills r->facts. */
static void run_backend(struct run *r, const struct nl_backend_ctx *ctx)
{
	char err[512], out[PATH_CAP], com1[PATH_CAP];
	if (r->backend->plan(ctx, &r->plan, err, sizeof err)) {
		r->facts.end = NL_BACKEND_NOT_STARTED;
		nl_msgf(r->facts.detail, sizeof r->facts.detail, "%s", err);
		return;
	}
	if (r->plan.accel[0])
		r->facts.accel = r->plan.accel;
	nl_results_path(out, sizeof out, r->dir, r->plan.output_name);
	nl_results_path(com1, sizeof com1, r->dir, "com1.txt");

	char label[NL_NAME_MAX + NL_BACKEND_NAME_MAX + 8];
	snprintf(label, sizeof label, "%s on %s", r->exp.name, r->backend->name);
	struct nl_progress prog;
	nl_progress_init(&prog, com1, label, !r->opt.quiet && isatty(STDERR_FILENO));

	struct nl_proc_result res;
	nl_proc_run(r->plan.argv.argv, out, r->facts.timeout_s, on_tick, &prog, &res);
	nl_progress_done(&prog);
	r->facts.wall_seconds = res.wall_seconds;

	char how[256], meaning[160] = "";
	nl_proc_describe(&res, how, sizeof how);
	switch (res.end) {
	case NL_PROC_EXITED:
		if (r->backend->describe_exit)
			r->backend->describe_exit(res.status, meaning, sizeof meaning);
		/* fall through */
	case NL_PROC_SIGNALED:
		r->facts.end = NL_BACKEND_EXITED;
		break;
	case NL_PROC_STOPPED:
		r->facts.end = NL_BACKEND_EXITED;
		snprintf(how, sizeof how, "did not exit within %.0f s of L0's end record; stopped", END_GRACE_S);
		/* The results stand, but a shutdown that does not work is worth knowing about. */
		fprintf(stderr, "%s: warning: %s %s\n", nl_prog, r->backend->name, how);
		break;
	case NL_PROC_TIMEOUT:
		r->facts.end = NL_BACKEND_TIMEOUT;
		break;
	case NL_PROC_INTERRUPTED:
		r->facts.end = NL_BACKEND_INTERRUPTED;
		break;
	case NL_PROC_START_FAILED:
		r->facts.end = NL_BACKEND_NOT_STARTED;
		snprintf(meaning, sizeof meaning, " (`make deps` installs the backends)");
		break;
	}
	nl_msgf(r->facts.detail, sizeof r->facts.detail, "%s%s", how, meaning);
}

/* Images, ISO, backend: any failure is a fact for the summary, not an early return. */
static void boot_and_run(struct run *r)
{
	char err[1024], log[PATH_CAP];
	struct nl_iso_images imgs;
	nl_iso_images_of(&r->exp, &imgs);
	if (nl_backend_path_ok(r->dir, err, sizeof err) || nl_images_dir(r->opt.images, r->images, sizeof r->images, err, sizeof err) ||
	    nl_iso_check_images(r->images, &imgs, err, sizeof err)) {
		r->facts.end = NL_BACKEND_NOT_STARTED;
		nl_msgf(r->facts.detail, sizeof r->facts.detail, "%s", err);
		return;
	}
	char manifest[PATH_CAP];
	nl_results_path(manifest, sizeof manifest, r->dir, "manifest.bin");
	nl_results_path(r->iso, sizeof r->iso, r->dir, "boot.iso");
	nl_results_path(log, sizeof log, r->dir, "grub-mkrescue.log");
	if (nl_iso_build(r->exp.name, r->images, &imgs, manifest, r->iso, log, err, sizeof err)) {
		r->facts.end = NL_BACKEND_NOT_STARTED;
		nl_msgf(r->facts.detail, sizeof r->facts.detail, "cannot build the boot ISO: %s", err);
		r->iso_failed = 1;
		return;
	}
	struct nl_backend_ctx ctx = { .exp = &r->exp, .out_dir = r->dir, .iso_path = r->iso };
	run_backend(r, &ctx);
	if (!r->opt.keep_iso)
		unlink(r->iso);
}

/* COM1 → records; a missing com1.txt is just an empty stream (the backend never got that far). */
static void collect_records(struct run *r)
{
	char com1[PATH_CAP], err[512];
	char *text;
	size_t len;
	nl_results_path(com1, sizeof com1, r->dir, "com1.txt");
	if (nl_results_read(com1, &text, &len, err, sizeof err))
		return;
	if (nl_records_parse(&r->records, text, len))
		fprintf(stderr, "%s: out of memory reading %s: the records are incomplete\n", nl_prog, com1);
	free(text);
}

/* The plain message for anything but ok, and the backend's own evidence. */
static void explain(const struct run *r, const struct nl_outcome *o)
{
	const char *s = o->status;
	if (!strcmp(s, NL_STATUS_OK))
		return;
	if (!strcmp(s, NL_STATUS_VMX_UNAVAILABLE)) {
		fprintf(stderr, "%s: VMX unavailable: %s%s\n", nl_prog, o->reason,
			r->facts.accel && !strcmp(r->facts.accel, "tcg") ?
			" (the qemu backend without KVM nested VMX uses TCG, which has no VMX)" : "");
		return;
	}
	if (!strcmp(s, NL_STATUS_MANIFEST_REFUSED)) {
		fprintf(stderr, "%s: L0 refused the boot manifest: %s\n", nl_prog, o->reason);
		return;
	}
	if (!strcmp(s, NL_STATUS_FAILED))
		fprintf(stderr, "%s: the experiment failed: %s\n", nl_prog, o->reason);
	else if (!strcmp(s, NL_STATUS_CRASHED))
		fprintf(stderr, "%s: the backend crashed: %s\n", nl_prog, o->reason);
	else if (!strcmp(s, NL_STATUS_TIMEOUT))
		fprintf(stderr, "%s: timeout: %s (raise it with --timeout)\n", nl_prog, o->reason);
	else if (!strcmp(s, NL_STATUS_INTERRUPTED))
		fprintf(stderr, "%s: interrupted: partial results kept\n", nl_prog);
	else
		fprintf(stderr, "%s: could not run: %s\n", nl_prog, o->reason);
	if (r->iso_failed) {
		char log[PATH_CAP];
		nl_results_path(log, sizeof log, r->dir, "grub-mkrescue.log");
		fprintf(stderr, "%s: the end of grub-mkrescue's output (%s):\n", nl_prog, log);
		nl_backend_tail(log, 15, stderr);
	}
	if (!strcmp(s, NL_STATUS_NOT_STARTED) || !strcmp(s, NL_STATUS_INTERRUPTED))
		return;
	/* Without an end record, the console's last words (an L0 panic, GRUB) say the most. */
	int trouble = !strcmp(s, NL_STATUS_CRASHED) || !strcmp(s, NL_STATUS_TIMEOUT);
	if (trouble && r->records.console_len) {
		char console[PATH_CAP];
		nl_results_path(console, sizeof console, r->dir, "console.txt");
		fprintf(stderr, "%s: the last lines on the console (%s):\n", nl_prog, console);
		nl_backend_tail(console, 10, stderr);
	}
	struct nl_backend_ctx ctx = { .exp = &r->exp, .out_dir = r->dir, .iso_path = r->iso };
	r->backend->explain(&ctx, trouble, stderr);
}

/* records.jsonl, console.txt, summary.json, the human summary; returns the exit code. */
static int finish(struct run *r)
{
	char err[512];
	struct nl_outcome o;
	collect_records(r);
	nl_outcome_decide(&r->records, &r->facts, &o);
	nl_outcome_check_vms(&r->exp, &r->records, &o);
	int code = nl_outcome_exit_code(&o);
	if (nl_results_write_records(r->dir, &r->records, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", nl_prog, err);
		if (code == NL_EXIT_SUCCESS)
			code = NL_EXIT_BACKEND; /* the results are incomplete: never a success */
	}
	if (nl_wakeup_write_histograms(r->dir, &r->exp, &r->records, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", nl_prog, err);
		if (code == NL_EXIT_SUCCESS)
			code = NL_EXIT_BACKEND;
	}
	json_t *summary = nl_summary_build(&r->exp, &r->records, &r->facts, &o);
	if (!summary || nl_results_write_summary(r->dir, summary, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", nl_prog, summary ? err : "out of memory building summary.json");
		if (code == NL_EXIT_SUCCESS)
			code = NL_EXIT_BACKEND;
	}
	/* irq.csv holds summary.json's "irq" rows: built once, for both. */
	const json_t *irq = summary ? json_object_get(summary, "irq") : NULL;
	if (!json_is_array(irq) || nl_irq_write_csv(r->dir, irq, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", nl_prog, json_is_array(irq) ? err : "out of memory building irq.csv");
		if (code == NL_EXIT_SUCCESS)
			code = NL_EXIT_BACKEND;
	}
	if (summary)
		nl_summary_print(stdout, summary, r->dir);
	fflush(stdout);
	json_decref(summary);
	explain(r, &o);
	if (r->records.bad_lines)
		fprintf(stderr, "%s: %zu line%s of COM1 began like a record but did not parse "
			"(kept in records.jsonl as \"%s\")\n", nl_prog, r->records.bad_lines,
			r->records.bad_lines == 1 ? "" : "s", NL_REC_BAD_LINE);
	return code;
}

int nl_cmd_run(int argc, char **argv)
{
	static struct run r; /* large (manifest plan, paths): not on the stack */
	memset(&r, 0, sizeof r);
	int a = parse_args(argc, argv, &r.opt);
	if (a > 0) {
		usage(stdout);
		return NL_EXIT_SUCCESS;
	}
	if (a < 0) {
		fprintf(stderr, "(%s run --help lists the options)\n", nl_prog);
		return NL_EXIT_USAGE;
	}
	int code = prepare(&r);
	if (code)
		goto out;

	char err[1024], name[PATH_MAX];
	snprintf(name, sizeof name, "%s", r.opt.file);
	r.facts.description = basename(name);
	r.facts.backend = r.backend->name;
	r.facts.timeout_s = r.opt.timeout_s ? r.opt.timeout_s : r.exp.backend.timeout_s;
	nl_records_init(&r.records);

	if (make_results_dir(&r, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", nl_prog, err);
		code = NL_EXIT_BACKEND;
		goto out;
	}
	if (!r.opt.quiet)
		fprintf(stderr, "%s: running %s on %s, results in %s\n", nl_prog, r.exp.name,
			r.backend->name, r.dir);
	if (save_inputs(&r, err, sizeof err)) {
		r.facts.end = NL_BACKEND_NOT_STARTED;
		nl_msgf(r.facts.detail, sizeof r.facts.detail, "%s", err);
	} else {
		boot_and_run(&r);
	}
	code = finish(&r);
	nl_records_free(&r.records);
out:
	free(r.manifest);
	return code;
}
