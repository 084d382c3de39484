/*
 * platform.h's entry points that differ between the root and a child
 * platform: each goes through the table chosen at boot (platform_ops.h).
 */
#include <stdarg.h>

#include "fmt.h"
#include "nestlab/guest_boot.h"
#include "platform_ops.h"

static const struct platform_ops *ops;
static char path[NL_PATH_MAX];
static unsigned level;

void platform_select(const struct platform_ops *chosen, const char *p, unsigned lvl)
{
	ops = chosen;
	nl_snprintf(path, sizeof path, "%s", p);
	level = lvl;
}

const char *platform_path(void)
{
	return path;
}

unsigned platform_level(void)
{
	return level;
}

void con_write(const char *s, size_t n)
{
	ops->con_write(s, n);
}

void con_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = nl_vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* Longer output is cut to what fits; records never come through here. */
	size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
	ops->con_write(buf, len);
}

void platform_write_record_line(const char *line, size_t n)
{
	ops->write_record_line(line, n);
}

const struct boot_module *platform_module(const char *name)
{
	return ops->module(name);
}

void platform_shutdown(int status)
{
	ops->shutdown(status);
}
