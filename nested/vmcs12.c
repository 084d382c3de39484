/*
 * VMCS12 field access by encoding (the layout is documented in nested.h).
 *
 * A 64-bit field has two encodings: the "full" one (bit 0 = 0) and the
 * "high" one (bit 0 = 1) that reads or writes only bits 63:32, which is how
 * software outside 64-bit mode reaches the upper half (SDM Vol. 3 25.11.2).
 * Other widths have only the full encoding.
 */
#include "nested.h"

int vmcs12_index_of(uint32_t encoding)
{
	uint32_t full = encoding;
	/* The high encoding names the same field as its full encoding, for 64-bit fields only. */
	if ((encoding & 1u) && vmcs_field_width(encoding) == VMCS_W64)
		full = encoding & ~1u;
	/*
	 * A table by encoding (15 bits), index + 1 so that 0 means "none": one
	 * load on the path of every emulated VMREAD/VMWRITE.  A duplicated
	 * encoding in the .def list is an -Woverride-init error.
	 */
	static const uint8_t index_plus_one[0x8000] = {
#define X(name, enc, attrs) [enc] = VMCS12_IDX_##name + 1,
#include "nestlab/vmcs_fields.def"
#undef X
	};
	_Static_assert(VMCS12_NFIELDS < 255, "VMCS12 indices fit the table's bytes");
	if (full >= 0x8000)
		return -1;
	return (int)index_plus_one[full] - 1;
}

static int is_high_access(uint32_t encoding)
{
	return (encoding & 1u) && vmcs_field_width(encoding) == VMCS_W64;
}

static uint64_t width_mask(uint32_t encoding)
{
	switch (vmcs_field_width(encoding)) {
	case VMCS_W16:
		return 0xffffull;
	case VMCS_W32:
		return 0xffffffffull;
	default: /* 64-bit and natural width: 64 bits on a processor with Intel 64 */
		return ~0ull;
	}
}

uint64_t vmcs12_get(const struct vmcs12 *v, uint32_t encoding)
{
	int i = vmcs12_index_of(encoding);
	if (i < 0)
		return 0;
	uint64_t raw = v->field[i];
	if (is_high_access(encoding))
		return raw >> 32;
	return raw & width_mask(encoding);
}

void vmcs12_set(struct vmcs12 *v, uint32_t encoding, uint64_t value)
{
	int i = vmcs12_index_of(encoding);
	if (i < 0)
		return;
	if (is_high_access(encoding))
		v->field[i] = (v->field[i] & 0xffffffffull) | ((value & 0xffffffffull) << 32);
	else
		v->field[i] = value & width_mask(encoding);
}
