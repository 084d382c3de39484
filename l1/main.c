/*
 * A child VMM's C entry: the same image as L0, started by a parent nestlab
 * VMM through the child-entry marker below.  Make sure the parent is one
 * (its hypercalls are our only way out), check what it handed over, bring
 * the child platform up, take the sub-manifest in and hand over to the VMM
 * core, exactly as l0_main does on the hardware.
 */
#include "lapic_timer.h"
#include "cpu.h"
#include "fmt.h"
#include "gdt.h"
#include "idt.h"
#include "l1.h"
#include "manifest_intake.h"
#include "nestlab/records.h"
#include "nestlab/vmx.h"
#include "serial.h"

extern char __image_start[], __image_end[];

void l1_entry64(void);
__attribute__((noreturn)) void l1_main(const struct nl_guest_boot *boot);

/* Found by the parent in our first 32 KiB (l0/link.ld puts it after the multiboot2 header). */
__attribute__((section(".nestlab_child_entry"), used, aligned(8)))
static const struct nl_child_entry child_entry = {
	.magic = NL_CHILD_ENTRY_MAGIC,
	.entry64 = (uint64_t)(uintptr_t)l1_entry64,
};

static int parent_is_nestlab(void)
{
	uint32_t a, b, c, d;
	char sig[13];
	cpuid(CPUID_HV_LEAF_BASE, 0, &a, &b, &c, &d);
	__builtin_memcpy(sig, &b, 4);
	__builtin_memcpy(sig + 4, &c, 4);
	__builtin_memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	return __builtin_memcmp(sig, NL_CPUID_SIGNATURE, 12) == 0;
}

/*
 * Under a hypervisor that is not nestlab, a VMCALL means who knows what:
 * leave one line on COM1, where whoever runs us may be looking, and stop.
 */
static __attribute__((noreturn)) void refuse_foreign_parent(void)
{
	static const char msg[] = "nestlab child VMM: the hypervisor below is not nestlab "
				  "(no \"" NL_CPUID_SIGNATURE "\" at CPUID 0x40000000); stopping\n";
	serial_write(msg, sizeof msg - 1);
	for (;;) {
		cli();
		__asm__ volatile("hlt");
	}
}

void l1_main(const struct nl_guest_boot *boot)
{
	if (!parent_is_nestlab())
		refuse_foreign_parent();
	/* Console and exit work from here on; path and level wait for the boot information's check. */
	platform_select(&l1_ops, "L?", 1);
	gdt_init();
	idt_init();
	lapic_timer_init(); /* the virtual local APIC its parent gives it */

	uint64_t image_start = (uint64_t)(uintptr_t)__image_start, image_end = (uint64_t)(uintptr_t)__image_end;
	const char *why = l1_boot_info_problem(boot, image_start, image_end);
	if (why) {
		/* No trustworthy path, so no record the parent would accept: a console line, then leave. */
		con_printf("nestlab child VMM: boot information refused: %s\n", why);
		platform_shutdown(NL_EXIT_FAILED);
	}
	platform_select(&l1_ops, boot->path, boot->level);
	con_printf("nestlab L%u (%s): started by a nestlab VMM, console through its hypercalls\n",
		   platform_level(), platform_path());

	l1_modules_init(boot);
	uint64_t free_bytes;
	if (l1_memory_init(boot, image_start, image_end, &free_bytes, &why))
		platform_fail("memory", why);
	platform_boot_record(&(struct platform_boot_summary){
		.memory_bytes = boot->memory_bytes,
		.free_bytes = free_bytes,
		.modules = l1_module_count(),
	});

	vmm_main(manifest_intake());
}
