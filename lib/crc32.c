/*
 * CRC-32 (IEEE 802.3): reflected polynomial 0xedb88320, initial value and
 * final xor 0xffffffff.  Freestanding: L0 checks the boot manifest with it
 * and the host tool computes the same value when it writes one.
 *
 * Four bits at a time from a 16-entry table: the table is small enough to
 * write out and check by eye, and manifests are a few KiB, so the speed of a
 * 256-entry table would buy nothing.
 */
#include <stddef.h>
#include <stdint.h>

#include "nestlab/manifest.h"

/* crc_nibble[n]: the register after shifting the 4 bits n out of it. */
static const uint32_t crc_nibble[16] = {
	0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
	0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
	0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
	0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

/*
 * The running value is the finished CRC of everything seen so far, so the
 * xor with all ones is undone on entry and redone on exit: callers chain
 * calls without knowing about the inversion.
 */
uint32_t nl_crc32_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
		crc = (crc >> 4) ^ crc_nibble[crc & 0xf];
	}
	return ~crc;
}

uint32_t nl_crc32(const void *data, size_t len)
{
	return nl_crc32_update(0, data, len);
}
