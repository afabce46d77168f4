// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay demo: the README's main job. Record a built-in scenario (zygote
 * by default), replay the trace on this kernel, and show where the lock
 * time went. Each step is the matching command run in-process, so the demo
 * shows exactly what a user would get from running them by hand.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-probe.h"
#include "mmr-sysinfo.h"
#include "mmreplay.h"

/* Run a command of the table with a fresh getopt state. */
static int run_cmd(int (*fn)(int, char **), char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	optind = 0;	/* glibc: 0 re-initialises getopt for the next parser */
	return fn(argc, argv);
}

static void step(int n, int of, const char *what)
{
	printf("\n==> [%d/%d] %s\n", n, of, what);
	fflush(stdout);
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output-dir", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "scenario", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("demo");
	const char *dir = "mmreplay-demo", *scenario = "zygote", *duration = "5";
	char trace[4096], result[4096];
	struct mmr_sysinfo si;
	uint64_t t0 = mmr_now_ns();
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:d:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'd':
			if (atof(optarg) <= 0 || atof(optarg) > 600)
				die_usage(cmd, "--duration takes seconds between 0 and 600");
			duration = optarg;
			break;
		case 's': scenario = optarg; break;
		default: die_usage(cmd, "unknown option");
		}
	}
	if (optind < argc)
		die_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (geteuid() != 0) {
		errorf("demo: recording and replaying need root (tracefs, memory cgroup, zram): run it as root");
		return EXIT_NOTSUP;
	}
	if (!mmr_tracefs_dir())
		return lib_error("demo");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		errorf("demo: cannot create %s: %s", dir, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(trace, sizeof(trace), "%s/%s.jsonl", dir, scenario);
	snprintf(result, sizeof(result), "%s/result.json", dir);
	mmr_sysinfo_get(&si);
	printf("mmreplay demo on %s, kernel %s, %u CPUs: record the '%s' scenario for %s s,\n"
	       "replay it on this kernel, and show where the lock time went.\n",
	       si.host, si.kernel, si.cpus, scenario, duration);

	step(1, 3, "Recording the scenario natively (mmreplay scenario run ... --record)");
	{
		char *a[] = { "scenario", "run", (char *)scenario, "--duration", (char *)duration,
			      "--record", trace, NULL };

		rc = run_cmd(cmd_scenario, a);
		if (rc != EXIT_OK) {
			errorf("demo: recording the scenario failed (exit %d); see above", rc);
			return rc;
		}
	}

	step(2, 3, "Replaying the trace on this kernel with reclaim (mmreplay replay --reclaim memcg)");
	{
		char *a[] = { "replay", trace, "--reclaim", "memcg", "-o", result, "--label", "demo",
			      NULL };

		rc = run_cmd(cmd_replay, a);
		if (rc != EXIT_OK) {
			errorf("demo: the replay failed (exit %d); the trace is kept in %s", rc, trace);
			return rc;
		}
	}

	step(3, 3, "Where the time went (mmreplay report --top 12)");
	{
		char *a[] = { "report", "--top", "12", result, NULL };

		rc = run_cmd(cmd_report, a);
		if (rc != EXIT_OK)
			return rc;
	}

	printf("\nDone in %.0f s. Files:\n  %s   the trace (mmreplay-trace(5))\n"
	       "  %s   the replay result (validate with: mmreplay validate %s)\n"
	       "Next: mmreplay report %s  |  mmreplay replay %s --runs 5\n"
	       "      mmreplay scenario list  |  mmreplay record -o my.jsonl -- ./my-program\n",
	       (mmr_now_ns() - t0) / 1e9, trace, result, result, result, trace);
	return EXIT_OK;
}
