/* The physical frame allocator: ranges in, aligned runs out, nothing lost. */
#include <CUnit/CUnit.h>
#include <stdint.h>

#include "frame_alloc.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

static struct frame_alloc fa;

/* Sum of the ranges, to check free_bytes against the table itself. */
static uint64_t table_bytes(void)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < fa.n; i++)
		sum += fa.r[i].end - fa.r[i].start;
	return sum;
}

static int table_sorted_disjoint(void)
{
	for (unsigned i = 0; i < fa.n; i++) {
		if (fa.r[i].start >= fa.r[i].end)
			return 0;
		if ((fa.r[i].start | fa.r[i].end) & (FRAME_SIZE - 1))
			return 0;
		if (i && fa.r[i - 1].end >= fa.r[i].start)
			return 0; /* touching ranges must have been merged */
	}
	return 1;
}

static void test_add_rounds_inwards_and_merges(void)
{
	frame_alloc_init(&fa);
	CU_ASSERT_EQUAL(fa.free_bytes, 0);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x1800, 0x3000), 0); /* [0x2000, 0x4000) */
	CU_ASSERT_EQUAL(fa.n, 1);
	CU_ASSERT_EQUAL(fa.r[0].start, 0x2000);
	CU_ASSERT_EQUAL(fa.r[0].end, 0x4000);
	CU_ASSERT_EQUAL(fa.free_bytes, 0x2000);

	/* A sliver smaller than a frame adds nothing. */
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x10100, 0x800), 0);
	CU_ASSERT_EQUAL(fa.n, 1);

	/* Touching and overlapping additions merge; bytes count the union. */
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x4000, 0x1000), 0);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x8000, 0x2000), 0);
	CU_ASSERT_EQUAL(fa.n, 2);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x3000, 0x6000), 0); /* bridges both */
	CU_ASSERT_EQUAL(fa.n, 1);
	CU_ASSERT_EQUAL(fa.r[0].start, 0x2000);
	CU_ASSERT_EQUAL(fa.r[0].end, 0xa000);
	CU_ASSERT_EQUAL(fa.free_bytes, 0x8000);
	CU_ASSERT_EQUAL(fa.free_bytes, table_bytes());
	CU_ASSERT(table_sorted_disjoint());
}

static void test_frame_zero_never_free(void)
{
	frame_alloc_init(&fa);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0, 0x4000), 0);
	CU_ASSERT_EQUAL(fa.r[0].start, FRAME_SIZE);
	CU_ASSERT_EQUAL(fa.free_bytes, 0x3000);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, FRAME_SIZE, FRAME_SIZE), 0x1000);
}

static void test_reserve_cuts_and_splits(void)
{
	frame_alloc_init(&fa);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 1 * MIB, 15 * MIB), 0);
	/* Reservations round outwards: one byte costs its whole frame. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 2 * MIB + 5, 1), 0);
	CU_ASSERT_EQUAL(fa.n, 2);
	CU_ASSERT_EQUAL(fa.r[0].end, 2 * MIB);
	CU_ASSERT_EQUAL(fa.r[1].start, 2 * MIB + FRAME_SIZE);
	CU_ASSERT_EQUAL(fa.free_bytes, 15 * MIB - FRAME_SIZE);

	/* Cutting the front, the back, and a reservation spanning several ranges. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 0, 1 * MIB + 0x1000), 0);
	CU_ASSERT_EQUAL(fa.r[0].start, 1 * MIB + 0x1000);
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 15 * MIB, 10 * MIB), 0);
	CU_ASSERT_EQUAL(fa.r[fa.n - 1].end, 15 * MIB);
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 1 * MIB, 3 * MIB), 0);
	CU_ASSERT_EQUAL(fa.n, 1);
	CU_ASSERT_EQUAL(fa.r[0].start, 4 * MIB);
	CU_ASSERT_EQUAL(fa.free_bytes, 11 * MIB);
	CU_ASSERT_EQUAL(fa.free_bytes, table_bytes());

	/* Reserving what is not free changes nothing. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 100 * MIB, MIB), 0);
	CU_ASSERT_EQUAL(fa.free_bytes, 11 * MIB);
	/* A length running past the top of the address space clamps. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 8 * MIB, UINT64_MAX), 0);
	CU_ASSERT_EQUAL(fa.free_bytes, 4 * MIB);
	CU_ASSERT(table_sorted_disjoint());
}

static void test_alloc_aligns_lowest_first(void)
{
	frame_alloc_init(&fa);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 0x3000, 0x2000), 0);   /* too small for what follows */
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 1 * MIB, 8 * MIB), 0);

	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, 100, 0), 0x3000);    /* rounds up to one frame */
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, 3 * FRAME_SIZE, FRAME_SIZE), 1 * MIB);
	/* A 2 MiB-aligned run skips to 2 MiB and leaves the gap below it free. */
	uint64_t big = frame_alloc_alloc(&fa, 2 * MIB, 2 * MIB);
	CU_ASSERT_EQUAL(big, 2 * MIB);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, FRAME_SIZE, FRAME_SIZE), 0x4000);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, FRAME_SIZE, FRAME_SIZE), 1 * MIB + 3 * FRAME_SIZE);
	CU_ASSERT_EQUAL(fa.free_bytes, 8 * MIB + 0x2000 - 0x6000 - 2 * MIB);
	CU_ASSERT_EQUAL(fa.free_bytes, table_bytes());
	CU_ASSERT(table_sorted_disjoint());

	/* Refusals: nothing, too much, alignment not a power of two. */
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, 0, FRAME_SIZE), 0);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, 64 * MIB, FRAME_SIZE), 0);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, UINT64_MAX, FRAME_SIZE), 0);
	CU_ASSERT_EQUAL(frame_alloc_alloc(&fa, FRAME_SIZE, 3 * FRAME_SIZE), 0);
	CU_ASSERT_EQUAL(fa.free_bytes, table_bytes());
}

static void test_free_merges_and_refuses_double_free(void)
{
	frame_alloc_init(&fa);
	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 1 * MIB, 1 * MIB), 0);
	uint64_t a = frame_alloc_alloc(&fa, 0x1000, FRAME_SIZE);
	uint64_t b = frame_alloc_alloc(&fa, 0x3000, FRAME_SIZE);
	uint64_t c = frame_alloc_alloc(&fa, 0x1000, FRAME_SIZE);
	CU_ASSERT(a && b && c);
	CU_ASSERT_EQUAL(fa.free_bytes, 1 * MIB - 0x5000);

	CU_ASSERT_EQUAL(frame_alloc_free(&fa, b, 0x3000), 0);
	CU_ASSERT_EQUAL(fa.n, 2);
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, b, 0x3000), -1);     /* already free */
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, b + 0x1000, 1), -1); /* inside a free range */
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, a + 8, 0x1000), -1); /* not frame aligned */
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, a, 0), -1);
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, UINT64_MAX & ~(FRAME_SIZE - 1), 2 * FRAME_SIZE), -1);

	CU_ASSERT_EQUAL(frame_alloc_free(&fa, a, 0x1000), 0);
	CU_ASSERT_EQUAL(frame_alloc_free(&fa, c, 100), 0);         /* length rounds up like alloc */
	CU_ASSERT_EQUAL(fa.n, 1);
	CU_ASSERT_EQUAL(fa.r[0].start, 1 * MIB);
	CU_ASSERT_EQUAL(fa.r[0].end, 2 * MIB);
	CU_ASSERT_EQUAL(fa.free_bytes, 1 * MIB);
	CU_ASSERT(table_sorted_disjoint());
}

static void test_full_table_refuses_without_damage(void)
{
	frame_alloc_init(&fa);
	for (unsigned i = 0; i < FRAME_ALLOC_MAX_RANGES; i++)
		CU_ASSERT_EQUAL(frame_alloc_add(&fa, (1 + 2 * (uint64_t)i) * MIB, MIB), 0);
	CU_ASSERT_EQUAL(fa.n, FRAME_ALLOC_MAX_RANGES);
	uint64_t before = fa.free_bytes;

	CU_ASSERT_EQUAL(frame_alloc_add(&fa, 1000 * MIB, MIB), -1);
	/* A reservation in the middle of a range needs a new slot: refused, nothing changed. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 1 * MIB + 0x4000, 0x1000), -1);
	CU_ASSERT_EQUAL(fa.free_bytes, before);
	CU_ASSERT_EQUAL(fa.n, FRAME_ALLOC_MAX_RANGES);
	/* Trimming an edge needs no slot and still works. */
	CU_ASSERT_EQUAL(frame_alloc_reserve(&fa, 1 * MIB, 0x1000), 0);
	CU_ASSERT_EQUAL(fa.free_bytes, before - 0x1000);
	/* An aligned allocation that would split a range moves on rather than fail. */
	uint64_t a = frame_alloc_alloc(&fa, FRAME_SIZE, 64 * KIB);
	CU_ASSERT_NOT_EQUAL(a, 0);
	CU_ASSERT_EQUAL(a % (64 * KIB), 0);
	CU_ASSERT_EQUAL(fa.n, FRAME_ALLOC_MAX_RANGES);
	CU_ASSERT_EQUAL(fa.free_bytes, table_bytes());
	CU_ASSERT(table_sorted_disjoint());
}

void register_suite_frame_alloc(void)
{
	CU_pSuite s = CU_add_suite("frame_alloc", NULL, NULL);
	CU_add_test(s, "add rounds inwards and merges", test_add_rounds_inwards_and_merges);
	CU_add_test(s, "frame 0 is never free", test_frame_zero_never_free);
	CU_add_test(s, "reserve cuts and splits", test_reserve_cuts_and_splits);
	CU_add_test(s, "alloc aligns, lowest first", test_alloc_aligns_lowest_first);
	CU_add_test(s, "free merges, refuses double free", test_free_merges_and_refuses_double_free);
	CU_add_test(s, "full table refuses without damage", test_full_table_refuses_without_damage);
}
