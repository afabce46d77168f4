// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scenario framework: parameters, the shared stats area, the life of
 * a run on the runner side (prepare, attach, finish) and in the tree
 * (child main, spawn, stop). See mmr-scenario.h for the picture.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-reclaim.h"
#include "mmr-sysinfo.h"
#include "scn-internal.h"

struct mmr_scn_run {
	struct mmr_scn_ctx ctx;
	char *vals[MMR_SCN_MAX_PARAMS];	/* owned copies behind ctx.val */
	char params[512];		/* "k=v k=v" as resolved */
	pid_t root;			/* pgid of the tree, 0 before attach */
	pid_t runner;
	uint64_t pswpin0, pswpout0;
	bool prepared, finished;
};

const struct mmr_scenario *mmr_scenario_find(const char *name)
{
	for (unsigned i = 0; mmr_scenarios[i]; i++)
		if (!strcmp(mmr_scenarios[i]->name, name))
			return mmr_scenarios[i];
	return NULL;
}

/* ---- parameters ---- */

int mmr_scn_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return mmr_seterr(MMR_E_USAGE, "bad size '%s'", s);
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return mmr_seterr(MMR_E_USAGE, "bad size '%s' (a number with K, M or G)", s);
	}
	if ((*end == 'i' || *end == 'I') && shift)
		end++;		/* "64MiB" */
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return mmr_seterr(MMR_E_USAGE, "bad size '%s'", s);
	*out = (uint64_t)v << shift;
	return 0;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);

		if (l == n && !strncmp(p, v, n))
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

static int check_value(const struct mmr_scn_param *p, const char *v)
{
	uint64_t u;
	char *end;

	switch (p->type) {
	case MMR_SCN_INT:
		errno = 0;
		u = strtoull(v, &end, 10);
		if (!*v || *end || errno || *v == '-' || u > 1000000000ull)
			return mmr_seterr(MMR_E_USAGE, "bad value '%s' for %s (an integer >= 0)", v,
					  p->name);
		return 0;
	case MMR_SCN_SIZE:
		if (mmr_scn_parse_size(v, &u) < 0)
			return mmr_seterr(MMR_E_USAGE, "bad value '%s' for %s (a size: 64M, 4096, 1G)",
					  v, p->name);
		return 0;
	case MMR_SCN_CHOICE:
		if (!choice_ok(p->choices, v))
			return mmr_seterr(MMR_E_USAGE, "bad value '%s' for %s (one of %s)", v, p->name,
					  p->choices);
		return 0;
	}
	return mmr_seterr(MMR_E_USAGE, "parameter %s has no type", p->name);
}

static int param_index(const struct mmr_scenario *s, const char *name, size_t len)
{
	for (int i = 0; s->params && s->params[i].name; i++)
		if (strlen(s->params[i].name) == len && !strncmp(s->params[i].name, name, len))
			return i;
	return -1;
}

static int set_params(struct mmr_scn_run *r, char *const *kv, unsigned nkv)
{
	const struct mmr_scenario *s = r->ctx.scn;
	size_t off = 0;

	for (unsigned i = 0; s->params && s->params[i].name; i++) {
		if (i >= MMR_SCN_MAX_PARAMS)
			return mmr_seterr(MMR_E_FAIL, "scenario %s has too many parameters", s->name);
		r->ctx.val[i] = s->params[i].def;
	}
	for (unsigned k = 0; k < nkv; k++) {
		const char *eq = strchr(kv[k], '=');
		int i;

		if (!eq)
			return mmr_seterr(MMR_E_USAGE, "parameter '%s' is not NAME=VALUE", kv[k]);
		i = param_index(s, kv[k], (size_t)(eq - kv[k]));
		if (i < 0)
			return mmr_seterr(MMR_E_USAGE, "scenario %s has no parameter '%.*s' (see 'mmreplay scenario list')",
					  s->name, (int)(eq - kv[k]), kv[k]);
		if (check_value(&s->params[i], eq + 1) < 0)
			return -1;
		free(r->vals[i]);
		r->vals[i] = strdup(eq + 1);
		if (!r->vals[i])
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		r->ctx.val[i] = r->vals[i];
	}
	for (unsigned i = 0; s->params && s->params[i].name; i++) {
		if (check_value(&s->params[i], r->ctx.val[i]) < 0) {
			mmr_adderr_context("default of scenario %s", s->name);
			return -1;
		}
		off += (size_t)snprintf(r->params + off, off < sizeof(r->params) ? sizeof(r->params) - off : 0,
					"%s%s=%s", i ? " " : "", s->params[i].name, r->ctx.val[i]);
		if (off >= sizeof(r->params))
			off = sizeof(r->params) - 1;
	}
	return 0;
}

const char *mmr_scn_str(const struct mmr_scn_ctx *c, const char *name)
{
	int i = param_index(c->scn, name, strlen(name));

	return i < 0 ? "" : c->val[i];
}

uint64_t mmr_scn_u64(const struct mmr_scn_ctx *c, const char *name)
{
	int i = param_index(c->scn, name, strlen(name));
	uint64_t v = 0;

	if (i < 0)
		return 0;
	if (c->scn->params[i].type == MMR_SCN_SIZE)
		mmr_scn_parse_size(c->val[i], &v);
	else
		v = strtoull(c->val[i], NULL, 10);
	return v;
}

unsigned mmr_scn_by_cpus(const struct mmr_scn_ctx *c, const char *name, unsigned per, unsigned min)
{
	uint64_t v = mmr_scn_u64(c, name);

	if (!v)
		v = (uint64_t)per * c->ncpus;
	if (v < min)
		v = min;
	return v > 100000 ? 100000 : (unsigned)v;
}

/* ---- counters, notes, failures (any process) ---- */

bool mmr_scn_should_stop(const struct mmr_scn_ctx *c)
{
	return c->sh->stop || (c->deadline_ns && mmr_now_ns() >= c->deadline_ns);
}

void mmr_scn_add(struct mmr_scn_ctx *c, unsigned counter, uint64_t n)
{
	if (counter < MMR_SCN_MAX_COUNTERS)
		__atomic_fetch_add(&c->sh->st.counters[counter], n, __ATOMIC_RELAXED);
}

void mmr_scn_max(struct mmr_scn_ctx *c, unsigned counter, uint64_t v)
{
	uint64_t *p, old;

	if (counter >= MMR_SCN_MAX_COUNTERS)
		return;
	p = &c->sh->st.counters[counter];
	old = __atomic_load_n(p, __ATOMIC_RELAXED);
	while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

uint64_t *mmr_scn_counter_ptr(struct mmr_scn_ctx *c, unsigned counter)
{
	return counter < MMR_SCN_MAX_COUNTERS ? &c->sh->st.counters[counter] : NULL;
}

void mmr_scn_note(struct mmr_scn_ctx *c, const char *fmt, ...)
{
	char *n = c->sh->st.notes;
	size_t len = strlen(n);
	va_list ap;

	if (len + 2 >= sizeof(c->sh->st.notes))
		return;
	va_start(ap, fmt);
	vsnprintf(n + len, sizeof(c->sh->st.notes) - len - 1, fmt, ap);
	va_end(ap);
	len = strlen(n);
	n[len] = '\n';
	n[len + 1] = '\0';
}

void mmr_scn_fail(struct mmr_scn_ctx *c)
{
	struct mmr_scn_stats *st = &c->sh->st;

	if (__atomic_exchange_n(&c->sh->failed, 1, __ATOMIC_ACQ_REL))
		return;
	st->errcode = mmr_errcode();
	snprintf(st->msg, sizeof(st->msg), "%s", mmr_strerror());
}

/* ---- processes of the tree ---- */

pid_t mmr_scn_spawn(struct mmr_scn_ctx *c, unsigned flags,
		    int (*fn)(struct mmr_scn_ctx *c, void *arg), void *arg)
{
	pid_t parent = getpid(), pid;
	int rc;

	pid = fork();
	if (pid < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	/* The child: never returns into the caller's code. */
	if (!(flags & MMR_SCN_NO_PDEATHSIG)) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);	/* the parent died before the prctl */
	}
	rc = fn ? fn(c, arg) : 0;
	if (rc < 0) {
		mmr_scn_fail(c);
		_exit(1);
	}
	_exit(rc);
}

unsigned mmr_scn_reap(void)
{
	unsigned n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		n++;
	return n;
}

int mmr_scn_wait(struct mmr_scn_ctx *c, pid_t pid)
{
	int st;

	(void)c;
	for (;;) {
		pid_t w = waitpid(pid, &st, 0);

		if (w == pid)
			return st;
		if (w < 0 && errno == EINTR)
			continue;
		return -1;	/* ECHILD: reaped already by mmr_scn_reap */
	}
}

void *mmr_scn_map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		mmr_seterr_errno(MMR_E_FAIL, "mmap %zu bytes", len);
		return NULL;
	}
	/* Per-page folios as on the machines the threads talk about; no THP surprises. */
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

char *mmr_scn_heap(struct mmr_scn_ctx *c, size_t len, uint64_t seed)
{
	char *p;

	if (len < c->page_size) {
		mmr_seterr(MMR_E_USAGE, "heap is smaller than a page");
		return NULL;
	}
	p = mmr_scn_map_anon(len);
	if (p)
		mmr_scn_touch(p, len, c->page_size, 100, seed);
	return p;
}

uint64_t mmr_scn_touch(void *p, size_t len, uint32_t page, unsigned pct, uint64_t seed)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len / page; i++) {
		if (i % 100 >= pct)
			continue;
		/* distinct words: zram cannot store them as same-filled pages */
		*(volatile uint64_t *)((char *)p + i * page) = seed ^ (i * 0x9e3779b97f4a7c15ull);
		n++;
	}
	return n;
}

uint64_t mmr_scn_rand(uint64_t *s)
{
	/* xorshift64*: good enough to scatter page accesses */
	uint64_t x = *s ? *s : 0x2545f4914f6cdd1dull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

void mmr_scn_sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int mmr_scn_fork_exit(struct mmr_scn_ctx *c, unsigned counter)
{
	pid_t g = mmr_scn_spawn(c, 0, NULL, NULL);

	if (g < 0)
		return -1;
	mmr_scn_wait(c, g);
	mmr_scn_add(c, counter, 1);
	return 0;
}

int mmr_scn_mprotect_flip(struct mmr_scn_ctx *c, char *p, size_t pages, unsigned npages,
			  uint64_t *rnd, unsigned counter)
{
	size_t len = (size_t)npages * c->page_size;
	char *at;

	if (!npages || pages <= npages)
		return 0;
	at = p + (mmr_scn_rand(rnd) % (pages - npages)) * c->page_size;
	if (mprotect(at, len, PROT_READ) < 0 || mprotect(at, len, PROT_READ | PROT_WRITE) < 0)
		return mmr_seterr_errno(MMR_E_FAIL, "mprotect");
	mmr_scn_add(c, counter, 2);
	return 0;
}

int mmr_scn_tree_run(struct mmr_scn_ctx *c, const struct mmr_scn_tree *t)
{
	unsigned n = t->children;
	pid_t *pids = calloc(n + 1, sizeof(*pids)), po = -1;
	int rc = -1;

	if (!pids)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		pids[i] = mmr_scn_spawn(c, 0, t->fn, t->arg);
		if (pids[i] < 0)
			goto out;
		mmr_scn_add(c, t->counter_children, 1);
	}
	if (t->note)
		mmr_scn_note(c, "%s", t->note);
	if (mmr_scn_reclaim_pageout(c)) {
		struct mmr_scn_pageout_target po_t = {
			.pids = pids, .npids = n + 1, .addr = t->addr, .len = t->len,
			.chunk_pct = 5, .pause_us = 2000,
			.counter_calls = t->counter_po_calls, .counter_bytes = t->counter_po_bytes,
		};

		pids[n] = getpid();	/* the root's own copy too */
		po = mmr_scn_pageout_spawn(c, &po_t);
		if (po < 0)
			goto out;
	}
	/* The root idles, as a zygote does between forks. */
	while (!mmr_scn_should_stop(c))
		mmr_scn_sleep_us(20000);
	rc = 0;
out:
	for (unsigned i = 0; i < n && pids[i] > 0; i++) {
		int st = mmr_scn_wait(c, pids[i]);

		if (st != -1 && WIFSIGNALED(st))
			mmr_scn_add(c, t->counter_killed, 1);	/* e.g. the memcg OOM killer */
	}
	if (po > 0)
		mmr_scn_wait(c, po);
	free(pids);
	return rc;
}

/* ---- runner side ---- */

struct mmr_scn_run *mmr_scn_run_new(const struct mmr_scenario *s, char *const *kv, unsigned nkv,
				    double duration_s)
{
	struct mmr_scn_run *r;
	struct mmr_sysinfo si;
	long cpus;

	if (!s || duration_s <= 0 || duration_s > 1e6) {
		mmr_seterr(MMR_E_USAGE, "bad scenario or duration");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	r->runner = getpid();
	r->ctx.scn = s;
	r->ctx.duration_ns = (uint64_t)(duration_s * 1e9);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	r->ctx.ncpus = cpus > 0 ? (unsigned)cpus : 1;
	r->ctx.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	if (mmr_sysinfo_get(&si) == 0 && si.cpus)
		r->ctx.ncpus = si.cpus;
	if (set_params(r, kv, nkv) < 0)
		goto fail;
	r->ctx.sh = mmap(NULL, sizeof(struct mmr_scn_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->ctx.sh == MAP_FAILED) {
		r->ctx.sh = NULL;
		mmr_seterr_errno(MMR_E_NOMEM, "shared stats area");
		goto fail;
	}
	if (s->check && s->check(&r->ctx) < 0)
		goto fail;
	/* Orphans of the tree (a killed root's children) come back here to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return r;
fail:
	r->finished = true;	/* nothing to undo yet */
	mmr_scn_run_free(r);
	return NULL;
}

int mmr_scn_prepare(struct mmr_scn_run *r)
{
	/* What killed runs left behind goes first: it may hold the zram device. */
	if (mmr_reclaim_cleanup_stale() < 0)
		return -1;
	if (mmr_slowfs_cleanup_stale() < 0)
		return -1;
	r->prepared = true;
	if (r->ctx.scn->prepare && r->ctx.scn->prepare(&r->ctx) < 0)
		return -1;
	return 0;
}

int mmr_scn_attach(struct mmr_scn_run *r, pid_t root)
{
	r->root = root;
	/* Also done by the child; whichever runs first, kill(-root) reaches the tree. */
	setpgid(root, root);
	r->pswpin0 = mmr_reclaim_vmstat("pswpin");
	r->pswpout0 = mmr_reclaim_vmstat("pswpout");
	return mmr_scn_reclaim_attach(&r->ctx, root);
}

int mmr_scn_child_main(void *arg)
{
	struct mmr_scn_run *r = arg;
	struct mmr_scn_ctx *c = &r->ctx;
	struct mmr_scn_stats *st = &c->sh->st;
	struct rusage self, kids;
	int rc;

	setpgid(0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != r->runner)
		return 1;
	st->start_ns = mmr_now_ns();
	c->deadline_ns = st->start_ns + c->duration_ns;
	rc = c->scn->run(c);
	if (rc < 0)
		mmr_scn_fail(c);
	c->sh->stop = 1;	/* whatever still runs winds down */
	/* The whole tree: own children and, as subreaper, orphans. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	st->end_ns = mmr_now_ns();
	if (getrusage(RUSAGE_SELF, &self) == 0 && getrusage(RUSAGE_CHILDREN, &kids) == 0) {
		st->minflt = (uint64_t)(self.ru_minflt + kids.ru_minflt);
		st->majflt = (uint64_t)(self.ru_majflt + kids.ru_majflt);
	}
	if (c->sh->failed)
		st->status = st->errcode == MMR_E_NOTSUP ? 4 : 1;
	return st->status;
}

void mmr_scn_request_stop(struct mmr_scn_run *r)
{
	if (r && r->ctx.sh)
		r->ctx.sh->stop = 1;
}

/* SIGKILL the process group and reap it (members come back here as subreaper). */
static void kill_tree(pid_t pgid)
{
	uint64_t until = mmr_now_ns() + 10000000000ull;

	while (mmr_now_ns() < until) {
		bool alive = kill(-pgid, SIGKILL) == 0;

		while (waitpid(-pgid, NULL, WNOHANG) > 0)
			;
		if (!alive && (waitpid(-pgid, NULL, WNOHANG) < 0 && errno == ECHILD))
			return;
		mmr_scn_sleep_us(10000);
	}
}

int mmr_scn_finish(struct mmr_scn_run *r, pid_t root)
{
	struct mmr_scn_ctx *c = &r->ctx;
	char msg[512] = "";
	int rc = 0;

	if (r->finished)
		return 0;
	r->finished = true;
	mmr_scn_request_stop(r);
	if (!r->root && root > 0)
		r->root = root;
	if (r->root > 0)
		kill_tree(r->root);
	if (r->prepared && c->scn->teardown)
		c->scn->teardown(c);
	if (c->slowfs) {
		if (mmr_slowfs_stop(c->slowfs) < 0) {
			snprintf(msg, sizeof(msg), "%s", mmr_strerror());
			rc = -1;
		}
		c->slowfs = NULL;
	}
	if (mmr_scn_reclaim_cleanup(c) < 0) {
		snprintf(msg, sizeof(msg), "%s", mmr_strerror());
		rc = -1;
	}
	if (r->root > 0) {
		c->sh->st.pswpin = mmr_reclaim_vmstat("pswpin") - r->pswpin0;
		c->sh->st.pswpout = mmr_reclaim_vmstat("pswpout") - r->pswpout0;
	}
	if (rc < 0)
		mmr_seterr(MMR_E_FAIL, "%s", msg);
	return rc;
}

void mmr_scn_run_free(struct mmr_scn_run *r)
{
	if (!r)
		return;
	mmr_scn_finish(r, 0);
	if (r->ctx.sh)
		munmap(r->ctx.sh, sizeof(struct mmr_scn_shared));
	for (unsigned i = 0; i < MMR_SCN_MAX_PARAMS; i++)
		free(r->vals[i]);
	free(r);
}

const struct mmr_scn_stats *mmr_scn_run_stats(const struct mmr_scn_run *r)
{
	return &r->ctx.sh->st;
}

struct mmr_scn_ctx *mmr_scn_run_ctx(struct mmr_scn_run *r)
{
	return &r->ctx;
}

const char *mmr_scn_run_params(const struct mmr_scn_run *r)
{
	return r->params;
}
