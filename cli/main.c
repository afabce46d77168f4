// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay: one command table, git/trace-cmd style. Adding a command means
 * a line here, a cmd-<name>.c, and a section in docs/mmreplay.1.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-config.h"
#include "mmr-error.h"
#include "mmreplay.h"

const struct mmr_cmd mmr_commands[] = {
	{ "info", cmd_info,
	  "show what this machine supports: tracefs, events, privileges, KVM/qemu",
	  "mmreplay info [--json]\n"
	  "  --json   machine-readable output\n" },
	{ "record", cmd_record,
	  "trace a command, running processes or the system into a trace file",
	  "mmreplay record [OPTIONS] -- CMD [ARGS]   trace CMD and all its descendants\n"
	  "       mmreplay record [OPTIONS] -p PID[,PID] trace running processes\n"
	  "       mmreplay record [OPTIONS] -a          trace the whole system\n"
	  "  -o, --output FILE    trace file (default mmreplay.jsonl; .zst compresses)\n"
	  "  -e, --events GROUPS  faults,tasks,vm,reclaim,locks or all (default all)\n"
	  "  -d, --duration SEC   stop after SEC seconds (default: when CMD/PIDs end, or Ctrl-C)\n"
	  "      --comm REGEX     with -a: only processes whose name matches\n"
	  "      --cgroup PATH    with -a: only processes in this cgroup (v2 path)\n"
	  "  -z, --zstd           compress with zstd\n"
	  "      --keep-paths     keep file paths (default: sha256 of each path)\n"
	  "  -b, --buffer-kb N    ring buffer per CPU in KiB (default 16384)\n"
	  "  -q, --quiet          no summary\n"
	  "Ctrl-C stops cleanly and writes the footer. Needs root.\n" },
	{ "validate", cmd_validate,
	  "check trace and result files against their schema",
	  "mmreplay validate [-q] FILE...\n"
	  "  -q, --quiet   print only problems\n"
	  "Exit status 1 when a file is invalid; the first problem is reported\n"
	  "with its line number and field.\n" },
	{ NULL, NULL, NULL, NULL },
};

const struct mmr_cmd *mmr_find_cmd(const char *name)
{
	for (const struct mmr_cmd *c = mmr_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void print_usage(const struct mmr_cmd *cmd)
{
	printf("%s: %s\n\nusage: %s", cmd->name, cmd->summary, cmd->usage);
}

void errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("mmreplay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die_usage(const struct mmr_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mmreplay %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'mmreplay %s --help')\n", cmd->name);
	exit(EXIT_USAGE);
}

int lib_error(const char *what)
{
	if (what)
		errorf("%s: %s", what, mmr_strerror());
	else
		errorf("%s", mmr_strerror());
	switch (mmr_errcode()) {
	case MMR_E_NOTSUP: return EXIT_NOTSUP;
	case MMR_E_USAGE: return EXIT_USAGE;
	default: return EXIT_FAIL;
	}
}

bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

static void main_usage(FILE *f)
{
	fprintf(f, "usage: mmreplay [--version] [--help] COMMAND [ARGS]\n\n"
		   "Record, replay and compare Linux memory-management lock behaviour.\n\n"
		   "Commands:\n");
	for (const struct mmr_cmd *c = mmr_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'mmreplay help COMMAND' or 'mmreplay COMMAND --help' for a command's options.\n"
		   "Start with 'mmreplay info'. Manual: mmreplay(1), mmreplay-trace(5).\n");
}

int main(int argc, char **argv)
{
	const struct mmr_cmd *cmd;

	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		main_usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("mmreplay %s\n", MMR_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			main_usage(stdout);
			return EXIT_OK;
		}
		cmd = mmr_find_cmd(argv[2]);
		if (!cmd) {
			errorf("help: unknown command '%s' (see 'mmreplay --help')", argv[2]);
			return EXIT_USAGE;
		}
		print_usage(cmd);
		return EXIT_OK;
	}
	if (argv[1][0] == '-') {
		errorf("unknown option '%s' (see 'mmreplay --help')", argv[1]);
		return EXIT_USAGE;
	}
	cmd = mmr_find_cmd(argv[1]);
	if (!cmd) {
		errorf("unknown command '%s' (see 'mmreplay --help')", argv[1]);
		return EXIT_USAGE;
	}
	if (wants_help(argc - 1, argv + 1)) {
		print_usage(cmd);
		return EXIT_OK;
	}
	return cmd->fn(argc - 1, argv + 1);
}
