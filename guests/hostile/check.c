/* Check records and their counts (see check.h). */
#include "check.h"
#include "../leaf/emit.h"

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

unsigned checks_run(void)
{
	return run;
}

unsigned checks_failed(void)
{
	return failed;
}
