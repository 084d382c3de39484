/*
 * A CPU exception in the VMM itself (L0 or a child VMM: the same code
 * handles both) is always fatal: the VMM has no page faults to
 * serve and no user mode.  The handler's one duty is to leave evidence the
 * host can read (an exception record with every register, a human line and
 * an end record) and then end its level with a failure status, so that no bug
 * ever shows up as a silent hang or a reset loop.
 */
#include "cpu.h"
#include "fmt.h"
#include "idt.h"
#include "nestlab/records.h"
#include "platform.h"
#include "x86.h"


/* Static, not on the stack: the stack may be what just failed. */
static char record_buf[NL_REC_MAX_LINE];
static char reason_buf[160];
static volatile int handling;

static void emergency_stop(void)
{
	static const char msg[] = ": exception while reporting an exception; stopping\n";
	const char *path = platform_path();
	con_write(path, __builtin_strlen(path));
	con_write(msg, sizeof msg - 1);
	platform_shutdown(NL_EXIT_FAILED);
}

static void exception_record(const struct exception_frame *f, const char *name, const char *what)
{
	struct jsonw w;
	rec_begin(&w, record_buf, sizeof record_buf, platform_path(), NL_REC_EXCEPTION);
	jsonw_u64(&w, "vector", f->vector);
	jsonw_str(&w, "name", name);
	jsonw_str(&w, "description", what);
	jsonw_hex(&w, "error_code", f->error_code);
	jsonw_hex(&w, "rip", f->rip);
	jsonw_hex(&w, "cs", f->cs);
	jsonw_hex(&w, "rsp", f->rsp);
	jsonw_hex(&w, "ss", f->ss);
	jsonw_hex(&w, "rflags", f->rflags);
	jsonw_hex(&w, "cr0", read_cr0());
	jsonw_hex(&w, "cr2", read_cr2());
	jsonw_hex(&w, "cr3", read_cr3());
	jsonw_hex(&w, "cr4", read_cr4());
	jsonw_obj_begin(&w, "regs");
	jsonw_hex(&w, "rax", f->rax);
	jsonw_hex(&w, "rbx", f->rbx);
	jsonw_hex(&w, "rcx", f->rcx);
	jsonw_hex(&w, "rdx", f->rdx);
	jsonw_hex(&w, "rsi", f->rsi);
	jsonw_hex(&w, "rdi", f->rdi);
	jsonw_hex(&w, "rbp", f->rbp);
	jsonw_hex(&w, "r8", f->r8);
	jsonw_hex(&w, "r9", f->r9);
	jsonw_hex(&w, "r10", f->r10);
	jsonw_hex(&w, "r11", f->r11);
	jsonw_hex(&w, "r12", f->r12);
	jsonw_hex(&w, "r13", f->r13);
	jsonw_hex(&w, "r14", f->r14);
	jsonw_hex(&w, "r15", f->r15);
	jsonw_obj_end(&w);
	rec_emit(&w);
}

void l0_exception(struct exception_frame *f)
{
	if (handling)
		emergency_stop();
	handling = 1;

	unsigned v = (unsigned)f->vector;
	const char *name = x86_exception_mnemonic(v);
	const char *what = x86_exception_description(v);

	exception_record(f, name, what);
	con_printf("%s: fatal exception %s (%s) error 0x%llx at rip 0x%llx rsp 0x%llx cr2 0x%llx\n",
		   platform_path(), name, what, (unsigned long long)f->error_code, (unsigned long long)f->rip,
		   (unsigned long long)f->rsp, (unsigned long long)read_cr2());

	nl_snprintf(reason_buf, sizeof reason_buf, "%s exception %s at rip 0x%llx", platform_path(), name,
		    (unsigned long long)f->rip);
	platform_finish(0, reason_buf);
}
