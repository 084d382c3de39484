/*
 * The leaf guest's CPU-bound loop, kept apart from everything else so that
 * the benchmark can run the very same object code natively in L0 and
 * compare the two timings (issue 2, part 13).
 */
#ifndef NESTLAB_LEAF_COMPUTE_H
#define NESTLAB_LEAF_COMPUTE_H

#include <stdint.h>

/*
 * `iterations` steps of an xorshift64 generator started from `seed`;
 * returns a checksum of every value it produced.  Pure: no memory traffic,
 * no hypercalls, the same result for the same arguments everywhere.
 */
uint64_t nl_compute_loop(uint64_t iterations, uint64_t seed);

#endif
