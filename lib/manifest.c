/*
 * The boot manifest codec (layout in include/nestlab/manifest.h).
 *
 * Freestanding: L0 decodes the manifest GRUB hands it, the host tool encodes
 * it, and both link this one file so they cannot disagree.  The decoder
 * trusts nothing: every size, offset, string and link is checked before a
 * view is handed out, and each refusal names the one rule that failed.
 */
#include <stddef.h>
#include <stdint.h>

#include "nestlab/manifest.h"

#define MIB                (1024ull * 1024ull)
#define VM_MEMORY_GRANULE  (2ull * MIB)    /* L0 maps guest memory with 2 MiB EPT pages */
#define VM_MEMORY_MAX      (1024ull * MIB)

/* Builtins rather than <string.h>: the bare-metal side has no libc headers. */
#define copy_bytes(d, s, n) __builtin_memcpy((d), (s), (n))
#define zero_bytes(d, n)    __builtin_memset((d), 0, (n))

static int fail(const char **why, const char *reason, int code)
{
	if (why)
		*why = reason;
	return code;
}

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* What can be wrong with a name field; NAME_OK when nothing is. */
enum name_fault { NAME_OK, NAME_UNTERMINATED, NAME_EMPTY, NAME_BAD_CHAR, NAME_UNPADDED };

/* Which name field a reason is about. */
enum name_field { FIELD_EXPERIMENT, FIELD_VM_NAME, FIELD_VM_IMAGE };

/* Static reasons, one per field and fault: the decoder has no printf to compose them. */
static const char *const name_reason[3][5] = {
	[FIELD_EXPERIMENT] = {
		[NAME_UNTERMINATED] = "experiment name is not NUL terminated",
		[NAME_EMPTY] = "experiment name is empty",
		[NAME_BAD_CHAR] = "experiment name has a character outside [A-Za-z0-9_-]",
		[NAME_UNPADDED] = "experiment name is not NUL padded",
	},
	[FIELD_VM_NAME] = {
		[NAME_UNTERMINATED] = "VM name is not NUL terminated",
		[NAME_EMPTY] = "VM name is empty",
		[NAME_BAD_CHAR] = "VM name has a character outside [A-Za-z0-9_-]",
		[NAME_UNPADDED] = "VM name is not NUL padded",
	},
	[FIELD_VM_IMAGE] = {
		[NAME_UNTERMINATED] = "VM image name is not NUL terminated",
		[NAME_EMPTY] = "VM image name is empty",
		[NAME_BAD_CHAR] = "VM image name has a character outside [A-Za-z0-9_-]",
		[NAME_UNPADDED] = "VM image name is not NUL padded",
	},
};

/*
 * A name field: [A-Za-z0-9_-]+, NUL terminated inside the field and NUL
 * padded after it, so that one manifest has exactly one byte form.
 */
static enum name_fault check_name(const char field[NL_NAME_MAX])
{
	unsigned len = 0;

	while (len < NL_NAME_MAX && field[len] != '\0')
		len++;
	if (len == NL_NAME_MAX)
		return NAME_UNTERMINATED;
	if (len == 0)
		return NAME_EMPTY;
	for (unsigned i = 0; i < len; i++)
		if (!name_char_ok(field[i]))
			return NAME_BAD_CHAR;
	for (unsigned i = len; i < NL_NAME_MAX; i++)
		if (field[i] != '\0')
			return NAME_UNPADDED;
	return NAME_OK;
}

static int check_name_field(const char field[NL_NAME_MAX], enum name_field which,
			    const char **why)
{
	enum name_fault f = check_name(field);

	return f == NAME_OK ? 0 : fail(why, name_reason[which][f], NL_MFE_STRING);
}

static int same_name(const char a[NL_NAME_MAX], const char b[NL_NAME_MAX])
{
	/* Both already passed check_name, so whole-field equality is name equality. */
	return __builtin_memcmp(a, b, NL_NAME_MAX) == 0;
}

static uint32_t manifest_crc(const uint8_t *bytes, uint32_t total_size)
{
	static const uint8_t zero_crc[sizeof(uint32_t)];
	const size_t at = offsetof(struct nl_manifest_header, crc32);
	uint32_t crc;

	crc = nl_crc32_update(0, bytes, at);
	crc = nl_crc32_update(crc, zero_crc, sizeof zero_crc);
	return nl_crc32_update(crc, bytes + at + sizeof zero_crc, total_size - at - sizeof zero_crc);
}

static int check_header(const struct nl_manifest_header *h, size_t len, const char **why)
{
	if (h->magic != NL_MANIFEST_MAGIC)
		return fail(why, "bad magic (not a nestlab manifest)", NL_MFE_MAGIC);
	if (h->version != NL_MANIFEST_VERSION)
		return fail(why, "unsupported manifest version", NL_MFE_VERSION);
	if (h->header_size != sizeof(struct nl_manifest_header))
		return fail(why, "header_size is not the size of this version's header", NL_MFE_LAYOUT);
	if (h->vm_entry_size != sizeof(struct nl_manifest_vm))
		return fail(why, "vm_entry_size is not the size of this version's VM entry", NL_MFE_LAYOUT);
	if (h->vm_offset < h->header_size)
		return fail(why, "vm_offset points inside the header", NL_MFE_LAYOUT);
	if (h->vm_offset % 8 != 0)
		return fail(why, "vm_offset is not 8-byte aligned", NL_MFE_LAYOUT);
	if (h->vm_count > NL_MAX_VMS)
		return fail(why, "vm_count exceeds NL_MAX_VMS", NL_MFE_LAYOUT);
	if (h->total_size > NL_MANIFEST_MAX_SIZE)
		return fail(why, "total_size exceeds NL_MANIFEST_MAX_SIZE", NL_MFE_LAYOUT);
	/* 64-bit sum: vm_offset is a full uint32_t and must not wrap. */
	if ((uint64_t)h->vm_offset + (uint64_t)h->vm_count * h->vm_entry_size > h->total_size)
		return fail(why, "VM entries run past total_size", NL_MFE_LAYOUT);
	if (h->irq_count && h->irq_entry_size != sizeof(struct nl_manifest_irq))
		return fail(why, "irq_entry_size is not the size of this version's interrupt-line entry", NL_MFE_LAYOUT);
	if (h->irq_count > NL_IRQ_MAX)
		return fail(why, "irq_count exceeds NL_IRQ_MAX", NL_MFE_LAYOUT);
	if (h->irq_count && (h->irq_offset % 8 != 0 ||
			     h->irq_offset < (uint64_t)h->vm_offset + (uint64_t)h->vm_count * h->vm_entry_size))
		return fail(why, "irq_offset is not 8-byte aligned after the VM entries", NL_MFE_LAYOUT);
	if (h->irq_count && (uint64_t)h->irq_offset + (uint64_t)h->irq_count * h->irq_entry_size > h->total_size)
		return fail(why, "interrupt-line entries run past total_size", NL_MFE_LAYOUT);
	if (h->reserved)
		return fail(why, "header reserved field is not zero", NL_MFE_LAYOUT);
	if (h->total_size > len)
		return fail(why, "truncated: fewer bytes than total_size", NL_MFE_SHORT);
	return 0;
}

/* One rule for a scheduler choice, wherever a manifest carries one. */
static int check_sched(const struct nl_sched_choice *s, const char **why)
{
	if (s->policy == 0 || s->policy > NL_SCHED_POLICY_MAX)
		return fail(why, "sched.policy is not a known scheduler", NL_MFE_VALUE);
	if (s->quantum_us == 0)
		return fail(why, "sched.quantum_us is zero", NL_MFE_VALUE);
	if (s->quantum_us < NL_QUANTUM_US_MIN || s->quantum_us > NL_QUANTUM_US_MAX)
		return fail(why, "sched.quantum_us is outside NL_QUANTUM_US_MIN..NL_QUANTUM_US_MAX", NL_MFE_VALUE);
	return 0;
}

static int check_values(const struct nl_manifest_header *h, const char **why)
{
	if (check_name_field(h->experiment, FIELD_EXPERIMENT, why))
		return NL_MFE_STRING;
	if (h->duration_ms == 0)
		return fail(why, "duration_ms is zero", NL_MFE_VALUE);
	if (h->tsc_khz == 0)
		return fail(why, "tsc_khz is zero", NL_MFE_VALUE);
	if (check_sched(&h->sched, why))
		return NL_MFE_VALUE;
	if (h->flags & ~NL_MF_ALL)
		return fail(why, "flags has unknown bits", NL_MFE_VALUE);
	if (h->start_tsc && h->deadline_tsc && h->start_tsc > h->deadline_tsc)
		return fail(why, "start_tsc is after deadline_tsc", NL_MFE_VALUE);
	return 0;
}

static int check_vm(const struct nl_manifest_vm *vms, uint32_t i, const char **why)
{
	const struct nl_manifest_vm *vm = &vms[i];

	if (check_name_field(vm->name, FIELD_VM_NAME, why))
		return NL_MFE_STRING;
	if (check_name_field(vm->image, FIELD_VM_IMAGE, why))
		return NL_MFE_STRING;
	if (vm->kind != NL_VM_LEAF && vm->kind != NL_VM_VMM)
		return fail(why, "VM kind is neither leaf nor vmm", NL_MFE_TREE);
	if (vm->parent != -1) {
		/* Pre-order: a parent always precedes its children, which also rules out cycles. */
		if (vm->parent < 0 || (uint32_t)vm->parent >= i)
			return fail(why, "VM parent is not -1 or an earlier entry", NL_MFE_TREE);
		if (vms[vm->parent].kind != NL_VM_VMM)
			return fail(why, "VM parent is not a VMM", NL_MFE_TREE);
	}
	for (uint32_t j = 0; j < i; j++)
		if (vms[j].parent == vm->parent && same_name(vms[j].name, vm->name))
			return fail(why, "two sibling VMs share a name", NL_MFE_TREE);
	if (vm->memory_bytes == 0 || vm->memory_bytes % VM_MEMORY_GRANULE != 0)
		return fail(why, "VM memory_bytes is not a non-zero multiple of 2 MiB", NL_MFE_VALUE);
	if (vm->memory_bytes > VM_MEMORY_MAX)
		return fail(why, "VM memory_bytes exceeds 1 GiB", NL_MFE_VALUE);
	if (vm->features & ~NL_FEAT_ALL)
		return fail(why, "VM features has unknown bits", NL_MFE_VALUE);
	if (vm->single_steps > NL_SINGLE_STEP_MAX)
		return fail(why, "VM single_steps exceeds NL_SINGLE_STEP_MAX", NL_MFE_VALUE);
	const struct nl_workload *w = &vm->workload;
	if (w->wakeups > NL_WAKEUPS_MAX)
		return fail(why, "VM workload.wakeups exceeds NL_WAKEUPS_MAX", NL_MFE_VALUE);
	if (w->wakeups && (w->period_us < NL_WAKEUP_PERIOD_US_MIN || w->period_us > NL_WAKEUP_PERIOD_US_MAX))
		return fail(why, "VM workload.period_us is outside NL_WAKEUP_PERIOD_US_MIN..MAX", NL_MFE_VALUE);
	if (w->wakeups && w->irq_off_us >= w->period_us)
		return fail(why, "VM workload.irq_off_us is not below period_us", NL_MFE_VALUE);
	if (w->nmis > NL_NMIS_MAX)
		return fail(why, "VM workload.nmis exceeds NL_NMIS_MAX", NL_MFE_VALUE);
	if (w->listen_ms > NL_LISTEN_MS_MAX)
		return fail(why, "VM workload.listen_ms exceeds NL_LISTEN_MS_MAX", NL_MFE_VALUE);
	if (w->apic_mode != NL_LEAF_X2APIC && w->apic_mode != NL_LEAF_XAPIC)
		return fail(why, "VM workload.apic_mode is neither x2apic nor xapic", NL_MFE_VALUE);
	if (vm->kind == NL_VM_VMM && check_sched(&vm->sched, why))
		return NL_MFE_VALUE;
	if (vm->kind == NL_VM_LEAF && (vm->sched.policy || vm->sched.quantum_us))
		return fail(why, "a leaf VM carries a scheduler", NL_MFE_VALUE);
	return 0;
}

static const struct nl_irq_device irq_devices[] = {
	{ NL_IRQ_SRC_RTC, "RTC", NL_IRQ_RTC_LINE, NL_IRQ_RTC_HZ_MIN, NL_IRQ_RTC_HZ_MAX, 1,
	  "the RTC is line 8 of the root VMM", "RTC rate is not a power of two in NL_IRQ_RTC_HZ_MIN..MAX" },
	{ NL_IRQ_SRC_PIT, "PIT", NL_IRQ_PIT_LINE, NL_IRQ_PIT_HZ_MIN, NL_IRQ_PIT_HZ_MAX, 0,
	  "the PIT is line 0 of the root VMM", "PIT rate is outside NL_IRQ_PIT_HZ_MIN..MAX" },
};

const struct nl_irq_device *nl_irq_device_of(uint32_t source)
{
	for (unsigned d = 0; d < sizeof irq_devices / sizeof irq_devices[0]; d++)
		if (irq_devices[d].source == source)
			return &irq_devices[d];
	return 0;
}

int nl_irq_device_rate_ok(const struct nl_irq_device *d, uint32_t hz)
{
	return hz >= d->hz_min && hz <= d->hz_max && (!d->power_of_two || !(hz & (hz - 1)));
}

/* One interrupt-line source's rules: its device's line and rate, or a generator's timing. */
static int check_irq_source(const struct nl_manifest_irq *e, const char **why)
{
	if (e->to_vm != -1 || e->to_line || e->at_ms)
		return fail(why, "interrupt source carries route fields", NL_MFE_VALUE);
	const struct nl_irq_device *d = nl_irq_device_of(e->source);
	if (d) {
		if (e->line != d->line || e->owner != -1)
			return fail(why, d->line_reason, NL_MFE_VALUE);
		if (!nl_irq_device_rate_ok(d, e->rate))
			return fail(why, d->rate_reason, NL_MFE_VALUE);
		return 0;
	}
	switch (e->source) {
	case NL_IRQ_SRC_PERIODIC:
	case NL_IRQ_SRC_POISSON:
	case NL_IRQ_SRC_BURST:
		if (e->rate < NL_IRQ_PERIOD_US_MIN || e->rate > NL_IRQ_PERIOD_US_MAX)
			return fail(why, "generator period is outside NL_IRQ_PERIOD_US_MIN..MAX", NL_MFE_VALUE);
		if (e->source != NL_IRQ_SRC_BURST) {
			if (e->burst || e->spacing_us)
				return fail(why, "a generator that is not a burst carries burst fields", NL_MFE_VALUE);
			break;
		}
		if (e->burst < 1 || e->burst > NL_IRQ_BURST_MAX || e->spacing_us < 1)
			return fail(why, "burst size or spacing out of range", NL_MFE_VALUE);
		if ((uint64_t)(e->burst - 1) * e->spacing_us >= e->rate)
			return fail(why, "a burst lasts as long as its period", NL_MFE_VALUE);
		break;
	default:
		return fail(why, "interrupt source kind is unknown", NL_MFE_VALUE);
	}
	return 0;
}

/*
 * One interrupt-line entry against the VM tree: its owner a VMM (or the
 * manifest's reader), its line in range, a route's VM one of the owner's
 * own, a route's time inside the run; one source per line per VMM.
 */
static int check_irq(const struct nl_manifest_header *h, const struct nl_manifest_vm *vms,
		     const struct nl_manifest_irq *irqs, uint32_t i, const char **why)
{
	const struct nl_manifest_irq *e = &irqs[i];

	if (e->owner != -1 && (e->owner < 0 || (uint32_t)e->owner >= h->vm_count || vms[e->owner].kind != NL_VM_VMM))
		return fail(why, "interrupt line owner is not -1 or a VMM entry", NL_MFE_TREE);
	if (e->line >= NL_IRQ_LINES)
		return fail(why, "interrupt line is not below NL_IRQ_LINES", NL_MFE_VALUE);
	if (e->item == NL_IRQ_ITEM_SOURCE) {
		for (uint32_t j = 0; j < i; j++)
			if (irqs[j].item == NL_IRQ_ITEM_SOURCE && irqs[j].owner == e->owner && irqs[j].line == e->line)
				return fail(why, "two sources for one line of one VMM", NL_MFE_VALUE);
		return check_irq_source(e, why);
	}
	if (e->item != NL_IRQ_ITEM_ROUTE)
		return fail(why, "interrupt-line entry is neither a source nor a route", NL_MFE_VALUE);
	if (e->source || e->rate || e->burst || e->spacing_us)
		return fail(why, "interrupt route carries source fields", NL_MFE_VALUE);
	if (e->to_vm != NL_IRQ_TO_VMM &&
	    (e->to_vm < 0 || (uint32_t)e->to_vm >= h->vm_count || vms[e->to_vm].parent != e->owner))
		return fail(why, "interrupt route's VM is not one of its owner's VMs", NL_MFE_TREE);
	if (e->to_line >= NL_IRQ_LINES || (e->to_vm == NL_IRQ_TO_VMM && e->to_line))
		return fail(why, "interrupt route's VM line is out of range", NL_MFE_VALUE);
	if (e->at_ms >= h->duration_ms)
		return fail(why, "interrupt route changes after the run's duration", NL_MFE_VALUE);
	/* A child VMM's line is either its parent's route or its own source, never both. */
	for (uint32_t j = 0; e->to_vm != NL_IRQ_TO_VMM && j < h->irq_count; j++)
		if (irqs[j].item == NL_IRQ_ITEM_SOURCE && irqs[j].owner == e->to_vm && irqs[j].line == e->to_line)
			return fail(why, "interrupt route arrives on a line its VMM drives itself", NL_MFE_VALUE);
	uint32_t routes = 1;
	for (uint32_t j = 0; j < i; j++)
		routes += irqs[j].item == NL_IRQ_ITEM_ROUTE && irqs[j].owner == e->owner;
	if (routes > NL_IRQ_ROUTES_PER_VMM)
		return fail(why, "more route changes for one VMM than NL_IRQ_ROUTES_PER_VMM", NL_MFE_VALUE);
	return 0;
}

int nl_manifest_decode(const void *buf, size_t len, struct nl_manifest_view *out,
		       const char **why)
{
	const uint8_t *bytes = buf;
	const struct nl_manifest_header *h = buf;
	const struct nl_manifest_vm *vms;
	int rc;

	if (!buf || !out)
		return fail(why, "no buffer", NL_MFE_SHORT);
	/* The view hands out typed pointers into buf, so it must be aligned for them. */
	if ((uintptr_t)buf % 8 != 0)
		return fail(why, "buffer is not 8-byte aligned", NL_MFE_LAYOUT);
	if (len < sizeof *h)
		return fail(why, "truncated: fewer bytes than the header", NL_MFE_SHORT);
	rc = check_header(h, len, why);
	if (rc)
		return rc;
	if (manifest_crc(bytes, h->total_size) != h->crc32)
		return fail(why, "checksum mismatch", NL_MFE_CHECKSUM);
	rc = check_values(h, why);
	if (rc)
		return rc;
	vms = (const struct nl_manifest_vm *)(bytes + h->vm_offset);
	for (uint32_t i = 0; i < h->vm_count; i++) {
		rc = check_vm(vms, i, why);
		if (rc)
			return rc;
	}
	const struct nl_manifest_irq *irqs = (const struct nl_manifest_irq *)(bytes + h->irq_offset);
	for (uint32_t i = 0; i < h->irq_count; i++) {
		rc = check_irq(h, vms, irqs, i, why);
		if (rc)
			return rc;
	}
	out->hdr = h;
	out->vms = vms;
	out->irqs = h->irq_count ? irqs : NULL;
	return 0;
}

/* Copy a name up to its NUL and pad with NULs, so stray bytes never reach the manifest. */
static void put_name(char dst[NL_NAME_MAX], const char src[NL_NAME_MAX])
{
	unsigned i = 0;

	zero_bytes(dst, NL_NAME_MAX);
	/* An unterminated source is copied whole, so that decode refuses it. */
	for (; i < NL_NAME_MAX && src[i] != '\0'; i++)
		dst[i] = src[i];
}

size_t nl_manifest_encode(const struct nl_manifest_header *hdr,
			  const struct nl_manifest_vm *vms, uint32_t vm_count,
			  void *buf, size_t cap)
{
	return nl_manifest_encode_lines(hdr, vms, vm_count, NULL, 0, buf, cap);
}

size_t nl_manifest_encode_lines(const struct nl_manifest_header *hdr, const struct nl_manifest_vm *vms,
				uint32_t vm_count, const struct nl_manifest_irq *irqs, uint32_t irq_count,
				void *buf, size_t cap)
{
	struct nl_manifest_header h;
	struct nl_manifest_view view;
	uint8_t *bytes = buf;
	size_t total, irq_at;

	if (!hdr || !buf || (vm_count && !vms) || vm_count > NL_MAX_VMS || (irq_count && !irqs) ||
	    irq_count > NL_IRQ_MAX)
		return 0;
	if ((uintptr_t)buf % 8 != 0)
		return 0;
	irq_at = sizeof h + (size_t)vm_count * sizeof *vms; /* both entry sizes are multiples of 8 */
	total = irq_at + (size_t)irq_count * sizeof *irqs;
	if (total > cap)
		return 0;

	zero_bytes(&h, sizeof h);
	h.magic = NL_MANIFEST_MAGIC;
	h.version = NL_MANIFEST_VERSION;
	h.header_size = sizeof h;
	h.total_size = (uint32_t)total;
	h.seed = hdr->seed;
	h.duration_ms = hdr->duration_ms;
	h.deadline_tsc = hdr->deadline_tsc;
	h.start_tsc = hdr->start_tsc;
	h.tsc_khz = hdr->tsc_khz;
	h.sched = hdr->sched;
	h.vm_count = vm_count;
	h.vm_offset = sizeof h;
	h.vm_entry_size = sizeof *vms;
	h.flags = hdr->flags;
	h.irq_count = irq_count;
	h.irq_offset = irq_count ? (uint32_t)irq_at : 0;
	h.irq_entry_size = irq_count ? sizeof *irqs : 0;
	put_name(h.experiment, hdr->experiment);
	copy_bytes(bytes, &h, sizeof h);
	if (irq_count)
		copy_bytes(bytes + irq_at, irqs, (size_t)irq_count * sizeof *irqs);

	for (uint32_t i = 0; i < vm_count; i++) {
		struct nl_manifest_vm e = vms[i];

		put_name(e.name, vms[i].name);
		put_name(e.image, vms[i].image);
		copy_bytes(bytes + sizeof h + (size_t)i * sizeof e, &e, sizeof e);
	}

	h.crc32 = manifest_crc(bytes, h.total_size);
	copy_bytes(bytes + offsetof(struct nl_manifest_header, crc32), &h.crc32, sizeof h.crc32);

	/* One set of rules: whatever decode would refuse is not written at all. */
	if (nl_manifest_decode(buf, total, &view, NULL) != 0) {
		zero_bytes(buf, total);
		return 0;
	}
	return total;
}

/*
 * new_index[i]: entry i's index among the VMs below root, in pre-order, or
 * -1 if it is not below root; how many are.  A parent precedes its children
 * (decode checks it; so does this), so a parent's mark is set before it is read.
 */
static uint32_t subtree_index(const struct nl_manifest_view *m, unsigned root, int32_t new_index[NL_MAX_VMS])
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->hdr->vm_count; i++) {
		int32_t p = m->vms[i].parent;

		new_index[i] = -1;
		if (i <= root || p < (int32_t)root || p >= (int32_t)i)
			continue;
		if (p != (int32_t)root && new_index[p] < 0)
			continue;
		new_index[i] = (int32_t)n++;
	}
	return n;
}

static int subtree_ok(const struct nl_manifest_view *m, unsigned root)
{
	return m && m->hdr && root < m->hdr->vm_count && m->hdr->vm_count <= NL_MAX_VMS;
}

int nl_manifest_subtree(const struct nl_manifest_view *m, unsigned root, struct nl_manifest_vm *out,
			uint32_t *count)
{
	int32_t new_index[NL_MAX_VMS];

	if (!subtree_ok(m, root) || !out || !count)
		return -1;
	*count = subtree_index(m, root, new_index);
	for (uint32_t i = 0; i < m->hdr->vm_count; i++) {
		if (new_index[i] < 0)
			continue;
		int32_t p = m->vms[i].parent;
		out[new_index[i]] = m->vms[i];
		out[new_index[i]].parent = p == (int32_t)root ? -1 : new_index[p];
	}
	return 0;
}

int nl_manifest_subtree_lines(const struct nl_manifest_view *m, unsigned root, struct nl_manifest_irq *out,
			      uint32_t *count)
{
	int32_t new_index[NL_MAX_VMS];
	uint32_t n = 0;

	if (!subtree_ok(m, root) || !out || !count)
		return -1;
	subtree_index(m, root, new_index);
	for (uint32_t i = 0; i < m->hdr->irq_count && n < NL_IRQ_MAX; i++) {
		struct nl_manifest_irq e = m->irqs[i];
		if (e.owner < 0 || (e.owner != (int32_t)root && new_index[e.owner] < 0))
			continue;
		e.owner = e.owner == (int32_t)root ? -1 : new_index[e.owner];
		if (e.item == NL_IRQ_ITEM_ROUTE && e.to_vm != NL_IRQ_TO_VMM)
			e.to_vm = new_index[e.to_vm];
		out[n++] = e;
	}
	*count = n;
	return 0;
}

int nl_manifest_routes_to(const struct nl_manifest_view *m, unsigned vm)
{
	for (uint32_t i = 0; m && m->hdr && i < m->hdr->irq_count; i++)
		if (m->irqs[i].item == NL_IRQ_ITEM_ROUTE && m->irqs[i].owner == -1 &&
		    m->irqs[i].to_vm == (int32_t)vm)
			return 1;
	return 0;
}

int nl_manifest_below_has_kind(const struct nl_manifest_view *m, unsigned root, uint32_t kind)
{
	struct nl_manifest_vm below[NL_MAX_VMS];
	uint32_t n = 0;
	if (nl_manifest_subtree(m, root, below, &n))
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (below[i].kind == kind)
			return 1;
	return 0;
}
