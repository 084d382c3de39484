/*
 * The boot manifest: the binary form of an experiment description that the
 * host tool (`nestlab`) hands to L0 as a multiboot2 module named "manifest".
 *
 * One definition, shared by the host encoder and the freestanding decoder.
 * Layout (all little-endian, natural alignment, no pointers):
 *
 *   struct nl_manifest_header          at offset 0
 *   struct nl_manifest_vm [vm_count]   at header.vm_offset, vm_entry_size each
 *   struct nl_manifest_irq [irq_count] at header.irq_offset, irq_entry_size each
 *
 * VMs form a tree in pre-order: entry i's parent is an earlier entry or -1
 * (a VM of L0 itself).  A child VMM later receives its own subtree.
 *
 * The checksum is CRC-32 (IEEE) over the first total_size bytes with the
 * crc32 field taken as zero.  The decoder refuses anything whose magic,
 * version, sizes, checksum, strings or tree links are not exactly right.
 */
#ifndef NESTLAB_MANIFEST_H
#define NESTLAB_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define NL_MANIFEST_MAGIC   0x464d4c4eu /* "NLMF" read as little-endian */
#define NL_MANIFEST_VERSION 6u /* 6: interrupt lines (sources and routes) */
#define NL_NAME_MAX         32u  /* names, including the terminating NUL */
#define NL_MAX_VMS          16u
#define NL_MANIFEST_MAX_SIZE 65536u

/* What runs inside a VM. */
enum nl_vm_kind {
	NL_VM_LEAF = 1, /* a leaf guest kernel (guests/) */
	NL_VM_VMM = 2,  /* a nestlab VMM as a child (issue 3) */
};

/* Hardware features a level may use for the VM; bit set = on. */
#define NL_FEAT_EPT         (1u << 0)
#define NL_FEAT_VPID        (1u << 1)
#define NL_FEAT_VMCS_SHADOW (1u << 2)
#define NL_FEAT_APICV       (1u << 3) /* APIC virtualization where the processor has it (vmm/apicv.h) */
#define NL_FEAT_ALL         (NL_FEAT_EPT | NL_FEAT_VPID | NL_FEAT_VMCS_SHADOW | NL_FEAT_APICV)

/*
 * Single-stepping (the monitor trap flag): the VM's VMM steps this many of
 * its first instructions, one VM exit each, then lets it run.  Each step is
 * an exit, so the count is bounded.
 */
#define NL_SINGLE_STEP_MAX  100000u

/*
 * Timer wake-ups of a leaf (cyclictest's loop): how many, and the period
 * between them.  A period below the minimum cannot be kept below L0: a
 * wake-up at depth 3 costs tens of microseconds of emulated time.
 */
/* The local APIC interface a leaf's wake-ups use: MSRs, or the 4 KiB MMIO page at 0xfee00000. */
enum nl_leaf_apic { NL_LEAF_X2APIC = 0, NL_LEAF_XAPIC = 1 };

#define NL_NMIS_MAX               100000u
#define NL_WAKEUPS_MAX            1000000u
#define NL_WAKEUP_PERIOD_US_MIN   50u
#define NL_WAKEUP_PERIOD_US_MAX   1000000u

/*
 * The scheduler a VMM runs for its own VMs (sched/), chosen per level by the
 * description (policy/): L0's in the header, a child VMM's in its VM entry,
 * which becomes the header of the child's own sub-manifest.
 */
enum nl_sched_policy {
	NL_SCHED_RR = 1, /* round robin, one quantum for every VM (sched/rr.c) */
};
#define NL_SCHED_POLICY_MAX  NL_SCHED_RR
#define NL_QUANTUM_US_MIN    100u     /* a slice must outlast a few exit round trips */
#define NL_QUANTUM_US_MAX    1000000u

struct nl_sched_choice {
	uint32_t policy;     /* enum nl_sched_policy; 0 in a leaf's entry (it schedules nothing) */
	uint32_t quantum_us; /* round robin's time slice, NL_QUANTUM_US_MIN..NL_QUANTUM_US_MAX */
};

/* Header flags. */
#define NL_MF_BENCH_NATIVE_LOOP (1u << 0) /* L0 runs a leaf's compute loop natively first (bench) */
/*
 * The processor beneath L0 advertises a monitor trap flag that does not
 * work (Bochs 2.7's newer CPU models accept the control and never exit):
 * L0 single-steps with RFLAGS.TF instead.  The host tool sets it for the
 * Bochs backend; a child VMM's sub-manifest never carries it, since the
 * flag its parent offers is emulated and works.
 */
#define NL_MF_MTF_UNRELIABLE    (1u << 1)
/*
 * A parent VMM routes some of its interrupt lines to the child VMM that
 * reads this sub-manifest: the child programs its lines at the parent
 * (NL_HC_IRQ_SETUP).  Never in the host's manifest.
 */
#define NL_MF_LINES_FROM_PARENT (1u << 2)
#define NL_MF_ALL               (NL_MF_BENCH_NATIVE_LOOP | NL_MF_MTF_UNRELIABLE | NL_MF_LINES_FROM_PARENT)

/* The workload a leaf guest runs, in this order; zero skips a phase. */
struct nl_workload {
	uint64_t iterations;  /* compute loop iterations */
	uint64_t hypercalls;  /* null-hypercall round trips */
	uint64_t touch_pages; /* 4 KiB pages written then read back */
	uint64_t touch_addr;  /* guest-physical address touched last (0 = none); hostile tests */
	/* Timer wake-ups, cyclictest's loop (guests/leaf/wakeup.c): last, after the phases above. */
	uint32_t wakeups;     /* how many; 0: none */
	uint32_t period_us;   /* between programmed wake-ups, NL_WAKEUP_PERIOD_US_MIN..MAX */
	uint32_t irq_off_us;  /* interrupts kept off this long after each is programmed; < period_us */
	uint32_t apic_mode;   /* enum nl_leaf_apic: how the leaf drives its local APIC */
	uint32_t nmis;        /* NMIs the leaf sends itself, each from the handler of the one before; <= NL_NMIS_MAX */
	/*
	 * Interrupt lines (guests/leaf/lines.c): the leaf programs each of its
	 * NL_IRQ_LINES lines (its VMM's redirection, NL_HC_IRQ_PROGRAM) and
	 * halts this long, last of all, counting what arrives; 0: no lines.
	 */
	uint32_t listen_ms;   /* <= NL_LISTEN_MS_MAX */
};

#define NL_LISTEN_MS_MAX 3600000u

/*
 * Interrupt lines (issue #10 part 5; MISSION mechanism 1).  Every VMM has
 * NL_IRQ_LINES lines.  A line's source is a device of the machine (L0
 * only: the RTC's periodic interrupt on line 8, the PIT on line 0), a
 * seeded generator, or, for a child VMM, whatever its parent routes to it.
 * A line's route sends it to the VMM itself or to one of its VMs as that
 * VM's line N; routes change at the times the entries say.  One entry per
 * source and per route change, owned by the VMM whose line it is.
 */
#define NL_IRQ_LINES          16u
#define NL_IRQ_MAX            64u   /* entries per manifest: sources and route changes together */
#define NL_IRQ_ROUTES_PER_VMM 32u   /* route changes one VMM keeps (policy/irq_route.h) */
#define NL_IRQ_RTC_LINE       8u    /* ISA IRQ 8 */
#define NL_IRQ_PIT_LINE       0u    /* ISA IRQ 0 */
#define NL_IRQ_PERIOD_US_MIN  20u   /* a generator faster than this only measures its own storm */
#define NL_IRQ_PERIOD_US_MAX  1000000u
#define NL_IRQ_BURST_MAX      1000u
#define NL_IRQ_RTC_HZ_MIN     2u    /* RTC rates are 32768 >> (r - 1) Hz, r = 3..15: 8192 Hz down to 2 Hz */
#define NL_IRQ_RTC_HZ_MAX     8192u
#define NL_IRQ_PIT_HZ_MIN     19u   /* 1193182 Hz / 65536 rounds up to 19 */
#define NL_IRQ_PIT_HZ_MAX     10000u

enum nl_irq_item { NL_IRQ_ITEM_SOURCE = 1, NL_IRQ_ITEM_ROUTE = 2 };

enum nl_irq_source {
	NL_IRQ_SRC_RTC = 1,      /* rate: Hz, a power of two in NL_IRQ_RTC_HZ_MIN..MAX; line 8 of L0 */
	NL_IRQ_SRC_PIT = 2,      /* rate: Hz in NL_IRQ_PIT_HZ_MIN..MAX; line 0 of L0 */
	NL_IRQ_SRC_PERIODIC = 3, /* rate: the period in us */
	NL_IRQ_SRC_POISSON = 4,  /* rate: the mean gap in us */
	NL_IRQ_SRC_BURST = 5,    /* rate: us from burst to burst; burst assertions spacing_us apart */
};
#define NL_IRQ_SRC_MAX NL_IRQ_SRC_BURST

/*
 * The machine's devices that drive a line of the root VMM (L0), one row
 * each: the one definition of their rules, which the decoder, the
 * description checks and L0 share.
 */
struct nl_irq_device {
	uint32_t source;          /* enum nl_irq_source */
	const char *name;         /* "RTC", "PIT" */
	uint32_t line;            /* its ISA IRQ: the only line of L0 it may drive */
	uint32_t hz_min, hz_max;  /* the rates it can keep */
	int power_of_two;         /* the RTC divides 32768 Hz by a power of two */
	const char *line_reason;  /* the decoder's words for a device on another line or below L0 */
	const char *rate_reason;  /* ... and for a rate it cannot keep */
};

/* The device behind a source, or NULL for a generator. */
const struct nl_irq_device *nl_irq_device_of(uint32_t source);
/* A device of the machine (L0 only), rather than a generator. */
static inline int nl_irq_source_is_device(uint32_t source)
{
	return nl_irq_device_of(source) != 0;
}
/* Whether the device keeps hz. */
int nl_irq_device_rate_ok(const struct nl_irq_device *d, uint32_t hz);

#define NL_IRQ_TO_VMM (-1) /* a route's to_vm: the VMM takes the line itself */

struct nl_manifest_irq {
	int32_t owner;       /* the VMM whose line it is: -1 the manifest's reader, else a VM entry of kind vmm */
	uint8_t item;        /* enum nl_irq_item */
	uint8_t line;        /* < NL_IRQ_LINES */
	uint8_t source;      /* SOURCE: enum nl_irq_source; 0 in a route */
	uint8_t to_line;     /* ROUTE: the line of the VM it arrives on; 0 in a source */
	int32_t to_vm;       /* ROUTE: NL_IRQ_TO_VMM, or a VM entry whose parent is owner; -1 in a source */
	uint32_t rate;       /* SOURCE: see enum nl_irq_source; 0 in a route */
	uint32_t burst;      /* SOURCE burst: assertions per burst, 1..NL_IRQ_BURST_MAX; else 0 */
	uint32_t spacing_us; /* SOURCE burst: between them, (burst - 1) x spacing_us < rate; else 0 */
	uint64_t at_ms;      /* ROUTE: when it takes effect (0: from the start), < duration_ms; 0 in a source */
};

struct nl_manifest_vm {
	char name[NL_NAME_MAX];  /* [A-Za-z0-9_-]+, NUL padded */
	char image[NL_NAME_MAX]; /* multiboot2 module name holding its ELF image */
	int32_t parent;          /* index of the parent entry, -1 for a VM of L0 */
	uint32_t kind;           /* enum nl_vm_kind */
	uint64_t memory_bytes;   /* guest-physical memory, multiple of 2 MiB */
	uint32_t features;       /* NL_FEAT_* */
	uint32_t single_steps;   /* instructions to single-step from its start, <= NL_SINGLE_STEP_MAX */
	struct nl_workload workload;
	struct nl_sched_choice sched; /* a VMM's scheduler for its own VMs; zero for a leaf */
};

struct nl_manifest_header {
	uint32_t magic;
	uint16_t version;
	uint16_t header_size;    /* sizeof(struct nl_manifest_header) */
	uint32_t total_size;     /* header + all entries */
	uint32_t crc32;
	uint64_t seed;
	uint64_t duration_ms;    /* emulated milliseconds before L0 stops every VM */
	uint64_t tsc_khz;        /* TSC ticks per emulated millisecond on this backend */
	struct nl_sched_choice sched; /* the scheduler of the VMM that reads this manifest (L0, or a child) */
	uint32_t vm_count;
	uint32_t vm_offset;
	uint32_t vm_entry_size;  /* sizeof(struct nl_manifest_vm) */
	uint32_t flags;          /* NL_MF_* */
	char experiment[NL_NAME_MAX];
	/*
	 * 0 in the manifest the host writes: L0's clock starts when it runs.
	 * A parent VMM sets it in a child's sub-manifest to the TSC value by
	 * which the child must have stopped its VMs and reported them, a
	 * margin before the parent's own deadline (every level reads one TSC).
	 */
	uint64_t deadline_tsc;
	uint32_t irq_count;      /* interrupt-line entries, <= NL_IRQ_MAX */
	uint32_t irq_offset;     /* after the VM entries, 8-byte aligned */
	uint32_t irq_entry_size; /* sizeof(struct nl_manifest_irq) */
	uint32_t reserved;       /* 0 */
	/*
	 * 0 in the manifest the host writes.  A parent sets it in a child's
	 * sub-manifest to the TSC at which L0's run began, so that every level
	 * counts a route's at_ms from the same instant.
	 */
	uint64_t start_tsc;
};

_Static_assert(sizeof(struct nl_manifest_vm) == 152, "manifest VM entry layout");
_Static_assert(sizeof(struct nl_manifest_irq) == 32, "manifest interrupt-line entry layout");
_Static_assert(sizeof(struct nl_manifest_header) == 128, "manifest header layout");

/* A decoded manifest: pointers into the caller's buffer, valid while it lives. */
struct nl_manifest_view {
	const struct nl_manifest_header *hdr;
	const struct nl_manifest_vm *vms; /* hdr->vm_count entries */
	const struct nl_manifest_irq *irqs; /* hdr->irq_count entries */
};

/*
 * Encode into buf (cap bytes).  hdr supplies seed, duration, tsc_khz,
 * scheduler, flags and experiment name; magic, version, sizes, offsets and the
 * checksum are filled in here.  Returns the number of bytes written, or 0 if
 * cap is too small or the input breaks a rule that decode would refuse.
 */
size_t nl_manifest_encode(const struct nl_manifest_header *hdr,
			  const struct nl_manifest_vm *vms, uint32_t vm_count,
			  void *buf, size_t cap);
/* The same with interrupt-line entries (nl_manifest_encode has none). */
size_t nl_manifest_encode_lines(const struct nl_manifest_header *hdr, const struct nl_manifest_vm *vms,
				uint32_t vm_count, const struct nl_manifest_irq *irqs, uint32_t irq_count,
				void *buf, size_t cap);

/*
 * Check and decode len bytes at buf.  Returns 0 and fills *out on success;
 * otherwise returns a negative NL_MFE_* code and, if why is not NULL,
 * points *why at a static English reason naming the failed check.
 */
int nl_manifest_decode(const void *buf, size_t len, struct nl_manifest_view *out,
		       const char **why);

/*
 * A child VMM's part of a manifest: the VMs below entry root (root itself
 * excluded), in pre-order, re-indexed from 0, root's direct children
 * getting parent -1.  out must hold NL_MAX_VMS entries; *count gets how many
 * were written.  Returns 0, or -1 if root is not an entry of m.  Encode the
 * result with m's header (same seed, duration, tsc_khz, flags, experiment)
 * and the root entry's sched as the header's to give the child its own manifest.
 */
int nl_manifest_subtree(const struct nl_manifest_view *m, unsigned root, struct nl_manifest_vm *out,
			uint32_t *count);

/*
 * The interrupt-line entries of the VMMs at and below entry root, for root's
 * sub-manifest: root's own become owner -1, VM indices are re-indexed as
 * nl_manifest_subtree() re-indexes them.  out must hold NL_IRQ_MAX entries.
 * 0, or -1 if root is not an entry of m.
 */
int nl_manifest_subtree_lines(const struct nl_manifest_view *m, unsigned root, struct nl_manifest_irq *out,
			      uint32_t *count);

/* Whether a route of the manifest reader's own lines (owner -1) sends a line to VM entry vm. */
int nl_manifest_routes_to(const struct nl_manifest_view *m, unsigned vm);

/* Whether some VM below entry root (a child, grandchild, ...) is of the given kind (enum nl_vm_kind). */
int nl_manifest_below_has_kind(const struct nl_manifest_view *m, unsigned root, uint32_t kind);

enum nl_manifest_error {
	NL_MFE_SHORT = -1,     /* fewer bytes than the header or total_size */
	NL_MFE_MAGIC = -2,
	NL_MFE_VERSION = -3,
	NL_MFE_LAYOUT = -4,    /* header_size, vm_entry_size, vm_offset or count out of bounds */
	NL_MFE_CHECKSUM = -5,
	NL_MFE_STRING = -6,    /* a name not NUL terminated, empty or with bad characters */
	NL_MFE_TREE = -7,      /* parent index not earlier than the entry, bad kind */
	NL_MFE_VALUE = -8,     /* a field outside its allowed range */
};

/* CRC-32 (IEEE 802.3, reflected, init and xorout 0xffffffff). */
uint32_t nl_crc32(const void *data, size_t len);
uint32_t nl_crc32_update(uint32_t crc, const void *data, size_t len); /* crc: running value, start at 0 */

#endif
