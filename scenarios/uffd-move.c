// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-move: UFFDIO_MOVE (Linux 6.8+) of anonymous pages between two
 * regions of each process of a forked tree, while reclaim runs against
 * the tree. MOVE write-locks the anon_vma of the folio it moves, that is
 * the root rwsem every process of the tree shares, so it queues with
 * fork, exit and reclaim's rmap walks on one lock.
 *
 * Both regions are created and faulted in the root before it forks, so
 * the children's copies hang off the same anon_vma root. A child writes a
 * chunk of the source (its folios become exclusive: MOVE refuses shared
 * ones), moves it to the destination and back, checking the data on the
 * way, and every few chunks forks a short-lived grandchild. Both regions
 * are registered, so both directions are moves into a registered range.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"

/* Older headers (Debian bookworm ships 6.1's) lack MOVE: the kernel ABI. */
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE		(1ULL << 16)
#endif
#ifndef UFFDIO_MOVE
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
#define UFFDIO_MOVE_MODE_DONTWAKE		((__u64)1 << 0)
#define UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES	((__u64)1 << 1)
	__u64 mode;
	__s64 move;
};
#define _UFFDIO_MOVE	(0x05)
#define UFFDIO_MOVE	_IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef SYS_userfaultfd
#define SYS_userfaultfd 323
#endif

enum { U_CHILDREN, U_MOVES, U_BYTES, U_BUSY, U_AGAIN, U_ERR, U_BAD, U_GRAND, U_PO_CALLS,
	U_PO_BYTES, U_KILLED, U_REFILL };

static const char *const counters[] = {
	"children", "moves", "moved_bytes", "move_ebusy", "move_eagain", "move_other_errors",
	"data_mismatches", "grandchildren", "pageout_calls", "pageout_bytes", "children_killed",
	"holes_refilled", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "heap", "32M", "source region (the destination is as large)", MMR_SCN_SIZE, NULL },
	{ "children", "0", "children moving pages (0: 2 per CPU)", MMR_SCN_INT, NULL },
	{ "chunk", "16", "pages per UFFDIO_MOVE", MMR_SCN_INT, NULL },
	{ "fork_every", "8", "chunks between grandchild forks (0: never)", MMR_SCN_INT, NULL },
	{ "pause_us", "0", "pause of a child between chunks (0: none)", MMR_SCN_INT, NULL },
	{ "reclaim", "memcg", "memcg: cgroup limit + zram swap; pageout: process_madvise reclaimer + zram; none",
	  MMR_SCN_CHOICE, "memcg|pageout|none" },
	{ "limit", "0", "memcg limit (0: half of the working set)", MMR_SCN_SIZE, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};

struct umove {
	char *src, *dst;
	size_t len;
	unsigned chunk, fork_every;
};

static int uffd_open(uint64_t features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return mmr_seterr_errno(errno == ENOSYS ? MMR_E_NOTSUP : MMR_E_FAIL, "userfaultfd");
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		return mmr_seterr_errno(MMR_E_NOTSUP, "UFFDIO_API with features %#llx",
					(unsigned long long)features);
	}
	return fd;
}

/* Runner side: say "not supported here" before anything is set up. */
static int umove_check(struct mmr_scn_ctx *c)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	(void)c;
	if (fd < 0)
		return mmr_seterr_errno(MMR_E_NOTSUP, "userfaultfd is not available here");
	/* features 0 asks for nothing and reports everything the kernel has */
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		close(fd);
		return mmr_seterr_errno(MMR_E_NOTSUP, "UFFDIO_API");
	}
	close(fd);
	if (!(api.features & UFFD_FEATURE_MOVE))
		return mmr_seterr(MMR_E_NOTSUP,
				  "UFFDIO_MOVE is not supported by this kernel (needs Linux 6.8+)");
	return 0;
}

static uint64_t working_set(const struct mmr_scn_ctx *c)
{
	return mmr_scn_u64(c, "heap") * (1 + mmr_scn_by_cpus(c, "children", 2, 1));
}

static int umove_prepare(struct mmr_scn_ctx *c)
{
	return mmr_scn_reclaim_prepare(c, working_set(c));
}

static void count_error(struct mmr_scn_ctx *c, int err)
{
	mmr_scn_add(c, err == EBUSY ? U_BUSY : err == EAGAIN ? U_AGAIN : U_ERR, 1);
}

/* One UFFDIO_MOVE; the bytes moved (a prefix of the range), errors counted. */
static int64_t move(struct mmr_scn_ctx *c, int fd, char *dst, char *src, size_t len)
{
	struct uffdio_move mv = {
		.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len,
		.mode = UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES,
	};

	if (ioctl(fd, UFFDIO_MOVE, &mv) < 0)
		count_error(c, errno);
	mmr_scn_add(c, U_MOVES, 1);
	if (mv.move <= 0)
		return 0;
	mmr_scn_add(c, U_BYTES, (uint64_t)mv.move);
	return mv.move;
}

/* Map the zero page into holes of a registered range, so writes just COW. */
static int refill(struct mmr_scn_ctx *c, int fd, char *at, size_t len)
{
	struct uffdio_zeropage z = { .range = { (uintptr_t)at, len } };

	if (ioctl(fd, UFFDIO_ZEROPAGE, &z) < 0 && errno != EEXIST)
		return mmr_seterr_errno(MMR_E_FAIL, "UFFDIO_ZEROPAGE");
	mmr_scn_add(c, U_REFILL, 1);
	return 0;
}

static int child_main(struct mmr_scn_ctx *c, void *arg)
{
	const struct umove *u = arg;
	uint32_t page = c->page_size;
	size_t step = (size_t)u->chunk * page, off = 0;
	uint64_t seed = (uint64_t)getpid() << 32, round = 0;
	unsigned pause = (unsigned)mmr_scn_u64(c, "pause_us");
	struct uffdio_register reg = {
		.range = { (uintptr_t)u->dst, u->len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	}, reg_src = {
		.range = { (uintptr_t)u->src, u->len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	/* SIGBUS instead of a wait for a handler nobody runs, should we touch a hole */
	int fd = uffd_open(UFFD_FEATURE_MOVE | UFFD_FEATURE_SIGBUS);

	if (fd < 0)
		return -1;
	if (ioctl(fd, UFFDIO_REGISTER, &reg) < 0 || ioctl(fd, UFFDIO_REGISTER, &reg_src) < 0) {
		close(fd);
		return mmr_seterr_errno(MMR_E_FAIL, "UFFDIO_REGISTER");
	}
	while (!mmr_scn_should_stop(c)) {
		size_t len = off + step > u->len ? u->len - off : step;
		uint64_t tag = seed ^ round;
		int64_t there, back;

		/* exclusive folios: COW broken on the first pass, re-owned after a fork */
		for (size_t i = 0; i < len; i += page)
			*(volatile uint64_t *)(u->src + off + i) = tag + i;
		/* there and back again: the chunk stays ours, the memory stays charged */
		there = move(c, fd, u->dst + off, u->src + off, len);
		if (there > 0 && *(volatile uint64_t *)(u->dst + off) != tag)
			mmr_scn_add(c, U_BAD, 1);
		back = there > 0 ? move(c, fd, u->src + off, u->dst + off, (size_t)there) : 0;
		if (back < there) {
			/* dst must be a hole for the next move: drop what did not come back */
			madvise(u->dst + off, len, MADV_DONTNEED);
			/* and src must not be one: a write there would be a missing fault */
			if (refill(c, fd, u->src + off + back, (size_t)(there - back)) < 0) {
				close(fd);
				return -1;
			}
		} else if (there > 0 && *(volatile uint64_t *)(u->src + off) != tag)
			mmr_scn_add(c, U_BAD, 1);
		off = off + len >= u->len ? 0 : off + len;
		round++;
		if (u->fork_every && round % u->fork_every == 0 && mmr_scn_fork_exit(c, U_GRAND) < 0) {
			close(fd);
			return -1;
		}
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	close(fd);
	return 0;
}

static int umove_run(struct mmr_scn_ctx *c)
{
	struct umove u = {
		.len = mmr_scn_u64(c, "heap") & ~(uint64_t)(c->page_size - 1),
		.chunk = (unsigned)mmr_scn_u64(c, "chunk"),
		.fork_every = (unsigned)mmr_scn_u64(c, "fork_every"),
	};
	struct mmr_scn_tree t = {
		.children = mmr_scn_by_cpus(c, "children", 2, 1), .fn = child_main, .arg = &u,
		.counter_children = U_CHILDREN, .counter_killed = U_KILLED,
		.counter_po_calls = U_PO_CALLS, .counter_po_bytes = U_PO_BYTES,
	};
	char note[256];

	if (!u.chunk)
		u.chunk = 1;
	if (u.len < c->page_size)
		return mmr_seterr(MMR_E_USAGE, "heap is smaller than a page");
	u.src = mmr_scn_map_anon(u.len);
	u.dst = u.src ? mmr_scn_map_anon(u.len) : NULL;
	if (!u.dst)
		return -1;
	mmr_scn_touch(u.src, u.len, c->page_size, 100, 5);
	/* dst gets its anon_vma here, so the children's copies share our root */
	mmr_scn_touch(u.dst, u.len, c->page_size, 1, 6);
	madvise(u.dst, u.len, MADV_DONTNEED);
	snprintf(note, sizeof(note), "%u children moving %u-page chunks of a %zu KiB region",
		 t.children, u.chunk, u.len >> 10);
	t.note = note;
	t.addr = (uintptr_t)u.src;
	t.len = u.len;
	return mmr_scn_tree_run(c, &t);
}

const struct mmr_scenario mmr_scn_uffd_move = {
	.name = "uffd-move",
	.summary = "UFFDIO_MOVE of anonymous pages inside the processes of a forked tree, under reclaim",
	.demonstrates = "UFFDIO_MOVE taking the shared anon_vma root for write against reclaim's "
			"rmap walks and the tree's forks and exits",
	.stresses = "anon_vma root rwsem: move_pages/folio_move_anon_rmap (write) vs "
		    "rmap_walk_anon (reclaim), anon_vma_fork, unlink_anon_vmas",
	.params = params,
	.counters = counters,
	.check = umove_check,
	.prepare = umove_prepare,
	.run = umove_run,
};
