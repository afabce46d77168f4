// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay record: trace a command and its descendants, running processes
 * (-p), or the whole system (-a) into a trace v1 file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-probe.h"
#include "mmr-recorder.h"
#include "mmr-sysinfo.h"
#include "mmr-trace.h"
#include "mmreplay.h"
#include "record-util.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Fork CMD stopped at a pipe so the recorder follows it from its first
 * instruction: the child execs only after the parent wrote a byte.
 */
static pid_t spawn_held(char **argv, int *gate)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		char c;

		close(p[1]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(p[0], &c, 1) != 1)
			_exit(126);	/* the recorder failed to start */
		execvp(argv[0], argv);
		fprintf(stderr, "mmreplay record: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

static int parse_pids(const char *s, int32_t **pids, unsigned *n)
{
	char *dup = strdup(s), *save = NULL;

	if (!dup)
		return -1;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long v = strtol(t, &end, 10);
		int32_t *np;

		if (*end || v <= 0 || v > INT32_MAX) {
			free(dup);
			return mmr_seterr(MMR_E_USAGE, "bad pid '%s'", t);
		}
		if (kill((pid_t)v, 0) < 0 && errno == ESRCH) {
			free(dup);
			return mmr_seterr(MMR_E_USAGE, "no process with pid %ld", v);
		}
		np = realloc(*pids, (*n + 1) * sizeof(**pids));
		if (!np) {
			free(dup);
			return -1;
		}
		*pids = np;
		np[(*n)++] = (int32_t)v;
	}
	free(dup);
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'e' },
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "comm", required_argument, NULL, 'C' },
		{ "cgroup", required_argument, NULL, 'G' },
		{ "duration", required_argument, NULL, 'd' },
		{ "zstd", no_argument, NULL, 'z' },
		{ "keep-paths", no_argument, NULL, 'K' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("record");
	struct mmr_recorder_opts ro = { .hash_paths = true };
	struct mmr_record_out out = { 0 };
	struct mmr_recorder *rec = NULL;
	const char *output = "mmreplay.jsonl";
	int32_t *pids = NULL;
	unsigned npids = 0;
	double duration = 0;
	bool zstd = false, quiet = false;
	pid_t child = -1;
	int gate = -1, c, ret = EXIT_FAIL, child_status = 0;
	bool child_done = false;
	uint64_t t0, deadline = 0;
	char *cmdline = NULL;

	while ((c = getopt_long(argc, argv, "+o:e:p:ad:zqb:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'e':
			if (mmr_evgroups_parse(optarg, &ro.groups) < 0)
				die_usage(cmd, "%s", mmr_strerror());
			break;
		case 'p':
			if (parse_pids(optarg, &pids, &npids) < 0)
				die_usage(cmd, "%s", mmr_strerror());
			break;
		case 'a': ro.system_wide = true; break;
		case 'C': ro.comm_re = optarg; break;
		case 'G': ro.cgroup = optarg; break;
		case 'd': {
			char *end;

			duration = strtod(optarg, &end);
			if (*end || duration <= 0)
				die_usage(cmd, "bad duration '%s' (seconds, > 0)", optarg);
			break;
		}
		case 'z': zstd = true; break;
		case 'K': ro.hash_paths = false; break;
		case 'b': ro.buffer_kb = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'q': quiet = true; break;
		default: die_usage(cmd, "unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (!!argc + !!npids + ro.system_wide != 1)
		die_usage(cmd, "give exactly one of: -- CMD, -p PID, -a");
	if ((ro.comm_re || ro.cgroup) && !ro.system_wide)
		die_usage(cmd, "--comm and --cgroup filter a system-wide (-a) recording");
	if (!argc && !duration && ro.system_wide)
		fprintf(stderr, "mmreplay record: recording system-wide until Ctrl-C\n");
	if (strlen(output) > 4 && !strcmp(output + strlen(output) - 4, ".zst"))
		zstd = true;

	if (mmr_recorder_cleanup_stale() < 0)
		return lib_error("record");
	if (argc) {
		cmdline = mmr_join_argv(argv, argc);
		child = spawn_held(argv, &gate);
		if (child < 0) {
			errorf("record: cannot fork: %s", strerror(errno));
			goto out;
		}
		pids = malloc(sizeof(*pids));
		if (!pids)
			goto out;
		pids[0] = child;
		npids = 1;
	}
	ro.pids = pids;
	ro.npids = npids;

	/* Signals stop the recording cleanly; the footer is always written. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	rec = mmr_recorder_new(&ro);
	if (!rec) {
		ret = lib_error("record");
		goto out;
	}
	if (mmr_recorder_start(rec) < 0) {
		ret = lib_error("record");
		goto out;
	}
	if (mmr_record_out_open(&out, rec, output, zstd, cmdline, ro.hash_paths, false) < 0) {
		ret = lib_error("record");
		goto out;
	}
	mmr_record_report_missing(rec, stderr);
	if (gate >= 0) {
		/* Release the command now that every event is armed. */
		if (write(gate, "g", 1) != 1) {
			errorf("record: cannot start %s", argv[0]);
			goto out;
		}
		close(gate);
		gate = -1;
	}
	t0 = mmr_now_ns();
	if (duration)
		deadline = t0 + (uint64_t)(duration * 1e9);
	while (!stop_signal) {
		if (mmr_recorder_read(rec, mmr_record_out_event, &out, 100) < 0) {
			ret = lib_error("record");
			goto out;
		}
		if (child > 0 && !child_done && waitpid(child, &child_status, WNOHANG) == child)
			child_done = true;
		if (child_done)
			break;
		if (npids && !argc && mmr_pids_all_gone(pids, npids))
			break;
		if (deadline && mmr_now_ns() >= deadline)
			break;
	}
	if (mmr_record_out_close(&out, rec, true) < 0) {
		ret = lib_error("record");
		goto out;
	}
	if (!quiet)
		mmr_record_summary(&out, rec, output, mmr_now_ns() - t0, stderr);
	if (child_done && WIFEXITED(child_status) && WEXITSTATUS(child_status) == 127)
		errorf("record: the command could not be run (see above)");
	else if (child_done && !quiet)
		fprintf(stderr, "command %s %d\n",
			WIFEXITED(child_status) ? "exited with status" : "killed by signal",
			WIFEXITED(child_status) ? WEXITSTATUS(child_status) : WTERMSIG(child_status));
	ret = EXIT_OK;
out:
	if (gate >= 0)
		close(gate);	/* the held child sees EOF and exits 126 */
	if (child > 0 && !child_done) {
		if (ret != EXIT_OK || stop_signal)
			kill(child, stop_signal ? stop_signal : SIGTERM);
		waitpid(child, NULL, 0);
	}
	mmr_record_out_release(&out);
	mmr_recorder_free(rec);
	free(pids);
	free(cmdline);
	return ret;
}
