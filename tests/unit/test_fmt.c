/*
 * lib/fmt.c held to the host C library: the same format and arguments must
 * give the same bytes and the same return value, whole or truncated.
 */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fmt.h"

#define OUT_MAX 512

/*
 * Formats with both implementations into buffers of every size from 0 to
 * one past the full length, each with a canary after it, and compares.
 */
#define SAME(...)                                                                     \
	do {                                                                          \
		char want_[OUT_MAX], got_[OUT_MAX];                                   \
		int rw_ = snprintf(want_, sizeof want_, __VA_ARGS__);                 \
		int rg_ = nl_snprintf(got_, sizeof got_, __VA_ARGS__);                \
		CU_ASSERT_EQUAL(rg_, rw_);                                            \
		CU_ASSERT_STRING_EQUAL(got_, want_);                                  \
		if (rg_ != rw_ || strcmp(got_, want_) != 0)                           \
			fprintf(stderr, "\n  line %d: got [%s] (%d), want [%s] (%d)", \
				__LINE__, got_, rg_, want_, rw_);                     \
		for (size_t n_ = 0; rw_ >= 0 && n_ <= (size_t)rw_ + 1; n_++) {       \
			char w_[OUT_MAX + 1], g_[OUT_MAX + 1];                        \
			memset(w_, '#', sizeof w_);                                   \
			memset(g_, '#', sizeof g_);                                   \
			snprintf(w_, n_, __VA_ARGS__);                                \
			int r_ = nl_snprintf(g_, n_, __VA_ARGS__);                    \
			CU_ASSERT_EQUAL(r_, rw_);                                     \
			CU_ASSERT_EQUAL(memcmp(g_, w_, n_ + 1), 0);                   \
		}                                                                     \
	} while (0)

static void compare_runtime(const char *fmt, ...);

/*
 * Combinations -Wformat rejects in a literal format (they are legal C, the
 * flag is just ignored), so the format is given at run time.
 */
static void test_ignored_flags(void)
{
	compare_runtime("", 0);
	compare_runtime("[%08.3d] [%05.0d] [%-05d]", -7, 0, 7);
	compare_runtime("[%+u] [% u] [%+x] [% o]", 5u, 5u, 5u, 5u);
	compare_runtime("[%+5u] [% 05u]", 5u, 5u);
}

static void test_plain_text(void)
{
	SAME("hello, world");
	SAME("100%% sure");
	SAME("%%%%");
}

static void test_signed(void)
{
	SAME("%d", 0);
	SAME("%d %i", 42, -42);
	SAME("%d", INT_MAX);
	SAME("%d", INT_MIN);
	SAME("%ld", LONG_MIN);
	SAME("%lld", LLONG_MIN);
	SAME("%lld", LLONG_MAX);
	SAME("%zd", (ssize_t)-7);
	SAME("%hd %hhd", (short)-12345, (signed char)-100);
	SAME("%jd %td", (intmax_t)-5, (ptrdiff_t)99);
	SAME("[%5d] [%-5d] [%05d]", -42, -42, -42);
	SAME("[%+d] [% d] [%+d] [% d]", 7, 7, -7, -7);
	SAME("[%+05d] [% 05d] [%-+6d]", 7, 7, 7);
	SAME("[%.3d] [%8.3d] [%-8.3d]", -7, -7, -7);
	SAME("[%.0d] [%5.0d] [%+.0d]", 0, 0, 0);
	SAME("[%*d] [%*d] [%.*d] [%.*d]", 6, 1, -6, 1, 4, 1, -1, 1);
}

static void test_unsigned(void)
{
	SAME("%u", 0u);
	SAME("%u", UINT_MAX);
	SAME("%lu %llu %zu", ULONG_MAX, ULLONG_MAX, SIZE_MAX);
	SAME("%hu %hhu", (unsigned short)65535, (unsigned char)255);
	SAME("%x %X", 0xdeadbeefu, 0xdeadbeefu);
	SAME("%llx", 0xfedcba9876543210ull);
	SAME("[%#x] [%#X] [%#x] [%#010x] [%#-10x]", 0x1fu, 0x1fu, 0u, 0x1fu, 0x1fu);
	SAME("[%016llx] [%-16llx] [%16llx]", 0x1234ull, 0x1234ull, 0x1234ull);
	SAME("[%.8x] [%10.4X] [%.0x]", 0xabu, 0xabu, 0u);
	SAME("%o %#o %#o %#.3o", 8u, 8u, 0u, 8u);
	SAME("%lo", ULONG_MAX);
}

static void test_text(void)
{
	SAME("%s", "");
	SAME("[%s]", "abc");
	SAME("[%10s] [%-10s] [%2s]", "abc", "abc", "abc");
	SAME("[%.2s] [%.0s] [%.10s] [%6.2s] [%-6.2s]", "abcdef", "abcdef", "abc", "abcdef", "abcdef");
	SAME("[%.*s] [%*s]", 3, "abcdef", -6, "ab");
	SAME("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
	SAME("%c%c%c", 'a', 'b', 'c');
}

static void test_pointer(void)
{
	int x;

	SAME("%p", (void *)&x);
	SAME("%p", (void *)0x1000);
	SAME("[%20p] [%-20p]", (void *)0xabcdef, (void *)0xabcdef);
}

/* A string given a precision is not read past it, as C requires. */
static void test_precision_stops_reading(void)
{
	char unterminated[4] = { 'w', 'x', 'y', 'z' };
	char out[16];

	CU_ASSERT_EQUAL(nl_snprintf(out, sizeof out, "%.4s|", unterminated), 5);
	CU_ASSERT_STRING_EQUAL(out, "wxyz|");
}

static void test_null_string(void)
{
	char out[32];
	const char *volatile nothing = NULL; /* hidden from -Wformat-overflow */

	nl_snprintf(out, sizeof out, "[%s]", nothing);
	CU_ASSERT_STRING_EQUAL(out, "[(null)]");
}

/* A NUL character counts and is stored, as with the C library. */
static void test_nul_char(void)
{
	char out[8];

	memset(out, '#', sizeof out);
	CU_ASSERT_EQUAL(nl_snprintf(out, sizeof out, "a%cb", 0), 3);
	CU_ASSERT_EQUAL(memcmp(out, "a\0b\0", 4), 0);
}

/* Unknown conversions are copied as written; a trailing '%' too. */
static void test_unknown_conversion(void)
{
	char out[32];
	const char *fmt_unknown = "a%-5qb";
	const char *fmt_trailing = "50%";

	CU_ASSERT_EQUAL(nl_snprintf(out, sizeof out, fmt_unknown, 1), 6);
	CU_ASSERT_STRING_EQUAL(out, "a%-5qb");
	CU_ASSERT_EQUAL(nl_snprintf(out, sizeof out, fmt_trailing, 1), 3);
	CU_ASSERT_STRING_EQUAL(out, "50%");
}

/* n == 0: nothing written, not even the NUL, and a NULL buffer is fine. */
static void test_zero_size(void)
{
	char out[1] = { '#' };

	CU_ASSERT_EQUAL(nl_snprintf(out, 0, "%d", 12345), 5);
	CU_ASSERT_EQUAL(out[0], '#');
	CU_ASSERT_EQUAL(nl_snprintf(NULL, 0, "%s-%u", "ab", 7u), 4);
}

/*
 * Random conversions with defined behaviour in C, built at run time and
 * compared with the C library: flags, widths, precisions, lengths and
 * values in combinations nobody would write out by hand.
 */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Values near the interesting edges more often than uniform would give. */
static uint64_t random_value(void)
{
	static const uint64_t edges[] = { 0, 1, 9, 10, 15, 16, 255, 256, 0x7fffffff, 0x80000000,
					  0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
					  0x8000000000000000ull, 0xffffffffffffffffull };
	uint64_t r = rng();

	switch (r % 4) {
	case 0: return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
	case 1: return (r >> 8) % 1000;
	case 2: return -((r >> 8) % 1000);
	default: return rng();
	}
}

static void random_spec(char *fmt, size_t cap, char conv, int allow_zero, int allow_alt,
			int allow_sign, int allow_prec, const char *length)
{
	char flags[8];
	size_t nf = 0;
	uint64_t r = rng();

	if (r & 1) flags[nf++] = '-';
	if (allow_zero && (r & 2)) flags[nf++] = '0';
	if (allow_sign && (r & 4)) flags[nf++] = '+';
	if (allow_sign && (r & 8)) flags[nf++] = ' ';
	if (allow_alt && (r & 16)) flags[nf++] = '#';
	flags[nf] = '\0';

	char width[8] = "", prec[8] = "";
	if (r & 32)
		snprintf(width, sizeof width, "%u", (unsigned)((r >> 8) % 30));
	if (allow_prec && (r & 64))
		snprintf(prec, sizeof prec, ".%u", (unsigned)((r >> 16) % 25));
	snprintf(fmt, cap, "<%%%s%s%s%s%c>", flags, width, prec, length, conv);
}

static void compare_runtime(const char *fmt, ...)
{
	char want[OUT_MAX], got[OUT_MAX];
	va_list a1, a2;

	va_start(a1, fmt);
	va_copy(a2, a1);
	int rw = vsnprintf(want, sizeof want, fmt, a1);
	int rg = nl_vsnprintf(got, sizeof got, fmt, a2);
	va_end(a2);
	va_end(a1);
	CU_ASSERT_EQUAL(rg, rw);
	CU_ASSERT_STRING_EQUAL(got, want);
	if (rg != rw || strcmp(got, want) != 0)
		fprintf(stderr, "\n  format %s: got [%s] (%d), want [%s] (%d)", fmt, got, rg, want, rw);
}

static void test_random_integers(void)
{
	static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
	static const char convs[] = "diuxXo";
	char fmt[64];

	for (int i = 0; i < 20000; i++) {
		const char *len = lengths[rng() % 8];
		char conv = convs[rng() % 6];
		int is_signed = conv == 'd' || conv == 'i';
		int alt = conv == 'x' || conv == 'X' || conv == 'o';
		uint64_t v = random_value();

		random_spec(fmt, sizeof fmt, conv, 1, alt, is_signed, 1, len);
		/* Each length gets its argument in the type it names. */
		if (!strcmp(len, "") || !strcmp(len, "hh") || !strcmp(len, "h")) {
			if (is_signed)
				compare_runtime(fmt, (int)v);
			else
				compare_runtime(fmt, (unsigned)v);
		} else if (!strcmp(len, "l")) {
			if (is_signed)
				compare_runtime(fmt, (long)v);
			else
				compare_runtime(fmt, (unsigned long)v);
		} else if (!strcmp(len, "ll")) {
			if (is_signed)
				compare_runtime(fmt, (long long)v);
			else
				compare_runtime(fmt, (unsigned long long)v);
		} else if (!strcmp(len, "z")) {
			if (is_signed)
				compare_runtime(fmt, (ssize_t)v);
			else
				compare_runtime(fmt, (size_t)v);
		} else if (!strcmp(len, "j")) {
			if (is_signed)
				compare_runtime(fmt, (intmax_t)v);
			else
				compare_runtime(fmt, (uintmax_t)v);
		} else {
			if (is_signed)
				compare_runtime(fmt, (ptrdiff_t)v);
			else
				compare_runtime(fmt, (size_t)v);
		}
	}
}

static void test_random_text(void)
{
	static const char *const words[] = { "", "a", "nestlab", "L0/vm0", "a much longer string of text" };
	char fmt[64];

	for (int i = 0; i < 5000; i++) {
		if (rng() % 3 == 0) {
			random_spec(fmt, sizeof fmt, 'c', 0, 0, 0, 0, "");
			compare_runtime(fmt, (int)(' ' + rng() % 94));
		} else {
			random_spec(fmt, sizeof fmt, 's', 0, 0, 0, 1, "");
			compare_runtime(fmt, words[rng() % 5]);
		}
	}
}

void register_suite_fmt(void)
{
	CU_pSuite s = CU_add_suite("fmt", NULL, NULL);

	CU_add_test(s, "plain text and %%", test_plain_text);
	CU_add_test(s, "ignored flags", test_ignored_flags);
	CU_add_test(s, "signed conversions", test_signed);
	CU_add_test(s, "unsigned conversions", test_unsigned);
	CU_add_test(s, "%s and %c", test_text);
	CU_add_test(s, "%p", test_pointer);
	CU_add_test(s, "precision bounds the bytes read", test_precision_stops_reading);
	CU_add_test(s, "NULL string", test_null_string);
	CU_add_test(s, "NUL character", test_nul_char);
	CU_add_test(s, "unknown conversion copied", test_unknown_conversion);
	CU_add_test(s, "zero-sized buffer", test_zero_size);
	CU_add_test(s, "random integer conversions vs libc", test_random_integers);
	CU_add_test(s, "random text conversions vs libc", test_random_text);
}
