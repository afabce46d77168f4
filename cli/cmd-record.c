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

/* The held child's work: CMD, once the recorder released it (mmr_spawn_held). */
static int exec_cmd(void *arg)
{
	char **argv = arg;

	execvp(argv[0], argv);
	fprintf(stderr, "mmreplay record: cannot run %s: %s\n", argv[0], strerror(errno));
	return 127;
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
	struct mmr_record_job job = { .child = -1 };
	const char *output = "mmreplay.jsonl";
	int32_t *pids = NULL;
	unsigned npids = 0;
	double duration = 0;
	bool zstd = false, quiet = false;
	pid_t child = -1;
	int gate = -1, c, ret = EXIT_FAIL;
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
		case 'b':
			ro.buffer_kb = (unsigned)arg_range(cmd, "--buffer-kb", optarg, 64, 4u << 20,
							   "KiB");
			break;
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
		child = mmr_spawn_held(exec_cmd, argv, &gate);
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
	ro.exec_pid = argc ? child : 0;

	/* Signals stop the recording cleanly; the footer is always written. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	job.ro = &ro;
	job.output = output;
	job.zstd = zstd;
	job.quiet = quiet;
	job.cmdline = cmdline;
	job.what = argc ? argv[0] : NULL;
	job.child = child;
	job.gate = &gate;
	job.until_pids_gone = npids && !argc;
	job.duration = duration;
	job.stop = &stop_signal;
	ret = mmr_record_job_run(&job);
	if (ret != EXIT_OK)
		goto out;
	if (job.child_done && WIFEXITED(job.child_status) && WEXITSTATUS(job.child_status) == 127)
		errorf("record: the command could not be run (see above)");
	else if (job.child_done && !quiet)
		fprintf(stderr, "command %s %d\n",
			WIFEXITED(job.child_status) ? "exited with status" : "killed by signal",
			WIFEXITED(job.child_status) ? WEXITSTATUS(job.child_status) :
						      WTERMSIG(job.child_status));
out:
	if (gate >= 0)
		close(gate);	/* the held child sees EOF and exits 126 */
	if (child > 0 && !job.child_done) {
		if (ret != EXIT_OK || stop_signal)
			kill(child, stop_signal ? stop_signal : SIGTERM);
		waitpid(child, NULL, 0);
	}
	free(pids);
	free(cmdline);
	return ret;
}
