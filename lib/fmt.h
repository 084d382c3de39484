/* Freestanding formatted output: a subset of snprintf for VMMs and guests. */
#ifndef NESTLAB_LIB_FMT_H
#define NESTLAB_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Conversions: %d %i %u %x %X %c %s %p %%, length modifiers l, ll, z,
 * flags '-' and '0', a decimal field width.  Always NUL-terminates when
 * n > 0; returns the length the full output would have had (like C99).
 */
int nl_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int nl_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
