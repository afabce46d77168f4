// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reclaim against a scenario tree. The settings themselves (memory cgroup,
 * zram swap, the state file that lets a later run undo what a killed one
 * left) are the replayer's (replay/reclaim.c): one implementation for
 * replays and scenarios. This file chooses the sizes, attaches the tree
 * and runs the in-tree pageout reclaimer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-reclaim.h"
#include "mmr-sysinfo.h"
#include "scn-internal.h"

struct mmr_scn_reclaim {
	struct mmr_reclaim *r;
	bool memcg;		/* the tree goes into the cgroup */
	bool pageout;		/* a reclaimer in the tree */
};

/* Sized by CPUs, a scenario can outgrow a big machine's memory: refuse, never OOM the host. */
static int check_memory(uint64_t resident)
{
	struct mmr_sysinfo si;

	if (mmr_sysinfo_get(&si) < 0 || !si.mem_available)
		return 0;
	if (resident > si.mem_available / 10 * 8)
		return mmr_seterr(MMR_E_USAGE,
				  "this would keep %llu MiB resident, more than 80%% of the %llu MiB available; "
				  "lower heap= or children=, or use reclaim=memcg with a limit=",
				  (unsigned long long)(resident >> 20),
				  (unsigned long long)(si.mem_available >> 20));
	return 0;
}

int mmr_scn_reclaim_prepare(struct mmr_scn_ctx *c, uint64_t ws_bytes)
{
	const char *mode = mmr_scn_str(c, "reclaim");
	struct mmr_scn_reclaim *sr;
	struct mmr_reclaim_opts o = { .mode = MMR_RECLAIM_MODE_MEMCG };
	uint64_t limit = mmr_scn_u64(c, "limit");

	if (check_memory(!strcmp(mode, "memcg") ? (limit ? limit : ws_bytes / 2) : ws_bytes) < 0)
		return -1;
	if (!*mode || !strcmp(mode, "none"))
		return 0;
	if (geteuid() != 0)
		return mmr_seterr(MMR_E_NOTSUP, "reclaim=%s needs root (run as root or use reclaim=none)",
				  mode);
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	sr->memcg = !strcmp(mode, "memcg");
	sr->pageout = !strcmp(mode, "pageout");
	/*
	 * Swap holds what does not fit the limit, with room. pageout needs the
	 * swap but no limit: the replayer's pageout mode without an exec view
	 * (mmr_scn_reclaim_attach never starts it) is swap alone.
	 */
	if (sr->memcg)
		o.memcg_limit = limit ? limit : ws_bytes / 2;
	else
		o.mode = MMR_RECLAIM_MODE_PAGEOUT;
	o.zram_bytes = ws_bytes + (64u << 20);
	sr->r = mmr_reclaim_new_sized(ws_bytes, c->page_size, &o);
	if (!sr->r) {
		free(sr);
		return -1;
	}
	c->reclaim = sr;
	if (sr->memcg)
		mmr_scn_note(c, "reclaim: memcg (%s)", mmr_reclaim_describe(sr->r));
	else
		mmr_scn_note(c, "reclaim: MADV_PAGEOUT with %.1f MiB of zram swap (no memory limit)",
			     o.zram_bytes / 1048576.0);
	return 0;
}

bool mmr_scn_reclaim_pageout(const struct mmr_scn_ctx *c)
{
	return c->reclaim && c->reclaim->pageout;
}

int mmr_scn_reclaim_attach(struct mmr_scn_ctx *c, pid_t root)
{
	if (!c->reclaim || !c->reclaim->memcg)
		return 0;
	/* memcg mode needs no exec view: only pageout mode uses it */
	return mmr_reclaim_start(c->reclaim->r, NULL, &root, 1);
}

int mmr_scn_reclaim_cleanup(struct mmr_scn_ctx *c)
{
	struct mmr_scn_reclaim *sr = c->reclaim;
	int rc;

	if (!sr)
		return 0;
	rc = mmr_reclaim_cleanup(sr->r);
	if (rc < 0)
		return -1;	/* kept: a second finish retries */
	mmr_reclaim_free(sr->r);
	free(sr);
	c->reclaim = NULL;
	return 0;
}

/* ---- the in-tree reclaimer ---- */

#define PO_MAX_TARGETS 1024

static int pageout_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct mmr_scn_pageout_target *t = arg;
	int fds[PO_MAX_TARGETS];
	unsigned n = t->npids < PO_MAX_TARGETS ? t->npids : PO_MAX_TARGETS;
	size_t chunk = t->len / 100 * (t->chunk_pct ? t->chunk_pct : 1);
	size_t pos = 0;

	chunk &= ~(size_t)(c->page_size - 1);
	if (!chunk)
		chunk = c->page_size;
	for (unsigned i = 0; i < n; i++)
		fds[i] = mmr_pidfd_open(t->pids[i]);
	while (!mmr_scn_should_stop(c)) {
		size_t len = pos + chunk > t->len ? t->len - pos : chunk;
		struct iovec iov = { (void *)(t->addr + pos), len };

		for (unsigned i = 0; i < n && !mmr_scn_should_stop(c); i++) {
			ssize_t done;

			if (fds[i] < 0)
				continue;
			done = mmr_pageout_madvise(fds[i], &iov, 1);
			if (done < 0 && errno == ESRCH) {
				close(fds[i]);	/* that process is gone */
				fds[i] = -1;
				continue;
			}
			mmr_scn_add(c, t->counter_calls, 1);
			if (done > 0)
				mmr_scn_add(c, t->counter_bytes, (uint64_t)done);
		}
		pos += len;
		if (pos >= t->len)
			pos = 0;
		if (t->pause_us)
			mmr_scn_sleep_us(t->pause_us);
	}
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return 0;
}

pid_t mmr_scn_pageout_spawn(struct mmr_scn_ctx *c, const struct mmr_scn_pageout_target *t)
{
	/* the child has its own copy of *t (fork), the pids array included */
	return mmr_scn_spawn(c, 0, pageout_main, (void *)t);
}
