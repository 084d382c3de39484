/*
 * The QEMU backend: the same ISO under qemu-system-x86_64.  With KVM and
 * nested VMX the stack runs at native speed on real VMX; without them QEMU
 * falls back to TCG, whose CPU has no VMX at all, and L0 then reports
 * "VMX unavailable" — a run that says so plainly rather than a hang.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "commands.h"
#include "results.h"

#define DEV_KVM          "/dev/kvm"
#define KVM_INTEL_NESTED "/sys/module/kvm_intel/parameters/nested"

/*
 * Can KVM give a guest VMX?  /dev/kvm alone does not say: it exists on AMD
 * hosts (whose guests get SVM, not VMX) and on Intel hosts whose kvm_intel
 * was loaded with nested=0, and in both cases "-cpu host,+vmx" gives L0 no
 * usable VMX.  kvm_intel's "nested" parameter reads Y (or 1 on older
 * kernels) exactly when it will virtualise VMX for its guests.
 */
static int kvm_nested_vmx(void)
{
	if (access(DEV_KVM, R_OK | W_OK) < 0)
		return 0;
	FILE *f = fopen(KVM_INTEL_NESTED, "r");
	if (!f)
		return 0;
	char v[8] = "";
	int ok = fgets(v, sizeof v, f) && (v[0] == 'Y' || v[0] == 'y' || v[0] == '1');
	fclose(f);
	return ok;
}

static int qemu_plan(const struct nl_backend_ctx *ctx, struct nl_backend_plan *plan, char *err,
		     size_t cap)
{
	if (nl_backend_path_ok(ctx->out_dir, err, cap) || nl_backend_path_ok(ctx->iso_path, err, cap))
		return -1;
	struct nl_argv *a = &plan->argv;
	nl_argv_init(a);
	nl_argv_add(a, "qemu-system-x86_64");
	nl_argv_add(a, "-cdrom");
	nl_argv_add(a, "%s", ctx->iso_path);
	nl_argv_add(a, "-m");
	nl_argv_add(a, "%u", ctx->exp->backend.memory_mb);
	nl_argv_add(a, "-serial");
	nl_argv_add(a, "file:%s/com1.txt", ctx->out_dir);
	nl_argv_add(a, "-display");
	nl_argv_add(a, "none");
	nl_argv_add(a, "-monitor");
	nl_argv_add(a, "none");
	/* A triple fault must end the run, not reboot into the same failure. */
	nl_argv_add(a, "-no-reboot");
	/* L0's shutdown port: writing status s makes QEMU exit with (s << 1) | 1. */
	nl_argv_add(a, "-device");
	nl_argv_add(a, "isa-debug-exit,iobase=0xf4,iosize=0x04");
	if (kvm_nested_vmx()) {
		nl_argv_add(a, "-enable-kvm");
		nl_argv_add(a, "-cpu");
		nl_argv_add(a, "host,+vmx");
		snprintf(plan->accel, sizeof plan->accel, "kvm");
	} else {
		fprintf(stderr, "%s: qemu: no KVM with nested VMX on this host, using TCG (no VMX)\n", nl_prog);
		nl_argv_add(a, "-accel");
		nl_argv_add(a, "tcg");
		nl_argv_add(a, "-cpu");
		nl_argv_add(a, "max");
		snprintf(plan->accel, sizeof plan->accel, "tcg");
	}
	if (a->overflow) {
		nl_msgf(err, cap, "qemu: arguments too long");
		return -1;
	}
	snprintf(plan->output_name, sizeof plan->output_name, "qemu.out");
	return 0;
}

/* isa-debug-exit folds L0's status into QEMU's: (status << 1) | 1. */
static void qemu_describe_exit(int status, char *buf, size_t cap)
{
	if (status & 1)
		snprintf(buf, cap, " (L0 shut down with status %d)", status >> 1);
	else if (status == 0)
		snprintf(buf, cap, " (the machine reset, a triple fault with -no-reboot, or powered off)");
	else
		snprintf(buf, cap, " (QEMU's own error)");
}

static void qemu_explain(const struct nl_backend_ctx *ctx, int backend_trouble, FILE *out)
{
	if (!backend_trouble)
		return; /* QEMU logs nothing about the guest beyond what COM1 carried */
	char path[NL_SOURCE_PATH_MAX + 64];
	nl_results_path(path, sizeof path, ctx->out_dir, "qemu.out");
	fprintf(out, "%s: the end of QEMU's output (%s):\n", nl_prog, path);
	nl_backend_tail(path, 10, out);
}

const struct nl_backend nl_backend_qemu = {
	.name = "qemu",
	.plan = qemu_plan,
	.explain = qemu_explain,
	.describe_exit = qemu_describe_exit,
};
