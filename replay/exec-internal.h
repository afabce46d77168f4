/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Executor internals shared by the parent side (exec.c) and the task side
 * (exec-task.c): the MAP_SHARED layout results travel back through, and
 * the per-process runtime state every replay process inherits by fork.
 */
#ifndef MMR_EXEC_INTERNAL_H
#define MMR_EXEC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmr-plan.h"
#include "mmr-result.h"

/* Failure codes besides errno values (stored negated). */
enum {
	MMR_XF_SEGV = 1,	/* the touch faulted: region not accessible in the replay */
	MMR_XF_BUS,
	MMR_XF_UNMAPPED,	/* the region was never mapped, or no recorded mapping */
	MMR_XF_LATE,		/* its creator (another task) had not mapped it after 1 s */
	MMR_XF_STACK,		/* fork: the chain of forks is deeper than the stack allows */
};

#define MMR_XF_SLOTS 8

struct mmr_xfail {
	uint8_t op;		/* enum mmr_pop */
	int32_t code;		/* errno, or -MMR_XF_* */
	uint64_t count;
};

/*
 * A task's first samples stay in its record (see struct tctx in
 * exec-task.c): a short-lived replayed child then never touches the
 * shared histograms, whose pages it would have to fault in (fork does not
 * copy the page tables of shared mappings) and tear down at exit. A task
 * with more samples adds them all to the histograms from then on.
 */
#define MMR_XS_SAMPLES 32
#define MMR_XS_KIND_SHIFT 56		/* sample: kind << shift | ns */
#define MMR_XS_NS_MASK ((1ull << MMR_XS_KIND_SHIFT) - 1)

/* One task's counters and first samples; written only by that task. */
struct mmr_xtask {
	volatile int32_t pid;	/* 0: not started; process id while running */
	volatile uint32_t state;	/* 0 not started, 1 running, 2 done */
	volatile uint64_t ops_started, ops_done, ops_failed;
	volatile uint64_t end_ns;	/* when its last op ended */
	uint64_t other_fails;	/* failures beyond the slots */
	struct mmr_xfail fails[MMR_XF_SLOTS];
	uint32_t nsamples;	/* more than MMR_XS_SAMPLES: they went to the histograms */
	uint64_t s[MMR_XS_SAMPLES];
	/* timed modes: lag by tenth of the recorded timeline (mmr_lag_tenth) */
	uint32_t lag_n[MMR_LAG_TENTHS];
	uint64_t lag_sum[MMR_LAG_TENTHS], lag_max[MMR_LAG_TENTHS];
};

/* Start barrier and run control. */
struct mmr_xhdr {
	volatile uint32_t go;		/* futex: 0 wait, 1 go */
	volatile uint32_t ready;	/* initial tasks at the barrier */
	volatile uint32_t abort;
	uint32_t pad;
	volatile uint64_t t0;
	/* the TSC clock (tsc-clock.h): an anchor pair and the ratio; 0: clock_gettime */
	uint64_t tsc_ns, tsc_at, tsc_mult;
	/*
	 * --reclaim=pageout: set before the go when a reclaimer replays the
	 * plan's reclaims; reclaims_done counts those it is through with, in
	 * plan order (see await_reclaims in exec-task.c).
	 */
	uint32_t reclaim_gate;
	volatile uint32_t reclaims_done;
};

/*
 * A histogram in shared memory: mmr_hist's buckets, filled without malloc.
 * One per (CPU, kind of op), the lag one after the op kinds: a few
 * hundred KiB whatever the number of tasks, hot in the cache, updated
 * with atomics (tasks on one CPU only collide when one is preempted in
 * the middle of an update).
 */
#define MMR_XH_LAG MMR_POP__COUNT
#define MMR_XH_KINDS (MMR_POP__COUNT + 1)

struct mmr_xhist {
	uint64_t count, sum, min, max;	/* min: ns + 1, 0 while empty */
	uint64_t b[];			/* mmr_hist_nbuckets() */
};

/*
 * Recorded addresses in [lo, hi) are replayed at + delta (mod 2^64): the
 * recorded binary and heap, moved next to the helper's own data (see
 * exec-layout.c). lo == hi: nothing moves.
 */
struct mmr_xshift {
	uint64_t lo, hi, delta;
};

/*
 * The shift for a process whose heap is region anchor, the helper's own
 * image (code to the end of its data and heap) at [self_lo, self_hi).
 */
void mmr_xshift_choose(const struct mmr_plan *p, uint32_t anchor, uint64_t self_lo, uint64_t self_hi,
		       struct mmr_xshift *s);

/* Everything a replay process needs; a copy lives in each one after fork. */
struct mmr_xrt {
	const struct mmr_plan *plan;
	struct mmr_xhdr *hdr;
	volatile uint64_t *base;	/* per region */
	struct mmr_xtask *tasks;
	char *hists;
	size_t hist_size;		/* bytes per histogram */
	uint32_t ncpus;			/* histograms: [cpu * MMR_XH_KINDS + kind] */
	const int *fds;			/* per plan file */
	/*
	 * Tasks whose counters others read while they run (sibling threads,
	 * the pageout reclaimer): they update tasks[] in place. The others
	 * write their record once, at their end.
	 */
	const uint8_t *live;
	int shm_fd;			/* the shared memfd, for those writes */
	size_t shm_foff;		/* where the results part starts in it */
	/*
	 * The threads of each process: members[grp[2t] .. + grp[2t+1]] are
	 * the tasks sharing task t's address space (t included).
	 */
	const uint32_t *grp;
	const uint32_t *members;
	bool closed_loop;
	double speed;
	pid_t parent;			/* the caller: tasks stop when it is gone */
	/* process-local: threads this process created (mapped on first use) */
	pthread_t *threads;
	uint8_t *created;
	uint32_t ncreated;		/* entries set in created (0: skip the scans) */
	/* hdr->t0, copied at the go: a forked child reads no shared page for it */
	uint64_t t0;
	bool reclaim_gate;		/* hdr->reclaim_gate, copied at the go */
	size_t page_size;		/* this machine's */
	uint64_t tsc_mult;		/* hdr->tsc_mult, copied at the go */
	/*
	 * The main thread's stack, [lo, hi): a replayed child runs on in its
	 * parent's frames, so each link of a fork chain takes some of it
	 * (MMR_XSTACK_RESERVE). 0, 0: unknown.
	 */
	uintptr_t stack_lo, stack_hi;
	/* the stack exec gave the helper, [lo, hi) (0, 0: unknown; see task-main.c) */
	uintptr_t exec_stack_lo, exec_stack_hi;
	/* the kernel's [vvar]...[vdso] mappings exec gave it, in address order */
	struct { uintptr_t lo, hi; } vdso[4];
	unsigned nvdso;
	bool vdso_moved;	/* to the recorded place (move_vdso): not to be called */
	/* the static helper's image, code to heap (0, 0: unknown), and the shift it led to */
	uintptr_t self_lo, self_hi;
	struct mmr_xshift shift;
};

/* Stack a replayed fork leaves free; below, the fork fails (MMR_XF_STACK). */
#define MMR_XSTACK_RESERVE (64u << 10)

extern struct mmr_xrt mmr_xrt;

/*
 * What mmreplay-task (task-main.c) needs to rebuild mmr_xrt after exec.
 * It heads the shared memfd: the control part (this block, then the replay
 * files' descriptors, inherited across exec), page-aligned ctl_len bytes,
 * then the results part, shm_len bytes. Pointers are the
 * caller's; the helper rebases them onto its own mappings of the memfds.
 */
#define MMR_XBOOT_MAGIC 0x6d6d7274u	/* "mmrt" */

struct mmr_xboot {
	uint32_t magic;
	uint32_t size;			/* sizeof(struct mmr_xboot): the same build */
	struct mmr_plan plan;
	size_t ctl_len, shm_len, hist_size;
	size_t off_fds, off_grp, off_members, off_live;	/* in the control part */
	uint32_t ncpus;
	size_t off_base, off_tasks, off_hists;	/* in the results part */
	bool closed_loop;
	double speed;
	pid_t parent;
};

static inline struct mmr_xhist *mmr_xhist_at(uint32_t slot)
{
	return (struct mmr_xhist *)(mmr_xrt.hists + (size_t)slot * mmr_xrt.hist_size);
}

/*
 * Set mmr_xrt from the shared memfd mapping headed by bt (the control
 * part, then the results part), that memfd's descriptor, and a plan whose
 * arrays are valid in this process: the caller's own, or the helper's
 * rebased copy.
 */
void mmr_xrt_init(const struct mmr_xboot *bt, int shm_fd, const struct mmr_plan *plan);

/* Body of a root process forked by the caller; never returns. */
void mmr_xtask_root(uint32_t task, pid_t pgid) __attribute__((noreturn));

#endif
