/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replay executor: runs a plan on this kernel. Each run forks the recorded
 * process tree (in its own process group, with the caller as child
 * subreaper), creates the threads, maps the regions, and releases every
 * task from a common start barrier; then each task runs its ops in
 * recorded order, either at the recorded times (scaled by speed) or
 * back to back (closed loop). Per-op latencies and start lag are timed in
 * the tasks with CLOCK_MONOTONIC and travel back through a MAP_SHARED
 * region; nothing is printed.
 *
 * While a run is in progress the calling process reaps every child it
 * has (waitpid(-1)): do not run other children concurrently.
 */
#ifndef MMR_EXEC_H
#define MMR_EXEC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmr-plan.h"
#include "mmr-result.h"

struct mmr_exec;
/* What hooks may look at during a run (valid from start() to end()). */
struct mmr_exec_view;

/* CLOCK_MONOTONIC ns of op time 0; 0 until the tasks are released. */
uint64_t mmr_exec_view_t0(const struct mmr_exec_view *v);
/* Replay speed factor; 0 in closed-loop mode. */
double mmr_exec_view_speed(const struct mmr_exec_view *v);
const struct mmr_plan *mmr_exec_view_plan(const struct mmr_exec_view *v);
/* Replay address of a region's offset 0; 0 while it is not mapped. */
uint64_t mmr_exec_view_base(const struct mmr_exec_view *v, uint32_t region);
/* Replay pid of a task (its process); 0 before it started or after it ended. */
pid_t mmr_exec_view_pid(const struct mmr_exec_view *v, uint32_t task);
/* Ops a task has finished so far. */
uint64_t mmr_exec_view_ops_done(const struct mmr_exec_view *v, uint32_t task);
/* True once every task has ended (or the run was aborted). */
bool mmr_exec_view_over(const struct mmr_exec_view *v);
/* The task was created (it may have ended since). */
bool mmr_exec_view_started(const struct mmr_exec_view *v, uint32_t task);
/*
 * A reclaimer replays the plan's reclaims, in plan order: call from the
 * start hook. Each target then waits (a second at most) before the op
 * after its reclaim until mmr_exec_view_reclaimed() says that reclaim is
 * done, so the reclaim lands between the ops it fell between when
 * recorded, and not after the process is gone.
 */
void mmr_exec_view_gate_reclaims(const struct mmr_exec_view *v);
/* Reclaims 0..i are done (or given up). */
void mmr_exec_view_reclaimed(const struct mmr_exec_view *v, uint32_t i);

struct mmr_exec_hooks {
	/*
	 * Every initial task waits at the start barrier; roots are the replay
	 * processes forked by the caller (the process group leader first).
	 * Attach cgroups, start measuring here. -1 (error set) aborts the run.
	 */
	int (*start)(void *arg, const struct mmr_exec_view *v, const pid_t *roots,
		     unsigned nroots);
	/* The run is over and every task is reaped; add what was measured. */
	int (*end)(void *arg, const struct mmr_exec_view *v, struct mmr_stats *stats);
	void *arg;
};

struct mmr_exec_opts {
	enum mmr_replay_mode mode;
	double speed;			/* scaled mode; 1 otherwise */
	const char *tmpdir;		/* replay-owned files; NULL: /var/tmp */
	/*
	 * mmreplay-task: replay processes exec it and carry only what they
	 * need. NULL: they run on in a fork of the caller (every fork and
	 * exit of the replay then pays for the caller's address space).
	 */
	const char *helper;
	bool cold_files;		/* drop their page cache before each run (faults do I/O) */
	const volatile sig_atomic_t *stop;	/* non-zero aborts (signal handlers set it) */
	uint64_t start_timeout_ns;	/* for tasks to reach the barrier; 0: 30 s */
	struct mmr_exec_hooks hooks;
};

/*
 * Prepare the replay of p (which must outlive the executor): shared
 * memory, the replay-owned files (unlinked at once, so nothing is left
 * behind even on SIGKILL). NULL with an error.
 */
struct mmr_exec *mmr_exec_new(const struct mmr_plan *p, const struct mmr_exec_opts *o);
/*
 * One run. stats receives op latencies, lag and fidelity (plus what the
 * end hook adds); wall_ns the time from release to the last task's end.
 * On an error or a stop request the whole replay tree is killed and
 * reaped before returning -1 (MMR_E_FAIL, "interrupted" for a stop).
 */
int mmr_exec_run(struct mmr_exec *x, struct mmr_stats *stats, uint64_t *wall_ns);
void mmr_exec_free(struct mmr_exec *x);

#endif
