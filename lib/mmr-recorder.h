/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recorder: a private tracefs instance ("mmreplay-<pid>"), raw per-CPU
 * ring buffer reading, decoding into struct mmr_event (lib/decode.c) and
 * fault-run coalescing with timestamp-ordered output (lib/coalesce.c).
 *
 * Typical use:
 *
 *	mmr_recorder_cleanup_stale();
 *	r = mmr_recorder_new(&opts);          // instance created, events enabled
 *	mmr_recorder_start(r);                // tracing_on
 *	mmr_trace_header_init(&h);
 *	mmr_recorder_fill_header(r, &h);      // events, filters, initial maps
 *	while (!done)
 *		mmr_recorder_read(r, cb, arg, 200);
 *	mmr_recorder_stop(r);
 *	mmr_recorder_flush(r, cb, arg);       // drain, emit pending runs
 *	mmr_recorder_fill_footer(r, &f);      // lost events per CPU, times
 *	mmr_recorder_free(r);                 // instance destroyed
 *
 * Output order: cb() sees events in non-decreasing ts order. An event whose
 * content is only known later (a syscall's result, a lock wait, a fault
 * run) keeps its start time as ts and holds back the events behind it in a
 * bounded reorder queue; see lib/coalesce.c for the rules.
 */
#ifndef MMR_RECORDER_H
#define MMR_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmr-event.h"
#include "mmr-probe.h"
#include "mmr-trace.h"

/*
 * Receives each finished event. Non-zero stops the read; the read returns
 * -1. The frames of an MMR_EV_STACK event belong to the recorder and stay
 * valid until mmr_recorder_free(): copy them, never mmr_event_release().
 */
typedef int (*mmr_event_cb)(const struct mmr_event *ev, void *arg);

/* Defaults (0 in the options means "use the default"). */
#define MMR_REC_DEFAULT_BUFFER_KB	16384	/* per CPU, at most: 32 MiB / CPUs,
						 * at least 4 MiB */
#define MMR_REC_DEFAULT_FAULT_GAP_NS	1000000ULL	/* 1 ms */
#define MMR_REC_DEFAULT_MAX_STRIDE	64	/* pages */
#define MMR_REC_DEFAULT_MAX_RUN_NS	1000000000ULL	/* 1 s */
#define MMR_REC_DEFAULT_REORDER_MAX	16384	/* events held back */

struct mmr_recorder_opts {
	unsigned groups;		/* MMR_G_* (mmr-probe.h); 0 = MMR_G_ALL */
	const int32_t *pids;		/* processes to follow, with their threads,
					 * existing descendants and future children */
	unsigned npids;
	bool system_wide;		/* every process (then npids must be 0) */
	/*
	 * System-wide filters, applied in user space per task: comm_re is a
	 * POSIX ERE on the process name (/proc/PID/comm of the group leader
	 * when first seen, the file's base name after exec; threads count
	 * with their process, whatever they call themselves), cgroup a path
	 * prefix ("/a/b") in any hierarchy (v2 or v1), re-read at exec.
	 * Children inherit their parent's verdict. An in-kernel "comm"
	 * filter would see thread names, so it is not used.
	 */
	const char *comm_re;
	const char *cgroup;
	unsigned buffer_kb;		/* per-CPU ring buffer, KiB; 0: 16 MiB on
					 * 2 CPUs, 32 MiB / CPUs, >= 4 MiB */
	bool hash_paths;		/* file identities as sha256 (mmr_file_identity) */
	/* coalescing and ordering; 0 = default */
	uint64_t fault_gap_ns;		/* max time between faults of one run */
	unsigned fault_max_stride;	/* max |stride| of a run, pages */
	uint64_t fault_max_run_ns;	/* max duration of one run */
	unsigned reorder_max;		/* max events held back for ordering */
	/*
	 * For followed tasks that run nothing but memory touches between
	 * system calls (a replay): with MMR_G_FAULTS off, lock samples in
	 * task context outside any system call are attributed to "fault",
	 * which is what they are there. Saves the page_fault_user
	 * tracepoint, the largest cost tracing puts on a fault.
	 */
	bool faults_implied;
	/*
	 * For a measurement that should not take CPU from what it measures
	 * while it runs: mmr_recorder_read() with a timeout reads nothing
	 * until a kernel ring is half full (size them with buffer_kb; before
	 * Linux 6.1 poll(2) wakes on any data, and it reads as it goes), then
	 * only copies the pages out, keeping up to this many bytes of them
	 * raw in memory (about half of it used: rings grow by doubling)
	 * before it decodes a batch; mmr_recorder_flush() decodes the rest.
	 * Events reach the callback late, so not for a recording cut into
	 * files (mmr_recorder_new_segment). 0: read at every call and decode
	 * as pages are read.
	 */
	size_t hold_bytes;
	/*
	 * A followed process that is the recorder's own child waiting to
	 * exec the program to record (record -- CMD): what it does before
	 * exec, and its maps at the start, are the recorder's, not the
	 * program's, and stay out of the trace. 0: none.
	 */
	int32_t exec_pid;
};

struct mmr_recorder_stats {
	uint64_t raw_events;		/* records read from the ring buffers */
	uint64_t emitted;		/* events handed to callbacks */
	uint64_t faults;		/* page_fault_user records kept */
	uint64_t fault_runs;		/* FAULT events emitted */
	uint64_t filtered;		/* records dropped by comm/cgroup/self filters */
	uint64_t unmatched_syscall;	/* exits without enter, enters without exit */
	uint64_t unmatched_lock;	/* mmap_lock events that did not pair */
	uint64_t unmatched_contention;	/* contention_end without begin, ... */
	uint64_t unmatched_reclaim;
	uint64_t forced;		/* incomplete events pushed out by the reorder bound */
	uint64_t late;			/* records older than what was already emitted */
	uint64_t stacks;		/* distinct kernel stacks */
	uint64_t missed;		/* missed events flagged in ring buffer pages */
	uint64_t ring_bytes;		/* memory the read rings grew to (hold_bytes) */
};

/*
 * Remove tracefs instances "mmreplay-<pid>[-n]" whose pid is dead.
 * Returns how many were removed, or -1 with an error.
 */
int mmr_recorder_cleanup_stale(void);

/*
 * Create the tracefs instance and enable the events (tracing stays off
 * until mmr_recorder_start). Events this kernel lacks are collected (see
 * mmr_recorder_missing) and skipped. NULL with an error; MMR_E_NOTSUP when
 * tracefs or privileges are missing, MMR_E_USAGE for bad options.
 */
struct mmr_recorder *mmr_recorder_new(const struct mmr_recorder_opts *o);
/* Destroys the tracefs instance; NULL is fine. */
void mmr_recorder_free(struct mmr_recorder *r);

int mmr_recorder_start(struct mmr_recorder *r);
int mmr_recorder_stop(struct mmr_recorder *r);

/*
 * Wait up to timeout_ms (0: do not wait) for data, drain the per-CPU ring
 * buffers, decode and call cb for every event whose position in time order
 * is settled (holding, see hold_bytes: copy the pages out, decode only
 * when the budget is reached). Returns the number of events delivered, or
 * -1 (also when cb returned non-zero).
 */
int mmr_recorder_read(struct mmr_recorder *r, mmr_event_cb cb, void *arg, int timeout_ms);
/*
 * After mmr_recorder_stop (stops tracing itself if needed): read what is
 * left, close pending runs and emit everything held back. Returns the
 * number of events delivered or -1.
 */
int mmr_recorder_flush(struct mmr_recorder *r, mmr_event_cb cb, void *arg);

/*
 * The events from now on go to a new file: every kernel stack is defined
 * again (MMR_EV_STACK) before the first contention of that file that uses
 * it, so each file stands alone. mmr_recorder_fill_header() does this too.
 */
void mmr_recorder_new_segment(struct mmr_recorder *r);

/* Name of the tracefs instance ("mmreplay-1234"). */
const char *mmr_recorder_instance(const struct mmr_recorder *r);
/* "system:event" names enabled / wanted but absent here; owned by r. */
const char *const *mmr_recorder_events(const struct mmr_recorder *r, unsigned *n);
const char *const *mmr_recorder_missing(const struct mmr_recorder *r, unsigned *n);

/* Ring buffers: CPUs and events lost per CPU (overrun + dropped). */
unsigned mmr_recorder_ncpus(const struct mmr_recorder *r);
uint64_t mmr_recorder_lost(struct mmr_recorder *r, unsigned cpu);
uint64_t mmr_recorder_lost_total(struct mmr_recorder *r);

void mmr_recorder_get_stats(const struct mmr_recorder *r, struct mmr_recorder_stats *st);

/*
 * Add to h (initialised by mmr_trace_header_init): enabled and missing
 * events, the filters, start time, and the maps of the traced processes as
 * they are now (call right after mmr_recorder_start so nothing is missed).
 */
int mmr_recorder_fill_header(struct mmr_recorder *r, struct mmr_trace_header *h);

/*
 * exec_pid has just exec'd and is stopped there (the caller traces it):
 * its maps now are the program's own image (binary, interpreter, stack),
 * which no recorded system call creates. From here on the header carries
 * them, and the exec event itself stays out of the trace, so a replay
 * starts the process with that image in place as for `record -p`. Call
 * before mmr_recorder_fill_header and before reading events.
 */
void mmr_recorder_exec_stopped(struct mmr_recorder *r);
/* Fill f->ncpus, f->lost (allocated, freed by mmr_trace_footer_release),
 * f->end_ns, f->duration_ns. Counts are left to the writer. */
int mmr_recorder_fill_footer(struct mmr_recorder *r, struct mmr_trace_footer *f);

/* ---- fault-run coalescing and ordered output (lib/coalesce.c) ----
 *
 * Exposed for the decoder and for unit tests. Events enter in timestamp
 * order; each takes a slot in a FIFO. A slot is either done (emitted when
 * it reaches the head), pending (content known later: a syscall's result,
 * a lock's end) or an open fault run. The head is emitted as soon as it is
 * done, so output stays in ts order; an open run at the head is closed
 * once the stream has moved past its last fault by more than the gap (or
 * the run is older than max_run_ns); a full queue forces the head out.
 */
struct mmr_coalesce;

struct mmr_coalesce_opts {
	uint64_t gap_ns;		/* default MMR_REC_DEFAULT_FAULT_GAP_NS */
	unsigned max_stride;		/* pages; default MMR_REC_DEFAULT_MAX_STRIDE */
	uint64_t max_run_ns;		/* default MMR_REC_DEFAULT_MAX_RUN_NS */
	unsigned queue_max;		/* default MMR_REC_DEFAULT_REORDER_MAX */
	unsigned page_size;		/* default sysconf(_SC_PAGESIZE) */
};

/* Per-task run state, owned by the caller, zero-initialised. */
struct mmr_fault_run {
	uint64_t seq;			/* slot of the open run */
	bool open;
};

struct mmr_coalesce *mmr_coalesce_new(const struct mmr_coalesce_opts *o);
void mmr_coalesce_free(struct mmr_coalesce *c);
/* Where emitted events go; may change between calls. */
void mmr_coalesce_set_cb(struct mmr_coalesce *c, mmr_event_cb cb, void *arg);

/* One fault (addr page aligned) of a task; extends its run or starts one. */
int mmr_coalesce_fault(struct mmr_coalesce *c, struct mmr_fault_run *run, int32_t pid,
		       int32_t tid, uint64_t ts, uint64_t addr, uint32_t err);
/* End the task's run (it did something else that changes its mm). */
void mmr_coalesce_break(struct mmr_coalesce *c, struct mmr_fault_run *run);
/* A finished event (copied). */
int mmr_coalesce_event(struct mmr_coalesce *c, const struct mmr_event *ev);
/*
 * Reserve a pending slot with ts; returns the event to fill (valid until the
 * next call into c) and its sequence number in *seq. NULL on ENOMEM or when
 * a callback failed.
 */
struct mmr_event *mmr_coalesce_reserve(struct mmr_coalesce *c, uint64_t ts, uint64_t *seq);
/* The pending event of seq, or NULL when it was already pushed out. */
struct mmr_event *mmr_coalesce_get(struct mmr_coalesce *c, uint64_t seq);
/* Mark seq done (1), or 0 when it had been pushed out already; -1 on cb error. */
int mmr_coalesce_commit(struct mmr_coalesce *c, uint64_t seq);
/* Drop a pending slot (it will not be emitted). */
int mmr_coalesce_cancel(struct mmr_coalesce *c, uint64_t seq);
/* The stream is complete up to now: close idle runs at the head, emit. */
int mmr_coalesce_advance(struct mmr_coalesce *c, uint64_t now);
/* Emit everything (pending slots as they are). */
int mmr_coalesce_flush(struct mmr_coalesce *c);

struct mmr_coalesce_stats {
	uint64_t emitted, runs, faults, forced, late, queued_max;
};
void mmr_coalesce_get_stats(const struct mmr_coalesce *c, struct mmr_coalesce_stats *st);
/* Non-zero after a callback failed; every later call returns -1. */
int mmr_coalesce_failed(const struct mmr_coalesce *c);

/* ---- decoder (lib/decode.c), used by the recorder ---- */

struct tep_handle;
struct mmr_decoder;

/*
 * Syscalls traced (sys_enter_X/sys_exit_X) only to know which operation a
 * task is in when it takes a lock: fork/vfork/exit, wait4/waitid (tasklist
 * lock) and the other syscalls that take mmap_lock (mincore, mlock, msync,
 * process_madvise, ...). They produce no events of their own.
 * NULL-terminated; enabled with MMR_G_LOCKS.
 */
extern const char *const mmr_span_syscalls[];

struct mmr_decoder_opts {
	bool system_wide;		/* kswapd episodes observable */
	bool hash_paths;
	const char *comm_re;		/* user-space filters (system-wide) */
	const char *cgroup;
	int32_t self_pid;		/* dropped (the recorder itself); 0 = none */
	/*
	 * Following pids: the followed processes at the start (the given
	 * pids and their descendants). Tasks outside them and their forks
	 * are dropped. nfollow 0: every task counts.
	 */
	const int32_t *follow;
	unsigned nfollow;
	unsigned page_size;
	bool faults_implied;		/* see mmr_recorder_opts */
	int32_t exec_pid;		/* see mmr_recorder_opts */
};

/*
 * Resolve the field offsets of every event known to tep (once per event id)
 * and set up per-task state. c receives the decoded events.
 */
struct mmr_decoder *mmr_decoder_new(struct tep_handle *tep, unsigned ncpus,
				    const struct mmr_decoder_opts *o, struct mmr_coalesce *c);
void mmr_decoder_free(struct mmr_decoder *d);
/* One raw record (data starts at common_type). -1 only on fatal errors. */
int mmr_decoder_record(struct mmr_decoder *d, unsigned cpu, uint64_t ts, const void *data,
		       unsigned size);
/* Periodic housekeeping: forget tasks that exited long before now. */
void mmr_decoder_tick(struct mmr_decoder *d, uint64_t now);
/* End of the recording: complete or drop everything still pending. */
int mmr_decoder_finish(struct mmr_decoder *d, uint64_t now);
void mmr_decoder_add_stats(const struct mmr_decoder *d, struct mmr_recorder_stats *st);
/*
 * When stack id has not been defined in the current segment: fill ev with
 * its MMR_EV_STACK definition (frames owned by d), mark it defined, return
 * 1; else 0.
 */
int mmr_decoder_stack_event(struct mmr_decoder *d, uint32_t id, struct mmr_event *ev);
/* A new output segment begins: stacks are defined again on first use. */
void mmr_decoder_new_segment(struct mmr_decoder *d);
/* exec_pid's starting exec is in the header (mmr_recorder_exec_stopped): drop it. */
void mmr_decoder_exec_in_header(struct mmr_decoder *d);
/*
 * Load /proc/kallsyms now (~0.1 s of CPU, mostly the kernel formatting it)
 * rather than at the first contention stack, in the middle of a recording.
 */
void mmr_decoder_load_ksyms(struct mmr_decoder *d);
/*
 * Whether a /proc/PID/cgroup content puts the task under cgroup path cg
 * (any hierarchy: the v2 "0::/path" line or a v1 one; "/a" covers "/a/b").
 */
bool mmr_cgroup_file_matches(const char *content, const char *cg);

#endif
