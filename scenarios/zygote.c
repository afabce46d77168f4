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
#include <stdio.h>
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
		if (mmr_scn_fork_exit(c, Z_GRAND) < 0)
			return -1;
		/* split and merge the heap VMA: anon_vma_clone under the root lock */
		if (mmr_scn_mprotect_flip(c, z->heap, pages, z->mprot, &rnd, Z_MPROTECT) < 0)
			return -1;
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
	struct mmr_scn_tree t = {
		.children = mmr_scn_by_cpus(c, "children", 4, 1), .fn = child_main, .arg = &z,
		.counter_children = Z_CHILDREN, .counter_killed = Z_KILLED,
		.counter_po_calls = Z_PO_CALLS, .counter_po_bytes = Z_PO_BYTES,
	};
	char note[256];

	z.heap = mmr_scn_heap(c, z.len, 1);
	if (!z.heap)
		return -1;
	snprintf(note, sizeof(note), "%u children of a %zu KiB heap, %u%% copied on write each",
		 t.children, z.len >> 10, z.cow);
	t.note = note;
	/* reclaim works on the children's copies and the zygote's own; it idles between forks */
	t.addr = (uintptr_t)z.heap;
	t.len = z.len;
	return mmr_scn_tree_run(c, &t);
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
