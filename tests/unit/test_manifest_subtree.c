/*
 * A child VMM's part of the manifest (nl_manifest_subtree in lib/manifest.c):
 * the VMs below one entry, re-indexed, the entry's own children at the top.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "nestlab/manifest.h"

#define MIB (1024ull * 1024ull)

static const char *src_path(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("NESTLAB_SRCDIR");

	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ".", rel);
	return path;
}

/* depth3.xml → its manifest, decoded into *m (bytes in buf). */
static void load_depth3(unsigned char *buf, size_t cap, struct nl_manifest_view *m)
{
	static struct nl_experiment e;
	struct nl_diag d;
	const char *why = NULL;

	if (nl_desc_load(src_path("configs/depth3.xml"), &e, &d))
		nl_diag_print(stderr, &d);
	CU_ASSERT_FATAL(e.vm_count == 3);
	size_t n = nl_experiment_to_manifest(&e, buf, cap);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(nl_manifest_decode(buf, n, m, &why) == 0);
}

static void test_depth3_at_hv1_round_trip(void)
{
	_Alignas(8) static unsigned char full[NL_MANIFEST_MAX_SIZE], sub[NL_MANIFEST_MAX_SIZE];
	struct nl_manifest_view m, s;
	struct nl_manifest_vm vms[NL_MAX_VMS];
	uint32_t count = 99;
	const char *why = NULL;

	load_depth3(full, sizeof full, &m);
	CU_ASSERT_STRING_EQUAL(m.vms[0].name, "hv1");
	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 0, vms, &count) == 0);
	CU_ASSERT_EQUAL_FATAL(count, 2);

	size_t n = nl_manifest_encode(m.hdr, vms, count, sub, sizeof sub);
	CU_ASSERT_FATAL(n > 0);
	if (nl_manifest_decode(sub, n, &s, &why))
		fprintf(stderr, "\n  sub-manifest refused: %s\n", why);
	CU_ASSERT_FATAL(nl_manifest_decode(sub, n, &s, &why) == 0);

	/* The header: everything but the VMs is the parent's. */
	CU_ASSERT_EQUAL(s.hdr->vm_count, 2);
	CU_ASSERT_EQUAL(s.hdr->seed, m.hdr->seed);
	CU_ASSERT_EQUAL(s.hdr->duration_ms, m.hdr->duration_ms);
	CU_ASSERT_EQUAL(s.hdr->tsc_khz, m.hdr->tsc_khz);
	CU_ASSERT_EQUAL(s.hdr->sched.quantum_us, m.hdr->sched.quantum_us);
	CU_ASSERT_EQUAL(s.hdr->flags, m.hdr->flags);
	CU_ASSERT_STRING_EQUAL(s.hdr->experiment, "depth3");

	CU_ASSERT_STRING_EQUAL(s.vms[0].name, "hv2");
	CU_ASSERT_STRING_EQUAL(s.vms[0].image, "nestlab-vmm");
	CU_ASSERT_EQUAL(s.vms[0].parent, -1);
	CU_ASSERT_EQUAL(s.vms[0].kind, NL_VM_VMM);
	CU_ASSERT_EQUAL(s.vms[0].memory_bytes, 48 * MIB);

	CU_ASSERT_STRING_EQUAL(s.vms[1].name, "leaf");
	CU_ASSERT_STRING_EQUAL(s.vms[1].image, "leaf");
	CU_ASSERT_EQUAL(s.vms[1].parent, 0);
	CU_ASSERT_EQUAL(s.vms[1].kind, NL_VM_LEAF);
	CU_ASSERT_EQUAL(s.vms[1].memory_bytes, 4 * MIB);
	CU_ASSERT_EQUAL(s.vms[1].workload.iterations, m.vms[2].workload.iterations);
	CU_ASSERT_EQUAL(s.vms[1].features, m.vms[2].features);

	/* One level further down: hv2's own part is the leaf alone, now a VM of its VMM. */
	CU_ASSERT_FATAL(nl_manifest_subtree(&s, 0, vms, &count) == 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	CU_ASSERT_STRING_EQUAL(vms[0].name, "leaf");
	CU_ASSERT_EQUAL(vms[0].parent, -1);
	/* And a leaf has nothing below it. */
	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 2, vms, &count) == 0);
	CU_ASSERT_EQUAL(count, 0);
}

static void put(struct nl_manifest_vm *v, const char *name, int32_t parent, enum nl_vm_kind kind)
{
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	snprintf(v->image, sizeof v->image, "%s", kind == NL_VM_VMM ? "nestlab-vmm" : "leaf");
	v->parent = parent;
	v->kind = kind;
	v->memory_bytes = 64 * MIB;
	v->features = NL_FEAT_EPT;
	if (kind == NL_VM_VMM)
		v->sched = (struct nl_sched_choice){ NL_SCHED_RR, NL_QUANTUM_US_MIN };
}

/*
 * L0: a (VMM) → { b, c (VMM) → { d } }, e, f (VMM) → { g }.  Only a's
 * descendants make a's part; the siblings before and after stay out.
 */
static void test_siblings_and_reindexing(void)
{
	_Alignas(8) static unsigned char buf[NL_MANIFEST_MAX_SIZE];
	struct nl_manifest_vm in[7], out[NL_MAX_VMS];
	struct nl_manifest_header h;
	struct nl_manifest_view m;
	uint32_t count;

	put(&in[0], "a", -1, NL_VM_VMM);
	put(&in[1], "b", 0, NL_VM_LEAF);
	put(&in[2], "c", 0, NL_VM_VMM);
	put(&in[3], "d", 2, NL_VM_LEAF);
	put(&in[4], "e", -1, NL_VM_LEAF);
	put(&in[5], "f", -1, NL_VM_VMM);
	put(&in[6], "g", 5, NL_VM_LEAF);
	memset(&h, 0, sizeof h);
	h.duration_ms = h.tsc_khz = 1;
	h.sched = (struct nl_sched_choice){ NL_SCHED_RR, NL_QUANTUM_US_MIN };
	strcpy(h.experiment, "tree");
	size_t n = nl_manifest_encode(&h, in, 7, buf, sizeof buf);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(nl_manifest_decode(buf, n, &m, NULL) == 0);

	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 0, out, &count) == 0);
	CU_ASSERT_EQUAL_FATAL(count, 3);
	CU_ASSERT_STRING_EQUAL(out[0].name, "b");
	CU_ASSERT_EQUAL(out[0].parent, -1);
	CU_ASSERT_STRING_EQUAL(out[1].name, "c");
	CU_ASSERT_EQUAL(out[1].parent, -1);
	CU_ASSERT_STRING_EQUAL(out[2].name, "d");
	CU_ASSERT_EQUAL(out[2].parent, 1);

	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 2, out, &count) == 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	CU_ASSERT_STRING_EQUAL(out[0].name, "d");
	CU_ASSERT_EQUAL(out[0].parent, -1);

	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 5, out, &count) == 0);
	CU_ASSERT_EQUAL_FATAL(count, 1);
	CU_ASSERT_STRING_EQUAL(out[0].name, "g");
	CU_ASSERT_EQUAL(out[0].parent, -1);

	/* What runs below: a hosts the VMM c; c and f host leaves only; leaves host nothing. */
	CU_ASSERT_TRUE(nl_manifest_below_has_kind(&m, 0, NL_VM_VMM));
	CU_ASSERT_TRUE(nl_manifest_below_has_kind(&m, 0, NL_VM_LEAF));
	CU_ASSERT_FALSE(nl_manifest_below_has_kind(&m, 2, NL_VM_VMM));
	CU_ASSERT_FALSE(nl_manifest_below_has_kind(&m, 5, NL_VM_VMM));
	CU_ASSERT_TRUE(nl_manifest_below_has_kind(&m, 5, NL_VM_LEAF));
	CU_ASSERT_FALSE(nl_manifest_below_has_kind(&m, 4, NL_VM_LEAF));
	CU_ASSERT_FALSE(nl_manifest_below_has_kind(&m, 7, NL_VM_LEAF));

	/* Whatever a subtree holds encodes again: it is a manifest of its own. */
	CU_ASSERT_FATAL(nl_manifest_subtree(&m, 0, out, &count) == 0);
	CU_ASSERT(nl_manifest_encode(&h, out, count, buf, sizeof buf) > 0);

	/* m now views the re-encoded subtree of a: b, c → d. */
	CU_ASSERT_EQUAL(nl_manifest_subtree(&m, 7, out, &count), -1);
	CU_ASSERT_EQUAL(nl_manifest_subtree(NULL, 0, out, &count), -1);
	CU_ASSERT_EQUAL(nl_manifest_subtree(&m, 0, NULL, &count), -1);
}

void register_suite_manifest_subtree(void)
{
	CU_pSuite s = CU_add_suite("manifest_subtree", NULL, NULL);

	CU_add_test(s, "depth3 at hv1: encode, decode, re-indexed", test_depth3_at_hv1_round_trip);
	CU_add_test(s, "siblings stay out, parents re-indexed", test_siblings_and_reindexing);
}
