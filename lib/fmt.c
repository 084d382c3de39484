/*
 * Freestanding snprintf (contract in fmt.h).  The VMM, the guests and the
 * host's unit tests link this one file; the tests hold it to the host C
 * library's output for every conversion it accepts.
 *
 * Beyond what fmt.h promises, the C99 pieces that cost a few lines are
 * accepted too, so that a format the compiler's -Wformat allows never
 * prints garbage: flags '+', ' ' and '#', '*' widths, precisions ('.N',
 * '.*'), length modifiers hh, h, j, t, and %o.  A conversion it does not
 * know is copied to the output as written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "fmt.h"

/* The output cursor: counts every byte, stores only those that fit. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->cap > 0 && o->len < o->cap - 1)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct out *o, char c, long n)
{
	for (; n > 0; n--)
		put(o, c);
}

struct spec {
	int left;      /* '-' */
	int zero;      /* '0' */
	int plus;      /* '+' */
	int space;     /* ' ' */
	int alt;       /* '#' */
	long width;    /* 0 when none */
	long prec;     /* -1 when none */
};

/* Enough for 64 bits in octal (22 digits). */
#define DIGITS_MAX 24

/*
 * One integer conversion, laid out as C99 specifies:
 *   [spaces] [sign or 0x] [zeros] digits [spaces]
 * A precision turns off the '0' flag; precision 0 prints no digits for 0.
 */
static void put_integer(struct out *o, const struct spec *sp, uint64_t mag, int negative,
			unsigned base, int upper, const char *prefix)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[DIGITS_MAX];
	long ndig = 0;

	while (mag != 0) {
		digits[ndig++] = set[mag % base];
		mag /= base;
	}
	if (ndig == 0 && sp->prec != 0)
		digits[ndig++] = '0';
	/* '#' with %o: the first digit printed must be a zero. */
	long prec = sp->prec < 0 ? 1 : sp->prec;
	if (base == 8 && sp->alt && (ndig == 0 || digits[ndig - 1] != '0') && prec <= ndig)
		prec = ndig + 1;
	long zeros = prec > ndig ? prec - ndig : 0;

	char sign = negative ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
	long nprefix = (sign ? 1 : 0);
	for (const char *p = prefix; *p; p++)
		nprefix++;

	long body = nprefix + zeros + ndig;
	long pad = sp->width > body ? sp->width - body : 0;
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		put_n(o, ' ', pad);
	if (sign)
		put(o, sign);
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	put_n(o, '0', zeros);
	while (ndig > 0)
		put(o, digits[--ndig]);
	if (sp->left)
		put_n(o, ' ', pad);
}

/* A string or character: the precision caps the bytes read, the width pads. */
static void put_text(struct out *o, const struct spec *sp, const char *s, long max)
{
	long len = 0;

	while ((max < 0 || len < max) && s[len] != '\0')
		len++;
	long pad = sp->width > len ? sp->width - len : 0;
	if (!sp->left)
		put_n(o, ' ', pad);
	for (long i = 0; i < len; i++)
		put(o, s[i]);
	if (sp->left)
		put_n(o, ' ', pad);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX, LEN_PTRDIFF };

static long parse_decimal(const char **pp)
{
	long v = 0;

	while (**pp >= '0' && **pp <= '9') {
		if (v < 100000000)  /* saturate: a width that large is nonsense anyway */
			v = v * 10 + (**pp - '0');
		(*pp)++;
	}
	return v;
}

static int64_t signed_arg(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR: return (signed char)va_arg(*ap, int);
	case LEN_SHORT: return (short)va_arg(*ap, int);
	case LEN_LONG: return va_arg(*ap, long);
	case LEN_LLONG: return va_arg(*ap, long long);
	case LEN_SIZE: return (int64_t)va_arg(*ap, size_t);
	case LEN_MAX: return va_arg(*ap, intmax_t);
	case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

static uint64_t unsigned_arg(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned);
	case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned);
	case LEN_LONG: return va_arg(*ap, unsigned long);
	case LEN_LLONG: return va_arg(*ap, unsigned long long);
	case LEN_SIZE: return va_arg(*ap, size_t);
	case LEN_MAX: return va_arg(*ap, uintmax_t);
	case LEN_PTRDIFF: return (uint64_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned);
	}
}

/*
 * Parses one conversion starting after its '%' and writes it.  Returns
 * the format position after it.  va_list goes by pointer so the caller's
 * list advances (C11 7.16p3).
 */
static const char *convert(struct out *o, const char *f, va_list *ap)
{
	const char *start = f - 1;
	struct spec sp = { .prec = -1 };

	for (;; f++) {
		if (*f == '-') sp.left = 1;
		else if (*f == '0') sp.zero = 1;
		else if (*f == '+') sp.plus = 1;
		else if (*f == ' ') sp.space = 1;
		else if (*f == '#') sp.alt = 1;
		else break;
	}
	if (*f == '*') {
		int w = va_arg(*ap, int);
		f++;
		if (w < 0) {
			sp.left = 1;
			sp.width = -(long)w;
		} else {
			sp.width = w;
		}
	} else {
		sp.width = parse_decimal(&f);
	}
	if (*f == '.') {
		f++;
		if (*f == '*') {
			int p = va_arg(*ap, int);
			f++;
			sp.prec = p < 0 ? -1 : p;
		} else {
			sp.prec = parse_decimal(&f);
		}
	}

	enum length len = LEN_INT;
	switch (*f) {
	case 'h':
		f++;
		len = LEN_SHORT;
		if (*f == 'h') {
			f++;
			len = LEN_CHAR;
		}
		break;
	case 'l':
		f++;
		len = LEN_LONG;
		if (*f == 'l') {
			f++;
			len = LEN_LLONG;
		}
		break;
	case 'z': f++; len = LEN_SIZE; break;
	case 'j': f++; len = LEN_MAX; break;
	case 't': f++; len = LEN_PTRDIFF; break;
	default: break;
	}

	switch (*f) {
	case 'd':
	case 'i': {
		int64_t v = signed_arg(ap, len);
		uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
		put_integer(o, &sp, mag, v < 0, 10, 0, "");
		break;
	}
	case 'u':
		sp.plus = sp.space = 0; /* signs are for signed conversions only */
		put_integer(o, &sp, unsigned_arg(ap, len), 0, 10, 0, "");
		break;
	case 'o':
		sp.plus = sp.space = 0;
		put_integer(o, &sp, unsigned_arg(ap, len), 0, 8, 0, "");
		break;
	case 'x':
	case 'X': {
		uint64_t v = unsigned_arg(ap, len);
		const char *prefix = (sp.alt && v != 0) ? (*f == 'x' ? "0x" : "0X") : "";
		sp.plus = sp.space = 0;
		put_integer(o, &sp, v, 0, 16, *f == 'X', prefix);
		break;
	}
	case 'p':
		sp.plus = sp.space = 0;
		put_integer(o, &sp, (uintptr_t)va_arg(*ap, void *), 0, 16, 0, "0x");
		break;
	case 'c': {
		char c[2] = { (char)va_arg(*ap, int), 0 };
		/* put_text stops at NUL, so a NUL character is written by hand. */
		if (c[0] == '\0') {
			long pad = sp.width > 1 ? sp.width - 1 : 0;
			if (!sp.left)
				put_n(o, ' ', pad);
			put(o, '\0');
			if (sp.left)
				put_n(o, ' ', pad);
		} else {
			put_text(o, &sp, c, 1);
		}
		break;
	}
	case 's': {
		const char *s = va_arg(*ap, const char *);
		put_text(o, &sp, s ? s : "(null)", sp.prec);
		break;
	}
	case '%':
		put(o, '%');
		break;
	default:
		/* Unknown or cut short: show it as written rather than guess. */
		while (start < f)
			put(o, *start++);
		if (*f == '\0')
			return f;
		put(o, *f);
		break;
	}
	return f + 1;
}

int nl_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .cap = n, .len = 0 };
	va_list args;

	va_copy(args, ap);
	while (*fmt != '\0') {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt = convert(&o, fmt + 1, &args);
	}
	va_end(args);
	if (n > 0)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int nl_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = nl_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
