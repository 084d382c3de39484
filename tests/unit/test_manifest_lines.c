/*
 * The manifest's interrupt-line entries (lib/manifest.c): a round trip,
 * every rule the decoder holds them to, and a child VMM's share of them
 * (nl_manifest_subtree_lines), re-indexed as its VMs are.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "nestlab/manifest.h"

#define MIB (1024ull * 1024ull)

static _Alignas(8) unsigned char buf[8192];
static size_t buf_len;
static struct nl_manifest_header hdr_in;
static struct nl_manifest_vm vms_in[4];
static struct nl_manifest_irq irqs_in[6];

static void put_vm(unsigned i, const char *name, int parent, uint32_t kind)
{
	strcpy(vms_in[i].name, name);
	strcpy(vms_in[i].image, kind == NL_VM_VMM ? "nestlab-vmm" : "leaf");
	vms_in[i].parent = parent;
	vms_in[i].kind = kind;
	vms_in[i].memory_bytes = (kind == NL_VM_VMM ? 64 : 4) * MIB;
	vms_in[i].features = NL_FEAT_EPT;
	if (kind == NL_VM_VMM)
		vms_in[i].sched = (struct nl_sched_choice){ NL_SCHED_RR, 1000 };
}

/*
 * L0 -> { hv (VMM) -> { a, b }, c }.  L0: the RTC on line 8 to c as its
 * line 2, then to the VMM at 100 ms; hv: a generator on line 3 to b.
 */
static void sample(void)
{
	memset(&hdr_in, 0, sizeof hdr_in);
	memset(vms_in, 0, sizeof vms_in);
	memset(irqs_in, 0, sizeof irqs_in);
	hdr_in.duration_ms = 200;
	hdr_in.tsc_khz = 50000;
	hdr_in.sched = (struct nl_sched_choice){ NL_SCHED_RR, 1000 };
	strcpy(hdr_in.experiment, "lines");
	put_vm(0, "hv", -1, NL_VM_VMM);
	put_vm(1, "a", 0, NL_VM_LEAF);
	put_vm(2, "b", 0, NL_VM_LEAF);
	put_vm(3, "c", -1, NL_VM_LEAF);
	irqs_in[0] = (struct nl_manifest_irq){ .owner = -1, .item = NL_IRQ_ITEM_SOURCE, .line = 8,
					       .source = NL_IRQ_SRC_RTC, .to_vm = -1, .rate = 1024 };
	irqs_in[1] = (struct nl_manifest_irq){ .owner = -1, .item = NL_IRQ_ITEM_ROUTE, .line = 8,
					       .to_line = 2, .to_vm = 3 };
	irqs_in[2] = (struct nl_manifest_irq){ .owner = -1, .item = NL_IRQ_ITEM_ROUTE, .line = 8,
					       .to_vm = NL_IRQ_TO_VMM, .at_ms = 100 };
	irqs_in[3] = (struct nl_manifest_irq){ .owner = 0, .item = NL_IRQ_ITEM_SOURCE, .line = 3,
					       .source = NL_IRQ_SRC_BURST, .to_vm = -1, .rate = 1000,
					       .burst = 4, .spacing_us = 50 };
	irqs_in[4] = (struct nl_manifest_irq){ .owner = 0, .item = NL_IRQ_ITEM_ROUTE, .line = 3,
					       .to_line = 3, .to_vm = 2 };
	irqs_in[5] = (struct nl_manifest_irq){ .owner = 0, .item = NL_IRQ_ITEM_ROUTE, .line = 3,
					       .to_line = 5, .to_vm = 1, .at_ms = 50 };
}

static size_t encode(void)
{
	memset(buf, 0xa5, sizeof buf);
	return nl_manifest_encode_lines(&hdr_in, vms_in, 4, irqs_in, 6, buf, sizeof buf);
}

static void test_round_trip(void)
{
	struct nl_manifest_view v;
	const char *why = NULL;

	sample();
	buf_len = encode();
	CU_ASSERT_FATAL(buf_len == sizeof(struct nl_manifest_header) + 4 * sizeof(struct nl_manifest_vm) +
					   6 * sizeof(struct nl_manifest_irq));
	CU_ASSERT_EQUAL_FATAL(nl_manifest_decode(buf, buf_len, &v, &why), 0);
	CU_ASSERT_EQUAL(v.hdr->irq_count, 6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v.irqs);
	CU_ASSERT_EQUAL(memcmp(v.irqs, irqs_in, sizeof irqs_in), 0);
	/* Without lines: no section at all. */
	buf_len = nl_manifest_encode(&hdr_in, vms_in, 4, buf, sizeof buf);
	CU_ASSERT_EQUAL_FATAL(nl_manifest_decode(buf, buf_len, &v, &why), 0);
	CU_ASSERT_EQUAL(v.hdr->irq_count, 0);
	CU_ASSERT_PTR_NULL(v.irqs);
}

/* One entry changed from the sample: the encoder writes nothing, and the reason names the rule. */
static void refused(unsigned i, struct nl_manifest_irq e, const char *word)
{
	struct nl_manifest_view v;
	const char *why = NULL;

	sample();
	irqs_in[i] = e;
	CU_ASSERT_EQUAL(encode(), 0);
	/* Encode it anyway (the codec's encoder checks with decode): patch a good one and reseal. */
	sample();
	buf_len = encode();
	CU_ASSERT_FATAL(buf_len > 0);
	struct nl_manifest_header *h = (struct nl_manifest_header *)buf;
	memcpy(buf + h->irq_offset + i * sizeof e, &e, sizeof e);
	h->crc32 = 0;
	h->crc32 = nl_crc32(buf, h->total_size);
	CU_ASSERT(nl_manifest_decode(buf, buf_len, &v, &why) < 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	if (!strstr(why, word))
		CU_FAIL("refused for another reason");
}

static void test_refusals(void)
{
	sample();
	struct nl_manifest_irq rtc = irqs_in[0], route = irqs_in[1], burst = irqs_in[3];
	struct nl_manifest_irq e;

	e = rtc; e.line = 3;                refused(0, e, "RTC is line 8");
	e = rtc; e.owner = 0;               refused(0, e, "RTC is line 8");
	e = rtc; e.rate = 1000;             refused(0, e, "power of two");
	e = rtc; e.rate = 16384;            refused(0, e, "power of two");
	e = rtc; e.source = 9;              refused(0, e, "unknown");
	e = rtc; e.line = NL_IRQ_LINES;     refused(0, e, "NL_IRQ_LINES");
	e = rtc; e.owner = 1;               refused(0, e, "owner");
	e = rtc; e.owner = 4;               refused(0, e, "owner");
	e = rtc; e.at_ms = 5;               refused(0, e, "route fields");
	e = rtc; e.item = 3;                refused(0, e, "neither");
	e = rtc; e.source = NL_IRQ_SRC_PIT; refused(0, e, "PIT is line 0");
	e = burst; e.rate = NL_IRQ_PERIOD_US_MIN - 1; refused(3, e, "period");
	e = burst; e.burst = 0;             refused(3, e, "burst size");
	e = burst; e.spacing_us = 400;      refused(3, e, "lasts as long");
	e = burst; e.source = NL_IRQ_SRC_PERIODIC; refused(3, e, "burst fields");
	e = route; e.to_vm = 1;             refused(1, e, "owner's VMs"); /* a VM of hv, not of L0 */
	e = route; e.to_vm = 7;             refused(1, e, "owner's VMs");
	e = route; e.to_line = NL_IRQ_LINES; refused(1, e, "VM line");
	e = route; e.at_ms = 200;           refused(1, e, "duration");
	e = route; e.rate = 5;              refused(1, e, "source fields");
	/* L0's route to hv as hv's line 3, which hv's burst generator drives: two sources on one line. */
	e = route; e.to_vm = 0; e.to_line = 3; refused(1, e, "drives itself");
	e = rtc; e.owner = -1; e.item = NL_IRQ_ITEM_SOURCE; e.line = 8;
	refused(1, e, "two sources"); /* the RTC twice on L0's line 8 */
}

static void test_subtree_lines(void)
{
	struct nl_manifest_view v;
	struct nl_manifest_irq out[NL_IRQ_MAX];
	uint32_t n = 99;
	const char *why = NULL;

	sample();
	buf_len = encode();
	CU_ASSERT_EQUAL_FATAL(nl_manifest_decode(buf, buf_len, &v, &why), 0);
	/* hv's share: its own three, owner -1, its VMs a and b re-indexed 0 and 1. */
	CU_ASSERT_EQUAL_FATAL(nl_manifest_subtree_lines(&v, 0, out, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(out[0].owner, -1);
	CU_ASSERT_EQUAL(out[0].source, NL_IRQ_SRC_BURST);
	CU_ASSERT_EQUAL(out[1].to_vm, 1);
	CU_ASSERT_EQUAL(out[2].to_vm, 0);
	CU_ASSERT_EQUAL(out[2].to_line, 5);
	/* ... which encode into hv's own manifest and decode again. */
	struct nl_manifest_vm sub[NL_MAX_VMS];
	uint32_t nvms = 0;
	_Alignas(8) static unsigned char sbuf[4096];
	CU_ASSERT_EQUAL_FATAL(nl_manifest_subtree(&v, 0, sub, &nvms), 0);
	size_t len = nl_manifest_encode_lines(v.hdr, sub, nvms, out, n, sbuf, sizeof sbuf);
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL(nl_manifest_decode(sbuf, len, &(struct nl_manifest_view){ 0 }, &why), 0);
	/* A leaf's share is empty; an entry past the VMs is refused. */
	CU_ASSERT_EQUAL(nl_manifest_subtree_lines(&v, 3, out, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(nl_manifest_subtree_lines(&v, 4, out, &n), -1);
}

void register_suite_manifest_lines(void)
{
	CU_pSuite s = CU_add_suite("manifest_lines", NULL, NULL);

	CU_add_test(s, "interrupt lines: round trip", test_round_trip);
	CU_add_test(s, "interrupt lines: every rule refused", test_refusals);
	CU_add_test(s, "interrupt lines: a child VMM's share, re-indexed", test_subtree_lines);
}
