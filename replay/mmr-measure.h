/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel lock measurement during a replay run: a private tracefs instance
 * (the recorder, lib/mmr-recorder.h) following the replay's pids with
 * set_event_pid + event-fork, whose LOCK / CONTENTION / STACK / RECLAIM
 * events are accounted here into lock histograms keyed by
 * (lock, source, mode, kind, op) and into top kernel paths.
 *
 * The accounting (mmr_measure_event) is independent of tracefs: any
 * source of struct mmr_event samples can feed it (tests do).
 */
#ifndef MMR_MEASURE_H
#define MMR_MEASURE_H

#include <stdint.h>
#include <sys/types.h>

#include "mmr-event.h"
#include "mmr-result.h"

struct mmr_measure;

/* An empty accounting; NULL on ENOMEM. Free with mmr_measure_free (NULL ok). */
struct mmr_measure *mmr_measure_new(void);
void mmr_measure_free(struct mmr_measure *m);

/*
 * Account one event (an mmr_event_cb): LOCK -> (mmap_lock, mmap_lock,
 * read|write, wait|hold, op); CONTENTION -> (class, contention, mode from
 * the LCB flags, wait, op) plus its kernel path; STACK defines frames for
 * later contentions; RECLAIM counts an episode. Others are ignored.
 * Returns non-zero only on ENOMEM.
 */
int mmr_measure_event(const struct mmr_event *ev, void *arg);

/*
 * The trace has this many lines: sizes the kernel's ring buffers so that
 * a run's events stay there until it ends (see measure.c). 0 (the
 * default): the recorder's default size.
 */
void mmr_measure_expect(struct mmr_measure *m, uint64_t lines);

/*
 * Start following pids (and their threads and future children) in a
 * tracefs instance, read by a thread of the caller. MMR_E_NOTSUP without
 * tracefs or root.
 */
int mmr_measure_start(struct mmr_measure *m, const pid_t *pids, unsigned npids);
/* Stop and drain the session (destroying the instance); no-op when not started. */
int mmr_measure_stop(struct mmr_measure *m);
/* Move what was accounted into s (lost events too) and start empty again. */
int mmr_measure_collect(struct mmr_measure *m, struct mmr_stats *s);

#endif
