/*
 * The integration harness: run the `nestlab` tool as a user would and read
 * what the stack reported (summary.json and records.jsonl).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *nestlab = "build/bin/nestlab";
const char *work = "build/integration";

/* Run nestlab with args; stdout/stderr go to OUT.stdout/.stderr beside the results folder. */
int run_nestlab(const char *out, const char *const *args)
{
	char so[4200], se[4200];
	snprintf(so, sizeof so, "%s.stdout", out);
	snprintf(se, sizeof se, "%s.stderr", out);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(so, "w", stdout) || !freopen(se, "w", stderr) || !freopen("/dev/null", "r", stdin))
			_exit(126);
		const char *argv[32];
		int n = 0;
		argv[n++] = nestlab;
		for (; *args && n < 31; args++)
			argv[n++] = *args;
		argv[n] = NULL;
		execv(nestlab, (char *const *)argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void results_dir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", work, name);
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

json_t *run_config(const char *name, const char *config, int expect_rc, char *dir, size_t cap)
{
	results_dir(dir, cap, name);
	int rc = run_nestlab(dir, (const char *[]){ "run", config, "--out", dir, "--quiet", NULL });
	CU_ASSERT_EQUAL(rc, expect_rc);
	if (rc != expect_rc)
		show_failure_context(dir);
	return load_summary(dir);
}

json_t *load_summary(const char *dir)
{
	char path[4200];
	json_error_t err;
	snprintf(path, sizeof path, "%s/summary.json", dir);
	json_t *j = json_load_file(path, 0, &err);
	if (!j)
		fprintf(stderr, "\n  cannot load %s: %s (line %d)\n", path, err.text, err.line);
	return j;
}

void show_failure_context(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s.stderr", dir);
	char *e = slurp(path, NULL);
	if (e && *e)
		fprintf(stderr, "\n  --- nestlab stderr (%s) ---\n%s\n", dir, e);
	free(e);
}

const char *status_of(json_t *summary)
{
	const char *s = json_string_value(json_object_get(summary, "status"));
	return s ? s : "(absent)";
}

/* The entry of summary's array (vms, levels) whose "path" is path, NULL when absent. */
static json_t *entry_by_path(json_t *summary, const char *array, const char *path)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(summary, array), i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		if (p && !strcmp(p, path))
			return e;
	}
	return NULL;
}

json_t *vm_by_path(json_t *summary, const char *path)
{
	return entry_by_path(summary, "vms", path);
}

static json_t *level_entry(json_t *summary, const char *level)
{
	return entry_by_path(summary, "levels", level);
}

json_int_t level_sched(json_t *summary, const char *level, const char *group, const char *key)
{
	json_t *sched = json_object_get(level_entry(summary, level), "sched");
	json_t *v = json_object_get(group ? json_object_get(sched, group) : sched, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

const char *level_sched_policy(json_t *summary, const char *level)
{
	return json_string_value(json_object_get(json_object_get(level_entry(summary, level), "sched"), "policy"));
}

json_int_t level_exits(json_t *summary, const char *level, const char *reason)
{
	json_t *lv = level_entry(summary, level);
	if (!lv)
		return -1;
	json_t *exits = json_object_get(lv, "exits");
	if (!reason)
		return json_integer_value(json_object_get(exits, "total"));
	return json_integer_value(json_object_get(json_object_get(exits, "by_reason"), reason));
}

json_int_t vm_exits(json_t *vm, const char *reason)
{
	json_t *exits = json_object_get(vm, "exits");
	return json_integer_value(json_object_get(json_object_get(exits, "by_reason"), reason));
}

/* Never NULL, so that a missing VM fails its comparison instead of crashing the run. */
const char *vm_state(json_t *vm)
{
	const char *s = json_string_value(json_object_get(vm, "state"));
	return s ? s : "(absent)";
}

/* The first record of the given type (and vm, if not NULL) in records.jsonl; caller decrefs. */
json_t *find_record(const char *dir, const char *type, const char *vm)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/records.jsonl", dir);
	char *text = slurp(path, NULL);
	json_t *found = NULL;
	for (char *line = text ? strtok(text, "\n") : NULL; line && !found; line = strtok(NULL, "\n")) {
		json_t *r = json_loads(line, 0, NULL);
		if (!r)
			continue;
		const char *t = json_string_value(json_object_get(r, "type"));
		const char *v = json_string_value(json_object_get(r, "vm"));
		if (t && !strcmp(t, type) && (!vm || (v && !strcmp(v, vm))))
			found = r;
		else
			json_decref(r);
	}
	free(text);
	return found;
}

/* The nested counters a level kept about one child VMM (the summary's vms[].nested). */
json_int_t nested_count(json_t *vm, const char *group, const char *key)
{
	json_t *n = json_object_get(vm, "nested");
	json_t *g = group ? json_object_get(n, group) : n;
	return json_integer_value(json_object_get(g, key));
}

