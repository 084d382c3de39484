/*
 * L0's C entry: bring the platform up, take the manifest in, hand over to
 * the VMM core.  Every way this can fail ends with an "end" record whose
 * reason says what went wrong, then a shutdown with NL_EXIT_FAILED.
 */
#include "fmt.h"
#include "gdt.h"
#include "idt.h"
#include "lapic_timer.h"
#include "manifest_intake.h"
#include "memory.h"
#include "multiboot2.h"
#include "pic.h"
#include "nestlab/records.h"
#include "platform_ops.h"
#include "serial.h"
#include "shutdown.h"

/* Outlives l0_main's callers: the module table points into it. */
static struct mb2_info boot_info;

__attribute__((noreturn)) void l0_main(uint64_t mb2_info_phys);

static void l0_write_record_line(const char *line, size_t n)
{
	serial_write(line, n);
	serial_write("\n", 1);
}

/* The root platform: the hardware itself. */
static const struct platform_ops l0_ops = {
	.con_write = serial_write,
	.write_record_line = l0_write_record_line,
	.module = mb2_module,
	.shutdown = l0_shutdown,
};

void l0_main(uint64_t mb2_info_phys)
{
	/* GRUB started us (boot.S checked its magic): we stand on the hardware. */
	platform_select(&l0_ops, "L0", 0);
	serial_init();
	pic_mask_all();
	gdt_init();
	idt_init();
	lapic_timer_init();
	/* A line of plain text first: it marks where L0's output starts in a shared console log. */
	con_printf("nestlab L0: long mode, console up\n");

	const char *why;
	if (mb2_parse(mb2_info_phys, &boot_info, &why))
		platform_fail("multiboot2 information refused", why);
	struct memory_summary mem;
	if (memory_init(&boot_info, &mem, &why))
		platform_fail("physical memory", why);
	platform_boot_record(&(struct platform_boot_summary){
		.memory_bytes = mem.usable_bytes,
		.free_bytes = mem.free_bytes,
		.modules = boot_info.module_count,
		.modules_dropped = boot_info.modules_dropped,
		.regions_dropped = boot_info.regions_dropped,
		.cmdline = boot_info.cmdline,
	});

	vmm_main(manifest_intake());
}
