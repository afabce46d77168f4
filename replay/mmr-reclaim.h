/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reclaim during a replay. Anonymous memory is only unmapped by reclaim
 * when swap exists, so --reclaim=memcg puts the replay tree into a memory
 * cgroup with a limit (v1 memory.limit_in_bytes or v2 memory.max) and adds
 * a zram swap device; real reclaim (folio_referenced, try_to_unmap) then
 * runs against the replayed processes. --reclaim=pageout adds a reclaimer
 * thread that issues process_madvise(MADV_PAGEOUT) at the recorded reclaim
 * moments (with zram swap too: anonymous pages are only paged out to swap).
 * Pageout mode without an exec view at start provides the swap alone, for
 * callers with a reclaimer of their own (the scenarios).
 *
 * Every setting is undone by mmr_reclaim_cleanup() (idempotent, also
 * after a partial setup). A state file under /run/mmreplay records what
 * was changed, so mmr_reclaim_cleanup_stale() can undo what a killed
 * mmreplay left behind.
 */
#ifndef MMR_RECLAIM_H
#define MMR_RECLAIM_H

#include <stdint.h>
#include <sys/types.h>

#include "mmr-exec.h"
#include "mmr-plan.h"
#include "mmr-result.h"

#define MMR_RECLAIM_STATE_DIR "/run/mmreplay"

struct mmr_reclaim;

struct mmr_reclaim_opts {
	enum mmr_reclaim_mode mode;
	uint64_t memcg_limit;	/* memcg: bytes; 0 = half of what the plan touches */
	uint64_t zram_bytes;	/* swap size; 0 = memcg: what does not fit the limit,
				 * pageout: what the plan touches (>= 64 MiB) */
};

/*
 * Undo what mmreplay processes that no longer run left behind (cgroups
 * "mmreplay-<pid>", zram swap recorded in their state files). Returns how
 * many were cleaned, -1 with an error when something could not be undone.
 */
int mmr_reclaim_cleanup_stale(void);

/*
 * Set up the mode (nothing for none). MMR_E_NOTSUP with a message saying
 * what is missing (root, memory cgroup, zram). On failure whatever was set
 * up is undone before returning NULL.
 */
struct mmr_reclaim *mmr_reclaim_new(const struct mmr_plan *p, const struct mmr_reclaim_opts *o);
/*
 * The same without a plan: touched (bytes) stands for what the plan
 * touches in the defaults of o, page_size aligns the swap size.
 */
struct mmr_reclaim *mmr_reclaim_new_sized(uint64_t touched, uint32_t page_size,
					  const struct mmr_reclaim_opts *o);
/*
 * Start of a run (an exec start hook): memcg moves the roots in, pageout
 * starts its reclaimer thread on the plan's reclaim moments. v may be NULL
 * (a caller with its own reclaimer, such as the scenarios): then pageout
 * mode only provides the swap.
 */
int mmr_reclaim_start(struct mmr_reclaim *r, const struct mmr_exec_view *v, const pid_t *roots,
		      unsigned nroots);
/* End of a run: stop the reclaimer, add reclaim counters and pageout ops to s. */
int mmr_reclaim_end(struct mmr_reclaim *r, const struct mmr_exec_view *v, struct mmr_stats *s);
/* Undo every setting; safe to call repeatedly; -1 names what could not be undone. */
int mmr_reclaim_cleanup(struct mmr_reclaim *r);
/* Cleanup (errors ignored: call cleanup first to see them) and free; NULL is fine. */
void mmr_reclaim_free(struct mmr_reclaim *r);
/* One line for humans: "memcg v1 limit 32.0 MiB, zram1 swap 96.0 MiB". */
const char *mmr_reclaim_describe(const struct mmr_reclaim *r);
uint64_t mmr_reclaim_limit(const struct mmr_reclaim *r);
/* A /proc/vmstat counter ("pswpout"), 0 when absent. */
uint64_t mmr_reclaim_vmstat(const char *key);

/* ---- pageout reclaimer (pageout.c), used by mmr_reclaim_start/end ---- */

struct mmr_pageout;
struct mmr_pageout *mmr_pageout_start(const struct mmr_exec_view *v);
/* Join the thread, add its ops (op "reclaim") to s; NULL is fine. */
int mmr_pageout_stop(struct mmr_pageout *po, struct mmr_stats *s);

/* The two syscalls (also for reclaimers of their own): -1 with errno, nothing else set. */
struct iovec;
int mmr_pidfd_open(pid_t pid);
/* process_madvise(MADV_PAGEOUT) of n ranges of the pidfd's process: bytes advised. */
ssize_t mmr_pageout_madvise(int pidfd, const struct iovec *iov, size_t n);

#endif
