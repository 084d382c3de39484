/* FNV-1a, 64-bit (Fowler, Noll, Vo): a small stable hash of bytes, for seeds and path fingerprints. */
#ifndef NESTLAB_LIB_FNV1A_H
#define NESTLAB_LIB_FNV1A_H

#include <stdint.h>

#define FNV1A_OFFSET 0xcbf29ce484222325ull

static inline uint64_t fnv1a_byte(uint64_t h, uint8_t byte)
{
	return (h ^ byte) * 0x100000001b3ull;
}

/* The bytes of a NUL-terminated string. */
static inline uint64_t fnv1a_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = fnv1a_byte(h, (uint8_t)*s);
	return h;
}

/* The eight bytes of a value, least significant first. */
static inline uint64_t fnv1a_u64(uint64_t h, uint64_t v)
{
	for (unsigned b = 0; b < 8; b++)
		h = fnv1a_byte(h, (uint8_t)(v >> (8 * b)));
	return h;
}

#endif
