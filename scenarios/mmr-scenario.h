/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Built-in scenarios: native workloads (real syscalls on this kernel) that
 * reproduce the lock contention the mm mailing-list threads talk about, so
 * they can be recorded and replayed. Adding one is as cheap as a
 * will-it-scale test: one file scenarios/<name>.c with a descriptor, one
 * line in scenarios/registry.c.
 *
 * A run has two sides:
 *
 *   runner (the calling program)          scenario tree (forked)
 *   ---------------------------          ----------------------
 *   mmr_scn_run_new()   check, params
 *   mmr_scn_prepare()   env: reclaim, slow fs
 *   fork a held child  ---------------->  waits at the caller's gate
 *   mmr_scn_attach()    memcg, pids
 *   release the gate   ---------------->  mmr_scn_child_main(): run()
 *   wait / record                          forks its own tree, honours
 *   mmr_scn_request_stop() (signals) ---->  mmr_scn_should_stop()
 *   mmr_scn_finish()    kill what is left, undo every setting
 *
 * Forking the held child is the caller's job so that a recorder can follow
 * the root from its first instruction (cli/record-util.c). Counters and
 * the result live in MAP_SHARED memory that every process of the tree
 * writes into. Like lib/, nothing here prints; the only exits are the
 * _exit() of processes the scenario forked itself (mmr_scn_spawn).
 */
#ifndef MMR_SCENARIO_H
#define MMR_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define MMR_SCN_MAX_PARAMS	16
#define MMR_SCN_MAX_COUNTERS	24

enum mmr_scn_ptype {
	MMR_SCN_INT = 0,	/* integer >= 0; 0 often means "size by CPUs" */
	MMR_SCN_SIZE,		/* bytes, with K/M/G suffix */
	MMR_SCN_CHOICE,		/* one of the '|'-separated words in choices */
};

struct mmr_scn_param {
	const char *name;
	const char *def;	/* default, as text */
	const char *help;
	enum mmr_scn_ptype type;
	const char *choices;	/* MMR_SCN_CHOICE: "memcg|pageout|none" */
};

struct mmr_scn_ctx;

struct mmr_scenario {
	const char *name;
	const char *summary;		/* one line */
	const char *demonstrates;	/* what a recording shows */
	const char *stresses;		/* the lock and kernel paths it loads */
	const struct mmr_scn_param *params;	/* ends with { NULL } */
	const char *const *counters;	/* stats names by index, NULL-terminated;
					 * "_ns" suffix: a time */
	/* Runner side, optional: MMR_E_NOTSUP when this kernel cannot run it. */
	int (*check)(struct mmr_scn_ctx *c);
	/* Runner side, optional: set up the environment (mmr_scn_reclaim_prepare,
	 * mmr_slowfs_start); undone by mmr_scn_finish even when this fails. */
	int (*prepare)(struct mmr_scn_ctx *c);
	/* Runner side, optional: undo what prepare did beyond the helpers. */
	void (*teardown)(struct mmr_scn_ctx *c);
	/*
	 * In the root of the scenario tree; -1 with mmr_seterr on failure.
	 * Returning ends the scenario: the rest of the tree is asked to stop
	 * (mmr_scn_should_stop) and reaped, so run() normally returns only
	 * once mmr_scn_should_stop() is true.
	 */
	int (*run)(struct mmr_scn_ctx *c);
};

/* The registry (scenarios/registry.c), NULL-terminated. */
extern const struct mmr_scenario *const mmr_scenarios[];
const struct mmr_scenario *mmr_scenario_find(const char *name);

/* What a run did: filled by the tree, read by the runner after finish. */
struct mmr_scn_stats {
	uint64_t counters[MMR_SCN_MAX_COUNTERS];	/* by the scenario's names */
	uint64_t start_ns, end_ns;	/* run() in the root, CLOCK_MONOTONIC */
	uint64_t minflt, majflt;	/* the whole tree (getrusage self + children) */
	uint64_t pswpin, pswpout;	/* /proc/vmstat deltas over the run (system-wide) */
	int status;			/* 0 ok, else the exit code the root chose */
	int errcode;			/* enum mmr_err of a failure */
	char msg[256];			/* the failure */
	char notes[1024];		/* lines: how it ran ("slow I/O: FUSE ...") */
};

/*
 * The context every hook gets. Scenario code reads ncpus, page_size and
 * parameters (through the accessors); the rest belongs to the framework.
 * The root and its descendants see a copy made by fork.
 */
struct mmr_scn_ctx {
	const struct mmr_scenario *scn;
	unsigned ncpus;
	uint32_t page_size;
	uint64_t duration_ns;
	uint64_t deadline_ns;		/* set in the root before run() */
	const char *val[MMR_SCN_MAX_PARAMS];	/* values by parameter index */
	struct mmr_scn_shared *sh;	/* MAP_SHARED */
	struct mmr_scn_reclaim *reclaim;	/* NULL: reclaim=none */
	struct mmr_slowfs *slowfs;	/* NULL: none */
	char path[256];			/* a file or mount the scenario prepared */
	void *priv;			/* the scenario's own (set in prepare) */
};

/* ---- runner side (scenarios/scenario.c) ---- */

struct mmr_scn_run;

/*
 * Resolve "k=v" parameters against the descriptor (MMR_E_USAGE naming the
 * unknown key or bad value), run the check hook (MMR_E_NOTSUP), map the
 * shared area, and make the caller a child subreaper so that orphans of
 * the tree come back to it. duration_s > 0.
 */
struct mmr_scn_run *mmr_scn_run_new(const struct mmr_scenario *s, char *const *kv, unsigned nkv,
				    double duration_s);
/* Undo stale settings of dead runs, then the scenario's prepare hook. */
int mmr_scn_prepare(struct mmr_scn_run *r);
/* The held root exists (not yet released): put it where the env wants it. */
int mmr_scn_attach(struct mmr_scn_run *r, pid_t root);
/*
 * The function the held child runs (int (*)(void *), arg = r): becomes a
 * process group leader and subreaper, runs the scenario, waits for its
 * whole tree, and returns the exit status (0, 1, or 4 for "not supported").
 */
int mmr_scn_child_main(void *r);
/* Async-signal-safe: the tree winds down at its next check. */
void mmr_scn_request_stop(struct mmr_scn_run *r);
/*
 * After the root was reaped (or gave up waiting for it): kill whatever is
 * left of the tree, reap it, undo every setting (teardown hook, slow fs,
 * reclaim). -1 with an error naming what could not be undone; everything
 * else is still undone.
 */
int mmr_scn_finish(struct mmr_scn_run *r, pid_t root);
/* Finishes when needed (root may be 0), frees; NULL is fine. */
void mmr_scn_run_free(struct mmr_scn_run *r);

const struct mmr_scn_stats *mmr_scn_run_stats(const struct mmr_scn_run *r);
struct mmr_scn_ctx *mmr_scn_run_ctx(struct mmr_scn_run *r);
/* Parameter values as resolved ("children=8"), for headers and summaries. */
const char *mmr_scn_run_params(const struct mmr_scn_run *r);

/* Parse a size ("64M", "4096", "1G"); -1 with MMR_E_USAGE. */
int mmr_scn_parse_size(const char *s, uint64_t *out);

/* ---- for scenario code (any process of the tree) ---- */

/* Parameter values (validated by mmr_scn_run_new). */
const char *mmr_scn_str(const struct mmr_scn_ctx *c, const char *name);
uint64_t mmr_scn_u64(const struct mmr_scn_ctx *c, const char *name);
/* An int parameter where 0 means "per * ncpus" (at least min). */
unsigned mmr_scn_by_cpus(const struct mmr_scn_ctx *c, const char *name, unsigned per,
			 unsigned min);

bool mmr_scn_should_stop(const struct mmr_scn_ctx *c);
void mmr_scn_add(struct mmr_scn_ctx *c, unsigned counter, uint64_t n);
void mmr_scn_max(struct mmr_scn_ctx *c, unsigned counter, uint64_t v);
/* The shared counter itself, for helpers that count on their own (slow fs). */
uint64_t *mmr_scn_counter_ptr(struct mmr_scn_ctx *c, unsigned counter);
/*
 * The calling thread's last error (mmr_seterr) becomes the run's failure;
 * the first one wins. For threads: a process's fn returning -1 does it.
 */
void mmr_scn_fail(struct mmr_scn_ctx *c);
/* Append a line to the notes (root or runner side: not concurrent). */
void mmr_scn_note(struct mmr_scn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define MMR_SCN_NO_PDEATHSIG	1u	/* survive the parent (watchdogs) */
/*
 * Fork a process of the tree that runs fn(c, arg) and _exits with its
 * return (a failure's message goes to the shared result). By default it is
 * SIGKILLed when its parent dies, so nothing outlives a killed runner.
 * fn NULL: exit at once. Returns the pid, -1 with an error.
 */
pid_t mmr_scn_spawn(struct mmr_scn_ctx *c, unsigned flags,
		    int (*fn)(struct mmr_scn_ctx *c, void *arg), void *arg);
/* Reap exited children (and orphans, the root being a subreaper); never blocks. */
unsigned mmr_scn_reap(void);
/* Wait for pid, giving up (SIGKILL) when the run is long over; its status or -1. */
int mmr_scn_wait(struct mmr_scn_ctx *c, pid_t pid);

/* Private anonymous memory, 4 KiB folios (no THP): NULL with an error. */
void *mmr_scn_map_anon(size_t len);
/*
 * The heap a tree shares: len bytes (a multiple of the page size) mapped
 * with mmr_scn_map_anon, every page written (mmr_scn_touch with seed).
 * NULL with an error; MMR_E_USAGE when len is less than a page.
 */
char *mmr_scn_heap(struct mmr_scn_ctx *c, size_t len, uint64_t seed);
/* Write one word into every page of [p, p+len) whose index % 100 < pct. */
uint64_t mmr_scn_touch(void *p, size_t len, uint32_t page, unsigned pct, uint64_t seed);
/* A small fast PRNG for access patterns. */
uint64_t mmr_scn_rand(uint64_t *state);
void mmr_scn_sleep_us(unsigned us);

/* A counter index that mmr_scn_add and mmr_scn_max ignore: "do not count". */
#define MMR_SCN_NO_COUNTER	MMR_SCN_MAX_COUNTERS

/*
 * Fork a process of the tree that exits at once and wait for it
 * (anon_vma_fork, then unlink_anon_vmas in its exit); counted in counter.
 * -1 with an error when the fork failed.
 */
int mmr_scn_fork_exit(struct mmr_scn_ctx *c, unsigned counter);
/*
 * mprotect npages pages at a random page of the heap [p, p + pages pages)
 * read-only and back (a VMA split and merge: anon_vma_clone), adding 2 to
 * counter. Nothing when npages is 0 or not below pages. -1 with an error
 * when mprotect failed.
 */
int mmr_scn_mprotect_flip(struct mmr_scn_ctx *c, char *p, size_t pages, unsigned npages,
			  uint64_t *rnd, unsigned counter);

/* ---- reclaim environment (scenarios/scn-reclaim.c) ---- */

/*
 * From the "reclaim" parameter (memcg|pageout|none) and the optional
 * "limit" one: memcg puts the tree into a memory cgroup whose limit is
 * below ws_bytes, with zram swap; pageout sets up zram swap only (anonymous
 * pages are unmapped only when swap exists) for a reclaimer in the tree.
 * The settings come from replay/reclaim.c, which also undoes them (and
 * those of dead runs). MMR_E_NOTSUP when root, cgroup or zram is missing;
 * MMR_E_USAGE when what would stay resident exceeds 80% of MemAvailable.
 * Scenarios without a "reclaim" parameter may call it for that check alone.
 */
int mmr_scn_reclaim_prepare(struct mmr_scn_ctx *c, uint64_t ws_bytes);
bool mmr_scn_reclaim_pageout(const struct mmr_scn_ctx *c);

/* What a pageout reclaimer works on: the same range in several processes. */
struct mmr_scn_pageout_target {
	const pid_t *pids;
	unsigned npids;
	uintptr_t addr;
	size_t len;
	unsigned chunk_pct;	/* of len per process per round, >= 1 */
	unsigned pause_us;	/* between rounds */
	unsigned counter_calls, counter_bytes;	/* where to count */
};
/*
 * Spawn the reclaimer: process_madvise(MADV_PAGEOUT) through pidfds on a
 * rotating chunk of each target until the run stops. t is copied.
 */
pid_t mmr_scn_pageout_spawn(struct mmr_scn_ctx *c, const struct mmr_scn_pageout_target *t);

/* ---- a forked tree under reclaim (scenarios/scenario.c) ---- */

/*
 * The shape of the forked-tree scenarios (zygote, cow-break, uffd-move),
 * run by the root in run(): fork children processes running fn(c, arg),
 * each counted in counter_children; add note (when not NULL); with
 * reclaim=pageout, spawn the reclaimer on [addr, addr + len) of every
 * child and of the root (5% per round, 2 ms apart); idle until the run
 * stops; then wait for the children, counting those a signal ended (the
 * memcg OOM killer) in counter_killed, and for the reclaimer. Counters
 * may be MMR_SCN_NO_COUNTER. 0, or -1 with an error when a fork failed.
 */
struct mmr_scn_tree {
	unsigned children;
	int (*fn)(struct mmr_scn_ctx *c, void *arg);
	void *arg;
	const char *note;
	uintptr_t addr;		/* what the pageout reclaimer works on */
	size_t len;
	unsigned counter_children, counter_killed;
	unsigned counter_po_calls, counter_po_bytes;
};
int mmr_scn_tree_run(struct mmr_scn_ctx *c, const struct mmr_scn_tree *t);

/* ---- a FUSE file whose reads sleep (scenarios/slowfs.c) ---- */

struct mmr_slowfs_opts {
	uint64_t size;		/* bytes of the one file */
	unsigned delay_us;	/* per read request */
	unsigned threads;	/* concurrent requests served */
	uint64_t *reads;	/* counter in shared memory, may be NULL */
};
/*
 * Mount a FUSE file system (raw /dev/fuse protocol, no libfuse) at a new
 * directory /tmp/mmreplay-scn-<pid>-XXXXXX, served by a forked process;
 * the file is <dir>/data. MMR_E_NOTSUP without /dev/fuse or privileges.
 */
struct mmr_slowfs *mmr_slowfs_start(const struct mmr_slowfs_opts *o);
const char *mmr_slowfs_file(const struct mmr_slowfs *fs);
/* Unmount, stop the server, remove the directory; NULL is fine. -1 names what stayed. */
int mmr_slowfs_stop(struct mmr_slowfs *fs);
/* Unmount and remove slow file systems of runs whose process is gone. */
int mmr_slowfs_cleanup_stale(void);

#endif
