/* Names of the x86 exception vectors (SDM Vol. 3 Table 6-1), for records and messages. */
#include "x86.h"

static const char *const exception_names[X86_EXCEPTION_VECTORS][2] = {
	{ "#DE", "divide error" },
	{ "#DB", "debug" },
	{ "NMI", "non-maskable interrupt" },
	{ "#BP", "breakpoint" },
	{ "#OF", "overflow" },
	{ "#BR", "bound range exceeded" },
	{ "#UD", "invalid opcode" },
	{ "#NM", "device not available" },
	{ "#DF", "double fault" },
	{ "#CSO", "coprocessor segment overrun" },
	{ "#TS", "invalid TSS" },
	{ "#NP", "segment not present" },
	{ "#SS", "stack-segment fault" },
	{ "#GP", "general protection" },
	{ "#PF", "page fault" },
	{ "#15", "reserved vector 15" },
	{ "#MF", "x87 floating-point error" },
	{ "#AC", "alignment check" },
	{ "#MC", "machine check" },
	{ "#XM", "SIMD floating-point exception" },
	{ "#VE", "virtualization exception" },
	{ "#CP", "control protection" },
	{ "#22", "reserved vector 22" },
	{ "#23", "reserved vector 23" },
	{ "#24", "reserved vector 24" },
	{ "#25", "reserved vector 25" },
	{ "#26", "reserved vector 26" },
	{ "#27", "reserved vector 27" },
	{ "#HV", "hypervisor injection" },
	{ "#VC", "VMM communication" },
	{ "#SX", "security exception" },
	{ "#31", "reserved vector 31" },
};

const char *x86_exception_mnemonic(unsigned vector)
{
	return vector < X86_EXCEPTION_VECTORS ? exception_names[vector][0] : "?";
}

const char *x86_exception_description(unsigned vector)
{
	return vector < X86_EXCEPTION_VECTORS ? exception_names[vector][1] : "unknown vector";
}
