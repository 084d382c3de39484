/*
 * The child platform's table (platform_ops.h): everything that leaves this
 * VMM goes through its parent's hypercalls.  Console text becomes the
 * parent's console records for our path; record lines are forwarded whole
 * (the parent checks that their path is ours or below, then passes them on
 * up); the end of this level is NL_HC_EXIT, which the parent records as
 * our vm_stop.
 */
#include <string.h>

#include "cpu.h"
#include "hypercall.h"
#include "l1.h"

static struct boot_module modules[NL_GUEST_MAX_MODULES];
static char module_names[NL_GUEST_MAX_MODULES][NL_NAME_MAX];
static unsigned module_count;

static void l1_con_write(const char *s, size_t n)
{
	/* CONSOLE_WRITE takes at most NL_HC_MAX_TEXT bytes a call. */
	while (n) {
		size_t k = n < NL_HC_MAX_TEXT ? n : NL_HC_MAX_TEXT;
		l1_hypercall(NL_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)s, k);
		s += k;
		n -= k;
	}
}

static void l1_write_record_line(const char *line, size_t n)
{
	int64_t rc = l1_hypercall(NL_HC_FORWARD_RECORD, (uint64_t)(uintptr_t)line, n);
	/* A refused line is a bug here or in the parent: say so where it can still be seen. */
	if (rc != NL_HC_OK)
		con_printf("%s: the parent refused a record line (error %lld): %.100s\n", platform_path(),
			   (long long)rc, line);
}

static const struct boot_module *l1_module(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; i < module_count; i++)
		if (strcmp(modules[i].name, name) == 0)
			return &modules[i];
	return NULL;
}

static __attribute__((noreturn)) void l1_shutdown(int status)
{
	l1_hypercall(NL_HC_EXIT, (uint64_t)(int64_t)status, 0);
	/* EXIT never returns; should a parent resume us anyway, stay put. */
	for (;;) {
		cli();
		__asm__ volatile("hlt");
	}
}

const struct platform_ops l1_ops = {
	.con_write = l1_con_write,
	.write_record_line = l1_write_record_line,
	.module = l1_module,
	.shutdown = l1_shutdown,
};

void l1_modules_init(const struct nl_guest_boot *b)
{
	module_count = 0;
	for (unsigned i = 0; i < b->module_count && i < NL_GUEST_MAX_MODULES; i++) {
		/* Copies: the boot information page is nobody's to keep. */
		__builtin_memcpy(module_names[i], b->modules[i].name, NL_NAME_MAX);
		module_names[i][NL_NAME_MAX - 1] = '\0';
		modules[i].name = module_names[i];
		modules[i].start = b->modules[i].gpa;
		modules[i].size = b->modules[i].size;
		module_count++;
	}
}

unsigned l1_module_count(void)
{
	return module_count;
}

int platform_parent_irq_setup(uint64_t page_gpa, unsigned vector_base, uint32_t unmask)
{
	/* Only a child has a parent to route lines to it; its memory is identity-mapped guest-physical. */
	if (platform_level() == 0)
		return -1;
	return l1_hypercall3(NL_HC_IRQ_SETUP, page_gpa, vector_base, unmask) == NL_HC_OK ? 0 : -1;
}
