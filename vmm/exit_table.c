/* The exit table (exit_table.h), one row per include/nestlab/vmx_exit_reasons.def row. */
#include "exit_table.h"

#if __STDC_HOSTED__
/* The host's unit tests: the handlers are bare-metal code, not linked there. */
#define HANDLER(fn) .handler = 0
#else
#include "nested_runtime.h" /* the VMX-instruction handlers (nested_insn.c) */
#include "apicv_vm.h"       /* the APIC-virtualization exits */
#define HANDLER(fn) .handler = fn
#endif
#define QUAL         .has_qualification = 1
#define L0_COMPLETES .l0_completes = 1
#define TO_L1        .reflect = { RULE_L1, 0, 0 }
#define IN_L0        .reflect = { RULE_L0, 0, 0 }
#define BY_EPT       .reflect = { RULE_EPT, 0, 0 }
#define PIN(b)       .reflect = { RULE_PIN, (b), 0 }
#define PROC(b)      .reflect = { RULE_PROC, (b), 0 }
#define PROC2(b)     .reflect = { RULE_PROC2, (b), 0 }
#define RULE(f)      .reflect = { RULE_FN, 0, (f) }

const struct exit_reason_row exit_reasons[EXIT_REASON_MAX] = {
#define X(name, num, ...) [num] = { __VA_ARGS__ },
#include "nestlab/vmx_exit_reasons.def"
#undef X
};
