// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * heap-mprotect: threads of one process fault over a large heap whose
 * pages are being swapped out (MADV_PAGEOUT to zram), so do_swap_page
 * runs all the time, while another thread keeps changing the protection
 * of small pieces of the same heap. Every mprotect takes mmap_lock for
 * write and write-locks the heap VMA it splits; faults that find their
 * VMA locked fall back from the per-VMA lock to mmap_lock and queue
 * behind the writer.
 *
 * The protection toggles between RW and RWX rather than RW and R: the
 * VMA split and merge, the mmap_lock write hold and the PTE update are
 * the same, and the faulting threads never take a protection fault.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

enum { H_THREADS, H_ACCESSES, H_MPROTECT, H_PO_CALLS, H_PO_BYTES };

static const char *const counters[] = {
	"fault_threads", "accesses", "mprotects", "pageout_calls", "pageout_bytes", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "heap", "128M", "the heap the threads fault over", MMR_SCN_SIZE, NULL },
	{ "threads", "0", "faulting threads (0: 2 per CPU)", MMR_SCN_INT, NULL },
	{ "write", "50", "percent of accesses that write", MMR_SCN_INT, NULL },
	{ "mprotect", "2", "pages per mprotect", MMR_SCN_INT, NULL },
	{ "pause_us", "0", "pause of the mprotect thread between rounds (0: none)", MMR_SCN_INT, NULL },
	{ "pageout", "6", "percent of the heap paged out per reclaim step", MMR_SCN_INT, NULL },
	{ "reclaim", "pageout", "pageout: a thread madvises MADV_PAGEOUT (zram swap); memcg: cgroup limit + zram; none",
	  MMR_SCN_CHOICE, "pageout|memcg|none" },
	{ "limit", "0", "memcg limit (0: half of the heap)", MMR_SCN_SIZE, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

struct heap {
	struct mmr_scn_ctx *c;
	char *p;
	size_t len, pages;
	unsigned write_pct, mprot, pageout_pct;
	uint64_t seed;
};

static int heap_prepare(struct mmr_scn_ctx *c)
{
	return mmr_scn_reclaim_prepare(c, mmr_scn_u64(c, "heap"));
}

static void *fault_thread(void *arg)
{
	struct heap *h = arg;
	uint64_t rnd = __atomic_add_fetch(&h->seed, 0x1234567, __ATOMIC_RELAXED), n = 0;

	while (!mmr_scn_should_stop(h->c)) {
		uint64_t r = mmr_scn_rand(&rnd);
		volatile char *at = h->p + (r % h->pages) * h->c->page_size + 64;

		if ((r >> 40) % 100 < h->write_pct)
			*at = (char)r;
		else
			(void)*at;
		if (++n == 1024) {
			mmr_scn_add(h->c, H_ACCESSES, n);
			n = 0;
		}
	}
	mmr_scn_add(h->c, H_ACCESSES, n);
	return NULL;
}

static void *mprotect_thread(void *arg)
{
	struct heap *h = arg;
	uint64_t rnd = 42;
	size_t len = (size_t)h->mprot * h->c->page_size;
	unsigned pause = (unsigned)mmr_scn_u64(h->c, "pause_us");

	while (!mmr_scn_should_stop(h->c)) {
		char *at = h->p + (mmr_scn_rand(&rnd) % (h->pages - h->mprot)) * h->c->page_size;

		if (mprotect(at, len, PROT_READ | PROT_WRITE | PROT_EXEC) < 0 ||
		    mprotect(at, len, PROT_READ | PROT_WRITE) < 0) {
			mmr_seterr_errno(MMR_E_FAIL, "mprotect");
			mmr_scn_fail(h->c);
			break;
		}
		mmr_scn_add(h->c, H_MPROTECT, 2);
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	return NULL;
}

static void *pageout_thread(void *arg)
{
	struct heap *h = arg;
	size_t chunk = (h->len / 100 * h->pageout_pct) & ~(size_t)(h->c->page_size - 1), pos = 0;

	if (!chunk)
		chunk = h->c->page_size;
	while (!mmr_scn_should_stop(h->c)) {
		size_t len = pos + chunk > h->len ? h->len - pos : chunk;

		if (madvise(h->p + pos, len, MADV_PAGEOUT) == 0) {
			mmr_scn_add(h->c, H_PO_CALLS, 1);
			mmr_scn_add(h->c, H_PO_BYTES, len);
		}
		pos = pos + len >= h->len ? 0 : pos + len;
		mmr_scn_sleep_us(5000);
	}
	return NULL;
}

static int heap_run(struct mmr_scn_ctx *c)
{
	struct heap h = {
		.c = c,
		.len = mmr_scn_u64(c, "heap") & ~(uint64_t)(c->page_size - 1),
		.write_pct = (unsigned)mmr_scn_u64(c, "write"),
		.mprot = (unsigned)mmr_scn_u64(c, "mprotect"),
		.pageout_pct = (unsigned)mmr_scn_u64(c, "pageout"),
	};
	unsigned n = mmr_scn_by_cpus(c, "threads", 2, 1), started = 0;
	pthread_t *t = calloc(n + 2, sizeof(*t));
	bool pageout = mmr_scn_reclaim_pageout(c);
	int rc = -1;

	if (!t)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	h.pages = h.len / c->page_size;
	if (!h.mprot)
		h.mprot = 1;
	if (h.pages <= h.mprot) {
		mmr_seterr(MMR_E_USAGE, "heap too small for mprotect=%u pages", h.mprot);
		goto out;
	}
	h.p = mmr_scn_map_anon(h.len);
	if (!h.p)
		goto out;
	mmr_scn_touch(h.p, h.len, c->page_size, 100, 3);
	for (unsigned i = 0; i < n + 2; i++) {
		void *(*fn)(void *) = i < n ? fault_thread : i == n ? mprotect_thread : pageout_thread;

		if (i == n + 1 && !pageout)
			break;
		if (pthread_create(&t[i], NULL, fn, &h)) {
			mmr_seterr(MMR_E_FAIL, "cannot create a thread");
			goto join;
		}
		started = i + 1;
	}
	mmr_scn_add(c, H_THREADS, n);
	mmr_scn_note(c, "%u faulting threads over %zu KiB, mprotect of %u pages (RW <-> RWX)%s", n,
		     h.len >> 10, h.mprot, pageout ? ", MADV_PAGEOUT thread" : "");
	rc = 0;
join:
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
out:
	free(t);
	return rc;
}

const struct mmr_scenario mmr_scn_heap_mprotect = {
	.name = "heap-mprotect",
	.summary = "threads fault over a swapped heap while another thread mprotects small pieces of it",
	.demonstrates = "mmap_lock write holds in mprotect and the read waits of faults that fall "
			"back from the per-VMA lock (swap-in through do_swap_page)",
	.stresses = "mmap_lock: mprotect_fixup/split_vma (write) vs lock_vma_under_rcu fallback "
		    "and do_swap_page in the fault path (read)",
	.params = params,
	.counters = counters,
	.prepare = heap_prepare,
	.run = heap_run,
};
