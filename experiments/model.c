/* Questions the rest of the host tool asks of a loaded experiment. */
#include <stdio.h>
#include <string.h>

#include "model.h"

void nl_defang(char *s)
{
	for (unsigned char *c = (unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			*c = '?';
}

void nl_diag_print(FILE *out, const struct nl_diag *d)
{
	fputs(d->file, out);
	if (d->line > 0)
		fprintf(out, ":%d", d->line);
	fputs(": ", out);
	if (d->field[0])
		fprintf(out, "%s: ", d->field);
	fprintf(out, "%s\n", d->message);
}

uint64_t nl_experiment_tsc_khz(const struct nl_experiment *exp)
{
	/*
	 * Under Bochs with `clock: sync=none` the TSC counts emulated
	 * instructions and an emulated second is `ips` instructions, so the
	 * TSC runs at exactly ips/1000 ticks per emulated millisecond.
	 */
	if (!strcmp(exp->backend.name, "bochs"))
		return exp->backend.ips / 1000;
	/*
	 * QEMU (TCG or KVM) runs on the host's clock and its TSC rate depends
	 * on the host CPU, which the host tool cannot know before boot; 1 GHz
	 * is a nominal rate that keeps durations and slices in the right order
	 * of magnitude.  L0 may calibrate against a timer and override it.
	 */
	return 1000000;
}

void nl_experiment_vm_path(const struct nl_experiment *exp, unsigned i, char *buf, size_t cap)
{
	unsigned chain[NL_MAX_VMS];
	unsigned depth = 0;
	size_t used;

	if (cap == 0)
		return;
	/* Walk up to L0; the depth bound also stops a parent loop in a hand-built model. */
	for (int at = (int)i; at >= 0 && (unsigned)at < exp->vm_count && depth < NL_MAX_VMS;
	     at = exp->vms[at].parent)
		chain[depth++] = (unsigned)at;
	used = (size_t)snprintf(buf, cap, "L0");
	while (depth > 0 && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, "/%s", exp->vms[chain[--depth]].name);
}
