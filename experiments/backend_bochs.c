/*
 * The Bochs backend: headless, deterministic, VMX emulated in software.
 * The bochsrc is a fixed one measured to work with Bochs 2.7; what the
 * description varies (CPU model, speed, memory) is filled in.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "commands.h"
#include "results.h"

/*
 * A fixed start date: with clock sync=none the TSC and the RTC count
 * emulated instructions from here, so two runs print the same numbers.
 */
#define BOCHS_TIME0 946684800u /* 2000-01-01 00:00:00 UTC */
#define BOCHS_HOST_MB_MAX 2048u /* Bochs caps the host side of guest memory here */

static int write_bochsrc(const struct nl_backend_ctx *ctx, const char *path, char *err, size_t cap)
{
	const struct nl_backend_desc *be = &ctx->exp->backend;
	FILE *f = fopen(path, "w");
	if (!f) {
		nl_msgf(err, cap, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	unsigned host_mb = be->memory_mb < BOCHS_HOST_MB_MAX ? be->memory_mb : BOCHS_HOST_MB_MAX;
	fprintf(f, "# Written by nestlab for experiment %s.\n", ctx->exp->name);
	/* Debian's Bochs has no "nogui"; rfb with timeout=0 runs without a viewer. */
	fprintf(f, "display_library: rfb, options=\"timeout=0\"\n");
	fprintf(f, "memory: guest=%u, host=%u\n", be->memory_mb, host_mb);
	fprintf(f, "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n");
	fprintf(f, "vgaromimage: file=/usr/share/vgabios/vgabios.bin\n");
	/* A triple fault must end the run where it happened, not reboot into a loop. */
	fprintf(f, "cpu: model=%s, count=1, ips=%llu, reset_on_triple_fault=0\n", be->cpu_model,
		(unsigned long long)be->ips);
	/* Quoted, so a folder with spaces works (nl_backend_path_ok refused what quotes cannot carry). */
	fprintf(f, "ata0-master: type=cdrom, path=\"%s\", status=inserted\n", ctx->iso_path);
	fprintf(f, "boot: cdrom\n");
	fprintf(f, "clock: sync=none, time0=%u\n", BOCHS_TIME0);
	fprintf(f, "com1: enabled=1, mode=file, dev=\"%s/com1.txt\"\n", ctx->out_dir);
	fprintf(f, "log: \"%s/bochs.log\"\n", ctx->out_dir);
	fprintf(f, "panic: action=fatal\n");
	fprintf(f, "error: action=report\n");
	/* Everything the stack says goes through COM1; port 0xE9 would bypass the record stream. */
	fprintf(f, "port_e9_hack: enabled=0\n");
	fprintf(f, "speaker: enabled=0\n");
	/*
	 * Bochs loads its ALSA sound driver even with the speaker off, and on a
	 * host without a sound card that driver aborts Bochs ("buffer overflow
	 * detected") before the BIOS runs.  The dummy driver needs no hardware.
	 */
	fprintf(f, "sound: driver=dummy\n");
	fprintf(f, "mouse: enabled=0\n");
	if (fclose(f)) {
		nl_msgf(err, cap, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int bochs_plan(const struct nl_backend_ctx *ctx, struct nl_backend_plan *plan, char *err,
		      size_t cap)
{
	char rc[NL_SOURCE_PATH_MAX + 64], cmds[NL_SOURCE_PATH_MAX + 64];
	if (nl_backend_path_ok(ctx->out_dir, err, cap) || nl_backend_path_ok(ctx->iso_path, err, cap))
		return -1;
	if (nl_results_path(rc, sizeof rc, ctx->out_dir, "bochsrc") ||
	    nl_results_path(cmds, sizeof cmds, ctx->out_dir, "bochs.rc")) {
		nl_msgf(err, cap, "%s: path too long", ctx->out_dir);
		return -1;
	}
	if (write_bochsrc(ctx, rc, err, cap))
		return -1;
	/* Debian's Bochs has its debugger built in: without "c" it waits at a prompt. */
	if (nl_results_write(cmds, "c\n", 2, err, cap))
		return -1;

	nl_argv_init(&plan->argv);
	nl_argv_add(&plan->argv, "bochs");
	nl_argv_add(&plan->argv, "-q");
	nl_argv_add(&plan->argv, "-f");
	nl_argv_add(&plan->argv, "%s", rc);
	nl_argv_add(&plan->argv, "-rc");
	nl_argv_add(&plan->argv, "%s", cmds);
	if (plan->argv.overflow) {
		nl_msgf(err, cap, "bochs: arguments too long");
		return -1;
	}
	snprintf(plan->output_name, sizeof plan->output_name, "bochs.out");
	plan->accel[0] = '\0';
	return 0;
}

/*
 * Bochs states why it refused a VMCS, or gave up, only in its log: these
 * are the lines that tell a VMM developer what went wrong.
 */
static void bochs_explain(const struct nl_backend_ctx *ctx, int backend_trouble, FILE *out)
{
	static const char *const needles[] = {
		"VMFAIL", "VMENTER", "PANIC", "exception with no resolution", "triple fault", NULL,
	};
	/* A guest's own power-off is logged as a panic too: it is how every run ends. */
	static const char *const ignore[] = {
		"Shutdown port: shutdown requested", "ACPI control: soft power off", NULL,
	};
	char path[NL_SOURCE_PATH_MAX + 64];
	nl_results_path(path, sizeof path, ctx->out_dir, "bochs.log");
	unsigned n = nl_backend_grep(path, needles, ignore, 20, NULL);
	if (n) {
		fprintf(out, "%s: what Bochs logged about it (%s):\n", nl_prog, path);
		nl_backend_grep(path, needles, ignore, 20, out);
	}
	if (backend_trouble) {
		if (!n)
			fprintf(out, "%s: no VMFAIL, VMENTER or panic lines in %s\n", nl_prog, path);
		nl_results_path(path, sizeof path, ctx->out_dir, "bochs.out");
		fprintf(out, "%s: the end of Bochs's output (%s):\n", nl_prog, path);
		nl_backend_tail(path, 10, out);
	}
}

static void bochs_describe_exit(int status, char *buf, size_t cap)
{
	if (status == 1)
		snprintf(buf, cap, " (as Bochs does whenever the guest shuts it down)");
	else
		buf[0] = '\0';
}

const struct nl_backend nl_backend_bochs = {
	.name = "bochs",
	.plan = bochs_plan,
	.explain = bochs_explain,
	.describe_exit = bochs_describe_exit,
};
