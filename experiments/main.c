/* nestlab: the host tool.  Subcommands in the style of git and perf. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#define NESTLAB_VERSION "0.1"

const char *nl_prog = "nestlab";

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "run", nl_cmd_run, "run an experiment description and write a results folder" },
	{ "validate", nl_cmd_validate, "check descriptions without running them" },
	{ "manifest", nl_cmd_manifest, "write the binary boot manifest of a description" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", nl_prog);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'%s <command> --help' describes a command's options.\n", nl_prog);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return NL_EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("nestlab %s\n", NESTLAB_VERSION);
		return NL_EXIT_SUCCESS;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: '%s' is not a nestlab command\n", nl_prog, argv[1]);
	usage(stderr);
	return NL_EXIT_USAGE;
}
