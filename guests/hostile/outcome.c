/* Probe results as SDM outcomes (see outcome.h). */
#include "outcome.h"
#include "fmt.h"
#include "nestlab/vmx.h"
#include "probe.h"

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_VMX_STATUS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static uint64_t read_field(uint32_t field)
{
	uint64_t value = 0;
	uint64_t raw = probe_vmread(field, &value);

	if (probe_faulted(raw) || (raw & (RFLAGS_CF | RFLAGS_ZF)))
		return OUTCOME_UNREADABLE;
	return value;
}

struct outcome outcome_of(uint64_t raw)
{
	if (raw & PROBE_FAULT)
		return fault(PROBE_VECTOR(raw));
	if (raw & PROBE_EXITED)
		return (struct outcome){ OUT_EXIT, read_field(VMCS_VM_EXIT_REASON) };
	/* SDM 31.2: each outcome sets one flag of the six and clears the other five. */
	switch (raw & RFLAGS_VMX_STATUS) {
	case 0:
		return vm_succeed();
	case RFLAGS_CF:
		return vm_fail_invalid();
	case RFLAGS_ZF:
		return (struct outcome){ OUT_FAIL_VALID, read_field(VMCS_VM_INSTRUCTION_ERROR) };
	}
	return (struct outcome){ OUT_BAD_FLAGS, raw };
}

int outcome_equal(struct outcome a, struct outcome b)
{
	return a.kind == b.kind && a.value == b.value;
}

static const char *vector_name(uint64_t v)
{
	static const char *const names[20] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
		"#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
	};
	return v < 20 ? names[v] : 0;
}

void outcome_format(struct outcome o, char *buf, size_t cap)
{
	const char *name;

	switch (o.kind) {
	case OUT_SUCCEED:
		nl_snprintf(buf, cap, "VMsucceed");
		return;
	case OUT_FAIL_INVALID:
		nl_snprintf(buf, cap, "VMfailInvalid");
		return;
	case OUT_FAIL_VALID:
		if (o.value == OUTCOME_UNREADABLE)
			nl_snprintf(buf, cap, "VMfailValid(unreadable error)");
		else
			nl_snprintf(buf, cap, "VMfailValid(%llu)", (unsigned long long)o.value);
		return;
	case OUT_FAULT:
		name = vector_name(o.value);
		if (name)
			nl_snprintf(buf, cap, "%s", name);
		else
			nl_snprintf(buf, cap, "vector %llu", (unsigned long long)o.value);
		return;
	case OUT_EXIT:
		if (o.value == OUTCOME_UNREADABLE)
			nl_snprintf(buf, cap, "exit(unreadable reason)");
		else
			nl_snprintf(buf, cap, "exit(0x%llx)", (unsigned long long)o.value);
		return;
	case OUT_BAD_FLAGS:
		nl_snprintf(buf, cap, "RFLAGS(0x%llx)", (unsigned long long)o.value);
		return;
	}
	nl_snprintf(buf, cap, "unknown");
}
