// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay report: a result file as tables a person can read — lock
 * samples per (lock, source, mode, op, kind), per-op latency, the kernel
 * paths where contention time went, and how faithfully the replay
 * followed the trace.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-result.h"
#include "mmreplay.h"
#include "report-util.h"

#define TOP_PATHS 10
#define PATH_FRAMES 8

static const char *dur(uint64_t ns, char *buf)
{
	return fmt_duration(ns, buf, 24);
}

static void header(const struct mmr_result *r, const char *path)
{
	char a[24], b[24];

	printf("%s: result v%d, mmreplay %s, created %s%s%s\n", path, MMR_RESULT_VERSION,
	       r->mmreplay_version, r->created, r->label ? ", label: " : "",
	       r->label ? r->label : "");
	printf("kernel %s (%s%s%s) on %s: %s, %u CPUs, %s\n", r->kernel.release, r->kernel.version,
	       r->kernel.preempt[0] ? ", preempt " : "", r->kernel.preempt, r->host.name,
	       r->host.arch, r->host.cpus, fmt_bytes(r->host.mem_total, a, sizeof(a)));
	if (r->emulated)
		printf("EMULATED (qemu TCG): timings are not comparable with hardware runs\n");
	if (r->has_vm && r->vm.accel[0])
		printf("vm: %s, %d CPUs, %d MiB%s%s\n", r->vm.accel, r->vm.cpus, r->vm.mem_mb,
		       r->vm.kernel_image ? ", " : "", r->vm.kernel_image ? r->vm.kernel_image : "");
	printf("trace %s (sha256 %.16s...), recorded on %s, kernel %s: %s, %" PRIu64 " events%s\n",
	       r->trace.name ? r->trace.name : "?", r->trace.sha256,
	       r->trace.recorded_host[0] ? r->trace.recorded_host : "?",
	       r->trace.recorded_kernel[0] ? r->trace.recorded_kernel : "?",
	       dur(r->trace.duration_ns, a), r->trace.events,
	       r->trace.truncated ? " (truncated)" : "");
	printf("replay: %u run%s, %s", r->params.runs, r->params.runs == 1 ? "" : "s",
	       mmr_replay_mode_name(r->params.mode));
	if (r->params.mode == MMR_REPLAY_SCALED)
		printf(" x%g", r->params.speed);
	printf(", reclaim %s", mmr_reclaim_mode_name(r->params.reclaim));
	if (r->params.memcg_limit)
		printf(" (limit %s)", fmt_bytes(r->params.memcg_limit, b, sizeof(b)));
	printf("%s\n", r->params.force ? ", forced past the safety checks" : "");
}

/* Rows to show per table; 0 = all. Tables are sorted by total time. */
static unsigned top;

static void locks_table(const struct mmr_stats *s)
{
	char p50[24], p99[24], mx[24], tot[24];

	printf("\nKernel locks (all runs)\n");
	if (!s->nlocks) {
		printf("  no lock samples (not measured, or no lock activity)\n");
		return;
	}
	printf("  %-10s %-10s %-6s %-9s %-4s %10s %10s %10s %10s %10s\n", "lock", "source", "mode",
	       "op", "kind", "count", "p50", "p99", "max", "total");
	for (unsigned i = 0; i < s->nlocks && (!top || i < top); i++) {
		const struct mmr_lockstat *l = &s->locks[i];

		printf("  %-10s %-10s %-6s %-9s %-4s %10" PRIu64 " %10s %10s %10s %10s\n",
		       mmr_lockclass_name(l->key.lock), mmr_lock_source_name(l->key.source),
		       mmr_lock_mode_name(l->key.mode), mmr_op_name(l->key.op),
		       mmr_lock_kind_name(l->key.kind), mmr_hist_count(l->hist),
		       dur(mmr_hist_percentile(l->hist, 50), p50),
		       dur(mmr_hist_percentile(l->hist, 99), p99), dur(mmr_hist_max(l->hist), mx),
		       dur(mmr_hist_sum(l->hist), tot));
	}
	if (top && s->nlocks > top)
		printf("  (%u more rows: mmreplay report without --top)\n", s->nlocks - top);
}

static void ops_table(const struct mmr_stats *s)
{
	char p50[24], p99[24], mx[24], tot[24];

	printf("\nOperation latency in the replay (user space, includes every kernel wait)\n");
	if (!s->nops) {
		printf("  no operations timed\n");
		return;
	}
	printf("  %-9s %-4s %10s %10s %10s %10s %10s\n", "op", "unit", "count", "p50", "p99", "max",
	       "total");
	for (unsigned i = 0; i < s->nops; i++) {
		const struct mmr_opstat *o = &s->ops[i];

		if (!mmr_hist_count(o->hist))
			continue;
		printf("  %-9s %-4s %10" PRIu64 " %10s %10s %10s %10s\n", mmr_op_name(o->op),
		       o->per_page ? "page" : "op", mmr_hist_count(o->hist),
		       dur(mmr_hist_percentile(o->hist, 50), p50),
		       dur(mmr_hist_percentile(o->hist, 99), p99), dur(mmr_hist_max(o->hist), mx),
		       dur(mmr_hist_sum(o->hist), tot));
	}
}

static void paths_table(const struct mmr_stats *s)
{
	char tot[24];

	if (!s->npaths)
		return;
	printf("\nTop kernel paths (contention wait, innermost frame first)\n");
	unsigned npaths = top && top < TOP_PATHS ? top : TOP_PATHS;

	for (unsigned i = 0; i < s->npaths && i < npaths; i++) {
		const struct mmr_path *p = &s->paths[i];

		printf("  %2u. %s during %s: %" PRIu64 " waits, %s\n      ", i + 1,
		       mmr_lockclass_name(p->cls), mmr_op_name(p->op), p->count, dur(p->wait_ns, tot));
		for (unsigned j = 0; j < p->nframes && j < PATH_FRAMES; j++) {
			/* "down_write+0x5b/0x60" -> "down_write" keeps the line short */
			int n = (int)strcspn(p->frames[j], "+");

			printf("%s%.*s", j ? " < " : "", n, p->frames[j]);
		}
		printf("%s\n", p->nframes > PATH_FRAMES ? " < ..." : "");
	}
	if (s->npaths > npaths)
		printf("  (%u more paths in the file)\n", s->npaths - npaths);
}

static void fidelity(const struct mmr_result *r)
{
	const struct mmr_fidelity *f = &r->summary.fidelity;
	double stolen = mmr_result_steal_share(r);
	char a[24], b[24], c[24];

	printf("\nTiming fidelity\n");
	printf("  ops replayed %" PRIu64 " of %" PRIu64 " recorded, %" PRIu64 " failed%s\n",
	       f->ops_replayed, f->ops_recorded, f->ops_failed,
	       f->ops_replayed < f->ops_recorded ? "  (NOT ALL OPS RAN)" : "");
	if (r->params.mode == MMR_REPLAY_MAX_SPEED)
		printf("  closed loop (max speed): no recorded timeline to lag behind\n");
	else
		printf("  lag behind the recorded timeline: p50 %s, p99 %s, max %s\n",
		       dur(f->lag_p50_ns, a), dur(f->lag_p99_ns, b), dur(f->lag_max_ns, c));
	if (f->has_tenths) {
		printf("  lag by tenth of the timeline, mean:");
		for (unsigned i = 0; i < MMR_LAG_TENTHS; i++)
			printf(" %s", f->tenth[i].n ? dur(f->tenth[i].sum_ns / f->tenth[i].n, a) : "-");
		printf("\n  lag by tenth of the timeline, max: ");
		for (unsigned i = 0; i < MMR_LAG_TENTHS; i++)
			printf(" %s", f->tenth[i].n ? dur(f->tenth[i].max_ns, a) : "-");
		printf("\n");
		if (mmr_fidelity_lag_grows(f))
			printf("  the lag grows through the run: the replay is slower than the recording"
			       " (see mmreplay(1) on CPU-bound recordings; --speed below 1 stretches the timeline)\n");
	}
	printf("  recorded timeline %s, replayed in %s (all runs)\n", dur(f->recorded_ns, a),
	       dur(f->replayed_ns, b));
	if (stolen >= 0) {
		double pct = 100 * stolen;

		printf("  CPU time stolen by the hypervisor: %s, %.1f%% of the CPUs' time%s\n",
		       dur(f->steal_ns, a), pct,
		       pct >= 5 ? "  (a shared host took it: timings are noisier)" : "");
	}
	for (unsigned i = 0; i < f->nfailures; i++)	/* op "none": a whole task's */
		printf("  failure: %s%s%s x%" PRIu64 "\n",
		       f->failures[i].op == MMR_OP_NONE ? "" : mmr_op_name(f->failures[i].op),
		       f->failures[i].op == MMR_OP_NONE ? "" : " ", f->failures[i].error,
		       f->failures[i].count);
	if (r->summary.has_lost && r->summary.lost_events)
		printf("  WARNING: %" PRIu64 " tracefs events lost while measuring: lock counts are low\n",
		       r->summary.lost_events);
	if (r->summary.has_reclaim)
		printf("  reclaim: %" PRIu64 " episodes, %" PRIu64 " pages scanned, %" PRIu64
		       " reclaimed, %" PRIu64 " swapped out\n", r->summary.reclaim.episodes,
		       r->summary.reclaim.scanned, r->summary.reclaim.reclaimed,
		       r->summary.reclaim.swapouts);
}

static void runs_table(const struct mmr_result *r)
{
	char w[24], l50[24], l99[24];

	if (r->nruns < 2)
		return;
	printf("\nRuns\n  %4s %-20s %10s %10s %10s %12s\n", "run", "start", "wall", "lag p50",
	       "lag p99", "ops");
	for (unsigned i = 0; i < r->nruns; i++) {
		const struct mmr_fidelity *f = &r->runs[i].stats.fidelity;

		printf("  %4u %-20s %10s %10s %10s %5" PRIu64 "/%-6" PRIu64 "\n", r->runs[i].run,
		       r->runs[i].start_time, dur(r->runs[i].wall_ns, w), dur(f->lag_p50_ns, l50),
		       dur(f->lag_p99_ns, l99), f->ops_replayed, f->ops_recorded);
	}
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("report");
	struct mmr_result *r;
	bool json = false;
	int c;

	top = 0;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			top = (unsigned)arg_range(cmd, "--top", optarg, 1, 1000000, "a number");
			break;
		default:
			die_usage(cmd, "unknown option");
		}
	}
	if (optind + 1 != argc)
		die_usage(cmd, optind >= argc ? "no result file given" : "one result file at a time");
	r = mmr_result_read(argv[optind]);
	if (!r)
		return lib_error(NULL);
	mmr_stats_sort(&r->summary);
	if (json) {
		struct json_object *o = mmr_result_to_json(r);

		if (!o) {
			mmr_result_free(r);
			return lib_error(NULL);
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		mmr_result_free(r);
		return EXIT_OK;
	}
	header(r, argv[optind]);
	locks_table(&r->summary);
	ops_table(&r->summary);
	paths_table(&r->summary);
	fidelity(r);
	runs_table(r);
	mmr_result_free(r);
	return EXIT_OK;
}
