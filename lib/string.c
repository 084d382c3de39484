/*
 * The memory and string functions bare-metal code needs.  GCC emits calls
 * to memcpy, memmove, memset and memcmp even with -ffreestanding (struct
 * copies, zero initialisers), so the VMM and the guests must provide them.
 *
 * The copy and fill loops are REP MOVS / REP STOS: written as plain C
 * loops, GCC's loop-distribution pass may recognise them as memcpy/memset
 * idioms and compile them into calls to themselves.  Bochs counts every
 * repetition as an instruction (and TSC tick), so whole 8-byte words are
 * moved whenever the addresses and the length allow it: a VM's memory,
 * page tables and VMCS caches are all 8-byte aligned.
 *
 * Bare-metal only (x86-64); the host uses its own libc.
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;

	if ((((uintptr_t)dst | (uintptr_t)src | n) & 7) == 0) {
		n /= 8;
		__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	} else {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	}
	return dst;
}

/*
 * An overlapping copy towards higher addresses must run backwards, from
 * the last byte down (direction flag set, cleared again at once because
 * the ABI requires DF=0 at every call boundary).
 */
void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n == 0 || d == s)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	d += n - 1;
	s += n - 1;
	__asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	if ((((uintptr_t)dst | n) & 7) == 0) {
		uint64_t pattern = 0x0101010101010101ull * (unsigned char)c;
		n /= 8;
		__asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(pattern) : "memory");
	} else {
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	}
	return dst;
}

typedef uint64_t __attribute__((may_alias)) word_alias;

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	size_t i = 0;

	/* Equal words are skipped eight bytes at a time; the first differing byte decides. */
	if ((((uintptr_t)p | (uintptr_t)q) & 7) == 0)
		while (i + 8 <= n && *(const word_alias *)(p + i) == *(const word_alias *)(q + i))
			i += 8;
	for (; i < n; i++)
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

/* Compared as unsigned char, as the C standard requires. */
int strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return (*p > *q) - (*p < *q);
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != q[i])
			return p[i] < q[i] ? -1 : 1;
		if (p[i] == '\0')
			return 0;
	}
	return 0;
}
