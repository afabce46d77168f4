// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The replay side of the executor: what runs inside the forked process
 * tree. No malloc, no stdio, no locks shared with the parent: every
 * result goes to the shared memfd (exec-internal.h), by stores or, for a
 * task that keeps its record to itself, one pwrite at its end. Latencies are
 * taken around the operation only, with CLOCK_MONOTONIC (read from the
 * TSC where it comes from there: tsc-clock.h), so they include every
 * kernel wait the operation had, per-VMA locks included.
 */
#include <alloca.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#if defined(MMR_TASK_STATIC) && __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif

#include "mmr-hist.h"
#include "exec-internal.h"
#include "tsc-clock.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

struct mmr_xrt mmr_xrt;

void mmr_xrt_init(const struct mmr_xboot *bt, int shm_fd, const struct mmr_plan *plan)
{
	char *ctl = (char *)bt, *shm = ctl + bt->ctl_len;

	mmr_xrt = (struct mmr_xrt){
		.plan = plan,
		.hdr = (struct mmr_xhdr *)shm,
		.base = (volatile uint64_t *)(shm + bt->off_base),
		.tasks = (struct mmr_xtask *)(shm + bt->off_tasks),
		.hists = shm + bt->off_hists,
		.hist_size = bt->hist_size,
		.ncpus = bt->ncpus,
		.fds = (const int *)(ctl + bt->off_fds),
		.grp = (const uint32_t *)(ctl + bt->off_grp),
		.members = (const uint32_t *)(ctl + bt->off_members),
		.live = (const uint8_t *)(ctl + bt->off_live),
		.shm_fd = shm_fd,
		.shm_foff = bt->ctl_len,
		.closed_loop = bt->closed_loop,
		.speed = bt->speed,
		.parent = bt->parent,
		.page_size = (size_t)getpagesize(),
	};
}

/*
 * Where a touch that faults fatally jumps back to (per thread): the
 * touching frame's record, valid while its key is set. The pointer is
 * stored only when the frame moved: static TLS lives in the helper's
 * heap, and in a process that forks, every store to a page after a fork
 * is a copy-on-write fault the recorded program did not take.
 */
struct touch_rec {
	sigjmp_buf jb;
	volatile uintptr_t key;		/* TOUCH_KEY ^ its address while touching, else 0 */
};

#define TOUCH_KEY 0x6d6d72746f756368ull	/* "mmrtouch" */

static __thread struct touch_rec *touch_rec;

#define PARENT_CHECK_NS 100000000ull	/* look for the caller every 100 ms */
#define PACE_SLACK_NS 50000ull		/* sleeping for less is pointless */

/* This thread's TSC anchor (see tsc-clock.h); a forked child keeps its parent's. */
static __thread uint64_t tsc_at, tsc_ns;

static uint64_t now(void)
{
	struct timespec ts;

	if (mmr_xrt.tsc_mult)
		return mmr_tsc_ns(mmr_tsc(), tsc_at, tsc_ns, mmr_xrt.tsc_mult);
	if (mmr_xrt.vdso_moved)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	else
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void tsc_reanchor(void)
{
	if (mmr_xrt.tsc_mult)
		mmr_tsc_pair(&tsc_ns, &tsc_at);
}

static bool parent_alive(void)
{
	return kill(mmr_xrt.parent, 0) == 0 || errno == EPERM;
}

/* Children a task waits for (see MMR_PLAN_REAP_MAX): their exit ends the wait. */
struct reap {
	uint32_t child;
	pid_t pid;
};

struct tcopy;

/*
 * A running task: where it reads its plan and where it reports. It lives
 * on the task's stack, so a replayed child touches no page its parent did
 * not hand it, other than its stack: the plan comes in a copy made by the
 * parent before fork (struct tcopy), counters and the first samples stay
 * here until the task ends (see report).
 */
struct tctx {
	uint32_t task;
	bool live;			/* mmr_xrt.live: counters in place */
	bool siblings;			/* other threads share its process */
	const struct mmr_plan_task *pt;
	const struct mmr_plan_op *ops;		/* its ops, pt->nops of them */
	const struct mmr_plan_piece *pieces;	/* indexed by op->piece */
	struct mmr_xtask *x;		/* the shared counters, or &rec */
	struct mmr_xtask rec;
	const struct mmr_plan_base *bases;	/* nbases of them, from the parent (see tcopy) */
	unsigned nbases;
	unsigned nreaps;
	unsigned unwaited;		/* children forked and not in reaps */
	struct reap *reaps;		/* pt->reaps, on run_task's stack when it forks */
	struct tcopy *tbuf;		/* ditto: what do_fork hands a child (see tcopy) */
	uint32_t next_reclaim;		/* the next plan reclaim it waits for (see await_reclaims) */
};

#define SAMPLES_OUT (MMR_XS_SAMPLES + 1)

/* Add a sample to this CPU's histogram of kind (MMR_XH_LAG: start lag). */
static void xhist_add(unsigned kind, uint64_t ns)
{
	unsigned cpu = (unsigned)sched_getcpu();
	struct mmr_xhist *h;
	uint64_t v;

	if (cpu >= mmr_xrt.ncpus)
		cpu %= mmr_xrt.ncpus;
	h = mmr_xhist_at(cpu * MMR_XH_KINDS + kind);
	__atomic_fetch_add(&h->b[mmr_hist_bucket_of(ns)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum, ns, __ATOMIC_RELAXED);
	/* min starts at 0 meaning "none": stored as ns + 1 */
	v = __atomic_load_n(&h->min, __ATOMIC_RELAXED);
	while ((!v || ns + 1 < v) &&
	       !__atomic_compare_exchange_n(&h->min, &v, ns + 1, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	v = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
	while (ns > v &&
	       !__atomic_compare_exchange_n(&h->max, &v, ns, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* A sample of kind (MMR_XH_*) taken by task c. */
static void sample(struct tctx *c, unsigned kind, uint64_t ns)
{
	struct mmr_xtask *x = c->x;

	if (x->nsamples < MMR_XS_SAMPLES) {
		x->s[x->nsamples] = (uint64_t)kind << MMR_XS_KIND_SHIFT | (ns & MMR_XS_NS_MASK);
		x->nsamples++;	/* after the sample: the caller reads it once the task is gone */
		return;
	}
	if (x->nsamples == MMR_XS_SAMPLES) {
		/* a long task: the shared pages are worth faulting in now */
		for (uint32_t i = 0; i < MMR_XS_SAMPLES; i++)
			xhist_add((unsigned)(x->s[i] >> MMR_XS_KIND_SHIFT), x->s[i] & MMR_XS_NS_MASK);
		x->nsamples = SAMPLES_OUT;
	}
	xhist_add(kind, ns);
}

/* An op's start lag, into the histogram and its tenth of the timeline. */
static void lag_sample(struct tctx *c, uint64_t ts, uint64_t lag)
{
	uint64_t d = mmr_xrt.plan->duration_ns;
	unsigned i = !d ? 0 : ts >= d ? MMR_LAG_TENTHS - 1 : (unsigned)(ts / (d / MMR_LAG_TENTHS + 1));
	struct mmr_xtask *x = c->x;

	sample(c, MMR_XH_LAG, lag);
	x->lag_n[i]++;
	x->lag_sum[i] += lag;
	if (lag > x->lag_max[i])
		x->lag_max[i] = lag;
}

static void xfail(struct tctx *c, enum mmr_pop kind, int code)
{
	struct mmr_xtask *x = c->x;

	for (unsigned i = 0; i < MMR_XF_SLOTS; i++) {
		struct mmr_xfail *f = &x->fails[i];

		if (f->count && (f->op != kind || f->code != code))
			continue;
		f->op = kind;
		f->code = code;
		f->count++;
		return;
	}
	x->other_fails++;
}

/*
 * Sleep until abs (CLOCK_MONOTONIC ns); -1 when the run is aborted
 * meanwhile. Sleeping, not spinning: an idle CPU is part of what the
 * recorded program's locks saw (a TLB flush that must wake it up takes
 * longer), and spinning the last 200 us of every wait made the mprotect
 * mmap_lock hold of the round trip test 30% shorter than recorded.
 */
static int wait_until(uint64_t abs)
{
	for (;;) {
		uint64_t n = now(), d;
		struct timespec ts;

		if (n >= abs)
			return 0;
		if (mmr_xrt.hdr->abort)
			return -1;
		d = abs - n;
		if (d > PARENT_CHECK_NS) {
			d = PARENT_CHECK_NS;
			if (!parent_alive())
				return -1;
		}
		ts.tv_sec = (n + d) / 1000000000ull;
		ts.tv_nsec = (n + d) % 1000000000ull;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static uint64_t intended(uint64_t ts)
{
	return mmr_xrt.t0 + (uint64_t)((double)ts / mmr_xrt.speed);
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	struct touch_rec *r = touch_rec;

	(void)si;
	(void)uc;

	if (r && r->key == (TOUCH_KEY ^ (uintptr_t)r))
		siglongjmp(r->jb, sig);
	signal(sig, SIG_DFL);	/* a bug in the replayer itself: die visibly */
	raise(sig);
}

/*
 * Where region is mapped (0: not yet). The parent's copy first: a region
 * is mapped once, so once known its base never changes.
 */
static uint64_t region_base(const struct tctx *c, uint32_t region)
{
	if (region == MMR_PLAN_NONE)
		return 0;
	for (unsigned i = 0; i < c->nbases; i++)
		if (c->bases[i].region == region)
			return c->bases[i].base;
	return mmr_xrt.base[region];
}

/* ---- operations: 0 or a failure code (errno, or -MMR_XF_*) ---- */

struct touch {
	struct tctx *c;
	const struct mmr_plan_op *op;
	bool pace;
	uint64_t total;		/* pages of the whole run */
	volatile uint64_t done;	/* pages of the run touched (or skipped) so far */
};

/*
 * Touch one piece of a fault run. A touch that faults fatally (the
 * region is not accessible in the replay) jumps back here; the rest of
 * the piece is skipped and the op counts as failed.
 */
static int touch_piece(struct touch *tc, const struct mmr_plan_piece *pc)
{
	const struct mmr_plan_op *op = tc->op;
	uint64_t base = region_base(tc->c, pc->region);
	char *p = (char *)(uintptr_t)(base + pc->off);
	int64_t stride = op->arg.fault.stride;
	volatile uint64_t i = 0;
	struct touch_rec tr;
	int sig;

	if (!base) {
		tc->done += pc->len;
		return -MMR_XF_UNMAPPED;
	}
	tr.key = 0;
	sig = sigsetjmp(tr.jb, 0);
	if (sig) {
		tr.key = 0;
		tc->done += pc->len - i;
		return sig == SIGBUS ? -MMR_XF_BUS : -MMR_XF_SEGV;
	}
	if (touch_rec != &tr)
		touch_rec = &tr;
	tr.key = TOUCH_KEY ^ (uintptr_t)&tr;
	for (; i < pc->len; i++, tc->done++) {
		volatile char *a = (volatile char *)(p + (int64_t)i * stride);
		uint64_t s, e;

		s = now();
		/*
		 * Spread the pages over the recorded duration of the run (the
		 * clock read above serves both: one read less per page).
		 */
		if (tc->pace && tc->total > 1) {
			double frac = (double)tc->done / (double)(tc->total - 1);
			uint64_t want = intended(op->ts + (uint64_t)(frac * (op->last - op->ts)));

			if (want > s + PACE_SLACK_NS) {
				if (wait_until(want) < 0)
					break;
				s = now();
			}
		}
		if (op->arg.fault.write)
			*a = 1;
		else
			(void)*a;
		e = now();
		sample(tc->c, MMR_POP_FAULT, e - s);
	}
	tr.key = 0;
	return 0;
}

static int do_fault(struct tctx *c, const struct mmr_plan_op *op)
{
	const struct mmr_plan_piece *pc = &c->pieces[op->piece];
	struct touch tc = {
		.c = c,
		.op = op,
		.pace = !mmr_xrt.closed_loop && op->last > op->ts,
	};
	int failed = 0;

	for (uint32_t k = 0; k < op->npieces; k++)
		tc.total += pc[k].len;
	for (uint32_t k = 0; k < op->npieces; k++) {
		int r = touch_piece(&tc, &pc[k]);

		if (r)
			failed = r;
	}
	return failed;
}

/*
 * Where the recording had a mapping: the kernel takes the hint when that
 * range is free (it never replaces anything), else it picks as without.
 * Mappings at their recorded places keep the recorded order and gaps, so
 * the VMA tree has the recorded shape around them, and what a split or a
 * merge costs in it (maple tree node splits and rebalancing were 14% of
 * a small mprotect in a recording and none in its replay before). The
 * binary and heap move as one block (mmr_xrt.shift, exec-layout.c).
 */
static void *rec_hint(const struct mmr_plan_region *r)
{
	uint64_t a = r->rec_start;

	if (a - mmr_xrt.shift.lo < mmr_xrt.shift.hi - mmr_xrt.shift.lo)
		a += mmr_xrt.shift.delta;
	return (void *)(uintptr_t)a;
}

/* mmap() that falls back to no PROT_EXEC where the file system forbids it. */
static void *map(void *addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	void *r = mmap(addr, len, prot, flags, fd, (off_t)off);

	if (r == MAP_FAILED && (errno == EPERM || errno == EACCES) && (prot & PROT_EXEC))
		r = mmap(addr, len, prot & ~PROT_EXEC, flags, fd, (off_t)off);
	return r;
}

static int do_mmap(struct tctx *c, const struct mmr_plan_op *op)
{
	const struct mmr_plan_piece *pc = &c->pieces[op->piece];
	int flags = (int)op->arg.mmap.flags & ~(MAP_FIXED | MAP_FIXED_NOREPLACE);
	void *hint = NULL, *r;
	int fd = -1;
	uint64_t off = 0, s, e;

	/*
	 * Fixed only inside a region this replay mapped. Else the recorded
	 * address is a hint (see rec_hint).
	 */
	if (op->arg.mmap.fixed && op->npieces == 1 && region_base(c, pc->region)) {
		hint = (void *)(uintptr_t)(region_base(c, pc->region) + pc->off);
		flags |= (op->arg.mmap.flags & MAP_FIXED) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	} else {
		hint = rec_hint(&mmr_xrt.plan->regions[op->arg.mmap.region]);
	}
	if (op->arg.mmap.file != MMR_PLAN_NONE) {
		fd = mmr_xrt.fds[op->arg.mmap.file];
		off = op->arg.mmap.off;
		flags &= ~MAP_ANONYMOUS;
	} else {
		flags |= MAP_ANONYMOUS;
	}
	s = now();
	r = map(hint, op->arg.mmap.len, (int)op->arg.mmap.prot, flags, fd, off);
	e = now();
	if (r == MAP_FAILED)
		return errno;
	mmr_xrt.base[op->arg.mmap.region] = (uint64_t)(uintptr_t)r;
	sample(c, MMR_POP_MMAP, e - s);
	return 0;
}

static int range_call(enum mmr_pop kind, void *addr, uint64_t len, uint64_t arg)
{
	int r;

	switch (kind) {
	case MMR_POP_MPROTECT:
		r = mprotect(addr, len, (int)arg);
		if (r < 0 && errno == EACCES && (arg & PROT_EXEC))
			r = mprotect(addr, len, (int)arg & ~PROT_EXEC);
		return r;
	case MMR_POP_MADVISE:
		return madvise(addr, len, (int)arg);
	default:
		return munmap(addr, len);
	}
}

/* munmap, mprotect, madvise, and exec (which unmaps everything). */
static int do_range(struct tctx *c, const struct mmr_plan_op *op)
{
	const struct mmr_plan_piece *pc = &c->pieces[op->piece];
	enum mmr_pop kind = op->kind == MMR_POP_EXEC ? MMR_POP_MUNMAP : op->kind;
	uint64_t s, e;
	int failed = 0;

	if (!op->npieces)
		return op->unresolved ? -MMR_XF_UNMAPPED : 0;
	s = now();
	for (uint32_t k = 0; k < op->npieces; k++) {
		uint64_t base = region_base(c, pc[k].region);

		if (!base) {
			/* exec takes down what exists; a region never created is no failure */
			if (op->kind != MMR_POP_EXEC)
				failed = -MMR_XF_UNMAPPED;
			continue;
		}
		if (range_call(kind, (void *)(uintptr_t)(base + pc[k].off), pc[k].len,
			       op->arg.range.arg) < 0)
			failed = errno;
	}
	e = now();
	sample(c, op->kind, e - s);
	return failed;
}

static int do_mremap(struct tctx *c, const struct mmr_plan_op *op)
{
	const struct mmr_plan_piece *pc = &c->pieces[op->piece];
	int flags = ((int)op->arg.mremap.flags & ~MREMAP_FIXED) | MREMAP_MAYMOVE;
	uint64_t base, s, e;
	void *r;

	if (!op->npieces || !(base = region_base(c, pc->region)))
		return -MMR_XF_UNMAPPED;
	s = now();
	r = mremap((void *)(uintptr_t)(base + pc->off), op->arg.mremap.old_len,
		   op->arg.mremap.new_len, flags);
	e = now();
	if (r == MAP_FAILED)
		return errno;
	mmr_xrt.base[op->arg.mremap.region] = (uint64_t)(uintptr_t)r;
	sample(c, MMR_POP_MREMAP, e - s);
	return 0;
}

/*
 * brk moves the end of the heap: the replay's heap is a reserved region
 * (PROT_NONE) whose front part is made accessible, so the replayer's own
 * malloc heap is never touched.
 */
static int do_brk(struct tctx *c, const struct mmr_plan_op *op)
{
	uint64_t base = region_base(c, op->arg.brk.region), o = op->arg.brk.old_off,
		 n = op->arg.brk.new_off, s, e;
	void *r = NULL;

	if (op->unresolved || !base)
		return -MMR_XF_UNMAPPED;
	s = now();
	if (n > o)
		r = mmap((void *)(uintptr_t)(base + o), n - o, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else if (n < o)
		r = mmap((void *)(uintptr_t)(base + n), o - n, PROT_NONE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	e = now();
	if (r == MAP_FAILED)
		return errno;
	sample(c, MMR_POP_BRK, e - s);
	return 0;
}

static void run_task(struct tctx *c);
static void end_process(struct tctx *c) __attribute__((noreturn));
static void setup_task(const struct tctx *c);

/*
 * What a parent hands the child it forks, on its own stack: the child
 * reads it in its inherited copy of that stack, whose page tables fork
 * copied, where the plan's shared mapping would cost it page faults and
 * page tables of its own. Whether the child counts in place, and,
 * when they fit, its task, its ops and their pieces, renumbered, and
 * where the regions they touch are mapped already (mmr_xrt.base is in
 * the shared memfd too).
 */

struct tcopy {
	bool live, siblings;
	bool whole;		/* the ops and pieces follow */
	uint8_t nbases;
	struct mmr_plan_task t;
	/* nbases bases (only as many as there are: less stack), t.nops ops, their pieces */
	struct mmr_plan_base bases[];
};

/* Hand region's base to the child, when it is mapped and there is room. */
static void tbase_add(struct tcopy *cp, uint32_t region)
{
	uint64_t b;

	if (region == MMR_PLAN_NONE || cp->nbases == MMR_PLAN_COPY_BASES)
		return;
	for (unsigned i = 0; i < cp->nbases; i++)
		if (cp->bases[i].region == region)
			return;
	b = mmr_xrt.base[region];
	if (b)
		cp->bases[cp->nbases++] = (struct mmr_plan_base){ region, b };
}

static void tcopy_fill(struct tcopy *cp, uint32_t child, bool whole)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	const struct mmr_plan_task *t = &p->tasks[child];
	struct mmr_plan_op *ops;
	struct mmr_plan_piece *pcs;
	uint32_t k = 0;

	cp->live = mmr_xrt.live[child];
	cp->siblings = mmr_xrt.grp[2 * child + 1] > 1;
	cp->whole = whole;
	cp->t = *t;
	cp->nbases = 0;
	if (!whole)
		return;
	for (uint32_t i = 0; i < t->nops; i++) {
		const struct mmr_plan_op *op = &p->ops[t->op + i];

		if (op->kind == MMR_POP_BRK)
			tbase_add(cp, op->arg.brk.region);
		for (uint32_t j = 0; j < op->npieces; j++)
			tbase_add(cp, p->pieces[op->piece + j].region);
	}
	ops = (struct mmr_plan_op *)(cp->bases + cp->nbases);
	pcs = (struct mmr_plan_piece *)(ops + t->nops);
	for (uint32_t i = 0; i < t->nops; i++) {
		ops[i] = p->ops[t->op + i];
		memcpy(&pcs[k], &p->pieces[ops[i].piece], ops[i].npieces * sizeof(*pcs));
		ops[i].piece = k;
		k += ops[i].npieces;
	}
}

/* Set up task's context; cp: what its parent handed it, NULL for the others. */
static void tctx_init(struct tctx *c, uint32_t task, const struct tcopy *cp)
{
	const struct mmr_plan *p = mmr_xrt.plan;

	c->task = task;
	c->nreaps = 0;
	c->unwaited = 0;
	c->bases = cp ? cp->bases : NULL;
	c->nbases = cp ? cp->nbases : 0;
	memset(&c->rec, 0, sizeof(c->rec));
	if (cp) {
		c->live = cp->live;
		c->siblings = cp->siblings;
		c->pt = &cp->t;
	} else {
		c->live = true;
		c->siblings = mmr_xrt.grp[2 * task + 1] > 1;
		c->pt = &p->tasks[task];
	}
	if (cp && cp->whole) {
		c->ops = (const struct mmr_plan_op *)(cp->bases + cp->nbases);
		c->pieces = (const struct mmr_plan_piece *)(c->ops + cp->t.nops);
	} else {
		c->ops = &p->ops[c->pt->op];
		c->pieces = p->pieces;
	}
	c->x = c->live ? &mmr_xrt.tasks[task] : &c->rec;
}

/* Offset in the shared memfd of ptr, a place in the results part. */
static off_t shm_off(const volatile void *ptr)
{
	return (off_t)(mmr_xrt.shm_foff + (size_t)((const char *)ptr - (const char *)mmr_xrt.hdr));
}

/*
 * A task that kept its record to itself (not live) hands it over at its
 * end, in one pwrite: stores would fault the shared page into a process
 * about to exit. (The caller cleared the results, so the page exists and
 * the write needs no memory; should it fail anyway, the stores do it.)
 */
static void report(struct tctx *c)
{
	struct mmr_xtask *xt = &mmr_xrt.tasks[c->task];

	if (!c->live && pwrite(mmr_xrt.shm_fd, &c->rec, sizeof(c->rec), shm_off(xt)) != (ssize_t)sizeof(c->rec))
		memcpy(xt, &c->rec, sizeof(c->rec));
}

static void child_main(uint32_t task, const struct tcopy *cp) __attribute__((noreturn));
static void child_main(uint32_t task, const struct tcopy *cp)
{
	struct tctx c;

	/*
	 * A new process has none of its parent's threads. (Fork-heavy traces
	 * have thousands of tasks: no pass over all of them per process when
	 * the parent created no thread.)
	 */
	if (mmr_xrt.ncreated) {
		memset(mmr_xrt.created, 0, mmr_xrt.plan->ntasks);
		mmr_xrt.ncreated = 0;
	}
	tctx_init(&c, task, cp);
	setup_task(&c);
	run_task(&c);
	end_process(&c);
}

/*
 * A child that will neither fork nor create threads only makes system
 * calls and touches memory: it gets the bare clone(SIGCHLD), without
 * glibc's fork bookkeeping (atfork handlers, malloc and stdio locks, the
 * thread list), whose writes cost copy-on-write faults in both processes
 * on every replayed fork. glibc's view of the child (its cached thread
 * id) is stale then, which only threads and locks would notice.
 */
static pid_t replay_fork(uint32_t opmask)
{
	if (opmask & ((1u << MMR_POP_FORK) | (1u << MMR_POP_THREAD)))
		return fork();
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

/*
 * Wait for the pending children recorded to exit before ts (see
 * MMR_PLAN_REAP_MAX), as the recorded program did: waitpid. A child that another
 * thread's sweep reaped first is gone too (ECHILD). It cannot hang: on
 * abort the whole tree is killed, and a child whose caller is gone ends
 * by itself (parent_alive).
 */
static void reap_due(struct tctx *c, uint64_t ts)
{
	for (unsigned i = 0; i < c->nreaps;) {
		if (mmr_xrt.plan->tasks[c->reaps[i].child].end_ts >= ts) {
			i++;
			continue;
		}
		while (waitpid(c->reaps[i].pid, NULL, __WALL) < 0 && errno == EINTR)
			;
		c->reaps[i] = c->reaps[--c->nreaps];
	}
}

/*
 * Reap the children nobody waits for that have ended (zombies would pile
 * up against RLIMIT_NPROC in a process that forks thousands); a tracked
 * child reaped here is forgotten, so its pid is never waited for again.
 */
static void sweep(struct tctx *c)
{
	pid_t r;

	while (c->unwaited && (r = waitpid(-1, NULL, WNOHANG | __WALL)) > 0) {
		unsigned i;

		for (i = 0; i < c->nreaps && c->reaps[i].pid != r; i++)
			;
		if (i < c->nreaps)
			c->reaps[i] = c->reaps[--c->nreaps];
		else
			c->unwaited--;
	}
}

static int do_fork(struct tctx *c, const struct mmr_plan_op *op)
{
	uint32_t child = op->arg.fork.child;
	size_t len = mmr_plan_copy_len(mmr_xrt.plan, child, NULL);
	struct tcopy *cp = c->tbuf;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uint64_t s, e;
	pid_t pid;

	if (sp > mmr_xrt.stack_lo && sp <= mmr_xrt.stack_hi && sp - mmr_xrt.stack_lo < MMR_XSTACK_RESERVE)
		return -MMR_XF_STACK;
	tcopy_fill(cp, child, len <= MMR_PLAN_COPY_MAX);
	sweep(c);
	s = now();
	pid = replay_fork(cp->t.opmask);
	if (pid == 0) {
		/*
		 * The child starts its frames right at the next page boundary
		 * down from the stack pointer (see run_task): one page then
		 * holds what it writes around each op where the frames would
		 * straddle two, and every page it writes is a fault after
		 * each fork it makes.
		 */
		char *here = alloca(16);
		void *pad = alloca((uintptr_t)here & (mmr_xrt.page_size - 1));

		__asm__ volatile("" : : "r"(pad) : "memory");
		child_main(child, cp);
	}
	e = now();
	if (pid < 0)
		return errno;
	if (!cp->live) {
		/* "running" for the caller until the child reports (0 -> 1 only) */
		uint32_t idle = 0;

		__atomic_compare_exchange_n(&mmr_xrt.tasks[child].state, &idle, 1, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	/* waited for when this task has ops after the child's recorded exit */
	if (c->nreaps < c->pt->reaps && cp->t.end_ts < c->pt->end_ts)
		c->reaps[c->nreaps++] = (struct reap){ child, pid };
	else
		c->unwaited++;
	sample(c, MMR_POP_FORK, e - s);
	return 0;
}

static pthread_attr_t thread_attr;

static void *thread_main(void *arg)
{
	struct tctx c;

	tsc_reanchor();
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	tctx_init(&c, (uint32_t)(uintptr_t)arg, NULL);
	setup_task(&c);
	run_task(&c);
	return NULL;
}

/*
 * Handles of the threads a process creates, mapped by the first creator:
 * a fork-heavy trace has thousands of tasks, and every replayed fork and
 * exit would copy and free the page tables of tables sized for all of
 * them in processes that create no thread at all.
 */
static bool thread_tables(void)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	size_t len = (size_t)p->ntasks * (sizeof(pthread_t) + 1);
	pthread_t *want = NULL;
	void *m;

	if (__atomic_load_n(&mmr_xrt.threads, __ATOMIC_ACQUIRE))
		return true;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	mmr_xrt.created = (uint8_t *)m + (size_t)p->ntasks * sizeof(pthread_t);
	if (!__atomic_compare_exchange_n(&mmr_xrt.threads, &want, (pthread_t *)m, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		munmap(m, len);	/* another thread of this process was first */
	return true;
}

static int do_thread(struct tctx *c, const struct mmr_plan_op *op)
{
	uint32_t child = op->arg.fork.child;
	uint64_t s, e;
	int r;

	if (!thread_tables())
		return ENOMEM;
	s = now();
	r = pthread_create(&mmr_xrt.threads[child], &thread_attr, thread_main,
			   (void *)(uintptr_t)child);
	e = now();
	if (r)
		return r;
	mmr_xrt.created[child] = 1;
	__atomic_add_fetch(&mmr_xrt.ncreated, 1, __ATOMIC_RELAXED);
	sample(c, MMR_POP_THREAD, e - s);
	return 0;
}

static int do_op(struct tctx *c, const struct mmr_plan_op *op)
{
	switch (op->kind) {
	case MMR_POP_FAULT: return do_fault(c, op);
	case MMR_POP_MMAP: return do_mmap(c, op);
	case MMR_POP_MUNMAP:
	case MMR_POP_MPROTECT:
	case MMR_POP_MADVISE:
	case MMR_POP_EXEC: return do_range(c, op);
	case MMR_POP_MREMAP: return do_mremap(c, op);
	case MMR_POP_BRK: return do_brk(c, op);
	case MMR_POP_FORK: return do_fork(c, op);
	case MMR_POP_THREAD: return do_thread(c, op);
	default: return 0;	/* exit: the task ends after it */
	}
}

/*
 * A region another task creates may not be mapped yet when this op comes:
 * in closed-loop mode tasks run at their own pace, and in timed modes the
 * creator may lag. Wait for it while its creator still runs (bounded), so
 * cross-task order is kept where the trace depends on it.
 */
#define AWAIT_MAX_NS 1000000000ull

/* The first reclaim from j on (plan order) whose target is task; nreclaims when none. */
static uint32_t reclaim_of(uint32_t task, uint32_t j)
{
	const struct mmr_plan *p = mmr_xrt.plan;

	while (j < p->nreclaims && p->reclaims[j].task != task)
		j++;
	return j;
}

/*
 * --reclaim=pageout: a reclaim recorded after this task's first i ops is
 * done before its op i, as when recorded, however late the reclaimer
 * (a thread of the caller) comes: at most AWAIT_MAX_NS, after which the
 * reclaimer finds what it finds. The wait is lag of op i.
 */
static void await_reclaims(struct tctx *c, uint32_t i)
{
	const struct mmr_plan *p = mmr_xrt.plan;

	while (c->next_reclaim < p->nreclaims && p->reclaims[c->next_reclaim].after_ops <= i) {
		uint64_t give_up = now() + AWAIT_MAX_NS;
		struct timespec ts = { 0, 50000 };

		while (__atomic_load_n(&mmr_xrt.hdr->reclaims_done, __ATOMIC_ACQUIRE) <= c->next_reclaim &&
		       !mmr_xrt.hdr->abort && now() < give_up)
			nanosleep(&ts, NULL);
		c->next_reclaim = reclaim_of(c->task, c->next_reclaim + 1);
	}
}

static bool await_region(const struct tctx *c, uint32_t region)
{
	const struct mmr_plan_region *r;
	uint64_t give_up = 0;

	if (region == MMR_PLAN_NONE || region_base(c, region))
		return false;
	r = &mmr_xrt.plan->regions[region];
	if (r->origin == MMR_REGION_IMPLICIT) {
		/* Stand-in memory: whoever needs it first maps it (one wins the race). */
		void *m = mmap(rec_hint(r), r->len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uint64_t want = 0;

		if (m != MAP_FAILED &&
		    !__atomic_compare_exchange_n(&mmr_xrt.base[region], &want, (uint64_t)(uintptr_t)m,
						 false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			munmap(m, r->len);
		return false;
	}
	/* Set up at a task's start, or by this task: if it is not there, it failed. */
	if (r->origin == MMR_REGION_INITIAL || r->origin == MMR_REGION_HEAP || r->task == c->task)
		return false;
	while (!mmr_xrt.base[region] && !mmr_xrt.hdr->abort &&
	       mmr_xrt.tasks[r->task].state != 2) {
		struct timespec ts = { 0, 20000 };
		uint64_t n = now();

		if (!give_up)
			give_up = n + AWAIT_MAX_NS;
		else if (n > give_up)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* true when a region another task creates was still missing after the wait */
static bool await_op(const struct tctx *c, const struct mmr_plan_op *op)
{
	bool late = false;

	for (uint32_t k = 0; k < op->npieces; k++)
		late |= await_region(c, c->pieces[op->piece + k].region);
	if (op->kind == MMR_POP_BRK)
		late |= await_region(c, op->arg.brk.region);
	return late;
}

/* Ops of task u recorded before ts (ops of one task are in recorded order). */
static uint32_t ops_before(uint32_t u, uint64_t ts)
{
	const struct mmr_plan_task *pu = &mmr_xrt.plan->tasks[u];
	const struct mmr_plan_op *ops = &mmr_xrt.plan->ops[pu->op];
	uint32_t lo = 0, hi = pu->nops;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ops[mid].ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Ops that change which addresses of a process are accessible. */
#define MUTATORS ((1u << MMR_POP_MMAP) | (1u << MMR_POP_MUNMAP) | (1u << MMR_POP_MREMAP) | \
		  (1u << MMR_POP_MPROTECT) | (1u << MMR_POP_BRK) | (1u << MMR_POP_EXEC))
/* Ops that wait for sibling threads (see await_siblings). */
#define SIBLING_ORDERED ((1u << MMR_POP_MUNMAP) | (1u << MMR_POP_MPROTECT) | \
			 (1u << MMR_POP_MREMAP) | (1u << MMR_POP_FAULT))

/*
 * Keep the recorded order between the threads of a process where one
 * changes what the other touches. Before an munmap, mprotect or mremap,
 * every other thread has started its ops recorded earlier (a thread that
 * lags would get SIGSEGV or ENOMEM where the recording had none); before
 * a fault run, every thread that maps, unmaps or protects memory has
 * started its earlier ops (the touch may need what they set up). Started,
 * not finished: where the recorded ops overlapped, the kernel's locks
 * order them, and that overlap is the contention being measured. Waiting
 * only on strictly earlier ops, with every task in recorded order, cannot
 * deadlock; the wait is bounded anyway. (Tasks with siblings are live:
 * their counters are in place.)
 */
static void await_siblings(const struct tctx *c, const struct mmr_plan_op *op, bool mutators_only)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	const uint32_t *m = mmr_xrt.members + mmr_xrt.grp[2 * c->task];
	uint32_t n = mmr_xrt.grp[2 * c->task + 1];
	uint64_t give_up = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t u = m[i], need;

		if (u == c->task || (mutators_only && !(p->tasks[u].opmask & MUTATORS)))
			continue;
		need = ops_before(u, op->ts);
		while (need && mmr_xrt.tasks[u].ops_started < need && mmr_xrt.tasks[u].state != 2 &&
		       !mmr_xrt.hdr->abort) {
			struct timespec ts = { 0, 20000 };
			uint64_t t = now();

			if (!give_up)
				give_up = t + AWAIT_MAX_NS;
			else if (t > give_up)
				return;
			nanosleep(&ts, NULL);
		}
	}
}

static void run_task(struct tctx *c)
{
	const struct mmr_plan_task *pt = c->pt;
	struct mmr_xtask *x = c->x;
	uint64_t next_check = now() + PARENT_CHECK_NS;

	/*
	 * Only a task that forks waits for children; the table is not on the
	 * stack of the others, which every replayed child would otherwise
	 * reach deeper into (a page fault per page).
	 */
	c->reaps = NULL;
	c->tbuf = NULL;
	if (pt->opmask & (1u << MMR_POP_FORK)) {
		/*
		 * What a forking parent writes around each fork (this task's
		 * context, the table, the copy for the child, do_fork's frame
		 * and the calls it makes) is packed here, under the context its
		 * own parent started on a page boundary: every page of it that
		 * the parent writes after a fork costs it a copy-on-write fault
		 * while the child lives, and the recorded parent took one.
		 */
		/* as many as the plan counted (count_reaps), not a fixed table */
		c->reaps = alloca((pt->reaps ? pt->reaps : 1u) * sizeof(*c->reaps));
		c->tbuf = alloca(sizeof(struct tcopy) + pt->copy_max);
	}
	if (c->live)
		x->pid = getpid();
	x->state = 1;
	/* reclaim targets are live: the reclaimer follows their progress */
	c->next_reclaim = mmr_xrt.reclaim_gate && c->live ? reclaim_of(c->task, 0) : mmr_xrt.plan->nreclaims;
	for (uint32_t i = 0; i < pt->nops; i++) {
		const struct mmr_plan_op *op = &c->ops[i];
		uint64_t want = 0, start;
		bool late;
		int code;

		if (!mmr_xrt.closed_loop) {
			want = intended(op->ts);
			if (wait_until(want) < 0)
				break;
		}
		if (c->nreaps)
			reap_due(c, op->ts);
		if (c->next_reclaim < mmr_xrt.plan->nreclaims)
			await_reclaims(c, i);
		late = (op->npieces || op->kind == MMR_POP_BRK) && await_op(c, op);
		if (c->siblings && ((1u << op->kind) & SIBLING_ORDERED))
			await_siblings(c, op, op->kind == MMR_POP_FAULT);
		start = now();
		if (!mmr_xrt.closed_loop)
			lag_sample(c, op->ts, start > want ? start - want : 0);
		x->ops_started = i + 1;
		code = do_op(c, op);
		if (code == -MMR_XF_UNMAPPED && late)
			code = -MMR_XF_LATE;
		if (code) {
			x->ops_failed++;
			xfail(c, op->kind, code);
		}
		x->ops_done++;
		/*
		 * The shared header is read now and then, not per op: a forked
		 * child has no page table entry for it and would fault it in
		 * (the caller follows an abort with SIGKILL to the whole tree
		 * anyway; the flag only ends waits sooner).
		 */
		if (start > next_check) {
			if (mmr_xrt.hdr->abort || !parent_alive())
				break;
			tsc_reanchor();
			next_check = start + PARENT_CHECK_NS;
		}
	}
	/* one recorded after its last op comes before its end too */
	if (c->next_reclaim < mmr_xrt.plan->nreclaims)
		await_reclaims(c, pt->nops);
	/* children outliving the task's ops are not waited for (the caller reaps them) */
	x->end_ns = now();
	x->state = 2;
	report(c);
}

/* Wait for every thread of the process, then end it. */
static void end_process(struct tctx *c)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	uint32_t leader = c->task;

	/* Creators precede what they create, so joining in task order waits for all. */
	for (uint32_t u = 0; __atomic_load_n(&mmr_xrt.ncreated, __ATOMIC_RELAXED) && u < p->ntasks; u++)
		if (u != leader && p->tasks[u].leader == leader && mmr_xrt.created[u])
			pthread_join(mmr_xrt.threads[u], NULL);
	if (c->live)
		mmr_xrt.tasks[leader].pid = 0;
	_exit(0);
}

/* Create the regions a task brings along (initial maps, heap reserve). */
static void setup_task(const struct tctx *c)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	const struct mmr_plan_task *pt = c->pt;

	for (uint32_t i = 0; i < pt->nsetup; i++) {
		uint32_t reg = p->setup_regions[pt->setup + i];
		const struct mmr_plan_region *r = &p->regions[reg];
		uint64_t len = r->len ? r->len : p->page_size;
		void *m;

		if (r->origin == MMR_REGION_HEAP) {
			m = mmap(rec_hint(r), len, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (m != MAP_FAILED && r->init_len &&
			    mmap(m, r->init_len, PROT_READ | PROT_WRITE,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
				munmap(m, len);
				m = MAP_FAILED;
			}
		} else {
			int flags = (int)r->flags & (MAP_SHARED | MAP_PRIVATE);
			int fd = -1;

			if (r->file != MMR_PLAN_NONE)
				fd = mmr_xrt.fds[r->file];
			else
				flags |= MAP_ANONYMOUS;
			/* Reservations until touched; touched pages are bounded by the faults. */
			if (fd < 0)
				flags |= MAP_NORESERVE;
			m = map(rec_hint(r), len, (int)r->prot, flags, fd, fd >= 0 ? r->file_off : 0);
		}
		/* A failed setup shows later as "unmapped" failures of the ops. */
		if (m != MAP_FAILED)
			mmr_xrt.base[reg] = (uint64_t)(uintptr_t)m;
	}
}

/* Arrive at the start barrier and wait for the go; -1 when aborted. */
static int barrier(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	__atomic_add_fetch(&mmr_xrt.hdr->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&mmr_xrt.hdr->go, __ATOMIC_ACQUIRE)) {
		if (mmr_xrt.hdr->abort || !parent_alive())
			return -1;
		syscall(SYS_futex, &mmr_xrt.hdr->go, FUTEX_WAIT, 0, &ts, NULL, 0);
	}
	mmr_xrt.t0 = mmr_xrt.hdr->t0;
	mmr_xrt.reclaim_gate = mmr_xrt.hdr->reclaim_gate;
	tsc_at = mmr_xrt.hdr->tsc_at;
	tsc_ns = mmr_xrt.hdr->tsc_ns;
	mmr_xrt.tsc_mult = mmr_xrt.hdr->tsc_mult;
	return mmr_xrt.hdr->abort ? -1 : 0;
}

static void *initial_thread_main(void *arg)
{
	struct tctx c;

	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	tctx_init(&c, (uint32_t)(uintptr_t)arg, NULL);
	setup_task(&c);
	if (barrier() == 0)
		run_task(&c);
	return NULL;
}

/* RLIMIT_STACK, or 1 GiB when unlimited (the kernel then grows the stack toward it). */
static uint64_t stack_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_STACK, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1ull << 30))
		return rl.rlim_cur & ~(uint64_t)(mmr_xrt.page_size - 1);
	return 1ull << 30;
}

/*
 * Where this main thread's stack may reach: down from here (what lies
 * above is main's frames and the environment) by stack_limit. Taken by
 * the processes forked from here, where it is the same.
 */
static void stack_bounds(void)
{
	uintptr_t hi = (uintptr_t)__builtin_frame_address(0);
	uint64_t lim = stack_limit();

	/* exec's arguments and environment count against the limit too */
	mmr_xrt.stack_hi = hi;
	mmr_xrt.stack_lo = lim < hi - (64u << 10) ? hi - lim + (64u << 10) : 0;
}

static void root_main(uint32_t task) __attribute__((noreturn));

/* Choose mmr_xrt.shift from the root's recorded heap, before anything is mapped. */
static void place_binary(uint32_t task)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	const struct mmr_plan_task *pt = &p->tasks[task];
	uint32_t heap = MMR_PLAN_NONE;

	for (uint32_t i = 0; i < pt->nsetup; i++) {
		uint32_t reg = p->setup_regions[pt->setup + i];

		if (p->regions[reg].origin == MMR_REGION_HEAP)
			heap = reg;
	}
	mmr_xshift_choose(p, heap, mmr_xrt.self_lo, mmr_xrt.self_hi, &mmr_xrt.shift);
}

#ifdef MMR_TASK_STATIC
static ucontext_t root_uc;
static uint32_t root_task;

static void switch_to_root_stack(void);

static void root_entry(void)
{
	mmr_xrt.stack_lo = (uintptr_t)root_uc.uc_stack.ss_sp;
	mmr_xrt.stack_hi = mmr_xrt.stack_lo + root_uc.uc_stack.ss_size;
	/* nothing after this reads argv, environ or the auxiliary vector there */
	if (mmr_xrt.exec_stack_lo)
		madvise((void *)mmr_xrt.exec_stack_lo, mmr_xrt.exec_stack_hi - mmr_xrt.exec_stack_lo,
			MADV_DONTFORK);
	root_main(root_task);
}

/* This thread's rseq is registered: glibc's sched_getcpu reads it, not the vDSO. */
static bool rseq_registered(void)
{
#ifdef RSEQ_SIG
	return __rseq_size &&
	       (int32_t)((struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset))->cpu_id >= 0;
#else
	return false;
#endif
}

/*
 * Move the kernel's [vvar]...[vdso] block to where the recorded process
 * had it. [vvar] is a PFN mapping, whose entries fork copies: ours, alone
 * at the top of the address space (ADDR_NO_RANDOMIZE), cost every
 * replayed fork a PTE and a PMD page the recorded one did not have
 * (a page in a GiB of its own: 3.6% of a fork loop's pace on a 2-CPU VM).
 * The vDSO's code finds its data at a fixed distance, so the block moves
 * whole. glibc's pointers into it go stale: nothing here calls it after
 * this (now() falls back to the system call, sched_getcpu reads rseq,
 * which must be registered). Moved whole or not at all; before any fork
 * or thread.
 */
static void move_vdso(uint32_t task)
{
	const struct mmr_plan_task *pt = &mmr_xrt.plan->tasks[task];
	unsigned n = mmr_xrt.nvdso, k;
	uintptr_t lo, at = (uintptr_t)pt->vdso_at;
	void *m;

	if (!pt->vdso_len || !n || !rseq_registered())
		return;
	lo = mmr_xrt.vdso[0].lo;
	for (k = 1; k < n; k++)
		if (mmr_xrt.vdso[k].lo != mmr_xrt.vdso[k - 1].hi)
			return;
	if (mmr_xrt.vdso[n - 1].hi - lo != pt->vdso_len || at == lo)
		return;
	/* the place must be free: held by a placeholder that the pieces replace */
	m = mmap((void *)at, pt->vdso_len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != (void *)at) {
		if (m != MAP_FAILED)
			munmap(m, pt->vdso_len);
		return;
	}
	for (k = 0; k < n; k++) {
		size_t len = mmr_xrt.vdso[k].hi - mmr_xrt.vdso[k].lo;

		if (mremap((void *)mmr_xrt.vdso[k].lo, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)(mmr_xrt.vdso[k].lo - lo + at)) == MAP_FAILED)
			break;
	}
	if (k < n) {
		/* put back what moved; the rest of the placeholder goes */
		while (k-- > 0) {
			size_t len = mmr_xrt.vdso[k].hi - mmr_xrt.vdso[k].lo;

			mremap((void *)(mmr_xrt.vdso[k].lo - lo + at), len, len,
			       MREMAP_MAYMOVE | MREMAP_FIXED, (void *)mmr_xrt.vdso[k].lo);
		}
		munmap((void *)at, pt->vdso_len);
		return;
	}
	mmr_xrt.vdso_moved = true;
}

/*
 * Go on with the root task on a stack right below the recorded program's
 * (its [stack] in the header, mapped by setup_task), the stack exec gave
 * us kept from children. Fork copies the page tables over every stack
 * page and exit frees them: ours, alone at the top of the address space
 * (ADDR_NO_RANDOMIZE), cost every replayed child a page-table page the
 * recorded child did not have, ~5 us a fork on a 2-CPU VM; next to the
 * recorded stack it shares its page tables. Returns when it cannot move
 * (no recorded stack, the place taken).
 */
static void move_stack(uint32_t task)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	const struct mmr_plan_task *pt = &p->tasks[task];
	uint64_t base = 0, at, len = stack_limit();	/* as large as the one it replaces may grow */
	void *m;

	for (uint32_t i = 0; i < pt->nsetup; i++) {
		uint32_t reg = p->setup_regions[pt->setup + i];

		if (p->regions[reg].main_stack)
			base = mmr_xrt.base[reg];
	}
	/*
	 * Right below it, one mapping with it: fork copies one VMA less (a
	 * vm_area_struct, an anon_vma and its chain to allocate and free in
	 * every replayed child).
	 */
	if (len < MMR_XSTACK_RESERVE * 2 || base < len + mmr_xrt.page_size)
		return;
	at = base - len;
	m = mmap((void *)(uintptr_t)at, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED)
		return;
	if (m != (void *)(uintptr_t)at) {
		munmap(m, len);
		return;
	}
	root_task = task;
	root_uc.uc_stack.ss_sp = m;
	root_uc.uc_stack.ss_size = len;
	switch_to_root_stack();
	munmap(m, len);	/* could not switch */
}

/* Only statics across getcontext: it returns twice as far as the compiler knows. */
static __attribute__((noinline)) void switch_to_root_stack(void)
{
	stack_t st = root_uc.uc_stack;

	if (getcontext(&root_uc) < 0)
		return;
	root_uc.uc_stack = st;
	root_uc.uc_link = NULL;
	makecontext(&root_uc, root_entry, 0);
	setcontext(&root_uc);
}
#endif

void mmr_xtask_root(uint32_t task, pid_t pgid)
{
	struct sigaction sa;
	struct tctx c;

	/* Own process group (killed as one), and die with the caller. */
	setpgid(0, pgid);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != mmr_xrt.parent)
		_exit(1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* Children are waited for (reap_due, sweep), not reaped by the kernel. */
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	/* Small stacks: the replayed threads only run this loop. */
	pthread_attr_init(&thread_attr);
	pthread_attr_setstacksize(&thread_attr, 256 << 10);

	mmr_xrt.ncreated = 0;
	stack_bounds();
	tctx_init(&c, task, NULL);
	place_binary(task);
	setup_task(&c);
#ifdef MMR_TASK_STATIC
	move_vdso(task);
	move_stack(task);
#endif
	root_main(task);
}

/* The rest of a root task, on whichever stack it runs. */
static void root_main(uint32_t task)
{
	const struct mmr_plan *p = mmr_xrt.plan;
	struct tctx c;

	tctx_init(&c, task, NULL);
	for (uint32_t u = 0; u < p->ntasks; u++) {
		if (!p->tasks[u].initial || !p->tasks[u].thread || p->tasks[u].leader != task)
			continue;
		if (thread_tables() && !pthread_create(&mmr_xrt.threads[u], &thread_attr, initial_thread_main,
				    (void *)(uintptr_t)u)) {
			mmr_xrt.created[u] = 1;
			__atomic_add_fetch(&mmr_xrt.ncreated, 1, __ATOMIC_RELAXED);
		} else {
			/* Counted as arrived so the others still start; its ops show as not run. */
			__atomic_add_fetch(&mmr_xrt.hdr->ready, 1, __ATOMIC_SEQ_CST);
		}
	}
	if (barrier() == 0)
		run_task(&c);
	end_process(&c);
}
