/* Check records and their counts (see check.h). */
#include "check.h"
#include "../leaf/emit.h"
#include "fmt.h"
#include "vmx_do.h"

#define OUTCOME_TEXT_MAX 48

static unsigned run, failed;

int check_text(const char *name, const char *expected, const char *got, int ok)
{
	struct record r;

	run++;
	if (!ok)
		failed++;
	record_begin(&r, HOSTILE_REC_CHECK);
	jsonw_str(&r.w, "name", name);
	jsonw_str(&r.w, "expected", expected);
	jsonw_str(&r.w, "got", got);
	jsonw_bool(&r.w, "ok", ok);
	record_emit(&r);
	return ok;
}

int check_outcome(const char *name, struct outcome expected, struct outcome got)
{
	char want[OUTCOME_TEXT_MAX], have[OUTCOME_TEXT_MAX];

	outcome_format(expected, want, sizeof want);
	outcome_format(got, have, sizeof have);
	return check_text(name, want, have, outcome_equal(expected, got));
}

int check_int(const char *name, int64_t expected, int64_t got)
{
	char want[GOT_MAX], have[GOT_MAX];

	nl_snprintf(want, sizeof want, "%lld", (long long)expected);
	nl_snprintf(have, sizeof have, "%lld", (long long)got);
	return check_text(name, want, have, expected == got);
}

unsigned checks_run(void)
{
	return run;
}

unsigned checks_failed(void)
{
	return failed;
}

int check_field(const char *name, uint32_t field, uint64_t expected)
{
	uint64_t v = 0;
	char want[GOT_MAX], got[GOT_MAX];
	struct outcome r = do_vmread(field, &v);

	nl_snprintf(want, sizeof want, "0x%llx", (unsigned long long)expected);
	if (r.kind == OUT_SUCCEED)
		nl_snprintf(got, sizeof got, "0x%llx", (unsigned long long)v);
	else
		outcome_format(r, got, sizeof got);
	return check_text(name, want, got, r.kind == OUT_SUCCEED && v == expected);
}
