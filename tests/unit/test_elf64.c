/*
 * The ELF64 loader, on images built byte by byte here: a good image lands
 * with the right bytes and a zeroed .bss; every malformed one is refused
 * before a single byte of the destination changes.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "elf64.h"

/* Just what the tests write; the loader has its own definitions. */
struct test_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct test_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define PT_LOAD 1
#define PT_NOTE 4
#define PF_X 1
#define PF_W 2
#define PF_R 4

/* Guest memory [0, 64 KiB); nothing may load below 4 KiB. */
#define DST_BASE 0x0ull
#define DST_SIZE 0x10000ull
#define MIN_ADDR 0x1000ull

#define TEXT_OFF 0x100
#define TEXT_ADDR 0x2000ull
#define DATA_OFF 0x200
#define DATA_ADDR 0x4000ull
#define DATA_MEMSZ 0x300ull
#define FILE_SIZE 0x240

static unsigned char file[FILE_SIZE];
static unsigned char dst[DST_SIZE];
static const unsigned char text_bytes[16] = { 0x48, 0x31, 0xc0, 0xf4, 0xeb, 0xfd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const unsigned char data_bytes[8] = { 'n', 'e', 's', 't', 'l', 'a', 'b', '!' };

static struct test_ehdr *eh(void) { return (struct test_ehdr *)file; }
static struct test_phdr *ph(unsigned i) { return (struct test_phdr *)(file + sizeof(struct test_ehdr)) + i; }

/* A valid executable: text (R X) with the entry, data (R W) with a .bss tail, a note. */
static void build_good_image(void)
{
	memset(file, 0, sizeof file);
	struct test_ehdr *e = eh();
	memcpy(e->ident, "\x7f" "ELF", 4);
	e->ident[4] = 2; /* 64-bit */
	e->ident[5] = 1; /* little-endian */
	e->ident[6] = 1; /* version */
	e->type = 2;     /* ET_EXEC */
	e->machine = 62; /* x86-64 */
	e->version = 1;
	e->entry = TEXT_ADDR + 4;
	e->phoff = sizeof(struct test_ehdr);
	e->ehsize = sizeof(struct test_ehdr);
	e->phentsize = sizeof(struct test_phdr);
	e->phnum = 3;
	*ph(0) = (struct test_phdr){ PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT_ADDR, TEXT_ADDR,
				      sizeof text_bytes, sizeof text_bytes, 0x1000 };
	*ph(1) = (struct test_phdr){ PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_ADDR, DATA_ADDR,
				      sizeof data_bytes, DATA_MEMSZ, 0x1000 };
	*ph(2) = (struct test_phdr){ PT_NOTE, PF_R, 0, 0, 0, 0, 0, 4 }; /* ignored */
	memcpy(file + TEXT_OFF, text_bytes, sizeof text_bytes);
	memcpy(file + DATA_OFF, data_bytes, sizeof data_bytes);
}

static void poison_dst(void)
{
	memset(dst, 0xaa, sizeof dst);
}

static int dst_untouched(void)
{
	for (size_t i = 0; i < sizeof dst; i++)
		if (dst[i] != 0xaa)
			return 0;
	return 1;
}

static int load(size_t size, const char **why)
{
	struct elf64_load_result r;
	*why = NULL;
	return elf64_load(file, size, dst, DST_BASE, DST_SIZE, MIN_ADDR, &r, why);
}

/* Build the good image, apply one change, check it is refused with a reason and no copy. */
#define ASSERT_REFUSED(change)                                      \
	do {                                                            \
		const char *why_;                                       \
		build_good_image();                                     \
		poison_dst();                                           \
		change;                                                 \
		CU_ASSERT_EQUAL(load(FILE_SIZE, &why_), -1);            \
		CU_ASSERT_PTR_NOT_NULL(why_);                           \
		CU_ASSERT(dst_untouched());                             \
	} while (0)

static void test_good_image_loads(void)
{
	build_good_image();
	poison_dst();
	struct elf64_load_result r;
	const char *why = NULL;
	CU_ASSERT_EQUAL(elf64_load(file, FILE_SIZE, dst, DST_BASE, DST_SIZE, MIN_ADDR, &r, &why), 0);
	CU_ASSERT_PTR_NULL(why);
	CU_ASSERT_EQUAL(r.entry, TEXT_ADDR + 4);
	CU_ASSERT_EQUAL(r.lowest, TEXT_ADDR);
	CU_ASSERT_EQUAL(r.highest, DATA_ADDR + DATA_MEMSZ);
	CU_ASSERT_EQUAL(memcmp(dst + TEXT_ADDR, text_bytes, sizeof text_bytes), 0);
	CU_ASSERT_EQUAL(memcmp(dst + DATA_ADDR, data_bytes, sizeof data_bytes), 0);
	int bss_zero = 1;
	for (uint64_t i = sizeof data_bytes; i < DATA_MEMSZ; i++)
		bss_zero &= dst[DATA_ADDR + i] == 0;
	CU_ASSERT(bss_zero);
	/* Outside the segments nothing was written. */
	CU_ASSERT_EQUAL(dst[TEXT_ADDR - 1], 0xaa);
	CU_ASSERT_EQUAL(dst[TEXT_ADDR + sizeof text_bytes], 0xaa);
	CU_ASSERT_EQUAL(dst[DATA_ADDR + DATA_MEMSZ], 0xaa);
}

static void test_load_at_nonzero_base(void)
{
	/* The destination buffer stands for guest-physical [0x2000, 0x12000). */
	build_good_image();
	poison_dst();
	struct elf64_load_result r;
	const char *why;
	CU_ASSERT_EQUAL(elf64_load(file, FILE_SIZE, dst, 0x2000, DST_SIZE, 0, &r, &why), 0);
	CU_ASSERT_EQUAL(memcmp(dst + (TEXT_ADDR - 0x2000), text_bytes, sizeof text_bytes), 0);
	CU_ASSERT_EQUAL(memcmp(dst + (DATA_ADDR - 0x2000), data_bytes, sizeof data_bytes), 0);
}

static void test_truncated_file_refused(void)
{
	const char *why;
	build_good_image();
	poison_dst();
	/* Cut inside the data segment's bytes, inside the headers, and before the header ends. */
	CU_ASSERT_EQUAL(load(DATA_OFF + 4, &why), -1);
	CU_ASSERT_EQUAL(load(sizeof(struct test_ehdr) + 10, &why), -1);
	CU_ASSERT_EQUAL(load(20, &why), -1);
	CU_ASSERT_EQUAL(load(0, &why), -1);
	CU_ASSERT(dst_untouched());
}

static void test_bad_identity_refused(void)
{
	ASSERT_REFUSED(file[1] = 'X');                  /* magic */
	ASSERT_REFUSED(eh()->ident[4] = 1);             /* 32-bit class */
	ASSERT_REFUSED(eh()->ident[5] = 2);             /* big-endian */
	ASSERT_REFUSED(eh()->machine = 3);              /* i386 */
	ASSERT_REFUSED(eh()->type = 3);                 /* ET_DYN */
	ASSERT_REFUSED(eh()->phentsize = 32);
	ASSERT_REFUSED(eh()->phnum = 0);
	ASSERT_REFUSED(eh()->phnum = 1000);
	ASSERT_REFUSED(eh()->phoff = FILE_SIZE - 8);    /* headers past the end */
	ASSERT_REFUSED(eh()->phoff = UINT64_MAX - 8);   /* and wrapping around */
}

static void test_segment_bounds_refused(void)
{
	/* Ends past the destination. */
	ASSERT_REFUSED(ph(1)->memsz = DST_SIZE);
	/* Starts past it. */
	ASSERT_REFUSED(ph(1)->paddr = ph(1)->vaddr = DST_SIZE + 0x1000);
	/* Overlaps the region below min_addr. */
	ASSERT_REFUSED(ph(0)->paddr = ph(0)->vaddr = MIN_ADDR - 8; eh()->entry = MIN_ADDR - 4);
	/* Virtual range outside even though the physical one is fine. */
	ASSERT_REFUSED(ph(1)->vaddr = 0x100000);
	/* Address + size wraps around. */
	ASSERT_REFUSED(ph(1)->paddr = ph(1)->vaddr = UINT64_MAX - 0x10);
	ASSERT_REFUSED(ph(1)->memsz = UINT64_MAX);
}

static void test_file_range_overflow_refused(void)
{
	ASSERT_REFUSED(ph(1)->offset = UINT64_MAX - 4);           /* offset + filesz wraps */
	ASSERT_REFUSED(ph(1)->offset = FILE_SIZE - 4);            /* runs past the end */
	ASSERT_REFUSED(ph(1)->memsz = sizeof data_bytes - 1);     /* filesz > memsz, bytes in the file */
	ASSERT_REFUSED(ph(1)->filesz = UINT64_MAX; ph(1)->memsz = UINT64_MAX);
}

static void test_entry_and_layout_refused(void)
{
	ASSERT_REFUSED(eh()->entry = DATA_ADDR);                   /* in a non-executable segment */
	ASSERT_REFUSED(eh()->entry = 0x9000);                      /* in no segment */
	ASSERT_REFUSED(ph(0)->type = PT_NOTE; ph(1)->type = PT_NOTE); /* nothing to load */
	/* Data overlapping text: one's zero fill would erase the other. */
	ASSERT_REFUSED(ph(1)->paddr = ph(1)->vaddr = TEXT_ADDR + 8);
}

static void test_destination_wrap_refused(void)
{
	build_good_image();
	poison_dst();
	const char *why = NULL;
	struct elf64_load_result r;
	CU_ASSERT_EQUAL(elf64_load(file, FILE_SIZE, dst, UINT64_MAX - 0x100, DST_SIZE, 0, &r, &why), -1);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT(dst_untouched());
}

void register_suite_elf64(void)
{
	CU_pSuite s = CU_add_suite("elf64", NULL, NULL);
	CU_add_test(s, "good image loads, bss zeroed", test_good_image_loads);
	CU_add_test(s, "load at a non-zero base", test_load_at_nonzero_base);
	CU_add_test(s, "truncated file refused", test_truncated_file_refused);
	CU_add_test(s, "bad identity refused", test_bad_identity_refused);
	CU_add_test(s, "segment outside bounds refused", test_segment_bounds_refused);
	CU_add_test(s, "file range overflow refused", test_file_range_overflow_refused);
	CU_add_test(s, "entry and layout refused", test_entry_and_layout_refused);
	CU_add_test(s, "destination wrap refused", test_destination_wrap_refused);
}
