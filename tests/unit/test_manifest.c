/* The boot manifest codec (lib/manifest.c, lib/crc32.c): round trips and every refusal. */
#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nestlab/manifest.h"

#define MIB (1024ull * 1024ull)

/* Big enough for any manifest, aligned as the decoder requires. */
static _Alignas(8) unsigned char buf[4096];
static size_t buf_len;

static struct nl_manifest_header hdr_in;
static struct nl_manifest_vm vms_in[3];

/* A VMM "hv" with a leaf "vm0" under it, and a leaf "vm0" of L0 beside it. */
static void sample(void)
{
	memset(&hdr_in, 0, sizeof hdr_in);
	memset(vms_in, 0, sizeof vms_in);
	hdr_in.seed = 0x1234567890abcdefull;
	hdr_in.duration_ms = 2000;
	hdr_in.tsc_khz = 50000;
	hdr_in.sched = (struct nl_sched_choice){ NL_SCHED_RR, 1000 };
	hdr_in.flags = NL_MF_BENCH_NATIVE_LOOP;
	strcpy(hdr_in.experiment, "sample-1");

	strcpy(vms_in[0].name, "hv");
	strcpy(vms_in[0].image, "nestlab-vmm");
	vms_in[0].parent = -1;
	vms_in[0].kind = NL_VM_VMM;
	vms_in[0].memory_bytes = 64 * MIB;
	vms_in[0].features = NL_FEAT_ALL;
	vms_in[0].sched = (struct nl_sched_choice){ NL_SCHED_RR, 500 };

	strcpy(vms_in[1].name, "vm0");
	strcpy(vms_in[1].image, "leaf");
	vms_in[1].parent = 0;
	vms_in[1].kind = NL_VM_LEAF;
	vms_in[1].memory_bytes = 4 * MIB;
	vms_in[1].features = NL_FEAT_EPT;
	vms_in[1].workload = (struct nl_workload){ 100, 200, 300, 0x20000000, 200, 1000, 100, 0, 7, 0 };
	vms_in[1].single_steps = 250;

	/* Same name as the VM under hv: allowed, they are not siblings. */
	strcpy(vms_in[2].name, "vm0");
	strcpy(vms_in[2].image, "leaf");
	vms_in[2].parent = -1;
	vms_in[2].kind = NL_VM_LEAF;
	vms_in[2].memory_bytes = 1024 * MIB;
	vms_in[2].features = NL_FEAT_EPT | NL_FEAT_VPID;
}

static void encode_sample(void)
{
	sample();
	memset(buf, 0xa5, sizeof buf);
	buf_len = nl_manifest_encode(&hdr_in, vms_in, 3, buf, sizeof buf);
	CU_ASSERT_FATAL(buf_len == sizeof(struct nl_manifest_header) + 3 * sizeof(struct nl_manifest_vm));
}

static struct nl_manifest_header *hdr(void)
{
	return (struct nl_manifest_header *)buf;
}

static struct nl_manifest_vm *vm(unsigned i)
{
	return (struct nl_manifest_vm *)(buf + hdr()->vm_offset) + i;
}

/* After a deliberate change, make the checksum right again so a later check is reached. */
static void reseal(void)
{
	hdr()->crc32 = 0;
	hdr()->crc32 = nl_crc32(buf, hdr()->total_size);
}

/* Decode buf and expect refusal code with a reason mentioning word. */
static void expect(int code, const char *word)
{
	struct nl_manifest_view view;
	const char *why = NULL;
	int rc = nl_manifest_decode(buf, buf_len, &view, &why);

	CU_ASSERT_EQUAL(rc, code);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, word));
}

static void test_crc32_vectors(void)
{
	const char *check = "123456789";

	CU_ASSERT_EQUAL(nl_crc32(check, 9), 0xcbf43926u);
	CU_ASSERT_EQUAL(nl_crc32("", 0), 0u);
	CU_ASSERT_EQUAL(nl_crc32("a", 1), 0xe8b7be43u);
	/* Chained updates give the one-shot value. */
	CU_ASSERT_EQUAL(nl_crc32_update(nl_crc32_update(0, check, 4), check + 4, 5), 0xcbf43926u);
}

static void test_round_trip(void)
{
	struct nl_manifest_view view;
	const char *why = "untouched";

	encode_sample();
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, buf_len, &view, &why), 0);
	CU_ASSERT_STRING_EQUAL(why, "untouched"); /* success leaves the reason alone */
	CU_ASSERT_PTR_EQUAL(view.hdr, (const void *)buf);
	CU_ASSERT_EQUAL(view.hdr->magic, NL_MANIFEST_MAGIC);
	CU_ASSERT_EQUAL(view.hdr->version, NL_MANIFEST_VERSION);
	CU_ASSERT_EQUAL(view.hdr->header_size, sizeof(struct nl_manifest_header));
	CU_ASSERT_EQUAL(view.hdr->vm_entry_size, sizeof(struct nl_manifest_vm));
	CU_ASSERT_EQUAL(view.hdr->total_size, buf_len);
	CU_ASSERT_EQUAL(view.hdr->vm_count, 3);
	CU_ASSERT_EQUAL(view.hdr->seed, hdr_in.seed);
	CU_ASSERT_EQUAL(view.hdr->duration_ms, 2000);
	CU_ASSERT_EQUAL(view.hdr->tsc_khz, 50000);
	CU_ASSERT_EQUAL(view.hdr->sched.quantum_us, 1000);
	CU_ASSERT_EQUAL(view.hdr->flags, NL_MF_BENCH_NATIVE_LOOP);
	CU_ASSERT_STRING_EQUAL(view.hdr->experiment, "sample-1");
	for (unsigned i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(view.vms[i].name, vms_in[i].name);
		CU_ASSERT_STRING_EQUAL(view.vms[i].image, vms_in[i].image);
		CU_ASSERT_EQUAL(view.vms[i].parent, vms_in[i].parent);
		CU_ASSERT_EQUAL(view.vms[i].kind, vms_in[i].kind);
		CU_ASSERT_EQUAL(view.vms[i].memory_bytes, vms_in[i].memory_bytes);
		CU_ASSERT_EQUAL(view.vms[i].features, vms_in[i].features);
		CU_ASSERT_EQUAL(view.vms[i].single_steps, vms_in[i].single_steps);
		CU_ASSERT_EQUAL(memcmp(&view.vms[i].workload, &vms_in[i].workload,
				       sizeof(struct nl_workload)), 0);
	}
	/* The stored checksum is the CRC with its own field as zero. */
	{
		uint32_t stored = hdr()->crc32;

		hdr()->crc32 = 0;
		CU_ASSERT_EQUAL(nl_crc32(buf, buf_len), stored);
		hdr()->crc32 = stored;
	}
	/* Bytes after total_size (e.g. a module padded to a page) are ignored. */
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, sizeof buf, &view, NULL), 0);
}

static void test_encode_is_canonical(void)
{
	_Alignas(8) unsigned char again[4096];
	size_t n;

	encode_sample();
	/* Garbage after the NUL of a name must not reach the bytes. */
	memset(vms_in[1].name, 'Z', sizeof vms_in[1].name);
	strcpy(vms_in[1].name, "vm0");
	n = nl_manifest_encode(&hdr_in, vms_in, 3, again, sizeof again);
	CU_ASSERT_EQUAL(n, buf_len);
	CU_ASSERT_EQUAL(memcmp(again, buf, n), 0);
}

static void test_encode_refuses(void)
{
	_Alignas(8) unsigned char out[4096];

	sample();
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out, sizeof(struct nl_manifest_header) + 3 * 120 - 1), 0);
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out + 4, sizeof out - 4), 0);
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, NL_MAX_VMS + 1, out, sizeof out), 0);
	CU_ASSERT_EQUAL(nl_manifest_encode(NULL, vms_in, 3, out, sizeof out), 0);

	sample();
	strcpy(vms_in[2].name, "bad name");
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out, sizeof out), 0);
	sample();
	vms_in[1].parent = 2; /* a later entry */
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out, sizeof out), 0);
	sample();
	vms_in[2].memory_bytes = 3 * MIB;
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out, sizeof out), 0);
	sample();
	hdr_in.tsc_khz = 0;
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, vms_in, 3, out, sizeof out), 0);

	/* An empty VM list is still a well-formed manifest. */
	sample();
	CU_ASSERT_EQUAL(nl_manifest_encode(&hdr_in, NULL, 0, out, sizeof out), sizeof(struct nl_manifest_header));
}

static void test_short(void)
{
	struct nl_manifest_view view;

	encode_sample();
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, 0, &view, NULL), NL_MFE_SHORT);
	buf_len = sizeof(struct nl_manifest_header) - 1;
	expect(NL_MFE_SHORT, "header");
	buf_len = hdr()->total_size - 1;
	expect(NL_MFE_SHORT, "total_size");
}

static void test_magic_version(void)
{
	encode_sample();
	hdr()->magic ^= 1;
	expect(NL_MFE_MAGIC, "magic");
	encode_sample();
	hdr()->version = NL_MANIFEST_VERSION + 1;
	expect(NL_MFE_VERSION, "version");
}

static void test_layout(void)
{
	encode_sample();
	hdr()->header_size = 64;
	expect(NL_MFE_LAYOUT, "header_size");
	encode_sample();
	hdr()->vm_entry_size = sizeof(struct nl_manifest_vm) - 8; /* an older version's entry */
	expect(NL_MFE_LAYOUT, "vm_entry_size");
	encode_sample();
	hdr()->vm_offset = 8;
	expect(NL_MFE_LAYOUT, "vm_offset");
	encode_sample();
	hdr()->vm_offset = sizeof(struct nl_manifest_header) + 4; /* past the header, not 8-aligned */
	expect(NL_MFE_LAYOUT, "aligned");
	encode_sample();
	hdr()->vm_count = NL_MAX_VMS + 1;
	expect(NL_MFE_LAYOUT, "vm_count");
	encode_sample();
	hdr()->vm_count = 0xffffffffu; /* would overflow a 32-bit size computation */
	expect(NL_MFE_LAYOUT, "vm_count");
	encode_sample();
	hdr()->vm_count = 4; /* one entry more than total_size covers */
	expect(NL_MFE_LAYOUT, "past total_size");
	encode_sample();
	hdr()->vm_offset = 0xfffffff8u; /* offset + entries wraps in 32 bits */
	expect(NL_MFE_LAYOUT, "past total_size");
	encode_sample();
	hdr()->total_size = NL_MANIFEST_MAX_SIZE + 8;
	expect(NL_MFE_LAYOUT, "NL_MANIFEST_MAX_SIZE");
	/* A view hands out typed pointers: a misaligned buffer is refused. */
	{
		static _Alignas(8) unsigned char shifted[4096 + 8];
		struct nl_manifest_view view;
		const char *why = NULL;

		encode_sample();
		memcpy(shifted + 4, buf, buf_len);
		CU_ASSERT_EQUAL(nl_manifest_decode(shifted + 4, buf_len, &view, &why), NL_MFE_LAYOUT);
		CU_ASSERT_PTR_NOT_NULL(why);
	}
}

static void test_checksum(void)
{
	encode_sample();
	vm(1)->workload.iterations ^= 0x10;
	expect(NL_MFE_CHECKSUM, "checksum");
	encode_sample();
	hdr()->crc32 ^= 0x80000000u;
	expect(NL_MFE_CHECKSUM, "checksum");
}

/* Any single flipped bit anywhere is refused, whatever check catches it first. */
static void test_every_bit_flip(void)
{
	struct nl_manifest_view view;
	unsigned refused = 0, tried = 0;

	encode_sample();
	for (size_t i = 0; i < buf_len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			buf[i] ^= (unsigned char)(1u << bit);
			tried++;
			if (nl_manifest_decode(buf, buf_len, &view, NULL) != 0)
				refused++;
			buf[i] ^= (unsigned char)(1u << bit);
		}
	}
	CU_ASSERT_EQUAL(refused, tried);
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, buf_len, &view, NULL), 0);
}

static void test_strings(void)
{
	encode_sample();
	vm(2)->name[1] = '/';
	reseal();
	expect(NL_MFE_STRING, "VM name has a character");
	encode_sample();
	memset(vm(0)->name, 'a', NL_NAME_MAX);
	reseal();
	expect(NL_MFE_STRING, "VM name is not NUL terminated");
	encode_sample();
	memset(vm(1)->image, 0, NL_NAME_MAX);
	reseal();
	expect(NL_MFE_STRING, "VM image name is empty");
	encode_sample();
	vm(1)->image[NL_NAME_MAX - 1] = 'x'; /* after the NUL: two byte forms of one manifest */
	reseal();
	expect(NL_MFE_STRING, "not NUL padded");
	encode_sample();
	hdr()->experiment[0] = '\0';
	reseal();
	expect(NL_MFE_STRING, "experiment name is empty");
	encode_sample();
	hdr()->experiment[2] = ' ';
	reseal();
	expect(NL_MFE_STRING, "experiment name has a character");
}

static void test_tree(void)
{
	encode_sample();
	vm(1)->parent = 1; /* itself */
	reseal();
	expect(NL_MFE_TREE, "parent");
	encode_sample();
	vm(1)->parent = 2; /* a later entry */
	reseal();
	expect(NL_MFE_TREE, "parent");
	encode_sample();
	vm(2)->parent = -2;
	reseal();
	expect(NL_MFE_TREE, "parent");
	encode_sample();
	vm(2)->parent = 1; /* vm0 under hv is a leaf: it cannot have children */
	reseal();
	expect(NL_MFE_TREE, "not a VMM");
	encode_sample();
	vm(2)->kind = 3;
	reseal();
	expect(NL_MFE_TREE, "kind");
	encode_sample();
	vm(2)->kind = 0;
	reseal();
	expect(NL_MFE_TREE, "kind");
	encode_sample();
	strcpy(vm(2)->name, "hv"); /* a sibling of hv under L0 */
	reseal();
	expect(NL_MFE_TREE, "share a name");
}

static void test_values(void)
{
	encode_sample();
	vm(1)->memory_bytes = 3 * MIB;
	reseal();
	expect(NL_MFE_VALUE, "2 MiB");
	encode_sample();
	vm(1)->memory_bytes = 0;
	reseal();
	expect(NL_MFE_VALUE, "2 MiB");
	encode_sample();
	vm(1)->memory_bytes = 1026 * MIB;
	reseal();
	expect(NL_MFE_VALUE, "1 GiB");
	encode_sample();
	vm(1)->features = 1u << 4;
	reseal();
	expect(NL_MFE_VALUE, "features");
	encode_sample();
	vm(0)->single_steps = NL_SINGLE_STEP_MAX + 1;
	reseal();
	expect(NL_MFE_VALUE, "single_steps");
	encode_sample();
	vm(0)->single_steps = NL_SINGLE_STEP_MAX; /* the limit itself is allowed */
	reseal();
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, buf_len, &(struct nl_manifest_view){ 0 }, NULL), 0);
	/* Timer wake-ups: a count, a period the platform can keep, an off section below the period. */
	encode_sample();
	vm(1)->workload.wakeups = NL_WAKEUPS_MAX + 1;
	reseal();
	expect(NL_MFE_VALUE, "wakeups");
	encode_sample();
	vm(1)->workload.period_us = NL_WAKEUP_PERIOD_US_MIN - 1;
	reseal();
	expect(NL_MFE_VALUE, "period_us");
	encode_sample();
	vm(1)->workload.irq_off_us = vm(1)->workload.period_us;
	reseal();
	expect(NL_MFE_VALUE, "irq_off_us");
	encode_sample();
	vm(1)->workload.apic_mode = 2;
	reseal();
	expect(NL_MFE_VALUE, "apic_mode");
	encode_sample();
	vm(1)->workload.nmis = NL_NMIS_MAX + 1;
	reseal();
	expect(NL_MFE_VALUE, "nmis");
	encode_sample();
	vm(1)->workload.listen_ms = NL_LISTEN_MS_MAX + 1;
	reseal();
	expect(NL_MFE_VALUE, "listen_ms");
	encode_sample();
	vm(1)->workload.wakeups = 0; /* no wake-ups: period and off section are not looked at */
	vm(1)->workload.period_us = 0;
	vm(1)->workload.irq_off_us = 7;
	reseal();
	CU_ASSERT_EQUAL(nl_manifest_decode(buf, buf_len, &(struct nl_manifest_view){ 0 }, NULL), 0);
	encode_sample();
	hdr()->flags = 1u << 7;
	reseal();
	expect(NL_MFE_VALUE, "flags");
	encode_sample();
	hdr()->tsc_khz = 0;
	reseal();
	expect(NL_MFE_VALUE, "tsc_khz");
	encode_sample();
	hdr()->sched.quantum_us = 0;
	reseal();
	expect(NL_MFE_VALUE, "quantum_us");
	encode_sample();
	hdr()->duration_ms = 0;
	reseal();
	expect(NL_MFE_VALUE, "duration_ms");
}

void register_suite_manifest(void)
{
	CU_pSuite s = CU_add_suite("manifest", NULL, NULL);

	CU_add_test(s, "crc32 check vectors", test_crc32_vectors);
	CU_add_test(s, "encode/decode round trip", test_round_trip);
	CU_add_test(s, "encoding is canonical", test_encode_is_canonical);
	CU_add_test(s, "encode refuses what decode would", test_encode_refuses);
	CU_add_test(s, "truncated input", test_short);
	CU_add_test(s, "bad magic and version", test_magic_version);
	CU_add_test(s, "layout bounds", test_layout);
	CU_add_test(s, "checksum mismatch", test_checksum);
	CU_add_test(s, "every single-bit flip refused", test_every_bit_flip);
	CU_add_test(s, "bad strings", test_strings);
	CU_add_test(s, "bad tree links", test_tree);
	CU_add_test(s, "values out of range", test_values);
}
