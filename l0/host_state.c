/* The host state every VMCS needs, read from the live CPU and our tables. */
#include "cpu.h"
#include "gdt.h"
#include "idt.h"
#include "platform.h"

void platform_host_state(struct platform_host_state *hs)
{
	hs->cs = READ_SEG(cs);
	hs->ss = READ_SEG(ss);
	hs->ds = READ_SEG(ds);
	hs->es = READ_SEG(es);
	hs->fs = READ_SEG(fs);
	hs->gs = READ_SEG(gs);
	hs->tr = str_selector();
	hs->gdt_base = gdt_base();
	hs->idt_base = idt_base();
	hs->tr_base = gdt_tss_base();
}
