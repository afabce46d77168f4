// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cow-break: the "unshare early" idea. Right after fork each child breaks
 * COW on the whole inherited heap at once with MADV_POPULATE_WRITE
 * (mode=early), instead of copying page by page as it writes
 * (mode=lazy). Then the children run the zygote loop (fork+exit of a
 * grandchild, mprotect, a few writes). The stats give the memory cost
 * (private bytes per child after the unshare and at the end); a recording
 * gives the contention, so the two modes can be compared.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"
#include "mmr-sysinfo.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum { C_CHILDREN, C_UNSHARE_NS, C_UNSHARE_MAX_NS, C_PRIV_START, C_PRIV_END, C_GRAND,
	C_MPROTECT, C_TOUCH, C_PO_CALLS, C_PO_BYTES };

static const char *const counters[] = {
	"children", "unshare_total_ns", "unshare_max_ns", "private_kib_after_unshare",
	"private_kib_at_end", "grandchildren", "mprotects", "pages_written", "pageout_calls",
	"pageout_bytes", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "heap", "64M", "anonymous heap the parent touches before forking", MMR_SCN_SIZE, NULL },
	{ "children", "0", "children (0: 4 per CPU)", MMR_SCN_INT, NULL },
	{ "mode", "early", "early: MADV_POPULATE_WRITE right after fork; lazy: COW as written",
	  MMR_SCN_CHOICE, "early|lazy" },
	{ "touch", "16", "pages a child writes per loop", MMR_SCN_INT, NULL },
	{ "mprotect", "2", "pages a child mprotects read-only and back per loop", MMR_SCN_INT, NULL },
	{ "pause_us", "0", "pause of a child between loop rounds (0: none)", MMR_SCN_INT, NULL },
	{ "reclaim", "none", "memcg: cgroup limit + zram swap; pageout: process_madvise reclaimer + zram; none",
	  MMR_SCN_CHOICE, "none|memcg|pageout" },
	{ "limit", "0", "memcg limit (0: half of the working set)", MMR_SCN_SIZE, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

struct cow {
	char *heap;
	size_t len;
	bool early;
	unsigned touch, mprot;
};

static int cow_prepare(struct mmr_scn_ctx *c)
{
	uint64_t heap = mmr_scn_u64(c, "heap");

	/* early: every child owns a full copy */
	return mmr_scn_reclaim_prepare(c, heap * (1 + mmr_scn_by_cpus(c, "children", 4, 1)));
}

/* Private_Dirty of this process, KiB: what it does not share with its family. */
static uint64_t private_kib(void)
{
	char line[256];
	uint64_t kib = 0;
	FILE *f = fopen("/proc/self/smaps_rollup", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "Private_Dirty: %llu kB", &v) == 1)
			kib += v;
		else if (sscanf(line, "Swap: %llu kB", &v) == 1)
			kib += v;	/* swapped out is still a private copy */
	}
	fclose(f);
	return kib;
}

static int child_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct cow *w = arg;
	uint32_t page = c->page_size;
	size_t pages = w->len / page, pos = 0;
	uint64_t rnd = (uint64_t)getpid() * 31;
	unsigned pause = (unsigned)mmr_scn_u64(c, "pause_us");

	if (w->early) {
		uint64_t t0 = mmr_now_ns(), dt;

		if (madvise(w->heap, w->len, MADV_POPULATE_WRITE) < 0)
			return mmr_seterr_errno(errno == EINVAL ? MMR_E_NOTSUP : MMR_E_FAIL,
						"MADV_POPULATE_WRITE (Linux 5.14+)");
		dt = mmr_now_ns() - t0;
		mmr_scn_add(c, C_UNSHARE_NS, dt);
		mmr_scn_max(c, C_UNSHARE_MAX_NS, dt);
	}
	mmr_scn_add(c, C_PRIV_START, private_kib());
	while (!mmr_scn_should_stop(c)) {
		if (mmr_scn_fork_exit(c, C_GRAND) < 0 ||
		    mmr_scn_mprotect_flip(c, w->heap, pages, w->mprot, &rnd, C_MPROTECT) < 0)
			return -1;
		/* lazy mode copies here, one page at a time */
		for (unsigned i = 0; i < w->touch; i++, pos += 37)
			w->heap[(pos % pages) * page + 16] = (char)i;
		mmr_scn_add(c, C_TOUCH, w->touch);
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	mmr_scn_add(c, C_PRIV_END, private_kib());
	return 0;
}

static int cow_run(struct mmr_scn_ctx *c)
{
	struct cow w = {
		.len = mmr_scn_u64(c, "heap") & ~(uint64_t)(c->page_size - 1),
		.early = !strcmp(mmr_scn_str(c, "mode"), "early"),
		.touch = (unsigned)mmr_scn_u64(c, "touch"),
		.mprot = (unsigned)mmr_scn_u64(c, "mprotect"),
	};
	struct mmr_scn_tree t = {
		.children = mmr_scn_by_cpus(c, "children", 4, 1), .fn = child_main, .arg = &w,
		.counter_children = C_CHILDREN, .counter_killed = MMR_SCN_NO_COUNTER,
		.counter_po_calls = C_PO_CALLS, .counter_po_bytes = C_PO_BYTES,
	};
	char note[256];

	w.heap = mmr_scn_heap(c, w.len, 9);
	if (!w.heap)
		return -1;
	snprintf(note, sizeof(note), "%u children, %zu KiB heap, COW broken %s", t.children,
		 w.len >> 10, w.early ? "at once (MADV_POPULATE_WRITE after fork)" : "lazily (as written)");
	t.note = note;
	t.addr = (uintptr_t)w.heap;
	t.len = w.len;
	return mmr_scn_tree_run(c, &t);
}

const struct mmr_scenario mmr_scn_cow_break = {
	.name = "cow-break",
	.summary = "children unshare the inherited heap at once (MADV_POPULATE_WRITE) or lazily",
	.demonstrates = "memory cost (private KiB per child) against the anon_vma and mmap_lock "
			"contention of a forked tree, early unshare vs copy-on-write as written",
	.stresses = "anon_vma root rwsem and mmap_lock: the COW faults or the populate "
		    "(wp_page_copy), then anon_vma_fork/clone/unlink in the children's loop",
	.params = params,
	.counters = counters,
	.prepare = cow_prepare,
	.run = cow_run,
};
