/* The scheduler choice of a level, from the manifest to an instance (sched_policy.h). */
#include "sched_policy.h"
#include "rr.h"

struct sched_policy_row {
	const char *name;
	void (*setup)(struct sched *s, const struct nl_sched_choice *c, unsigned count, uint64_t tsc_khz);
};

static void setup_rr(struct sched *s, const struct nl_sched_choice *c, unsigned count, uint64_t tsc_khz)
{
	sched_rr_init(s, count, (uint64_t)c->quantum_us * tsc_khz / 1000);
}

static const struct sched_policy_row policies[NL_SCHED_POLICY_MAX + 1] = {
	[NL_SCHED_RR] = { "rr", setup_rr },
};

const char *policy_sched_name(uint32_t policy)
{
	return policy <= NL_SCHED_POLICY_MAX ? policies[policy].name : 0;
}

int policy_sched_setup(struct sched *s, const struct nl_sched_choice *c, unsigned count, uint64_t tsc_khz,
		       const char **why)
{
	if (c->policy > NL_SCHED_POLICY_MAX || !policies[c->policy].setup) {
		*why = "the manifest names a scheduler this VMM does not have";
		return -1;
	}
	policies[c->policy].setup(s, c, count, tsc_khz);
	return 0;
}
