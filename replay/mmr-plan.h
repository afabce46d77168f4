/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replay plan: a trace turned into what the executor needs, fully checked
 * before anything runs.
 *
 *  - tasks: the process tree (processes by fork, threads by clone with
 *    CLONE_THREAD) with each task's ops in recorded order and recorded
 *    times (ns after the first event);
 *  - regions: every recorded mapping (initial maps from the header, mmap
 *    and mremap results, the brk heap) becomes a replay region of the same
 *    size. An address inside a recorded mapping is replayed as
 *    "base of the region's replay mapping + the same offset", so the
 *    layout inside each mapping is kept while ASLR differs. Regions are
 *    numbered once for the whole trace; a child inherits its parent's
 *    regions at the same addresses, exactly as fork does;
 *  - pieces: an op's address range split per region (a munmap spanning two
 *    recorded mappings becomes two munmaps in the replay);
 *  - files: file-backed mappings get replay-owned files of the recorded
 *    size, one per file identity (so sharing between processes is kept).
 *
 * The structs are read-only for users; everything is owned by the plan.
 */
#ifndef MMR_PLAN_H
#define MMR_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "mmr-event.h"

#define MMR_PLAN_NONE UINT32_MAX	/* no region / task / file */

enum mmr_pop {
	MMR_POP_FAULT = 0,	/* touch count pages: piece off + i*stride */
	MMR_POP_MMAP,
	MMR_POP_MUNMAP,
	MMR_POP_MREMAP,
	MMR_POP_MPROTECT,
	MMR_POP_MADVISE,
	MMR_POP_BRK,
	MMR_POP_FORK,		/* new process: task arg.child */
	MMR_POP_THREAD,		/* new thread: task arg.child */
	MMR_POP_EXIT,
	MMR_POP_EXEC,		/* approximated: unmap every region of the process */
	MMR_POP__COUNT
};

const char *mmr_pop_name(enum mmr_pop k);
/* The operation statistics file the op under (thread creation: "other"). */
enum mmr_op mmr_pop_op(enum mmr_pop k);

/* Part of an op's range inside one region. */
struct mmr_plan_piece {
	uint32_t region;	/* MMR_PLAN_NONE: no recorded mapping there */
	uint64_t off;		/* offset inside the region */
	uint64_t len;		/* bytes; for faults: pages */
};

struct mmr_plan_op {
	uint8_t kind;		/* enum mmr_pop */
	bool unresolved;	/* (part of) the range is in no known mapping */
	uint64_t ts;		/* recorded, ns after the plan's base */
	uint64_t last;		/* faults: ts of the last page (pacing) */
	uint32_t piece, npieces;	/* into mmr_plan.pieces */
	union {
		struct {
			int64_t stride;
			bool write;
		} fault;
		struct {
			uint32_t region;	/* the region this mmap creates */
			uint64_t len, prot, flags, off;
			uint32_t file;		/* MMR_PLAN_NONE: anonymous */
			bool fixed;		/* place at piece[0] (translated MAP_FIXED) */
		} mmap;
		struct {			/* munmap, mprotect, madvise */
			uint64_t arg;		/* prot or advice */
		} range;
		struct {			/* source is piece[0] */
			uint32_t region;	/* the region the result becomes */
			uint64_t old_len, new_len, flags;
		} mremap;
		struct {
			uint32_t region;	/* the heap region */
			uint64_t old_off, new_off;	/* break, as offsets in it */
		} brk;
		struct {
			uint32_t child;		/* task index */
		} fork;
		struct {
			bool group;
		} exit;
	} arg;
};

enum mmr_region_origin {
	MMR_REGION_INITIAL = 0,	/* header maps: created before the start */
	MMR_REGION_MMAP,
	MMR_REGION_MREMAP,
	MMR_REGION_HEAP,	/* brk heap: a reserve the breaks move inside */
	MMR_REGION_IMPLICIT,	/* stand-in for memory the trace never showed mapped */
};

struct mmr_plan_region {
	uint64_t rec_start;	/* recorded address of offset 0 */
	uint64_t len;		/* bytes (heap: the largest extent seen) */
	uint8_t origin;		/* enum mmr_region_origin */
	bool main_stack;	/* its task's [stack] in the header's maps */
	uint32_t task;		/* task that creates it */
	/* initial regions and heaps: how to create them */
	uint32_t prot, flags;
	uint32_t file;		/* MMR_PLAN_NONE: anonymous */
	uint64_t file_off;
	uint64_t init_len;	/* heap: bytes accessible at the start */
};

struct mmr_plan_file {
	char id[MMR_FILE_LEN];	/* file identity from the trace */
	uint64_t size;		/* bytes the replay file needs */
};

/*
 * The replay keeps the order the trace shows between a process and the
 * children it forked: an op recorded after a child's exit waits for that
 * exit, as the recorded program did in wait(). Per task, bounded: children
 * beyond this many at once are not waited for (the executor reaps them in
 * passing).
 */
#define MMR_PLAN_REAP_MAX 64

/*
 * What a parent hands a child it forks, on its own stack (the executor's
 * tcopy): the child's ops and their pieces when they take at most
 * MMR_PLAN_COPY_MAX bytes, with where up to MMR_PLAN_COPY_BASES of the
 * regions they touch are mapped. Sized here, once per plan, because a
 * forking task sizes its buffer before its first op: counted then, a
 * fork loop of 15,000 children delayed its first op by 5 ms.
 */
#define MMR_PLAN_COPY_MAX 2048
#define MMR_PLAN_COPY_BASES 16

struct mmr_plan_base {
	uint32_t region;
	uint64_t base;		/* where the replay mapped it */
};

struct mmr_plan_task {
	int32_t rec_pid, rec_tid;
	uint32_t leader;	/* task index of the thread group leader */
	uint32_t parent;	/* creating task, MMR_PLAN_NONE for initial tasks */
	bool thread;		/* not a leader */
	bool initial;		/* exists at the start (no recorded creation) */
	uint16_t reaps;		/* children it waits for at once, at most (MMR_PLAN_REAP_MAX) */
	uint16_t copy_max;	/* bytes of the largest copy a fork child is handed,
				 * past its header: bases, ops, pieces (0: none fits) */
	uint32_t op, nops;	/* into mmr_plan.ops */
	uint32_t setup, nsetup;	/* regions to create when the task starts (into setup_regions) */
	uint32_t opmask;	/* 1 << enum mmr_pop for each kind it runs */
	uint64_t end_ts;	/* ts of its last op (or exit) */
	/*
	 * Where the header had the kernel's [vvar]...[vdso] block of the
	 * process (contiguous, [vsyscall] aside); 0, 0: not known.
	 */
	uint64_t vdso_at, vdso_len;
};

/* A recorded reclaim episode (replayed by --reclaim=pageout). */
struct mmr_plan_reclaim {
	uint64_t ts;
	uint32_t task;		/* leader of the target process */
	uint32_t after_ops;	/* ops the leader had done by then (closed loop) */
	uint32_t piece, npieces;	/* its private writable memory at that time */
	uint64_t bytes;		/* recorded pages reclaimed * page size, 0 = all */
};

struct mmr_plan {
	uint32_t page_size;
	uint64_t base_ts;	/* recorded ts of op time 0 */
	uint64_t duration_ns;	/* recorded timeline length */
	uint64_t events;	/* event lines read */
	bool truncated;		/* the trace had no footer */
	char rec_kernel[128];	/* where it was recorded (header) */
	char rec_host[256];

	uint32_t ntasks, nops, npieces, nregions, nfiles, nreclaims, nsetup;
	struct mmr_plan_task *tasks;	/* creation order: a creator precedes its child */
	struct mmr_plan_op *ops;	/* grouped per task */
	struct mmr_plan_piece *pieces;
	struct mmr_plan_region *regions;
	struct mmr_plan_file *files;
	struct mmr_plan_reclaim *reclaims;
	uint32_t *setup_regions;
	/*
	 * Once planned, the seven arrays above (tasks to setup_regions) live
	 * in one shared mapping (a memfd) of shared_len bytes at shared (NULL:
	 * still malloc'ed). Every replay process inherits the plan, and fork
	 * copies the page tables of private memory, not of shared mappings.
	 */
	void *shared;
	size_t shared_len;
	int shared_fd;			/* its memfd; -1 while malloc'ed */

	/* what the replay needs from the machine */
	uint32_t initial_tasks;		/* tasks waiting at the start barrier */
	uint32_t peak_tasks;		/* most tasks alive at once */
	uint64_t fault_pages;		/* sum of fault run lengths */
	uint64_t mem_bytes;		/* upper bound of memory touched */
	uint64_t file_bytes;		/* replay files */
	uint64_t skipped_failed;	/* recorded failed mmap/mremap/munmap: not replayed */
	uint64_t unresolved;		/* ops with ranges in no known mapping */
	uint32_t implicit;		/* stand-in regions (see MMR_REGION_IMPLICIT) */
	uint64_t opcount[MMR_POP__COUNT];
};

struct mmr_plan_opts {
	uint32_t page_size;	/* 0: the trace's */
};

/*
 * Read and plan a whole trace. Nothing is executed: a malformed trace
 * (syntax, schema, time going backwards, impossible addresses, a fork of
 * an unknown task kind...) gives NULL with an error naming the line.
 * The caller owns the plan.
 */
struct mmr_plan *mmr_plan_from_file(const char *path, const struct mmr_plan_opts *o);
struct mmr_plan *mmr_plan_from_mem(const void *buf, size_t len, const struct mmr_plan_opts *o);
void mmr_plan_free(struct mmr_plan *p);

/*
 * Bytes of task's ops and their pieces (more than MMR_PLAN_COPY_MAX: too
 * many to hand over), and in *nbases (unless NULL) the most bases a copy
 * of them carries. (Inline: the executor's helper has no planner.)
 */
static inline size_t mmr_plan_copy_len(const struct mmr_plan *p, uint32_t task, unsigned *nbases)
{
	const struct mmr_plan_task *t = &p->tasks[task];
	size_t len = (size_t)t->nops * sizeof(struct mmr_plan_op), n = 0;

	for (uint32_t i = 0; i < t->nops && len <= MMR_PLAN_COPY_MAX; i++) {
		const struct mmr_plan_op *op = &p->ops[t->op + i];

		len += op->npieces * sizeof(struct mmr_plan_piece);
		n += op->npieces + (op->kind == MMR_POP_BRK);
	}
	if (nbases)
		*nbases = n < MMR_PLAN_COPY_BASES ? (unsigned)n : MMR_PLAN_COPY_BASES;
	return len;
}

/* Ops of the plan that count as recorded (every op). */
uint64_t mmr_plan_ops(const struct mmr_plan *p);

/* What the machine offers (filled by mmr_plan_limits_probe, or by tests). */
struct mmr_plan_limits {
	uint64_t pid_max;		/* kernel.pid_max */
	uint64_t tasks_now;		/* tasks on the machine now */
	uint64_t nproc_limit;		/* RLIMIT_NPROC, UINT64_MAX: none */
	uint64_t mem_available;		/* MemAvailable */
	uint64_t mem_cap;		/* memory the replay may use (memcg limit), 0: none */
};

int mmr_plan_limits_probe(struct mmr_plan_limits *l);
/*
 * 0 when the machine can take the plan; -1 with MMR_E_USAGE and a message
 * that names the limit and says to use --force otherwise.
 */
int mmr_plan_check(const struct mmr_plan *p, const struct mmr_plan_limits *l);

#endif
