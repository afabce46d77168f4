// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fork-topology: the shapes of process trees that anon_vma chains (and a
 * replayer's task tree) must get right. In a loop, A writes a heap and
 * forks B; B writes half of it (COW), moves a quarter elsewhere with
 * mremap, starts a watchdog that only waits for B to end, and forks C; C
 * unmaps a piece and maps fresh memory at the same address. Several
 * chains run side by side.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"
#include "mmr-sysinfo.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum { T_CHAINS, T_ROUNDS, T_FORKS, T_COW, T_MREMAP, T_REMAP, T_WATCHDOGS };

static const char *const counters[] = {
	"chains", "rounds", "forks", "cow_pages", "mremaps", "munmap_mmap_same_address",
	"watchdogs", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "chains", "0", "A->B->C chains running side by side (0: 2 per CPU)", MMR_SCN_INT, NULL },
	{ "heap", "4M", "heap A writes before forking", MMR_SCN_SIZE, NULL },
	{ "pause_us", "0", "pause of A between rounds (0: none)", MMR_SCN_INT, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

struct topo {
	char *heap;
	size_t len, quarter;
	pid_t parent;		/* for the watchdog */
};

/* Waits for its parent and nothing else. */
static int watchdog_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct topo *t = arg;
	int fd = (int)syscall(SYS_pidfd_open, t->parent, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fd < 0)
		return 0;	/* gone already */
	while (poll(&p, 1, 100) == 0 && mmr_now_ns() < c->deadline_ns + 5000000000ull)
		;
	close(fd);
	return 0;
}

/* C: munmap + mmap at the same address. */
static int c_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct topo *t = arg;
	void *p;

	if (munmap(t->heap, t->quarter) < 0)
		return mmr_seterr_errno(MMR_E_FAIL, "munmap");
	p = mmap(t->heap, t->quarter, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return mmr_seterr_errno(MMR_E_FAIL, "mmap at the unmapped address");
	if (p != t->heap)
		return mmr_seterr(MMR_E_FAIL, "mmap did not reuse the address (no MAP_FIXED_NOREPLACE?)");
	mmr_scn_touch(p, t->quarter, c->page_size, 100, 11);
	mmr_scn_add(c, T_REMAP, 1);
	return 0;
}

/* B: COW, mremap, watchdog, C. */
static int b_main(struct mmr_scn_ctx *c, void *arg)
{
	struct topo t = *(const struct topo *)arg;
	char *tail = t.heap + t.len - t.quarter;
	void *to, *moved;
	pid_t w, cpid;

	mmr_scn_add(c, T_COW, mmr_scn_touch(t.heap, t.len, c->page_size, 50, 7));
	/* a hole to move into: the reservation is replaced by the moved range */
	to = mmap(NULL, t.quarter, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		return mmr_seterr_errno(MMR_E_FAIL, "mmap");
	moved = mremap(tail, t.quarter, t.quarter, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (moved == MAP_FAILED)
		return mmr_seterr_errno(MMR_E_FAIL, "mremap");
	mmr_scn_add(c, T_MREMAP, 1);
	t.parent = getpid();
	w = mmr_scn_spawn(c, MMR_SCN_NO_PDEATHSIG, watchdog_main, &t);
	if (w < 0)
		return -1;
	mmr_scn_add(c, T_WATCHDOGS, 1);
	cpid = mmr_scn_spawn(c, 0, c_main, &t);
	if (cpid < 0)
		return -1;
	mmr_scn_wait(c, cpid);
	mmr_scn_add(c, T_FORKS, 2);
	return 0;	/* the watchdog sees this exit */
}

/* A: a fresh heap per round, written before the fork. */
static int a_main(struct mmr_scn_ctx *c, void *arg)
{
	struct topo t = { .len = *(const size_t *)arg };
	unsigned pause = (unsigned)mmr_scn_u64(c, "pause_us");

	t.quarter = (t.len / 4) & ~(size_t)(c->page_size - 1);
	if (!t.quarter)
		return mmr_seterr(MMR_E_USAGE, "heap must be at least 4 pages");
	while (!mmr_scn_should_stop(c)) {
		pid_t b;

		t.heap = mmr_scn_map_anon(t.len);
		if (!t.heap)
			return -1;
		mmr_scn_touch(t.heap, t.len, c->page_size, 100, 5);
		b = mmr_scn_spawn(c, 0, b_main, &t);
		if (b < 0)
			return -1;
		mmr_scn_wait(c, b);
		munmap(t.heap, t.len);
		mmr_scn_add(c, T_FORKS, 1);
		mmr_scn_add(c, T_ROUNDS, 1);
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	return 0;
}

static int topo_run(struct mmr_scn_ctx *c)
{
	size_t len = mmr_scn_u64(c, "heap") & ~(uint64_t)(c->page_size - 1);
	unsigned n = mmr_scn_by_cpus(c, "chains", 2, 1);
	pid_t *pids = calloc(n, sizeof(*pids));
	int rc = -1;

	if (!pids)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		pids[i] = mmr_scn_spawn(c, 0, a_main, &len);
		if (pids[i] < 0)
			goto out;
		mmr_scn_add(c, T_CHAINS, 1);
	}
	mmr_scn_note(c, "%u chains A->B->C (+ watchdog) over a %zu KiB heap", n, len >> 10);
	/* orphaned watchdogs come to us (subreaper): reap them as they end */
	while (!mmr_scn_should_stop(c)) {
		mmr_scn_reap();
		mmr_scn_sleep_us(10000);
	}
	rc = 0;
out:
	for (unsigned i = 0; i < n && pids[i] > 0; i++)
		mmr_scn_wait(c, pids[i]);
	free(pids);
	return rc;
}

const struct mmr_scenario mmr_scn_fork_topology = {
	.name = "fork-topology",
	.summary = "A forks B forks C with COW, mremap, munmap+mmap at one address and a watchdog child",
	.demonstrates = "the process-tree shapes a recording and a replay must reproduce, and the "
			"anon_vma chain work each of them costs",
	.stresses = "anon_vma chains: anon_vma_fork, anon_vma_clone (mremap: copy_vma), "
		    "unlink_anon_vmas (munmap, exit); mmap_lock writers in mremap/munmap/mmap",
	.params = params,
	.counters = counters,
	.run = topo_run,
};
