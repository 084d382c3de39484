/*
 * The compute phase's loop (see compute.h).  The checksum depends on every
 * step, and the caller reports it, so the compiler cannot drop or shorten
 * the loop; the generator has no closed form it could substitute.
 */
#include <stdint.h>

#include "compute.h"

/* xorshift64 is stuck at zero forever, so a zero seed is replaced. */
#define ZERO_SEED_STAND_IN 0x9e3779b97f4a7c15ull

uint64_t nl_compute_loop(uint64_t iterations, uint64_t seed)
{
	uint64_t x = seed != 0 ? seed : ZERO_SEED_STAND_IN;
	uint64_t sum = 0;

	for (uint64_t i = 0; i < iterations; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += x;
	}
	return sum ^ x;
}
