// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replay statistics: lock, operation and lag histograms keyed the way
 * result v1 stores them, kernel paths, failures, and their exact merge
 * (histograms add bucket by bucket). Also the names of the key values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-result.h"
#include "result-internal.h"

static const char *const source_names[MMR_SRC__COUNT] = { "mmap_lock", "contention" };
static const char *const mode_names[MMR_MODE__COUNT] = {
	"read", "write", "spin", "mutex", "other",
};
static const char *const kind_names[MMR_KIND__COUNT] = { "wait", "hold" };
static const char *const replay_mode_names[MMR_REPLAY_MODE__COUNT] = {
	"as-recorded", "scaled", "max-speed",
};
static const char *const reclaim_mode_names[MMR_RECLAIM_MODE__COUNT] = {
	"none", "memcg", "pageout",
};

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

const char *mmr_lock_source_name(enum mmr_lock_source s)
{
	return (unsigned)s < MMR_SRC__COUNT ? source_names[s] : "unknown";
}

const char *mmr_lock_mode_name(enum mmr_lock_mode m)
{
	return (unsigned)m < MMR_MODE__COUNT ? mode_names[m] : "unknown";
}

const char *mmr_lock_kind_name(enum mmr_lock_kind k)
{
	return (unsigned)k < MMR_KIND__COUNT ? kind_names[k] : "unknown";
}

const char *mmr_replay_mode_name(enum mmr_replay_mode m)
{
	return (unsigned)m < MMR_REPLAY_MODE__COUNT ? replay_mode_names[m] : "unknown";
}

const char *mmr_reclaim_mode_name(enum mmr_reclaim_mode m)
{
	return (unsigned)m < MMR_RECLAIM_MODE__COUNT ? reclaim_mode_names[m] : "unknown";
}

int mmr_lock_source_from_name(const char *s)
{
	return lookup(source_names, MMR_SRC__COUNT, s);
}

int mmr_lock_mode_from_name(const char *s)
{
	return lookup(mode_names, MMR_MODE__COUNT, s);
}

int mmr_lock_kind_from_name(const char *s)
{
	return lookup(kind_names, MMR_KIND__COUNT, s);
}

int mmr_replay_mode_from_name(const char *s)
{
	return lookup(replay_mode_names, MMR_REPLAY_MODE__COUNT, s);
}

int mmr_reclaim_mode_from_name(const char *s)
{
	return lookup(reclaim_mode_names, MMR_RECLAIM_MODE__COUNT, s);
}

enum mmr_lock_mode mmr_lock_mode_from_lcb(uint32_t flags)
{
	/* rwsem/rwlock direction first: a read-side rwlock also has SPIN. */
	if (flags & MMR_LCB_WRITE)
		return MMR_MODE_WRITE;
	if (flags & MMR_LCB_READ)
		return MMR_MODE_READ;
	if (flags & MMR_LCB_SPIN)
		return MMR_MODE_SPIN;
	if (flags & MMR_LCB_MUTEX)
		return MMR_MODE_MUTEX;
	return MMR_MODE_OTHER;
}

/* ---- stats ---- */

static void path_release(struct mmr_path *p)
{
	for (unsigned i = 0; i < p->nframes; i++)
		free(p->frames[i]);
	free(p->frames);
}

void mmr_stats_release(struct mmr_stats *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->nlocks; i++)
		mmr_hist_free(s->locks[i].hist);
	free(s->locks);
	for (unsigned i = 0; i < s->nops; i++)
		mmr_hist_free(s->ops[i].hist);
	free(s->ops);
	for (unsigned i = 0; i < s->npaths; i++)
		path_release(&s->paths[i]);
	free(s->paths);
	free(s->fidelity.failures);
	mmr_hist_free(s->fidelity.lag);
	memset(s, 0, sizeof(*s));
}

static bool key_eq(const struct mmr_lockkey *a, const struct mmr_lockkey *b)
{
	return a->lock == b->lock && a->source == b->source && a->mode == b->mode &&
	       a->kind == b->kind && a->op == b->op;
}

void *mmr_result_grow(void *arr, unsigned n, size_t size)
{
	char *p = realloc(arr, (n + 1) * size);

	if (!p) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	memset(p + n * size, 0, size);
	return p;
}

struct mmr_hist *mmr_stats_lock(struct mmr_stats *s, const struct mmr_lockkey *key)
{
	struct mmr_lockstat *l;
	struct mmr_hist *h;

	for (unsigned i = 0; i < s->nlocks; i++)
		if (key_eq(&s->locks[i].key, key))
			return s->locks[i].hist;
	h = mmr_hist_new();
	if (!h) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	l = mmr_result_grow(s->locks, s->nlocks, sizeof(*l));
	if (!l) {
		mmr_hist_free(h);
		return NULL;
	}
	s->locks = l;
	l[s->nlocks].key = *key;
	l[s->nlocks].hist = h;
	s->nlocks++;
	return h;
}

struct mmr_hist *mmr_stats_op(struct mmr_stats *s, enum mmr_op op, bool per_page)
{
	struct mmr_opstat *o;
	struct mmr_hist *h;

	for (unsigned i = 0; i < s->nops; i++)
		if (s->ops[i].op == op && s->ops[i].per_page == per_page)
			return s->ops[i].hist;
	h = mmr_hist_new();
	if (!h) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	o = mmr_result_grow(s->ops, s->nops, sizeof(*o));
	if (!o) {
		mmr_hist_free(h);
		return NULL;
	}
	s->ops = o;
	o[s->nops].op = op;
	o[s->nops].per_page = per_page;
	o[s->nops].hist = h;
	s->nops++;
	return h;
}

void mmr_fidelity_add_tenth(struct mmr_fidelity *f, unsigned i, uint64_t n, uint64_t sum_ns,
			    uint64_t max_ns)
{
	f->has_tenths = true;
	f->tenth[i].n += n;
	f->tenth[i].sum_ns += sum_ns;
	if (max_ns > f->tenth[i].max_ns)
		f->tenth[i].max_ns = max_ns;
}

struct mmr_hist *mmr_stats_lag(struct mmr_stats *s)
{
	if (!s->fidelity.lag) {
		s->fidelity.lag = mmr_hist_new();
		if (!s->fidelity.lag)
			mmr_seterr(MMR_E_NOMEM, "out of memory");
	}
	return s->fidelity.lag;
}

static bool frames_eq(const struct mmr_path *p, const char *const *frames, unsigned n)
{
	if (p->nframes != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(p->frames[i], frames[i] ? frames[i] : "?"))
			return false;
	return true;
}

int mmr_stats_add_path(struct mmr_stats *s, enum mmr_lockclass cls, enum mmr_op op,
		       const char *const *frames, unsigned nframes, uint64_t count,
		       uint64_t wait_ns)
{
	struct mmr_path *p;

	for (unsigned i = 0; i < s->npaths; i++) {
		p = &s->paths[i];
		if (p->cls == cls && p->op == op && frames_eq(p, frames, nframes)) {
			p->count += count;
			p->wait_ns += wait_ns;
			return 0;
		}
	}
	p = mmr_result_grow(s->paths, s->npaths, sizeof(*p));
	if (!p)
		return -1;
	s->paths = p;
	p = &p[s->npaths];
	p->frames = calloc(nframes ? nframes : 1, sizeof(char *));
	if (!p->frames)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < nframes; i++) {
		p->frames[i] = strdup(frames[i] ? frames[i] : "?");
		if (!p->frames[i]) {
			p->nframes = i;
			path_release(p);
			memset(p, 0, sizeof(*p));
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		}
	}
	p->nframes = nframes;
	p->cls = cls;
	p->op = op;
	p->count = count;
	p->wait_ns = wait_ns;
	s->npaths++;
	return 0;
}

int mmr_stats_add_failure(struct mmr_stats *s, enum mmr_op op, const char *error,
			  uint64_t count)
{
	struct mmr_fidelity *f = &s->fidelity;
	struct mmr_failure *nf;

	for (unsigned i = 0; i < f->nfailures; i++)
		if (f->failures[i].op == op && !strcmp(f->failures[i].error, error)) {
			f->failures[i].count += count;
			return 0;
		}
	nf = mmr_result_grow(f->failures, f->nfailures, sizeof(*nf));
	if (!nf)
		return -1;
	f->failures = nf;
	nf[f->nfailures].op = op;
	snprintf(nf[f->nfailures].error, MMR_FAILURE_LEN, "%s", error);
	nf[f->nfailures].count = count;
	f->nfailures++;
	return 0;
}

void mmr_stats_finish(struct mmr_stats *s)
{
	const struct mmr_hist *lag = s->fidelity.lag;

	if (!lag)
		return;
	s->fidelity.lag_p50_ns = mmr_hist_percentile(lag, 50.0);
	s->fidelity.lag_p99_ns = mmr_hist_percentile(lag, 99.0);
	s->fidelity.lag_max_ns = mmr_hist_max(lag);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

int mmr_stats_merge(struct mmr_stats *dst, const struct mmr_stats *src)
{
	const struct mmr_fidelity *sf = &src->fidelity;
	struct mmr_fidelity *df = &dst->fidelity;
	struct mmr_hist *h;

	for (unsigned i = 0; i < src->nlocks; i++) {
		h = mmr_stats_lock(dst, &src->locks[i].key);
		if (!h)
			return -1;
		mmr_hist_merge(h, src->locks[i].hist);
	}
	for (unsigned i = 0; i < src->nops; i++) {
		h = mmr_stats_op(dst, src->ops[i].op, src->ops[i].per_page);
		if (!h)
			return -1;
		mmr_hist_merge(h, src->ops[i].hist);
	}
	for (unsigned i = 0; i < src->npaths; i++) {
		const struct mmr_path *p = &src->paths[i];

		if (mmr_stats_add_path(dst, p->cls, p->op, (const char *const *)p->frames,
				       p->nframes, p->count, p->wait_ns) < 0)
			return -1;
	}
	for (unsigned i = 0; i < sf->nfailures; i++)
		if (mmr_stats_add_failure(dst, sf->failures[i].op, sf->failures[i].error,
					  sf->failures[i].count) < 0)
			return -1;
	df->ops_recorded += sf->ops_recorded;
	df->ops_replayed += sf->ops_replayed;
	df->ops_failed += sf->ops_failed;
	df->recorded_ns += sf->recorded_ns;
	df->replayed_ns += sf->replayed_ns;
	df->steal_ns += sf->steal_ns;
	df->has_steal |= sf->has_steal;
	for (unsigned i = 0; sf->has_tenths && i < MMR_LAG_TENTHS; i++)
		mmr_fidelity_add_tenth(df, i, sf->tenth[i].n, sf->tenth[i].sum_ns, sf->tenth[i].max_ns);
	/* Without both histograms only a bound is possible: keep the worst. */
	df->lag_p50_ns = max_u64(df->lag_p50_ns, sf->lag_p50_ns);
	df->lag_p99_ns = max_u64(df->lag_p99_ns, sf->lag_p99_ns);
	df->lag_max_ns = max_u64(df->lag_max_ns, sf->lag_max_ns);
	if (sf->lag) {
		h = mmr_stats_lag(dst);
		if (!h)
			return -1;
		mmr_hist_merge(h, sf->lag);
	}
	if (src->has_lost) {
		dst->has_lost = true;
		dst->lost_events += src->lost_events;
	}
	if (src->has_reclaim) {
		dst->has_reclaim = true;
		dst->reclaim.episodes += src->reclaim.episodes;
		dst->reclaim.scanned += src->reclaim.scanned;
		dst->reclaim.reclaimed += src->reclaim.reclaimed;
		dst->reclaim.swapouts += src->reclaim.swapouts;
	}
	return 0;
}

static int cmp_lock(const void *a, const void *b)
{
	uint64_t x = mmr_hist_sum(((const struct mmr_lockstat *)a)->hist);
	uint64_t y = mmr_hist_sum(((const struct mmr_lockstat *)b)->hist);

	return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_op(const void *a, const void *b)
{
	uint64_t x = mmr_hist_sum(((const struct mmr_opstat *)a)->hist);
	uint64_t y = mmr_hist_sum(((const struct mmr_opstat *)b)->hist);

	return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_path(const void *a, const void *b)
{
	uint64_t x = ((const struct mmr_path *)a)->wait_ns;
	uint64_t y = ((const struct mmr_path *)b)->wait_ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

void mmr_stats_sort(struct mmr_stats *s)
{
	if (s->nlocks)
		qsort(s->locks, s->nlocks, sizeof(*s->locks), cmp_lock);
	if (s->nops)
		qsort(s->ops, s->nops, sizeof(*s->ops), cmp_op);
	if (s->npaths)
		qsort(s->paths, s->npaths, sizeof(*s->paths), cmp_path);
}

