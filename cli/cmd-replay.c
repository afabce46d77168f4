// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay replay: plan a trace, check the machine can take it, set up
 * reclaim, replay it N times while measuring kernel locks, write a result
 * v1 file. Ctrl-C (or SIGTERM/SIGHUP) kills the replay tree and undoes
 * every setting before exiting.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmr-config.h"
#include "mmr-error.h"
#include "mmr-exec.h"
#include "mmr-measure.h"
#include "mmr-plan.h"
#include "mmr-probe.h"
#include "mmr-reclaim.h"
#include "mmr-recorder.h"
#include "mmr-result.h"
#include "mmr-sysinfo.h"
#include "mmreplay.h"
#include "report-util.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct replay_ctx {
	struct mmr_reclaim *reclaim;
	struct mmr_measure *measure;
	bool measure_failed;		/* warned once; later runs go without */
};

static int hook_start(void *arg, const struct mmr_exec_view *v, const pid_t *roots, unsigned n)
{
	struct replay_ctx *c = arg;

	if (c->reclaim && mmr_reclaim_start(c->reclaim, v, roots, n) < 0)
		return -1;
	if (c->measure && !c->measure_failed && mmr_measure_start(c->measure, roots, n) < 0) {
		errorf("warning: no lock measurement: %s; the result carries operation latencies only (--no-locks silences this)",
		       mmr_strerror());
		c->measure_failed = true;
	}
	return 0;
}

static int hook_end(void *arg, const struct mmr_exec_view *v, struct mmr_stats *s)
{
	struct replay_ctx *c = arg;
	int rc = 0;

	if (c->measure && !c->measure_failed) {
		if (mmr_measure_stop(c->measure) < 0)
			rc = -1;
		if (mmr_measure_collect(c->measure, s) < 0)
			rc = -1;
	}
	if (c->reclaim && mmr_reclaim_end(c->reclaim, v, s) < 0)
		rc = -1;
	return rc;
}

/* "64M", "1G", "4096": bytes; 0 on error. */
/*
 * The program replay processes exec (mmreplay-task): $MMREPLAY_TASK_HELPER
 * (empty: none, the processes stay forks of this one), the build tree
 * next to this binary, then the installed one. NULL when none is found.
 */
static const char *task_helper(char *buf, size_t len)
{
	const char *env = getenv("MMREPLAY_TASK_HELPER");
	char exe[4096];
	ssize_t n;

	if (env)
		return *env ? env : NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(buf, len, "%s/../replay/mmreplay-task", dirname(exe));
		if (access(buf, X_OK) == 0)
			return buf;
	}
	snprintf(buf, len, "%s/mmreplay-task", MMR_LIBEXECDIR);
	return access(buf, X_OK) == 0 ? buf : NULL;
}

static uint64_t parse_bytes(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t mul = 1;

	if (end == s || v <= 0)
		return 0;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += *end == 'i' ? (end[1] == 'B' ? 2 : 1) : 1;
	if (*end || v * mul > 1.8e19)
		return 0;
	return (uint64_t)(v * mul);
}

static void default_output(const char *trace, char *out, size_t len)
{
	char *copy = strdup(trace), *base = copy ? basename(copy) : (char *)"trace", stamp[32];
	static const char *const exts[] = { ".zst", ".jsonl", ".json" };
	time_t t = time(NULL);
	struct tm tm;

	for (unsigned i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t bl = strlen(base), el = strlen(exts[i]);

		if (bl > el && !strcmp(base + bl - el, exts[i]))
			base[bl - el] = '\0';
	}
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, len, "replay-%s-%s.json", base, stamp);
	free(copy);
}

/* ---- progress line (terminals only, long replays only) ---- */

struct progress {
	pthread_t thread;
	volatile int stop;
	volatile unsigned done, runs;
	uint64_t start, run_start, expect_ns;	/* expected length of one run */
	bool shown;
};

static void *progress_main(void *arg)
{
	struct progress *p = arg;

	while (!p->stop) {
		uint64_t now = mmr_now_ns(), el = now - p->start;
		double per = p->done ? (double)(p->run_start - p->start) / p->done : (double)p->expect_ns;
		double left = per * (p->runs - p->done) - (double)(now - p->run_start);
		char a[32], b[32];

		if (el > 3000000000ull) {
			fmt_duration(el, a, sizeof(a));
			fmt_duration(left > 0 ? (uint64_t)left : 0, b, sizeof(b));
			fprintf(stderr, "\rreplaying: %u/%u runs done, %s elapsed, ETA %s   ",
				p->done, p->runs, a, b);
			p->shown = true;
		}
		usleep(500000);
	}
	return NULL;
}

static int run_all(struct mmr_exec *x, struct mmr_result *r, unsigned runs, struct progress *pg,
		   bool progress)
{
	if (progress && pthread_create(&pg->thread, NULL, progress_main, pg))
		progress = false;
	for (unsigned i = 0; i < runs && !stop_signal; i++) {
		struct mmr_run *run = mmr_result_add_run(r);

		if (!run)
			goto fail;
		pg->run_start = mmr_now_ns();
		if (mmr_exec_run(x, &run->stats, &run->wall_ns) < 0)
			goto fail;
		pg->done = i + 1;
	}
	if (progress) {
		pg->stop = 1;
		pthread_join(pg->thread, NULL);
		if (pg->shown)
			fputc('\n', stderr);
	}
	if (stop_signal)
		return mmr_seterr(MMR_E_FAIL, "interrupted; the replay tree was killed");
	return 0;
fail:
	if (progress) {
		pg->stop = 1;
		pthread_join(pg->thread, NULL);
		if (pg->shown)
			fputc('\n', stderr);
	}
	return -1;
}

int cmd_replay(int argc, char **argv)
{
	enum { O_RUNS = 256, O_SPEED, O_MAX, O_RECLAIM, O_LIMIT, O_FORCE, O_LABEL, O_NOLOCKS, O_COLD,
	       O_PUSH };
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, O_RUNS },
		{ "speed", required_argument, NULL, O_SPEED },
		{ "max-speed", no_argument, NULL, O_MAX },
		{ "reclaim", required_argument, NULL, O_RECLAIM },
		{ "memcg-limit", required_argument, NULL, O_LIMIT },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, O_FORCE },
		{ "label", required_argument, NULL, O_LABEL },
		{ "push", required_argument, NULL, O_PUSH },
		{ "no-locks", no_argument, NULL, O_NOLOCKS },
		{ "cold-files", no_argument, NULL, O_COLD },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("replay");
	struct mmr_exec_opts eo = { .mode = MMR_REPLAY_AS_RECORDED, .speed = 1.0 };
	struct mmr_reclaim_opts ro = { .mode = MMR_RECLAIM_MODE_NONE };
	struct replay_ctx ctx = { 0 };
	struct mmr_plan_limits lim;
	struct progress pg = { 0 };
	struct mmr_plan *plan = NULL;
	struct mmr_exec *x = NULL;
	struct mmr_result *res = NULL;
	const char *trace, *output = NULL, *label = NULL, *push = NULL;
	char outbuf[512], helper[4200], a[32], b[32];
	double stolen;
	unsigned runs = 1;
	bool force = false, nolocks = false, speed_set = false;
	struct sigaction sa = { .sa_handler = on_signal };
	int c, ret = EXIT_FAIL, m;
	char *end;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case O_RUNS:
			runs = (unsigned)arg_range(cmd, "--runs", optarg, 1, 100000, "a number");
			break;
		case O_SPEED:
			eo.speed = strtod(optarg, &end);
			if (*end || !(eo.speed > 0) || !isfinite(eo.speed) || eo.speed > 1e6)
				die_usage(cmd, "--speed wants a factor greater than 0 (2 = twice as fast), not '%s'",
					  optarg);
			speed_set = true;
			break;
		case O_MAX:
			eo.mode = MMR_REPLAY_MAX_SPEED;
			break;
		case O_RECLAIM:
			m = mmr_reclaim_mode_from_name(optarg);
			if (m < 0)
				die_usage(cmd, "--reclaim wants none, memcg or pageout, not '%s'", optarg);
			ro.mode = (enum mmr_reclaim_mode)m;
			break;
		case O_LIMIT:
			ro.memcg_limit = parse_bytes(optarg);
			if (!ro.memcg_limit)
				die_usage(cmd, "--memcg-limit wants a size such as 64M or 1G, not '%s'", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case O_FORCE:
			force = true;
			break;
		case O_LABEL:
			label = optarg;
			break;
		case O_PUSH:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				die_usage(cmd, "--push wants an http:// or https:// URL, not '%s'", optarg);
			push = optarg;
			break;
		case O_NOLOCKS:
			nolocks = true;
			break;
		case O_COLD:
			eo.cold_files = true;
			break;
		default:
			die_usage(cmd, "unknown option");
		}
	}
	if (optind + 1 != argc)
		die_usage(cmd, optind >= argc ? "no trace given" : "one trace at a time");
	trace = argv[optind];
	if (speed_set && eo.mode == MMR_REPLAY_MAX_SPEED)
		die_usage(cmd, "--speed and --max-speed exclude each other");
	if (ro.memcg_limit && ro.mode != MMR_RECLAIM_MODE_MEMCG)
		die_usage(cmd, "--memcg-limit goes with --reclaim=memcg");
	if (speed_set && eo.speed != 1.0)
		eo.mode = MMR_REPLAY_SCALED;

	/* Handlers first: from here on a signal means "stop and clean up". */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	eo.stop = &stop_signal;
	eo.tmpdir = getenv("TMPDIR");
	eo.helper = task_helper(helper, sizeof(helper));
	if (!eo.helper && !getenv("MMREPLAY_TASK_HELPER"))
		errorf("note: mmreplay-task not found (looked next to this program and in %s); replay processes carry the whole replayer, so forks and exits cost more than recorded",
		       MMR_LIBEXECDIR);

	/* The whole trace is planned and checked before anything runs. */
	plan = mmr_plan_from_file(trace, NULL);
	if (!plan) {
		errorf("cannot replay: %s (fix the trace or record it again)", mmr_strerror());
		goto out;
	}
	if (plan->implicit)
		errorf("note: %u memory areas the trace never showed being mapped (a program image after exec, maps missing from the header) are replayed on stand-in anonymous memory",
		       plan->implicit);
	if (plan->unresolved)
		errorf("note: %" PRIu64 " ops act on memory in no recorded mapping; they will count as failed (\"unmapped\")",
		       plan->unresolved);
	if (mmr_plan_limits_probe(&lim) < 0) {
		ret = lib_error("probing the machine");
		goto out;
	}
	if (ro.mode == MMR_RECLAIM_MODE_MEMCG)
		lim.mem_cap = ro.memcg_limit ? ro.memcg_limit
					     : plan->fault_pages * plan->page_size / 2;
	if (mmr_plan_check(plan, &lim) < 0) {
		if (!force) {
			errorf("%s", mmr_strerror());
			goto out;
		}
		errorf("warning: %s; replaying anyway (--force)", mmr_strerror());
	}
	if (geteuid() == 0) {
		/* leftovers of an mmreplay that was killed */
		if (mmr_reclaim_cleanup_stale() < 0)
			errorf("warning: %s", mmr_strerror());
		mmr_recorder_cleanup_stale();
	}
	if (stop_signal)
		goto interrupted;
	ctx.reclaim = mmr_reclaim_new(plan, &ro);
	if (!ctx.reclaim) {
		ret = lib_error("--reclaim");
		goto out;
	}
	if (!nolocks) {
		ctx.measure = mmr_measure_new();
		if (!ctx.measure)
			goto lib_fail;
		mmr_measure_expect(ctx.measure, plan->events);
	}
	eo.hooks = (struct mmr_exec_hooks){ hook_start, hook_end, &ctx };
	x = mmr_exec_new(plan, &eo);
	if (!x)
		goto lib_fail;
	res = mmr_result_new();
	if (!res || mmr_result_set_host(res) < 0 ||
	    mmr_result_set_trace(res, trace, NULL, NULL, plan->events) < 0 ||
	    (label && mmr_result_set_label(res, label) < 0))
		goto lib_fail;
	res->trace.truncated = plan->truncated;
	snprintf(res->trace.recorded_kernel, sizeof(res->trace.recorded_kernel), "%s",
		 plan->rec_kernel);
	snprintf(res->trace.recorded_host, sizeof(res->trace.recorded_host), "%s", plan->rec_host);
	res->trace.duration_ns = plan->duration_ns;
	res->params.runs = runs;
	res->params.mode = eo.mode;
	res->params.speed = eo.mode == MMR_REPLAY_MAX_SPEED ? 0 : eo.speed;
	res->params.reclaim = ro.mode;
	res->params.memcg_limit = mmr_reclaim_limit(ctx.reclaim);
	res->params.force = force;

	pg.start = mmr_now_ns();
	pg.runs = runs;
	pg.expect_ns = eo.mode == MMR_REPLAY_MAX_SPEED ? 0 : (uint64_t)(plan->duration_ns / eo.speed);
	if (run_all(x, res, runs, &pg, isatty(STDERR_FILENO)) < 0) {
		if (stop_signal)
			goto interrupted;
		goto lib_fail;
	}
	if (mmr_result_summarize(res) < 0)
		goto lib_fail;
	if (!output) {
		default_output(trace, outbuf, sizeof(outbuf));
		output = outbuf;
	}
	if (mmr_result_write(res, output) < 0)
		goto lib_fail;
	fmt_duration(res->summary.fidelity.lag_p50_ns, a, sizeof(a));
	fmt_duration(res->summary.fidelity.lag_p99_ns, b, sizeof(b));
	printf("replayed %s: %u run%s, %" PRIu64 "/%" PRIu64 " ops (%" PRIu64 " failed",
	       res->trace.name, runs, runs == 1 ? "" : "s", res->summary.fidelity.ops_replayed,
	       res->summary.fidelity.ops_recorded, res->summary.fidelity.ops_failed);
	/* ops of tasks that were killed or never started: listed in the report */
	if (res->summary.fidelity.ops_replayed < res->summary.fidelity.ops_recorded)
		printf(", %" PRIu64 " not run",
		       res->summary.fidelity.ops_recorded - res->summary.fidelity.ops_replayed);
	printf(")");
	if (eo.mode != MMR_REPLAY_MAX_SPEED)
		printf(", lag p50 %s p99 %s%s", a, b,
		       mmr_fidelity_lag_grows(&res->summary.fidelity) ? " and growing" : "");
	stolen = mmr_result_steal_share(res);
	if (stolen >= 0.05)
		printf(", %.0f%% of the CPU time stolen by the host", 100 * stolen);
	printf("; reclaim %s\nresult: %s\n", mmr_reclaim_describe(ctx.reclaim), output);
	fflush(stdout);
	ret = push ? push_file(push, output, 3, 60) : EXIT_OK;
	goto out;
interrupted:
	errorf("interrupted by signal %d; the replay tree was killed and every setting undone",
	       (int)stop_signal);
	ret = EXIT_FAIL;
	goto out;
lib_fail:
	ret = lib_error("replay");
out:
	mmr_exec_free(x);
	mmr_measure_free(ctx.measure);
	if (ctx.reclaim) {
		/* No second Ctrl-C may cut the undo short. */
		sigset_t block, old;

		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		sigprocmask(SIG_BLOCK, &block, &old);
		if (mmr_reclaim_cleanup(ctx.reclaim) < 0) {
			errorf("could not undo the reclaim settings: %s", mmr_strerror());
			ret = EXIT_FAIL;
		}
		mmr_reclaim_free(ctx.reclaim);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	mmr_result_free(res);
	mmr_plan_free(plan);
	return ret;
}
