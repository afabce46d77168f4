/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event model: one struct for every record a trace v1 file carries
 * between its header and its footer. The recorder produces these from raw
 * tracefs events, the trace writer serialises them, the reader gives them
 * back, and the replay planner consumes them. See mmreplay-trace(5).
 */
#ifndef MMR_EVENT_H
#define MMR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum mmr_ev_type {
	MMR_EV_NONE = 0,
	MMR_EV_FORK,		/* process or thread created (clone) */
	MMR_EV_EXEC,
	MMR_EV_EXIT,		/* thread exit; group=true for the last one */
	MMR_EV_MMAP,
	MMR_EV_MUNMAP,
	MMR_EV_MREMAP,
	MMR_EV_MPROTECT,
	MMR_EV_MADVISE,
	MMR_EV_BRK,
	MMR_EV_FAULT,		/* one page fault or a coalesced run */
	MMR_EV_RECLAIM,		/* a reclaim episode (begin..end) */
	MMR_EV_LOCK,		/* mmap_lock wait or hold sample */
	MMR_EV_CONTENTION,	/* lock:contention_begin..end sample */
	MMR_EV_STACK,		/* definition of a symbolised kernel stack */
	MMR_EV__COUNT
};

/* What the task was doing when a lock sample was taken. */
enum mmr_op {
	MMR_OP_NONE = 0,
	MMR_OP_FAULT,
	MMR_OP_FORK,
	MMR_OP_EXIT,
	MMR_OP_MMAP,
	MMR_OP_MUNMAP,
	MMR_OP_MREMAP,
	MMR_OP_MPROTECT,
	MMR_OP_MADVISE,
	MMR_OP_BRK,
	MMR_OP_RECLAIM,
	MMR_OP_OTHER,
	MMR_OP__COUNT
};

/* Kernel path a contention stack was classified into. */
enum mmr_lockclass {
	MMR_LC_OTHER = 0,
	MMR_LC_ANON_VMA,
	MMR_LC_MMAP_LOCK,
	MMR_LC_I_MMAP,
	MMR_LC_LRU,
	MMR_LC_SWAP,
	MMR_LC__COUNT
};

enum mmr_reclaim_kind {
	MMR_RECLAIM_DIRECT = 0,
	MMR_RECLAIM_KSWAPD,
	MMR_RECLAIM_MEMCG,
	MMR_RECLAIM__COUNT
};

/* lock:contention_begin flags, as the kernel defines them (LCB_F_*). */
#define MMR_LCB_SPIN	(1U << 0)
#define MMR_LCB_READ	(1U << 1)
#define MMR_LCB_WRITE	(1U << 2)
#define MMR_LCB_RT	(1U << 3)
#define MMR_LCB_PERCPU	(1U << 4)
#define MMR_LCB_MUTEX	(1U << 5)

/* x86 page-fault error code bits carried in mmr_event.fault.err. */
#define MMR_PF_PRESENT	(1U << 0)
#define MMR_PF_WRITE	(1U << 1)
#define MMR_PF_USER	(1U << 2)
#define MMR_PF_INSTR	(1U << 4)

#define MMR_HASH_LEN 64		/* hex sha256 */
#define MMR_COMM_LEN 16

/*
 * File identity of a file-backed mapping: a hashed path ("sha256:<hex>") by
 * default, or the path itself when the recording kept paths.
 */
#define MMR_FILE_LEN 256

struct mmr_event {
	enum mmr_ev_type type;
	uint64_t ts;		/* ns, trace clock (mono) */
	int32_t pid;		/* thread group id */
	int32_t tid;
	union {
		struct {
			int32_t child;		/* tid of the new task */
			bool thread;		/* CLONE_THREAD */
			uint64_t flags;		/* clone flags */
		} fork;
		struct {
			char comm[MMR_COMM_LEN];
			char file[MMR_FILE_LEN];
		} exec;
		struct {
			bool group;		/* last thread: the process is gone */
		} exit;
		struct {
			uint64_t addr, len, prot, flags, off;
			int64_t fd;
			char file[MMR_FILE_LEN];	/* "" for anonymous */
			uint64_t fsize;		/* size of the file, 0 if unknown */
			int64_t ret;		/* mapped address or -errno */
			uint64_t dur;		/* syscall duration, ns */
		} mmap;
		struct {		/* munmap, mprotect, madvise */
			uint64_t addr, len;
			uint64_t arg;		/* prot (mprotect), advice (madvise) */
			int64_t ret;
			uint64_t dur;
		} range;
		struct {
			uint64_t addr, old_len, new_len, flags, new_addr;
			int64_t ret;
			uint64_t dur;
		} mremap;
		struct {
			uint64_t addr;
			int64_t ret;
			uint64_t dur;
		} brk;
		struct {
			uint64_t addr;		/* first page (page aligned) */
			int64_t stride;		/* bytes between pages of the run */
			uint64_t count;		/* pages in the run, >= 1 */
			uint32_t err;		/* error code (MMR_PF_*) */
			uint64_t last;		/* ts of the last fault of the run */
		} fault;
		struct {
			enum mmr_reclaim_kind kind;
			uint64_t dur;
			uint64_t scanned, reclaimed;
		} reclaim;
		struct {
			bool write;		/* mode */
			bool hold;		/* hold sample, else wait sample */
			bool success;		/* acquire result (wait samples) */
			bool trylock;		/* acquire_returned without start */
			enum mmr_op op;
			uint64_t dur;
		} lock;
		struct {
			uint32_t flags;		/* MMR_LCB_* */
			enum mmr_lockclass cls;
			enum mmr_op op;
			uint32_t stack;		/* id of an MMR_EV_STACK, 0 = none */
			uint64_t dur;
		} contention;
		struct {
			uint32_t id;
			uint32_t nframes;
			char **frames;		/* owned by the event holder */
		} stack;
	};
};

/* Names as they appear in trace files ("fork", "fault", ...). */
const char *mmr_ev_name(enum mmr_ev_type t);
enum mmr_ev_type mmr_ev_from_name(const char *name);	/* MMR_EV_NONE if unknown */
const char *mmr_op_name(enum mmr_op op);
enum mmr_op mmr_op_from_name(const char *name);	/* MMR_OP__COUNT if unknown */
const char *mmr_lockclass_name(enum mmr_lockclass c);
enum mmr_lockclass mmr_lockclass_from_name(const char *name); /* __COUNT if unknown */
const char *mmr_reclaim_kind_name(enum mmr_reclaim_kind k);
/* "SPIN|READ" style; buf of at least 48 bytes. Returns buf. */
char *mmr_lcb_flags_str(uint32_t flags, char *buf, size_t len);

/* The operation an event stands for when it is a syscall/fault/fork record. */
enum mmr_op mmr_ev_op(const struct mmr_event *ev);

/*
 * Classify a symbolised kernel stack (innermost frame first) into the
 * lock class the contention belongs to (anon_vma, mmap_lock, ...).
 */
enum mmr_lockclass mmr_classify_stack(const char *const *frames, unsigned n);

/* Free what an MMR_EV_STACK event owns (frames); safe for other types. */
void mmr_event_release(struct mmr_event *ev);

/*
 * Serialise one event as a JSON line (with the trailing newline) into buf.
 * Hand-formatted rather than built through json-c: this runs in the
 * recorder's hot path. Returns the length, or the length needed when it
 * does not fit (like snprintf).
 */
size_t mmr_event_format(const struct mmr_event *ev, char *buf, size_t len);

/*
 * Fill ev from a parsed event line. On malformed input returns -1 with an
 * error that names the field. Stack frames are allocated (release with
 * mmr_event_release()).
 */
int mmr_event_from_json(struct json_object *obj, struct mmr_event *ev);

#endif
