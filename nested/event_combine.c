/*
 * An exception raised while another event is being delivered (SDM Vol. 3
 * 6.15, Table 6-5): delivered on its own, turned into a double fault, or,
 * during a double fault's delivery, a triple fault.  Needed where this VMM
 * delivers L2's own exceptions itself (the monitor trap flag emulated with
 * every exception intercepted, nested_exit.c) and must do what the
 * processor would have done had it not intercepted them.
 */
#include "nested.h"

enum exception_class { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static enum exception_class class_of(unsigned vector)
{
	switch (vector) {
	case 0: case 10: case 11: case 12: case 13: case 21:
		return CONTRIBUTORY;
	case 14: case 20: /* #VE counts with #PF */
		return PAGE_FAULT;
	default:
		return BENIGN;
	}
}

enum event_combination nested_combine_events(uint32_t first_idt_info, unsigned second_vector)
{
	if (!(first_idt_info & (1u << 31)))
		return DELIVER_SECOND;
	/* Only a hardware exception being delivered can combine; interrupts, NMIs and INT n are benign. */
	unsigned type = (first_idt_info >> 8) & 7, first = first_idt_info & 0xff;
	if (type != 3)
		return DELIVER_SECOND;
	if (first == 8)
		return class_of(second_vector) == BENIGN ? DELIVER_SECOND : TRIPLE_FAULT;
	enum exception_class a = class_of(first), b = class_of(second_vector);
	if ((a == CONTRIBUTORY && b == CONTRIBUTORY) || (a == PAGE_FAULT && b != BENIGN))
		return DELIVER_DOUBLE_FAULT;
	return DELIVER_SECOND;
}
