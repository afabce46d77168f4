/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replay results, format v1 (schemas/result.v1.schema.json): what one
 * `mmreplay replay` reports — host, kernel, the trace it replayed, the
 * parameters, per-run statistics and their merged summary.
 *
 * The structs are transparent so the report and the dashboards can walk
 * them; everything a struct points to is owned by the enclosing result (or
 * stats) and released by mmr_result_free() / mmr_stats_release().
 * Histograms are struct mmr_hist (mmr-hist.h) and merge exactly.
 */
#ifndef MMR_RESULT_H
#define MMR_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmr-event.h"

struct json_object;
struct mmr_hist;
struct mmr_trace_header;
struct mmr_trace_footer;

#define MMR_RESULT_SCHEMA "mmreplay-result"
#define MMR_RESULT_VERSION 1

/* Where a lock sample came from. */
enum mmr_lock_source {
	MMR_SRC_MMAP_LOCK = 0,	/* mmap_lock tracepoints */
	MMR_SRC_CONTENTION,	/* lock:contention_begin/end */
	MMR_SRC__COUNT
};

enum mmr_lock_mode {
	MMR_MODE_READ = 0,
	MMR_MODE_WRITE,
	MMR_MODE_SPIN,
	MMR_MODE_MUTEX,
	MMR_MODE_OTHER,
	MMR_MODE__COUNT
};

enum mmr_lock_kind {
	MMR_KIND_WAIT = 0,
	MMR_KIND_HOLD,
	MMR_KIND__COUNT
};

enum mmr_replay_mode {
	MMR_REPLAY_AS_RECORDED = 0,	/* recorded gaps, speed 1 */
	MMR_REPLAY_SCALED,		/* recorded gaps divided by speed */
	MMR_REPLAY_MAX_SPEED,		/* closed loop, no waiting */
	MMR_REPLAY_MODE__COUNT
};

enum mmr_reclaim_mode {
	MMR_RECLAIM_MODE_NONE = 0,
	MMR_RECLAIM_MODE_MEMCG,		/* memory cgroup limit + zram swap */
	MMR_RECLAIM_MODE_PAGEOUT,	/* process_madvise(MADV_PAGEOUT) */
	MMR_RECLAIM_MODE__COUNT
};

const char *mmr_lock_source_name(enum mmr_lock_source s);
const char *mmr_lock_mode_name(enum mmr_lock_mode m);
const char *mmr_lock_kind_name(enum mmr_lock_kind k);
const char *mmr_replay_mode_name(enum mmr_replay_mode m);	/* "as-recorded", ... */
const char *mmr_reclaim_mode_name(enum mmr_reclaim_mode m);
/* Reverse lookups: -1 when the name is unknown. */
int mmr_lock_source_from_name(const char *s);
int mmr_lock_mode_from_name(const char *s);
int mmr_lock_kind_from_name(const char *s);
int mmr_replay_mode_from_name(const char *s);
int mmr_reclaim_mode_from_name(const char *s);
/* Mode of a contention sample from its LCB flags: WRITE, READ, SPIN, MUTEX, else other. */
enum mmr_lock_mode mmr_lock_mode_from_lcb(uint32_t flags);

/* One (lock, source, mode, kind, op): the key lock histograms merge by. */
struct mmr_lockkey {
	enum mmr_lockclass lock;	/* mmap_lock, or the contention's kernel path class */
	enum mmr_lock_source source;
	enum mmr_lock_mode mode;
	enum mmr_lock_kind kind;
	enum mmr_op op;
};

struct mmr_lockstat {
	struct mmr_lockkey key;
	struct mmr_hist *hist;
};

struct mmr_opstat {
	enum mmr_op op;
	bool per_page;			/* fault runs are timed per page */
	struct mmr_hist *hist;
};

/* A kernel stack where contention time went. */
struct mmr_path {
	enum mmr_lockclass cls;
	enum mmr_op op;
	unsigned nframes;
	char **frames;			/* innermost first */
	uint64_t count, wait_ns;
};

#define MMR_FAILURE_LEN 32

struct mmr_failure {
	enum mmr_op op;
	char error[MMR_FAILURE_LEN];	/* "ENOMEM", "SIGSEGV", "unmapped", ... */
	uint64_t count;
};

/*
 * Lag by tenth of the recorded timeline (the tenth an op's recorded start
 * falls in): does it grow through the run, the replay being slower than
 * the recording, or come in spikes?
 */
#define MMR_LAG_TENTHS 10

struct mmr_lag_tenth {
	uint64_t n;			/* ops */
	uint64_t sum_ns, max_ns;	/* the file keeps the mean: sum = mean * n read back */
};

struct mmr_fidelity {
	uint64_t ops_recorded, ops_replayed, ops_failed;
	unsigned nfailures;
	struct mmr_failure *failures;
	uint64_t lag_p50_ns, lag_p99_ns, lag_max_ns;
	uint64_t recorded_ns, replayed_ns;
	/*
	 * CPU time the hypervisor stole while the runs ran, all CPUs
	 * together (has_steal: measured, or in the file read).
	 */
	uint64_t steal_ns;
	bool has_steal;
	bool has_tenths;		/* a timed replay: tenth[] filled */
	struct mmr_lag_tenth tenth[MMR_LAG_TENTHS];
	/*
	 * Lag (actual - intended start of each op) when known. The file keeps
	 * only p50/p99/max, so a result read back has lag == NULL; merging then
	 * takes the largest percentile of the parts (a conservative bound).
	 */
	struct mmr_hist *lag;
};

struct mmr_stats {
	unsigned nlocks;
	struct mmr_lockstat *locks;
	unsigned nops;
	struct mmr_opstat *ops;
	unsigned npaths;
	struct mmr_path *paths;
	struct mmr_fidelity fidelity;
	bool has_lost;
	uint64_t lost_events;		/* tracefs events lost while measuring */
	bool has_reclaim;
	struct {
		uint64_t episodes, scanned, reclaimed, swapouts;
	} reclaim;
};

struct mmr_run {
	unsigned run;			/* 1-based */
	char start_time[32];		/* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	uint64_t wall_ns;
	struct mmr_stats stats;
};

struct mmr_result {
	char mmreplay_version[32];
	char created[32];
	char *label;			/* NULL when none */
	struct {
		char name[256];
		char arch[32];
		uint32_t cpus;
		uint64_t mem_total;
	} host;
	struct {
		char release[128];
		char version[256];
		char preempt[32];	/* "" when unknown */
	} kernel;
	bool emulated;
	bool has_vm;
	struct {
		char accel[8];		/* "kvm", "tcg" or "" */
		char *kernel_image;	/* NULL when unknown */
		int cpus, mem_mb;	/* 0 when unknown */
	} vm;
	struct {
		char sha256[65];
		char *name;
		uint64_t duration_ns, events;
		char recorded_kernel[128];
		char recorded_host[256];
		bool truncated;
	} trace;
	struct {
		unsigned runs;
		enum mmr_replay_mode mode;
		double speed;
		enum mmr_reclaim_mode reclaim;
		uint64_t memcg_limit;	/* 0: not set */
		bool force;
	} params;
	unsigned nruns;
	struct mmr_run *runs;
	struct mmr_stats summary;
};

/* ---- stats ---- */

/* Release what s owns; s itself is zeroed (it is usually embedded). */
void mmr_stats_release(struct mmr_stats *s);
/*
 * The histogram of a key / op, created empty on first use; owned by s.
 * NULL on ENOMEM.
 */
struct mmr_hist *mmr_stats_lock(struct mmr_stats *s, const struct mmr_lockkey *key);
struct mmr_hist *mmr_stats_op(struct mmr_stats *s, enum mmr_op op, bool per_page);
/* The lag histogram (created on first use); owned by s. */
struct mmr_hist *mmr_stats_lag(struct mmr_stats *s);
/* Add n ops with sum_ns of lag, the largest max_ns, to tenth i of f. */
void mmr_fidelity_add_tenth(struct mmr_fidelity *f, unsigned i, uint64_t n, uint64_t sum_ns,
			    uint64_t max_ns);
/* Add to the path with the same class, op and frames, or append one. */
int mmr_stats_add_path(struct mmr_stats *s, enum mmr_lockclass cls, enum mmr_op op,
		       const char *const *frames, unsigned nframes, uint64_t count,
		       uint64_t wait_ns);
/* Add count failures of (op, error). */
int mmr_stats_add_failure(struct mmr_stats *s, enum mmr_op op, const char *error,
			  uint64_t count);
/* Derive lag_p50/p99/max from the lag histogram (when there is one). */
void mmr_stats_finish(struct mmr_stats *s);
/*
 * dst += src: histograms merge bucket by bucket, paths and failures by
 * key, counters add, recorded_ns/replayed_ns add (runs follow each other).
 */
int mmr_stats_merge(struct mmr_stats *dst, const struct mmr_stats *src);
/* Sort locks, ops and paths into report order (total time, descending). */
void mmr_stats_sort(struct mmr_stats *s);

/* ---- result ---- */

/*
 * A new result for this program: schema version, mmreplay_version,
 * created = now, params.speed = 1, everything else empty. Free with
 * mmr_result_free (NULL is fine). NULL on ENOMEM.
 */
struct mmr_result *mmr_result_new(void);
void mmr_result_free(struct mmr_result *r);

/* Host and kernel of the running machine (mmr_sysinfo_get, uname -v). */
int mmr_result_set_host(struct mmr_result *r);
/*
 * Trace identity: sha256 of the file as stored, its base name, and what the
 * header/footer say (footer NULL: truncated trace). events is the number
 * of event lines read.
 */
int mmr_result_set_trace(struct mmr_result *r, const char *path,
			 const struct mmr_trace_header *h, const struct mmr_trace_footer *f,
			 uint64_t events);
int mmr_result_set_label(struct mmr_result *r, const char *label);

/* Append an empty run numbered nruns + 1; owned by r, valid until the next add. */
struct mmr_run *mmr_result_add_run(struct mmr_result *r);
/* Recompute the summary as the merge of every run. */
int mmr_result_summarize(struct mmr_result *r);
/*
 * Share of the replay CPUs' time (the VM's when the replay ran in one)
 * that the host stole during the runs, 0..1; -1 when not measured.
 */
double mmr_result_steal_share(const struct mmr_result *r);
/*
 * Whether the lag grew through the run, the replay falling behind a
 * recording it could not keep up with: the mean lag of the last three
 * tenths of the timeline is over 1 ms and 4 times that of the first three.
 */
bool mmr_fidelity_lag_grows(const struct mmr_fidelity *f);
/*
 * Merge src into dst: the runs of src are appended (renumbered) and the
 * summary recomputed. Both must describe the same trace (sha256) and
 * parameters; otherwise -1 with MMR_E_USAGE and a message saying which
 * field differs.
 */
int mmr_result_merge(struct mmr_result *dst, const struct mmr_result *src);

/* JSON per result.v1; the caller owns the returned object. NULL on error. */
struct json_object *mmr_result_to_json(const struct mmr_result *r);
/*
 * Rebuild from a parsed document. Unknown schema/version: MMR_E_VERSION /
 * MMR_E_FORMAT with a message; the document is validated against
 * result.v1 first. Caller owns the result.
 */
struct mmr_result *mmr_result_from_json(struct json_object *doc);

/* Write pretty JSON to path ("-" is stdout), atomically via a temp file. */
int mmr_result_write(const struct mmr_result *r, const char *path);
/* Read and validate a result file (caller owns the result). */
struct mmr_result *mmr_result_read(const char *path);

#endif
