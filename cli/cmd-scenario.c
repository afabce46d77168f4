// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay scenario: list the built-in workloads, run one natively, and
 * optionally record it exactly as `mmreplay record -- CMD` would (the
 * recorder follows the scenario's root from its first instruction).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-recorder.h"
#include "mmr-scenario.h"
#include "mmr-sysinfo.h"
#include "mmreplay.h"
#include "record-util.h"

#define GRACE_S 30	/* a scenario's root may take this long to wind down */

static volatile sig_atomic_t stop_signal;
static struct mmr_scn_run *active_run;

static void on_signal(int sig)
{
	stop_signal = sig;
	mmr_scn_request_stop(active_run);	/* a store into shared memory */
}

static void list_one(const struct mmr_scenario *s, bool verbose)
{
	printf("%-20s %s\n", s->name, s->summary);
	if (!verbose) {
		printf("%-20s stresses: %s\n", "", s->stresses);
		return;
	}
	printf("  shows:    %s\n  stresses: %s\n  parameters:\n", s->demonstrates, s->stresses);
	for (const struct mmr_scn_param *p = s->params; p && p->name; p++) {
		printf("    %-12s %-8s %s", p->name, p->def, p->help);
		if (p->type == MMR_SCN_CHOICE)
			printf(" [%s]", p->choices);
		putchar('\n');
	}
}

static int scenario_list(int argc, char **argv)
{
	bool verbose = false;
	const char *only = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (argv[i][0] == '-')
			die_usage(mmr_find_cmd("scenario"), "unknown option '%s'", argv[i]);
		else
			only = argv[i];
	}
	if (only) {
		const struct mmr_scenario *s = mmr_scenario_find(only);

		if (!s) {
			errorf("scenario: unknown scenario '%s' (see 'mmreplay scenario list')", only);
			return EXIT_USAGE;
		}
		list_one(s, true);
		return EXIT_OK;
	}
	for (unsigned i = 0; mmr_scenarios[i]; i++) {
		if (verbose && i)
			putchar('\n');
		list_one(mmr_scenarios[i], verbose);
	}
	return EXIT_OK;
}

static void print_stats(const struct mmr_scenario *s, struct mmr_scn_run *run)
{
	const struct mmr_scn_stats *st = mmr_scn_run_stats(run);
	const char *n = st->notes;

	printf("scenario %s: %.2f s (%s)\n", s->name,
	       st->end_ns > st->start_ns ? (st->end_ns - st->start_ns) / 1e9 : 0.0,
	       mmr_scn_run_params(run));
	while (*n) {
		const char *nl = strchr(n, '\n');
		int len = nl ? (int)(nl - n) : (int)strlen(n);

		printf("  %.*s\n", len, n);
		n += len + (nl ? 1 : 0);
	}
	for (unsigned i = 0; s->counters && s->counters[i] && i < MMR_SCN_MAX_COUNTERS; i++) {
		const char *name = s->counters[i];
		size_t l = strlen(name);

		if (l > 3 && !strcmp(name + l - 3, "_ns"))
			printf("  %-28.*s %12.3f ms\n", (int)(l - 3), name, st->counters[i] / 1e6);
		else
			printf("  %-28s %12" PRIu64 "\n", name, st->counters[i]);
	}
	printf("  %-28s %12" PRIu64 " minor, %" PRIu64 " major\n", "page faults (tree)", st->minflt,
	       st->majflt);
	printf("  %-28s %12" PRIu64 " in, %" PRIu64 " out (pages, whole system)\n", "swap",
	       st->pswpin, st->pswpout);
}

static int scenario_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "param", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "record", required_argument, NULL, 'r' },
		{ "events", required_argument, NULL, 'e' },
		{ "buffer-kb", required_argument, NULL, 'b' },
		{ "zstd", no_argument, NULL, 'z' },
		{ "keep-paths", no_argument, NULL, 'K' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("scenario");
	struct mmr_recorder_opts ro = { .hash_paths = true };
	const struct mmr_scenario *s;
	struct mmr_scn_run *run = NULL;
	char **kv = NULL, *cmdline = NULL;
	unsigned nkv = 0;
	const char *record = NULL;
	double duration = 10;
	bool zstd = false, quiet = false, root_done = false;
	int c, ret = EXIT_FAIL, gate = -1, root_status = 0;
	int32_t root_pid32;
	pid_t root = -1;

	kv = calloc((size_t)argc + 1, sizeof(*kv));
	if (!kv) {
		errorf("scenario: out of memory");
		return EXIT_FAIL;
	}
	/* GNU getopt permutes: options may come before or after NAME and k=v */
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:d:r:e:b:zKq", opts, NULL)) != -1) {
		switch (c) {
		case 'p': kv[nkv++] = optarg; break;
		case 'd': {
			char *end;

			duration = strtod(optarg, &end);
			if (*end || duration <= 0 || duration > 1e6)
				die_usage(cmd, "bad duration '%s' (seconds, > 0)", optarg);
			break;
		}
		case 'r': record = optarg; break;
		case 'e':
			if (mmr_evgroups_parse(optarg, &ro.groups) < 0)
				die_usage(cmd, "%s", mmr_strerror());
			break;
		case 'b':
			ro.buffer_kb = (unsigned)arg_range(cmd, "--buffer-kb", optarg, 64, 4u << 20,
							   "KiB");
			break;
		case 'z': zstd = true; break;
		case 'K': ro.hash_paths = false; break;
		case 'q': quiet = true; break;
		default: die_usage(cmd, "unknown option");
		}
	}
	if (optind >= argc)
		die_usage(cmd, "run needs a scenario name (see 'mmreplay scenario list')");
	s = mmr_scenario_find(argv[optind]);
	if (!s) {
		errorf("scenario: unknown scenario '%s' (see 'mmreplay scenario list')", argv[optind]);
		free(kv);
		return EXIT_USAGE;
	}
	for (int i = optind + 1; i < argc; i++)
		kv[nkv++] = argv[i];	/* bare k=v after the name */
	if (record && strlen(record) > 4 && !strcmp(record + strlen(record) - 4, ".zst"))
		zstd = true;

	run = mmr_scn_run_new(s, kv, nkv, duration);
	if (!run) {
		ret = lib_error("scenario");
		goto out;
	}
	/* tracefs instances of killed runs go too; only a recording needs tracefs */
	if (mmr_recorder_cleanup_stale() < 0 && record) {
		ret = lib_error("scenario");
		goto out;
	}
	/* From here every setting is undone on the way out, also on Ctrl-C. */
	active_run = run;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (mmr_scn_prepare(run) < 0) {
		ret = lib_error("scenario");
		goto finish;
	}
	if (stop_signal)
		goto finish;
	root = mmr_spawn_held(mmr_scn_child_main, run, &gate);
	if (root < 0) {
		errorf("scenario: cannot fork: %s", strerror(errno));
		goto finish;
	}
	if (mmr_scn_attach(run, root) < 0) {
		ret = lib_error("scenario");
		goto finish;
	}
	if (record) {
		char head[64];
		struct mmr_record_job job = {
			.ro = &ro, .output = record, .zstd = zstd, .quiet = quiet,
			.what = s->name, .child = root, .gate = &gate,
			.duration = duration + GRACE_S, .stop = &stop_signal,
		};

		snprintf(head, sizeof(head), "mmreplay scenario run %s", s->name);
		cmdline = malloc(strlen(head) + strlen(mmr_scn_run_params(run)) + 2);
		if (cmdline)
			sprintf(cmdline, "%s %s", head, mmr_scn_run_params(run));
		job.cmdline = cmdline;
		root_pid32 = root;
		ro.pids = &root_pid32;
		ro.npids = 1;
		ret = mmr_record_job_run(&job);
		root_done = job.child_done;
		root_status = job.child_status;
		if (ret != EXIT_OK)
			goto finish;
	} else {
		uint64_t until = mmr_now_ns() + (uint64_t)((duration + GRACE_S) * 1e9);

		if (write(gate, "g", 1) != 1) {
			errorf("scenario: cannot start %s", s->name);
			goto finish;
		}
		close(gate);
		gate = -1;
		while (!stop_signal && mmr_now_ns() < until) {
			pid_t w = waitpid(root, &root_status, WNOHANG);

			if (w == root) {
				root_done = true;
				break;
			}
			mmr_scn_sleep_us(50000);
		}
		ret = EXIT_OK;
	}
	if (!root_done) {
		/* signal or a root that overran: ask, then give it a little time */
		uint64_t until = mmr_now_ns() + 10000000000ull;

		mmr_scn_request_stop(run);
		while (!root_done && mmr_now_ns() < until) {
			if (waitpid(root, &root_status, WNOHANG) == root)
				root_done = true;
			else
				mmr_scn_sleep_us(20000);
		}
		if (!root_done && !stop_signal) {
			errorf("scenario: %s did not stop within %d s of its duration; killed", s->name,
			       GRACE_S);
			ret = EXIT_FAIL;
		}
	}
finish:
	if (gate >= 0)
		close(gate);	/* a held root sees EOF and exits */
	if (mmr_scn_finish(run, root > 0 ? root : 0) < 0) {
		errorf("scenario: could not undo every setting: %s", mmr_strerror());
		ret = EXIT_FAIL;
	}
	if (root_done && ret == EXIT_OK) {
		const struct mmr_scn_stats *st = mmr_scn_run_stats(run);

		if (!quiet)
			print_stats(s, run);
		if (WIFEXITED(root_status) && WEXITSTATUS(root_status) == 4) {
			errorf("scenario: %s: not supported here: %s", s->name, st->msg);
			ret = EXIT_NOTSUP;
		} else if (!WIFEXITED(root_status) || WEXITSTATUS(root_status) != 0) {
			if (st->msg[0])
				errorf("scenario: %s failed: %s", s->name, st->msg);
			else if (WIFSIGNALED(root_status))
				errorf("scenario: %s killed by signal %d", s->name, WTERMSIG(root_status));
			else
				errorf("scenario: %s exited with status %d", s->name,
				       WEXITSTATUS(root_status));
			ret = EXIT_FAIL;
		}
	}
	if (stop_signal && !quiet)
		fprintf(stderr, "mmreplay scenario: stopped by signal %d; every setting undone\n",
			(int)stop_signal);
out:
	active_run = NULL;
	mmr_scn_run_free(run);
	free(cmdline);
	free(kv);
	return ret;
}

int cmd_scenario(int argc, char **argv)
{
	const struct mmr_cmd *cmd = mmr_find_cmd("scenario");

	if (argc < 2)
		die_usage(cmd, "give a subcommand: list or run");
	if (!strcmp(argv[1], "list"))
		return scenario_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return scenario_run(argc - 1, argv + 1);
	die_usage(cmd, "unknown subcommand '%s' (list or run)", argv[1]);
}
