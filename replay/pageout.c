// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --reclaim=pageout: a thread of the calling process replays the recorded
 * reclaim episodes with process_madvise(MADV_PAGEOUT) on the replayed
 * processes' private anonymous memory. In timed modes it fires at the
 * recorded moments; in closed-loop mode when the target process has done
 * as many ops as it had when the reclaim was recorded. Either way the
 * target waits for it before its next op (mmr_exec_view_gate_reclaims).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-reclaim.h"
#include "mmr-sysinfo.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define IOV_BATCH 512

struct mmr_pageout {
	const struct mmr_exec_view *v;
	pthread_t thread;
	struct mmr_stats stats;		/* private: merged at stop */
	int err;			/* setup failure inside the thread */
};

int mmr_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

ssize_t mmr_pageout_madvise(int pidfd, const struct iovec *iov, size_t n)
{
	return syscall(SYS_process_madvise, pidfd, iov, n, MADV_PAGEOUT, 0);
}

static void nap(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

/*
 * Wait for the moment of reclaim e; false when the run is over first. The
 * recorded time alone is not enough: a target that lags behind the
 * timeline would be paged out before ops it had done in the recording (or
 * before it even exists), so its own progress is waited for too.
 */
static bool wait_for(struct mmr_pageout *po, const struct mmr_plan_reclaim *e, uint64_t t0,
		     double speed)
{
	for (;;) {
		if (mmr_exec_view_over(po->v))
			return false;
		if (speed > 0) {
			uint64_t want = t0 + (uint64_t)((double)e->ts / speed), n = mmr_now_ns();

			if (n < want) {
				nap(want - n > 10000000 ? 10000000 : want - n);
				continue;
			}
		}
		if (mmr_exec_view_started(po->v, e->task) &&
		    mmr_exec_view_ops_done(po->v, e->task) >= e->after_ops)
			return true;
		nap(50000);
	}
}

static void fail(struct mmr_pageout *po, int err)
{
	const char *n = strerrorname_np(err);

	po->stats.fidelity.ops_failed++;
	mmr_stats_add_failure(&po->stats, MMR_OP_RECLAIM, n ? n : "error", 1);
}

static void pageout_one(struct mmr_pageout *po, const struct mmr_plan_reclaim *e)
{
	const struct mmr_plan *p = mmr_exec_view_plan(po->v);
	struct iovec iov[IOV_BATCH];
	pid_t pid = mmr_exec_view_pid(po->v, e->task);
	uint64_t left = e->bytes ? e->bytes : UINT64_MAX, s, t;
	unsigned n = 0;
	int pidfd, err = 0;

	po->stats.fidelity.ops_replayed++;
	if (!pid) {
		fail(po, ESRCH);	/* the process has ended already */
		return;
	}
	pidfd = mmr_pidfd_open(pid);
	if (pidfd < 0) {
		fail(po, errno);
		return;
	}
	s = mmr_now_ns();
	for (uint32_t k = 0; k < e->npieces && left; k++) {
		const struct mmr_plan_piece *pc = &p->pieces[e->piece + k];
		uint64_t base = mmr_exec_view_base(po->v, pc->region), len = pc->len;

		if (!base)
			continue;
		if (len > left)
			len = left;
		left -= len;
		iov[n].iov_base = (void *)(uintptr_t)(base + pc->off);
		iov[n].iov_len = len;
		if (++n == IOV_BATCH || k + 1 == e->npieces || !left) {
			if (mmr_pageout_madvise(pidfd, iov, n) < 0)
				err = errno;
			n = 0;
		}
	}
	if (n && mmr_pageout_madvise(pidfd, iov, n) < 0)
		err = errno;
	t = mmr_now_ns();
	close(pidfd);
	if (err)
		fail(po, err);
	else
		mmr_hist_add(mmr_stats_op(&po->stats, MMR_OP_RECLAIM, false), t - s);
}

static void *pageout_main(void *arg)
{
	struct mmr_pageout *po = arg;
	const struct mmr_plan *p = mmr_exec_view_plan(po->v);
	uint64_t t0;

	while (!(t0 = mmr_exec_view_t0(po->v))) {
		if (mmr_exec_view_over(po->v))
			return NULL;
		nap(100000);
	}
	for (uint32_t i = 0; i < p->nreclaims; i++) {
		if (!wait_for(po, &p->reclaims[i], t0, mmr_exec_view_speed(po->v)))
			break;
		pageout_one(po, &p->reclaims[i]);
		mmr_exec_view_reclaimed(po->v, i);
	}
	return NULL;
}

struct mmr_pageout *mmr_pageout_start(const struct mmr_exec_view *v)
{
	struct mmr_pageout *po = calloc(1, sizeof(*po));

	if (!po) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	po->v = v;
	mmr_exec_view_gate_reclaims(v);
	/* Created before the stats are used by the thread: no ENOMEM there. */
	if (!mmr_stats_op(&po->stats, MMR_OP_RECLAIM, false)) {
		free(po);
		return NULL;
	}
	if (pthread_create(&po->thread, NULL, pageout_main, po)) {
		mmr_stats_release(&po->stats);
		free(po);
		mmr_seterr(MMR_E_FAIL, "cannot start the reclaimer thread");
		return NULL;
	}
	return po;
}

int mmr_pageout_stop(struct mmr_pageout *po, struct mmr_stats *s)
{
	const struct mmr_plan *p;
	int rc = 0;

	if (!po)
		return 0;
	p = mmr_exec_view_plan(po->v);
	pthread_join(po->thread, NULL);
	po->stats.fidelity.ops_recorded = p->nreclaims;
	if (s)
		rc = mmr_stats_merge(s, &po->stats);
	mmr_stats_release(&po->stats);
	free(po);
	return rc;
}
