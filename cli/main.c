// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay: one command table, git/trace-cmd style. Adding a command means
 * a line here, a cmd-<name>.c, and a section in docs/mmreplay.1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-config.h"
#include "mmr-error.h"
#include "mmreplay.h"

const struct mmr_cmd mmr_commands[] = {
	{ "demo", cmd_demo,
	  "record a built-in scenario, replay it here, and show where the lock time went",
	  "mmreplay demo [-o DIR] [-d SECONDS] [-s SCENARIO]\n"
	  "  -o, --output-dir DIR   where the trace and result go (default ./mmreplay-demo)\n"
	  "  -d, --duration SEC     how long the scenario is recorded (default 5)\n"
	  "  -s, --scenario NAME    which scenario (default zygote; see 'scenario list')\n"
	  "Needs root. Takes about 15 s on a 2-core machine.\n" },
	{ "info", cmd_info,
	  "show what this machine supports: tracefs, events, privileges, KVM/qemu",
	  "mmreplay info [--json]\n"
	  "  --json   machine-readable output\n" },
	{ "push", cmd_push,
	  "send result or trace files to a results server (HTTP POST)",
	  "mmreplay push [OPTIONS] URL FILE...\n"
	  "  -n, --tries N       attempts per file on transport errors and 5xx (default 3)\n"
	  "  -t, --timeout SEC   per attempt (default 60)\n"
	  "Each file is validated before it is sent, with X-Mmreplay-Filename set to its\n"
	  "name. Local files are kept. Exit status 1 when a file could not be sent.\n" },
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
	{ "replay", cmd_replay,
	  "replay a trace on this kernel and measure its locks into a result file",
	  "mmreplay replay [OPTIONS] TRACE\n"
	  "      --runs N          replay N times (default 1); one result with every run\n"
	  "      --speed X         recorded gaps divided by X (default 1: as recorded)\n"
	  "      --max-speed       closed loop: every task runs its ops back to back\n"
	  "      --reclaim MODE    none (default), memcg (memory cgroup + zram swap),\n"
	  "                        pageout (process_madvise at the recorded reclaim moments)\n"
	  "      --memcg-limit N   memory limit for --reclaim=memcg (e.g. 64M; default half\n"
	  "                        of what the trace touches)\n"
	  "  -o, --output FILE     result file (default replay-TRACE-DATE-TIME.json)\n"
	  "      --force           replay even when the trace needs more tasks or memory\n"
	  "                        than this machine offers\n"
	  "      --label TEXT      free text stored in the result\n"
	  "      --push URL        send the result to a results server (see 'push')\n"
	  "      --no-locks        do not measure kernel locks (no tracefs needed)\n"
	  "      --cold-files      drop the page cache of the replay's files before each\n"
	  "                        run, so file faults do I/O (default: cached)\n"
	  "Needs root for lock measurement and reclaim. Ctrl-C kills the replay and undoes\n"
	  "every setting. Exit status 4 when something needed is not supported here.\n" },
	{ "report", cmd_report,
	  "show a replay result as tables: locks, op latency, kernel paths, fidelity",
	  "mmreplay report [--json] [--top N] RESULT\n"
	  "  --json    the result as normalised JSON instead of tables\n"
	  "  --top N   only the N lock rows and kernel paths with the most time\n" },
	{ "scenario", cmd_scenario,
	  "list the built-in workloads, run one natively, optionally recording it",
	  "mmreplay scenario list [-v] [NAME]\n"
	  "       mmreplay scenario run NAME [k=v ...] [OPTIONS]\n"
	  "  -p, --param K=V      set a parameter (see 'scenario list NAME'); bare K=V works too\n"
	  "  -d, --duration SEC   how long the scenario runs (default 10)\n"
	  "  -r, --record FILE    record it into FILE, following it from its first\n"
	  "                       instruction (as 'record -- CMD'); .zst compresses\n"
	  "  -e, --events GROUPS  with --record: faults,tasks,vm,reclaim,locks or all\n"
	  "  -b, --buffer-kb N    with --record: ring buffer per CPU in KiB\n"
	  "  -z, --zstd           with --record: compress with zstd\n"
	  "  -K, --keep-paths     with --record: keep file paths (default: sha256)\n"
	  "  -q, --quiet          no summaries\n"
	  "Reclaim settings (memory cgroup, zram swap), mounts and files a scenario sets up\n"
	  "are undone at the end, also on Ctrl-C. Exit 2 for an unknown scenario or\n"
	  "parameter, 4 when this kernel cannot run it. Needs root for reclaim and --record.\n" },
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

unsigned long arg_range(const struct mmr_cmd *cmd, const char *opt, const char *s,
			unsigned long lo, unsigned long hi, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		die_usage(cmd, "%s wants %s from %lu to %lu, not '%s'", opt, what, lo, hi, s);
	return v;
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
