/*
 * VPID02 for (L1, VPID12), and what L1's INVVPID becomes.
 *
 * L1 tags its L2s' translations with VPID12s of its choosing; the processor
 * only knows this VMM's tags.  Each VPID12 that L2 actually runs with gets
 * its own VPID02 from the range this VMM gave the child, so L2's
 * translations survive switches to L1 and back, and L1's invalidations hit
 * exactly the translations L1 meant (SDM 29.1, 29.4.3.3).  Where the real
 * processor lacks an INVVPID type of the plan (IA32_VMX_EPT_VPID_CAP bits
 * 40-43), the runtime widens it to single-context on the same VPID02.
 */
#include "nested.h"

/* VPID 0 tags VMX root operation's own translations (SDM 29.1): never a guest's. */
#define VPID_HOST 0

void vpid_map_init(struct vpid_map *m, uint16_t first, uint16_t last)
{
	for (unsigned i = 0; i < VPID_MAP_SLOTS; i++)
		m->vpid12[i] = m->vpid02[i] = 0;
	m->used = 0;
	m->next_free = first == VPID_HOST ? 1 : first;
	m->last = last;
}

static int find(const struct vpid_map *m, uint16_t vpid12)
{
	for (unsigned i = 0; i < m->used; i++)
		if (m->vpid12[i] == vpid12)
			return (int)i;
	return -1;
}

uint16_t vpid_map_get(struct vpid_map *m, uint16_t vpid12)
{
	/* VPID12 0 never reaches a VM entry: with "enable VPID" set, VM entry
	 * requires a VPID other than 0 (SDM 27.2.1.1). */
	if (vpid12 == VPID_HOST)
		return 0;
	int i = find(m, vpid12);
	if (i >= 0)
		return m->vpid02[i];
	/* next_free wraps to 0 past 0xffff: the range is then used up too. */
	if (m->used == VPID_MAP_SLOTS || m->next_free == VPID_HOST || m->next_free > m->last)
		return 0;
	m->vpid12[m->used] = vpid12;
	m->vpid02[m->used] = m->next_free++;
	return m->vpid02[m->used++];
}

/*
 * INVVPID types (SDM 31, INVVPID; 29.4.3.3).  Individual-address, single-
 * context and single-context-retaining-globals name one VPID12: they become
 * the same type on its VPID02, or nothing at all if L2 never ran with that
 * VPID12 (no translation can be cached under a VPID02 that does not exist).
 * VPID 0 is refused for those types by the instruction's own checks
 * (VMfailValid) before this is asked, and names no VPID02 here.  All-
 * contexts invalidates every VPID but 0 in L1's view: that is every VPID02
 * of this child, one single-context at a time, and never the processor's
 * all-contexts type, which would also flush this VMM's other VMs.
 */
void vpid_map_translate_invvpid(const struct vpid_map *m, uint64_t type12, uint16_t vpid12, uint64_t gla,
				struct invvpid_plan *out)
{
	out->type = -1;
	out->count = 0;
	out->gla = gla;
	switch (type12) {
	case INVVPID_INDIVIDUAL_ADDR:
	case INVVPID_SINGLE_CONTEXT:
	case INVVPID_SINGLE_NOGLOBALS: {
		int i = vpid12 == VPID_HOST ? -1 : find(m, vpid12);
		if (i < 0)
			return;
		out->type = (int)type12;
		out->vpid02[0] = m->vpid02[i];
		out->count = 1;
		return;
	}
	case INVVPID_ALL_CONTEXT:
		for (unsigned i = 0; i < m->used; i++)
			out->vpid02[out->count++] = m->vpid02[i];
		if (out->count)
			out->type = INVVPID_SINGLE_CONTEXT;
		return;
	default:
		return; /* unsupported types fail in the instruction's checks */
	}
}
