/*
 * The interrupt-line hypercalls misused (include/nestlab/hypercall.h,
 * NL_HC_IRQ_SETUP and NL_HC_IRQ_PROGRAM): lines past the 16, vectors of
 * the exceptions, a mask that is not 0 or 1, a page outside this VM's
 * memory or not page-aligned, a vector base whose 16 lines would pass 255,
 * lines to unmask past the 16.  Each gets the error the ABI documents and
 * changes nothing; a page at the very end of the VM's memory is accepted.
 * Run before L2 exists, with nothing routed to this VM.
 */
#include <stdint.h>

#include "../leaf/hypercall.h"
#include "check.h"
#include "nestlab/irq_lines.h"
#include "steps.h"

void step_line_hypercalls(struct hostile *h)
{
	const uint64_t base = NL_IRQ_LINE_VECTOR_BASE, mem = h->boot->memory_bytes;
	check_int("irq_program_line_16", NL_HC_EINVAL, hc_call(NL_HC_IRQ_PROGRAM, NL_IRQ_LINES, base, 0, 0));
	check_int("irq_program_vector_5", NL_HC_EINVAL, hc_call(NL_HC_IRQ_PROGRAM, 3, 5, 0, 0));
	check_int("irq_program_vector_256", NL_HC_EINVAL, hc_call(NL_HC_IRQ_PROGRAM, 3, 256, 0, 0));
	check_int("irq_program_mask_2", NL_HC_EINVAL, hc_call(NL_HC_IRQ_PROGRAM, 3, base, 2, 0));
	check_int("irq_program_ok", NL_HC_OK, hc_call(NL_HC_IRQ_PROGRAM, 3, base + 3, 1, 0));
	check_int("irq_setup_page_outside", NL_HC_EFAULT, hc_call(NL_HC_IRQ_SETUP, h->outside, base, 0, 0));
	check_int("irq_setup_page_past_end", NL_HC_EFAULT, hc_call(NL_HC_IRQ_SETUP, mem, base, 0, 0));
	check_int("irq_setup_page_unaligned", NL_HC_EFAULT, hc_call(NL_HC_IRQ_SETUP, 0x1008, base, 0, 0));
	check_int("irq_setup_page_wraps", NL_HC_EFAULT, hc_call(NL_HC_IRQ_SETUP, 0xfffffffffffff000ull, base, 0, 0));
	check_int("irq_setup_base_too_high", NL_HC_EINVAL, hc_call(NL_HC_IRQ_SETUP, 0, 0x100 - NL_IRQ_LINES + 1, 0, 0));
	check_int("irq_setup_base_exception", NL_HC_EINVAL, hc_call(NL_HC_IRQ_SETUP, 0, 31, 0, 0));
	check_int("irq_setup_line_16", NL_HC_EINVAL, hc_call(NL_HC_IRQ_SETUP, 0, base, 1ull << NL_IRQ_LINES, 0));
	check_int("irq_setup_last_page", NL_HC_OK, hc_call(NL_HC_IRQ_SETUP, mem - 4096, base, 0, 0));
	check_int("irq_setup_none", NL_HC_OK, hc_call(NL_HC_IRQ_SETUP, 0, base, 0, 0));
}
