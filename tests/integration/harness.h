/* The integration harness: running nestlab, reading summary.json and records.jsonl. */
#ifndef NESTLAB_TESTS_HARNESS_H
#define NESTLAB_TESTS_HARNESS_H

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stddef.h>

extern const char *nestlab; /* the tool under test */
extern const char *work;    /* where results folders go */

/* Run nestlab with args (NULL-terminated); stdout/stderr go to OUT.stdout/.stderr. Returns its exit code. */
int run_nestlab(const char *out, const char *const *args);
void results_dir(char *buf, size_t cap, const char *name);
char *slurp(const char *path, size_t *len);
json_t *load_summary(const char *dir);
void show_failure_context(const char *dir);
const char *status_of(json_t *summary);
json_t *vm_by_path(json_t *summary, const char *path);
/* A level's exits for one reason (NULL: the total), -1 when the level is absent. */
json_int_t level_exits(json_t *summary, const char *level, const char *reason);
/* A level's scheduler counter (levels[].sched, or its group such as "timer_expired"), -1 when absent. */
json_int_t level_sched(json_t *summary, const char *level, const char *group, const char *key);
/* A level's scheduler policy ("rr"), NULL when it reported none. */
const char *level_sched_policy(json_t *summary, const char *level);
json_int_t vm_exits(json_t *vm, const char *reason);
const char *vm_state(json_t *vm);
/* The first record of the given type (and vm, if not NULL) in records.jsonl; caller decrefs. */
json_t *find_record(const char *dir, const char *type, const char *vm);
/*
 * Run `nestlab run CONFIG --out WORK/NAME --quiet`, assert its exit code is
 * expect_rc (showing its stderr if not), and return summary.json (NULL if
 * there is none).  dir receives the results folder.
 */
json_t *run_config(const char *name, const char *config, int expect_rc, char *dir, size_t cap);

/* The nested counters a level kept about one child VMM (the summary's vms[].nested). */
json_int_t nested_count(json_t *vm, const char *group, const char *key);

void register_l0_scenarios(CU_pSuite s);
void register_nested_scenarios(CU_pSuite s);
void register_time_scenarios(CU_pSuite s);
void register_lines_scenarios(CU_pSuite s);

#endif
