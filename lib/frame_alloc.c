/*
 * Physical frame allocator over a sorted table of disjoint free ranges
 * (see frame_alloc.h).  The table stays sorted and its ranges never touch:
 * neighbours are merged whenever memory comes back, so the number of
 * ranges only grows when a reservation or an allocation splits one.
 */
#include <stddef.h>

#include "frame_alloc.h"

#define FRAME_MASK (FRAME_SIZE - 1)
/* The highest frame-aligned address: where a range clamped at the top ends. */
#define TOP_OF_MEMORY (~0ull & ~FRAME_MASK)

static uint64_t round_down(uint64_t a)
{
	return a & ~FRAME_MASK;
}

/* Rounds up, clamping at TOP_OF_MEMORY instead of wrapping to 0. */
static uint64_t round_up(uint64_t a)
{
	return a > TOP_OF_MEMORY ? TOP_OF_MEMORY : (a + FRAME_MASK) & ~FRAME_MASK;
}

/* start + len, clamped at the top instead of wrapping. */
static uint64_t end_of(uint64_t start, uint64_t len)
{
	return len > ~0ull - start ? ~0ull : start + len;
}

static void remove_at(struct frame_alloc *fa, unsigned i, unsigned count)
{
	for (unsigned k = i; k + count < fa->n; k++)
		fa->r[k] = fa->r[k + count];
	fa->n -= count;
}

static int insert_at(struct frame_alloc *fa, unsigned i, uint64_t start, uint64_t end)
{
	if (fa->n == FRAME_ALLOC_MAX_RANGES)
		return -1;
	for (unsigned k = fa->n; k > i; k--)
		fa->r[k] = fa->r[k - 1];
	fa->r[i] = (struct frame_range){ start, end };
	fa->n++;
	return 0;
}

/*
 * Make [s, e) free, merging with every range it overlaps or touches.  The
 * new range may overlap existing ones (memory maps sometimes repeat
 * themselves); free_bytes counts the union.
 */
static int union_insert(struct frame_alloc *fa, uint64_t s, uint64_t e)
{
	unsigned i = 0;
	while (i < fa->n && fa->r[i].end < s)
		i++;
	unsigned j = i;
	while (j < fa->n && fa->r[j].start <= e)
		j++;
	if (i == j) {
		if (insert_at(fa, i, s, e))
			return -1;
		fa->free_bytes += e - s;
		return 0;
	}
	uint64_t ns = fa->r[i].start < s ? fa->r[i].start : s;
	uint64_t ne = fa->r[j - 1].end > e ? fa->r[j - 1].end : e;
	for (unsigned k = i; k < j; k++)
		fa->free_bytes -= fa->r[k].end - fa->r[k].start;
	fa->r[i] = (struct frame_range){ ns, ne };
	fa->free_bytes += ne - ns;
	remove_at(fa, i + 1, j - i - 1);
	return 0;
}

void frame_alloc_init(struct frame_alloc *fa)
{
	fa->n = 0;
	fa->free_bytes = 0;
}

int frame_alloc_add(struct frame_alloc *fa, uint64_t start, uint64_t len)
{
	uint64_t s = round_up(start);
	uint64_t e = round_down(end_of(start, len));
	/* Frame 0 is never handed out: alloc() reports failure as address 0. */
	if (s < FRAME_SIZE)
		s = FRAME_SIZE;
	if (e <= s)
		return 0;
	return union_insert(fa, s, e);
}

int frame_alloc_reserve(struct frame_alloc *fa, uint64_t start, uint64_t len)
{
	if (len == 0)
		return 0;
	uint64_t s = round_down(start);
	uint64_t e = round_up(end_of(start, len));

	/* Only a range that strictly contains [s, e) splits; check room first. */
	for (unsigned i = 0; i < fa->n; i++)
		if (fa->r[i].start < s && fa->r[i].end > e && fa->n == FRAME_ALLOC_MAX_RANGES)
			return -1;

	for (unsigned i = 0; i < fa->n;) {
		struct frame_range *r = &fa->r[i];
		if (r->end <= s || r->start >= e) {
			i++;
		} else if (r->start < s && r->end > e) {
			uint64_t old_end = r->end;
			r->end = s;
			insert_at(fa, i + 1, e, old_end); /* room checked above */
			fa->free_bytes -= e - s;
			i += 2;
		} else if (r->start < s) {
			fa->free_bytes -= r->end - s;
			r->end = s;
			i++;
		} else if (r->end > e) {
			fa->free_bytes -= e - r->start;
			r->start = e;
			i++;
		} else {
			fa->free_bytes -= r->end - r->start;
			remove_at(fa, i, 1);
		}
	}
	return 0;
}

uint64_t frame_alloc_alloc(struct frame_alloc *fa, uint64_t len, uint64_t align)
{
	if (len == 0 || len > TOP_OF_MEMORY)
		return 0;
	if (align < FRAME_SIZE)
		align = FRAME_SIZE;
	if (align & (align - 1))
		return 0;
	len = round_up(len);

	for (unsigned i = 0; i < fa->n; i++) {
		struct frame_range *r = &fa->r[i];
		if (r->start > ~0ull - (align - 1))
			continue;
		uint64_t a = (r->start + align - 1) & ~(align - 1);
		if (a >= r->end || r->end - a < len)
			continue;
		uint64_t b = a + len;
		if (a == r->start && b == r->end) {
			remove_at(fa, i, 1);
		} else if (a == r->start) {
			r->start = b;
		} else if (b == r->end) {
			r->end = a;
		} else {
			/* Alignment left a gap below: keep it, unless the table is full. */
			uint64_t old_end = r->end;
			if (insert_at(fa, i + 1, b, old_end))
				continue;
			fa->r[i].end = a;
		}
		fa->free_bytes -= len;
		return a;
	}
	return 0;
}

int frame_alloc_free(struct frame_alloc *fa, uint64_t start, uint64_t len)
{
	if (len == 0 || (start & FRAME_MASK) || start == 0 || len > TOP_OF_MEMORY)
		return -1;
	uint64_t e = end_of(start, round_up(len));
	if (e & FRAME_MASK)
		return -1; /* ran into the top of the address space */
	/* Giving back memory that is already free is a caller's bug: refuse it. */
	for (unsigned i = 0; i < fa->n; i++)
		if (fa->r[i].start < e && start < fa->r[i].end)
			return -1;
	return union_insert(fa, start, e);
}
