// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * zygote: the Android process model that makes every process of a tree
 * share one anon_vma root. The parent touches a heap and forks children
 * without exec; each child writes most of the heap (its folios become its
 * own, a few stay shared) and then loops: fork a short-lived grandchild,
 * mprotect two pages back and forth, rewrite a few pages. Reclaim runs
 * against the tree meanwhile, taking the root rwsem for read in every
 * rmap walk while fork, mprotect and exit want it for write.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"

enum { Z_CHILDREN, Z_COW, Z_GRAND, Z_MPROTECT, Z_TOUCH, Z_PO_CALLS, Z_PO_BYTES, Z_KILLED };

static const char *const counters[] = {
	"children", "cow_pages", "grandchildren", "mprotects", "pages_rewritten",
	"pageout_calls", "pageout_bytes", "children_killed", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "heap", "64M", "anonymous heap the parent touches before forking", MMR_SCN_SIZE, NULL },
	{ "children", "0", "children forked without exec (0: 4 per CPU)", MMR_SCN_INT, NULL },
	{ "cow", "98", "percent of the heap each child writes; the rest stays shared", MMR_SCN_INT, NULL },
	{ "mprotect", "2", "pages a child mprotects read-only and back per loop", MMR_SCN_INT, NULL },
	{ "touch", "16", "pages a child rewrites per loop (keeps reclaim going)", MMR_SCN_INT, NULL },
	{ "pause_us", "0", "pause of a child between loop rounds (0: none)", MMR_SCN_INT, NULL },
	{ "reclaim", "memcg", "memcg: cgroup limit + zram swap; pageout: process_madvise reclaimer + zram; none",
	  MMR_SCN_CHOICE, "memcg|pageout|none" },
	{ "limit", "0", "memcg limit (0: half of the working set)", MMR_SCN_SIZE, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

struct zygote {
	char *heap;
	size_t len;
	unsigned cow, mprot, touch;
};

static uint64_t working_set(const struct mmr_scn_ctx *c)
{
	uint64_t heap = mmr_scn_u64(c, "heap");
	unsigned n = mmr_scn_by_cpus(c, "children", 4, 1);
	uint64_t cow = mmr_scn_u64(c, "cow");

	return heap + heap / 100 * (cow > 100 ? 100 : cow) * n;
}

static int zygote_prepare(struct mmr_scn_ctx *c)
{
	return mmr_scn_reclaim_prepare(c, working_set(c));
}

static int child_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct zygote *z = arg;
	uint32_t page = c->page_size;
	size_t pages = z->len / page, pos = 0;
	uint64_t rnd = (uint64_t)getpid() * 7919;
	unsigned pause = (unsigned)mmr_scn_u64(c, "pause_us");

	/*
	 * Break COW on most of the heap: those folios become exclusive to us.
	 * In slices of 100 pages (the cow percentage holds per slice), so a
	 * short --duration is honoured even when reclaim makes this slow.
	 */
	for (size_t off = 0; off < z->len && !mmr_scn_should_stop(c); off += 100 * (size_t)page) {
		size_t len = z->len - off < 100 * (size_t)page ? z->len - off : 100 * (size_t)page;

		mmr_scn_add(c, Z_COW, mmr_scn_touch(z->heap + off, len, page, z->cow,
						     (uint64_t)getpid() + off));
	}
	while (!mmr_scn_should_stop(c)) {
		/* fork + exit: anon_vma_fork, then unlink_anon_vmas in the exit */
		pid_t g = mmr_scn_spawn(c, 0, NULL, NULL);

		if (g < 0)
			return -1;
		mmr_scn_wait(c, g);
		mmr_scn_add(c, Z_GRAND, 1);
		/* split and merge the heap VMA: anon_vma_clone under the root lock */
		if (z->mprot && pages > z->mprot) {
			char *at = z->heap + (mmr_scn_rand(&rnd) % (pages - z->mprot)) * page;

			if (mprotect(at, (size_t)z->mprot * page, PROT_READ) < 0 ||
			    mprotect(at, (size_t)z->mprot * page, PROT_READ | PROT_WRITE) < 0)
				return mmr_seterr_errno(MMR_E_FAIL, "mprotect");
			mmr_scn_add(c, Z_MPROTECT, 2);
		}
		/* faults on reclaimed pages bring them back and keep the limit busy */
		for (unsigned i = 0; i < z->touch; i++, pos++)
			z->heap[(pos % pages) * page + 8] = (char)i;
		mmr_scn_add(c, Z_TOUCH, z->touch);
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	return 0;
}

static int zygote_run(struct mmr_scn_ctx *c)
{
	struct zygote z = {
		.len = mmr_scn_u64(c, "heap") & ~(uint64_t)(c->page_size - 1),
		.cow = (unsigned)mmr_scn_u64(c, "cow"),
		.mprot = (unsigned)mmr_scn_u64(c, "mprotect"),
		.touch = (unsigned)mmr_scn_u64(c, "touch"),
	};
	unsigned n = mmr_scn_by_cpus(c, "children", 4, 1);
	pid_t *pids = calloc(n + 1, sizeof(*pids)), po = -1;
	int rc = -1;

	if (!pids)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	if (z.len < c->page_size) {
		mmr_seterr(MMR_E_USAGE, "heap is smaller than a page");
		goto out;
	}
	z.heap = mmr_scn_map_anon(z.len);
	if (!z.heap)
		goto out;
	mmr_scn_touch(z.heap, z.len, c->page_size, 100, 1);
	for (unsigned i = 0; i < n; i++) {
		pids[i] = mmr_scn_spawn(c, 0, child_main, &z);
		if (pids[i] < 0)
			goto out;
		mmr_scn_add(c, Z_CHILDREN, 1);
	}
	mmr_scn_note(c, "%u children of a %zu KiB heap, %u%% copied on write each", n, z.len >> 10,
		     z.cow);
	if (mmr_scn_reclaim_pageout(c)) {
		struct mmr_scn_pageout_target t = {
			.pids = pids, .npids = n + 1, .addr = (uintptr_t)z.heap, .len = z.len,
			.chunk_pct = 5, .pause_us = 2000,
			.counter_calls = Z_PO_CALLS, .counter_bytes = Z_PO_BYTES,
		};

		pids[n] = getpid();	/* the zygote's own copy too */
		po = mmr_scn_pageout_spawn(c, &t);
		if (po < 0)
			goto out;
	}
	/* The zygote itself idles, as the real one does between forks. */
	while (!mmr_scn_should_stop(c))
		mmr_scn_sleep_us(20000);
	rc = 0;
out:
	for (unsigned i = 0; i < n; i++) {
		int st;

		if (pids[i] <= 0)
			break;
		st = mmr_scn_wait(c, pids[i]);
		if (st != -1 && WIFSIGNALED(st))
			mmr_scn_add(c, Z_KILLED, 1);	/* e.g. the memcg OOM killer */
	}
	if (po > 0)
		mmr_scn_wait(c, po);
	free(pids);
	return rc;
}

const struct mmr_scenario mmr_scn_zygote = {
	.name = "zygote",
	.summary = "a forked process tree sharing one anon_vma root, with reclaim running against it",
	.demonstrates = "rwsem contention on the anon_vma root between reclaim's rmap walks and "
			"fork, mprotect and exit of the tree's processes (the Android zygote case)",
	.stresses = "anon_vma root rwsem: rmap_walk_anon/folio_lock_anon_vma_read (reclaim) vs "
		    "anon_vma_fork (fork), anon_vma_clone (mprotect), unlink_anon_vmas (exit)",
	.params = params,
	.counters = counters,
	.prepare = zygote_prepare,
	.run = zygote_run,
};
