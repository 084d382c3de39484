/*
 * vmm/event_gate.h against the SDM's entry checks, every combination: an
 * external interrupt may be injected only with RFLAGS.IF = 1, no blocking
 * by STI or MOV SS (Vol. 3 26.3.1.5), and no other event in the entry's
 * interruption-information field.  Other interruptibility bits (SMI, NMI
 * blocking) and other RFLAGS bits do not matter.
 */
#include <CUnit/CUnit.h>

#include "event_gate.h"

static void test_every_combination(void)
{
	static const uint64_t other_flags[] = { 0, 0x2, 0x202 & ~RFLAGS_IF, 0x40d5 };
	static const uint32_t infos[] = {
		0, 0x7fffffffu /* valid bit clear: nothing to deliver */,
		INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | VECTOR_GP,
		INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) | 0x40,
	};
	unsigned open = 0;
	for (unsigned iflag = 0; iflag < 2; iflag++)
		for (uint32_t blocking = 0; blocking < 16; blocking++) /* STI, MOV SS, SMI, NMI */
			for (unsigned f = 0; f < sizeof other_flags / sizeof other_flags[0]; f++)
				for (unsigned i = 0; i < sizeof infos / sizeof infos[0]; i++) {
					uint64_t rflags = other_flags[f] | (iflag ? RFLAGS_IF : 0);
					int want = iflag && !(blocking & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
						   !(infos[i] & INTR_INFO_VALID);
					CU_ASSERT_EQUAL(!!event_gate_open(rflags, blocking, infos[i]), want);
					open += want;
				}
	/* IF=1 (1 of 2) x 4 of 16 blocking values x 4 flag sets x 2 empty infos. */
	CU_ASSERT_EQUAL(open, 1 * 4 * 4 * 2);
}

void register_suite_event_gate(void)
{
	CU_pSuite s = CU_add_suite("event_gate", NULL, NULL);
	CU_add_test(s, "injection allowed exactly as the entry checks say", test_every_combination);
}
