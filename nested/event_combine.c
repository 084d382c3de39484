/*
 * An exception raised while another event is being delivered (SDM Vol. 3
 * 6.15, Table 6-5): delivered on its own, turned into a double fault, or,
 * during a double fault's delivery, a triple fault.  Needed where this VMM
 * delivers L2's own exceptions itself (the monitor trap flag emulated with
 * every exception intercepted, nested_mtf.c) and must do what the
 * processor would have done had it not intercepted them.
 */
#include "nested.h"

enum exception_class { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static enum exception_class class_of(unsigned vector)
{
	switch (vector) {
	case VECTOR_DE: case VECTOR_TS: case VECTOR_NP: case VECTOR_SS: case VECTOR_GP: case VECTOR_CP:
		return CONTRIBUTORY;
	case VECTOR_PF: case VECTOR_VE: /* #VE counts with #PF */
		return PAGE_FAULT;
	default:
		return BENIGN;
	}
}

enum event_combination nested_combine_events(uint32_t first_idt_info, unsigned second_vector)
{
	if (!intr_info_valid(first_idt_info))
		return DELIVER_SECOND;
	/* Only a hardware exception being delivered can combine; interrupts, NMIs and INT n are benign. */
	unsigned type = intr_info_type(first_idt_info), first = intr_info_vector(first_idt_info);
	if (type != INTR_TYPE_HW_EXCEPTION)
		return DELIVER_SECOND;
	if (first == VECTOR_DF)
		return class_of(second_vector) == BENIGN ? DELIVER_SECOND : TRIPLE_FAULT;
	enum exception_class a = class_of(first), b = class_of(second_vector);
	if ((a == CONTRIBUTORY && b == CONTRIBUTORY) || (a == PAGE_FAULT && b != BENIGN))
		return DELIVER_DOUBLE_FAULT;
	return DELIVER_SECOND;
}
