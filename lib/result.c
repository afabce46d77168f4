// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replay results: the in-memory model of a result v1 document (host,
 * kernel, trace identity, parameters, runs and their merged summary) and
 * merging results of the same trace. JSON lives in result-json.c.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmr-config.h"
#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-result.h"
#include "mmr-sha256.h"
#include "mmr-sysinfo.h"
#include "mmr-trace.h"
#include "result-internal.h"

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct mmr_result *mmr_result_new(void)
{
	struct mmr_result *r = calloc(1, sizeof(*r));

	if (!r) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	snprintf(r->mmreplay_version, sizeof(r->mmreplay_version), "%s", MMR_VERSION);
	utc_now(r->created, sizeof(r->created));
	r->params.runs = 1;
	r->params.speed = 1.0;
	return r;
}

void mmr_result_free(struct mmr_result *r)
{
	if (!r)
		return;
	free(r->label);
	free(r->vm.kernel_image);
	free(r->trace.name);
	for (unsigned i = 0; i < r->nruns; i++)
		mmr_stats_release(&r->runs[i].stats);
	free(r->runs);
	mmr_stats_release(&r->summary);
	free(r);
}

/* The preemption model as uname -v spells it. */
static const char *preempt_of(const char *v)
{
	if (strstr(v, "PREEMPT_RT"))
		return "rt";
	if (strstr(v, "PREEMPT_DYNAMIC"))
		return "dynamic";
	if (strstr(v, "PREEMPT_LAZY"))
		return "lazy";
	if (strstr(v, "PREEMPT"))
		return "full";
	return "none";
}

int mmr_result_set_host(struct mmr_result *r)
{
	struct mmr_sysinfo si;

	if (mmr_sysinfo_get(&si) < 0)
		return -1;
	snprintf(r->host.name, sizeof(r->host.name), "%s", si.host);
	snprintf(r->host.arch, sizeof(r->host.arch), "%s", si.arch);
	r->host.cpus = si.cpus ? si.cpus : 1;
	r->host.mem_total = si.mem_total;
	snprintf(r->kernel.release, sizeof(r->kernel.release), "%s", si.kernel);
	snprintf(r->kernel.version, sizeof(r->kernel.version), "%s", si.kversion);
	snprintf(r->kernel.preempt, sizeof(r->kernel.preempt), "%s", preempt_of(si.kversion));
	return 0;
}

int mmr_result_set_str(char **dst, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

int mmr_result_set_label(struct mmr_result *r, const char *label)
{
	return mmr_result_set_str(&r->label, label);
}

int mmr_result_set_trace(struct mmr_result *r, const char *path,
			 const struct mmr_trace_header *h, const struct mmr_trace_footer *f,
			 uint64_t events)
{
	char *copy;
	int rc;

	if (mmr_sha256_file(path, r->trace.sha256) < 0) {
		mmr_adderr_context("hashing %s", path);
		return -1;
	}
	copy = strdup(path);
	if (!copy)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	rc = mmr_result_set_str(&r->trace.name, basename(copy));
	free(copy);
	if (rc < 0)
		return -1;
	r->trace.events = events;
	r->trace.truncated = !f;
	r->trace.duration_ns = f ? f->duration_ns : 0;
	if (h) {
		snprintf(r->trace.recorded_kernel, sizeof(r->trace.recorded_kernel), "%s",
			 h->kernel);
		snprintf(r->trace.recorded_host, sizeof(r->trace.recorded_host), "%s", h->host);
	}
	return 0;
}

struct mmr_run *mmr_result_add_run(struct mmr_result *r)
{
	struct mmr_run *n = mmr_result_grow(r->runs, r->nruns, sizeof(*n));

	if (!n)
		return NULL;
	r->runs = n;
	n = &n[r->nruns];
	n->run = ++r->nruns;
	utc_now(n->start_time, sizeof(n->start_time));
	return n;
}

double mmr_result_steal_share(const struct mmr_result *r)
{
	const struct mmr_fidelity *f = &r->summary.fidelity;
	unsigned cpus = r->has_vm && r->vm.cpus > 0 ? (unsigned)r->vm.cpus : r->host.cpus;

	if (!f->has_steal || !f->replayed_ns || !cpus)
		return -1;
	return (double)f->steal_ns / ((double)f->replayed_ns * cpus);
}

/* Mean lag of tenths [from, to), 0 without ops. */
static uint64_t tenths_mean(const struct mmr_fidelity *f, unsigned from, unsigned to)
{
	uint64_t n = 0, sum = 0;

	for (unsigned i = from; i < to; i++) {
		n += f->tenth[i].n;
		sum += f->tenth[i].sum_ns;
	}
	return n ? sum / n : 0;
}

bool mmr_fidelity_lag_grows(const struct mmr_fidelity *f)
{
	uint64_t early, late;

	if (!f->has_tenths)
		return false;
	early = tenths_mean(f, 0, 3);
	late = tenths_mean(f, MMR_LAG_TENTHS - 3, MMR_LAG_TENTHS);
	return late > 1000000 && late / 4 > early;
}

int mmr_result_summarize(struct mmr_result *r)
{
	bool exact = r->nruns > 0;

	mmr_stats_release(&r->summary);
	for (unsigned i = 0; i < r->nruns; i++) {
		if (mmr_stats_merge(&r->summary, &r->runs[i].stats) < 0)
			return -1;
		exact = exact && r->runs[i].stats.fidelity.lag;
	}
	/* Exact percentiles when every run brought its lag histogram. */
	if (exact)
		mmr_stats_finish(&r->summary);
	else {
		mmr_hist_free(r->summary.fidelity.lag);
		r->summary.fidelity.lag = NULL;
	}
	mmr_stats_sort(&r->summary);
	return 0;
}

int mmr_result_merge(struct mmr_result *dst, const struct mmr_result *src)
{
	if (strcmp(dst->trace.sha256, src->trace.sha256))
		return mmr_seterr(MMR_E_USAGE,
				  "results are of different traces (sha256 %.12s... vs %.12s...): merge only runs of the same trace",
				  dst->trace.sha256, src->trace.sha256);
	if (dst->params.mode != src->params.mode || dst->params.speed != src->params.speed ||
	    dst->params.reclaim != src->params.reclaim ||
	    dst->params.memcg_limit != src->params.memcg_limit)
		return mmr_seterr(MMR_E_USAGE,
				  "results were replayed with different parameters (mode, speed, reclaim or memcg limit): merge only like runs");
	if (strcmp(dst->kernel.release, src->kernel.release) || dst->emulated != src->emulated)
		return mmr_seterr(MMR_E_USAGE,
				  "results are from different kernels (%s vs %s) or emulation: compare them instead of merging",
				  dst->kernel.release, src->kernel.release);
	for (unsigned i = 0; i < src->nruns; i++) {
		struct mmr_run *n = mmr_result_add_run(dst);

		if (!n)
			return -1;
		snprintf(n->start_time, sizeof(n->start_time), "%s", src->runs[i].start_time);
		n->wall_ns = src->runs[i].wall_ns;
		if (mmr_stats_merge(&n->stats, &src->runs[i].stats) < 0)
			return -1;
		/* merge() keeps the max of percentiles; for a copy they are the same */
	}
	dst->params.runs = dst->nruns;
	return mmr_result_summarize(dst);
}

