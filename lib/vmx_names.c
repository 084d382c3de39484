/* Names of exit reasons and VMCS fields, generated from the .def lists. */
#include <stddef.h>
#include "nestlab/vmx.h"

static const char *const exit_reason_names[EXIT_REASON_MAX] = {
#define X(name, num, ...) [num] = #name,
#include "nestlab/vmx_exit_reasons.def"
#undef X
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
	if (basic_reason >= EXIT_REASON_MAX)
		return NULL;
	return exit_reason_names[basic_reason];
}

const uint32_t vmcs_field_encodings[VMCS12_NFIELDS] = {
#define X(name, enc, attrs) enc,
#include "nestlab/vmcs_fields.def"
#undef X
};

static const struct {
	uint32_t encoding;
	const char *name;
} field_names[] = {
#define X(name, enc, attrs) { enc, #name },
#include "nestlab/vmcs_fields.def"
#undef X
};

const char *vmcs_field_name(uint32_t encoding)
{
	for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
		if (field_names[i].encoding == encoding)
			return field_names[i].name;
	return NULL;
}
