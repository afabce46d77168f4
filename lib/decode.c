// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw tracefs records -> struct mmr_event.
 *
 * Field offsets are resolved once per event id through libtraceevent
 * (formats differ across kernels); a record is then decoded by a table
 * lookup on common_type and fixed-offset loads. Per task (tid) the decoder
 * keeps what pairs events: the syscall in progress, the fault run, the
 * mmap_lock wait in progress and the locks held, open contentions, the
 * reclaim episode. Output goes through the coalescer (lib/coalesce.c),
 * which keeps it in timestamp order.
 *
 * Rules, as implemented:
 *
 * - Processes and threads. task:task_newtask (in the parent) gives FORK
 *   with the clone flags; CLONE_THREAD makes it a thread and the child
 *   inherits the parent's thread group id. sched_process_fork is used only
 *   when task_newtask is missing. Tasks seen for the first time without a
 *   fork get their thread group id from /proc/TID/status.
 * - EXIT: group = the kernel's group_dead field where the event has it
 *   (6.x: true for the last thread of the group to exit); otherwise
 *   group = (tid == thread group id), i.e. the leader's exit.
 * - Syscalls: sys_enter_X reserves the event at the enter time, sys_exit_X
 *   fills ret and dur. For mmap of a file the file is resolved at exit from
 *   /proc/PID/map_files/START-END, else /proc/PID/fd/N; when both fail
 *   (already unmapped or closed) file stays "" and fsize 0. An enter
 *   without exit is emitted with ret -EINPROGRESS (counted as unmatched).
 * - Operation a task is in, for LOCK and CONTENTION samples:
 *   in reclaim (direct/memcg begin..end) > inside a traced syscall (the mm
 *   syscalls, clone/fork -> fork, exit/exit_group -> exit, the span-only
 *   syscalls of mmr_span_syscalls, the waits among them, -> other) >
 *   "in a fault" > exited -> exit
 *   > other. There is no fault-end tracepoint: a task counts as in a fault
 *   from its page_fault_user until its next syscall enter/exit, fork, exec
 *   or exit. Samples taken in interrupt context (hardirq, softirq, NMI
 *   flags) are "other".
 * - mmap_lock: wait = start_locking -> acquire_returned (same task, mm,
 *   mode); hold = acquire_returned(success) -> released (same task, mm,
 *   mode). acquire_returned without start_locking is a trylock (a wait
 *   sample with trylock=true, dur 0), except a read acquire while the task
 *   holds the write lock of that mm: a downgrade, which ends the write hold
 *   and starts a read hold. Anything that does not pair is counted.
 * - Contention: contention_begin reserves the CONTENTION event; the
 *   stacktrace trigger's kernel_stack record follows on the same CPU (a
 *   per-CPU LIFO pairs it, so interrupts that nest their own begin/stack
 *   are fine). Stacks are deduplicated by their addresses and symbolised
 *   once; the recorder emits the MMR_EV_STACK definition right before the
 *   first event of each output segment (file) that references it.
 *   The wait is contention_end - kernel_stack time when the stack was
 *   recorded (the trigger's unwinding runs between the two and is not
 *   part of the wait), else contention_end - contention_begin.
 * - Reclaim: direct and memcg begin..end per task; scanned = the task's
 *   lru_shrink_inactive nr_scanned + lru_shrink_active nr_taken in between,
 *   reclaimed = the end event's nr_reclaimed. kswapd: system-wide, an
 *   episode per node runs from the first kswapd_wake (attributed to the
 *   waking task) to kswapd_sleep, summing the lru_shrink records of tasks
 *   not in direct/memcg reclaim on that node. When following pids kswapd
 *   itself is not traced: each wake (at most one per node per 10 ms)
 *   becomes a kswapd RECLAIM with dur 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event-parse.h>

#include "mmr-error.h"
#include "mmr-util.h"
#include "mmr-ksyms.h"
#include "mmr-recorder.h"

#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif

/* common_flags bits (kernel/trace/trace.h, TRACE_FLAG_*) */
#define TF_HARDIRQ	0x08
#define TF_SOFTIRQ	0x10
#define TF_NMI		0x40

#define NFIELDS 6
#define NHOLD 3
#define NCONT 3
#define LIFO_DEPTH 4
#define MAX_FRAMES 64
#define MAX_STACKS 65536
#define MAX_NODES 64
#define TASK_LINGER_NS 1000000000ULL	/* keep exited tasks this long */
#define KSWAPD_DEDUP_NS 10000000ULL

enum kind {
	K_NONE = 0,
	K_FAULT,
	K_NEWTASK,
	K_PFORK,
	K_EXEC,
	K_EXIT,
	K_SYS_ENTER,
	K_SYS_EXIT,
	K_LOCK_START,
	K_LOCK_ACQ,
	K_LOCK_REL,
	K_CONT_BEGIN,
	K_CONT_END,
	K_KSTACK,
	K_RECLAIM_BEGIN,
	K_RECLAIM_END,
	K_KSWAPD_WAKE,
	K_KSWAPD_SLEEP,
	K_LRU_ACTIVE,
	K_LRU_INACTIVE,
};

enum sc {
	SC_NONE = 0,
	SC_MMAP,
	SC_MUNMAP,
	SC_MREMAP,
	SC_MPROTECT,
	SC_MADVISE,
	SC_BRK,
	SC_CLONE,
	SC_EXIT,
	SC_OTHER,
};

struct evspec {
	const char *sys, *name;
	uint8_t kind, arg;
	const char *f[NFIELDS];
};

static const struct evspec specs[] = {
	{ "exceptions", "page_fault_user", K_FAULT, 0, { "address", "error_code" } },
	{ "task", "task_newtask", K_NEWTASK, 0, { "pid", "clone_flags" } },
	{ "sched", "sched_process_fork", K_PFORK, 0, { "parent_pid", "child_pid" } },
	{ "sched", "sched_process_exec", K_EXEC, 0, { "filename", "pid", "old_pid" } },
	{ "sched", "sched_process_exit", K_EXIT, 0, { "pid", "group_dead" } },
	{ "syscalls", "sys_enter_mmap", K_SYS_ENTER, SC_MMAP,
	  { "addr", "len", "prot", "flags", "fd", "off" } },
	{ "syscalls", "sys_exit_mmap", K_SYS_EXIT, SC_MMAP, { "ret" } },
	{ "syscalls", "sys_enter_munmap", K_SYS_ENTER, SC_MUNMAP, { "addr", "len" } },
	{ "syscalls", "sys_exit_munmap", K_SYS_EXIT, SC_MUNMAP, { "ret" } },
	{ "syscalls", "sys_enter_mremap", K_SYS_ENTER, SC_MREMAP,
	  { "addr", "old_len", "new_len", "flags", "new_addr" } },
	{ "syscalls", "sys_exit_mremap", K_SYS_EXIT, SC_MREMAP, { "ret" } },
	{ "syscalls", "sys_enter_mprotect", K_SYS_ENTER, SC_MPROTECT, { "start", "len", "prot" } },
	{ "syscalls", "sys_exit_mprotect", K_SYS_EXIT, SC_MPROTECT, { "ret" } },
	{ "syscalls", "sys_enter_madvise", K_SYS_ENTER, SC_MADVISE, { "start", "len_in", "behavior" } },
	{ "syscalls", "sys_exit_madvise", K_SYS_EXIT, SC_MADVISE, { "ret" } },
	{ "syscalls", "sys_enter_brk", K_SYS_ENTER, SC_BRK, { "brk" } },
	{ "syscalls", "sys_exit_brk", K_SYS_EXIT, SC_BRK, { "ret" } },
	{ "syscalls", "sys_enter_clone", K_SYS_ENTER, SC_CLONE, { NULL } },
	{ "syscalls", "sys_exit_clone", K_SYS_EXIT, SC_CLONE, { "ret" } },
	{ "syscalls", "sys_enter_clone3", K_SYS_ENTER, SC_CLONE, { NULL } },
	{ "syscalls", "sys_exit_clone3", K_SYS_EXIT, SC_CLONE, { "ret" } },
	{ "syscalls", "sys_enter_exit_group", K_SYS_ENTER, SC_EXIT, { NULL } },
	{ "mmap_lock", "mmap_lock_start_locking", K_LOCK_START, 0, { "mm", "write" } },
	{ "mmap_lock", "mmap_lock_acquire_returned", K_LOCK_ACQ, 0, { "mm", "write", "success" } },
	{ "mmap_lock", "mmap_lock_released", K_LOCK_REL, 0, { "mm", "write" } },
	{ "lock", "contention_begin", K_CONT_BEGIN, 0, { "lock_addr", "flags" } },
	{ "lock", "contention_end", K_CONT_END, 0, { "lock_addr", "ret" } },
	{ "ftrace", "kernel_stack", K_KSTACK, 0, { "size", "caller" } },
	{ "vmscan", "mm_vmscan_direct_reclaim_begin", K_RECLAIM_BEGIN, MMR_RECLAIM_DIRECT, { NULL } },
	{ "vmscan", "mm_vmscan_direct_reclaim_end", K_RECLAIM_END, MMR_RECLAIM_DIRECT,
	  { "nr_reclaimed" } },
	{ "vmscan", "mm_vmscan_memcg_reclaim_begin", K_RECLAIM_BEGIN, MMR_RECLAIM_MEMCG, { NULL } },
	{ "vmscan", "mm_vmscan_memcg_reclaim_end", K_RECLAIM_END, MMR_RECLAIM_MEMCG,
	  { "nr_reclaimed" } },
	{ "vmscan", "mm_vmscan_kswapd_wake", K_KSWAPD_WAKE, 0, { "nid" } },
	{ "vmscan", "mm_vmscan_kswapd_sleep", K_KSWAPD_SLEEP, 0, { "nid" } },
	{ "vmscan", "mm_vmscan_lru_shrink_active", K_LRU_ACTIVE, 0, { "nid", "nr_taken" } },
	{ "vmscan", "mm_vmscan_lru_shrink_inactive", K_LRU_INACTIVE, 0,
	  { "nid", "nr_scanned", "nr_reclaimed" } },
};

/*
 * Span-only syscalls: op attribution of lock samples, no events. The
 * waits are here for what they contend on, tasklist_lock against every
 * fork and exit: untraced, a parent's wait after a copy-on-write fault
 * counted as that fault (in a fork loop on 2 CPUs, 659 of 663 ms of
 * "fault" contention was wait4's).
 */
const char *const mmr_span_syscalls[] = {
	"fork", "vfork", "exit",
	"wait4", "waitid",
	"mincore", "mlock", "mlock2", "munlock", "mlockall", "munlockall", "msync",
	"process_madvise", "process_mrelease", "process_vm_readv", "process_vm_writev",
	"pkey_mprotect", "remap_file_pages", "mseal", "shmat", "shmdt",
	"execve", "execveat",
	NULL,
};

static uint8_t span_sc(const char *name)
{
	if (!strcmp(name, "fork") || !strcmp(name, "vfork"))
		return SC_CLONE;
	if (!strcmp(name, "exit"))
		return SC_EXIT;
	return SC_OTHER;
}

struct fld {
	uint16_t off;
	uint8_t size;		/* 0: absent */
	uint8_t sgn;
	uint8_t rel;		/* __rel_loc: offset counts from the field's end */
};

struct evdesc {
	uint8_t kind, arg;
	struct fld f[NFIELDS];
};

struct hold {
	uint64_t mm, ts, seq;
	bool write;
};

struct cont {
	uint64_t lock, ts, stack_ts, seq;
	uint16_t cpu;
	bool stack_pending;
};

/* bits that must all be set; M_EXEC: not exec_pid before its exec */
enum { M_COMM = 1, M_CG = 2, M_SELF = 4, M_FOLLOW = 8, M_EXEC = 16 };
#define M_ALL (M_COMM | M_CG | M_SELF | M_FOLLOW | M_EXEC)

struct task {
	int32_t tid;			/* -1: empty */
	int32_t pid;
	uint8_t mbits;
	uint8_t sc;			/* syscall span in progress */
	bool sc_slot;			/* an event is reserved for it */
	bool in_fault, in_reclaim, exited, lk_pending, lk_write;
	uint8_t nholds, ncont, rc_kind;
	bool rc_slot;
	uint64_t sc_ts, sc_seq;
	uint64_t exit_ts;
	struct mmr_fault_run run;
	uint64_t lk_mm, lk_ts, lk_seq;
	struct hold holds[NHOLD];
	struct cont cont[NCONT];
	uint64_t rc_ts, rc_seq, rc_scanned, rc_reclaimed;
};

struct lifo_ent {
	int32_t tid;
	bool skip;
	uint64_t cont_seq;
};

struct cpu_state {
	int32_t cache_tid;
	struct task *cache;
	unsigned nlifo;
	struct lifo_ent lifo[LIFO_DEPTH];
};

struct stk {
	uint64_t hash;
	uint32_t id;			/* 0: empty */
	uint16_t n;
	uint8_t cls;
	uint64_t *addrs;
	char **frames;
	unsigned nframes;
};

/* Stacks by id, for defining them in each output segment. */
struct stkid {
	char **frames;
	unsigned nframes;
	uint32_t gen;		/* segment it was last defined in */
};

struct node {
	bool open;
	uint64_t ts, seq, scanned, reclaimed, last_wake;
};

struct mmr_decoder {
	struct mmr_coalesce *c;
	struct evdesc *desc;
	unsigned ndesc;
	struct fld f_flags, f_pid;
	bool has_newtask;
	bool system_wide, hash_paths;
	bool faults_implied;		/* see mmr_recorder_opts */
	bool has_filter;
	bool comm_re_ok;
	regex_t comm_re;
	char *cgroup;
	int32_t self_pid;
	int32_t exec_pid;
	bool exec_in_header;		/* exec_pid's starting exec: no event */
	int32_t *follow;		/* followed processes at the start; NULL: all */
	unsigned nfollow;
	uint64_t page_mask;
	unsigned page_size;

	struct task *tasks;
	uint32_t tcap, tcount;
	uint64_t last_sweep;

	unsigned ncpus;
	struct cpu_state *cpus;

	struct stk *stks;
	uint32_t scap, scount;
	struct stkid *byid;
	uint32_t idcap, gen;
	struct mmr_ksyms *ksyms;
	bool ksyms_tried;

	struct node nodes[MAX_NODES];

	struct mmr_recorder_stats st;
};

/* ---- field access ---- */

static inline uint64_t rdu(const uint8_t *data, unsigned size, struct fld f)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	if ((unsigned)f.off + f.size > size)
		return 0;
	switch (f.size) {
	case 1:
		v8 = data[f.off];
		return f.sgn ? (uint64_t)(int64_t)(int8_t)v8 : v8;
	case 2:
		memcpy(&v16, data + f.off, 2);
		return f.sgn ? (uint64_t)(int64_t)(int16_t)v16 : v16;
	case 4:
		memcpy(&v32, data + f.off, 4);
		return f.sgn ? (uint64_t)(int64_t)(int32_t)v32 : v32;
	case 8:
		memcpy(&v64, data + f.off, 8);
		return v64;
	default:
		return 0;
	}
}

static int resolve_field(struct tep_format_field *tf, struct fld *f)
{
	if (!tf || tf->offset < 0 || tf->offset > UINT16_MAX)
		return -1;
	f->off = (uint16_t)tf->offset;
	/* __data_loc / __rel_loc: a u32 (len << 16 | offset) */
	if (tf->flags & TEP_FIELD_IS_DYNAMIC)
		f->size = 4;
	/* arrays (kernel_stack caller): remember the start and element size */
	else if (tf->flags & TEP_FIELD_IS_ARRAY)
		f->size = tf->elementsize ? (uint8_t)tf->elementsize : 8;
	else
		f->size = tf->size > 8 ? 0 : (uint8_t)tf->size;
	f->sgn = !!(tf->flags & TEP_FIELD_IS_SIGNED);
	f->rel = !!(tf->flags & TEP_FIELD_IS_RELATIVE);
	return 0;
}

static int add_desc(struct mmr_decoder *d, struct tep_handle *tep, const char *sys,
		    const char *name, uint8_t kind, uint8_t arg, const char *const *fields)
{
	struct tep_event *e = tep_find_event_by_name(tep, sys, name);
	struct evdesc *ds;

	if (!e)
		return 0;
	if (e->id < 0 || e->id > 65535)
		return 0;
	if ((unsigned)e->id >= d->ndesc) {
		unsigned n = (unsigned)e->id + 1;
		struct evdesc *nd = realloc(d->desc, n * sizeof(*nd));

		if (!nd)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		memset(nd + d->ndesc, 0, (n - d->ndesc) * sizeof(*nd));
		d->desc = nd;
		d->ndesc = n;
	}
	ds = &d->desc[e->id];
	memset(ds, 0, sizeof(*ds));
	for (unsigned i = 0; i < NFIELDS && fields[i]; i++)
		resolve_field(tep_find_field(e, fields[i]), &ds->f[i]);
	/* required fields: the first one of each kind that has fields */
	if (fields[0] && !ds->f[0].size && kind != K_RECLAIM_END && kind != K_EXIT)
		return 0;
	ds->kind = kind;
	ds->arg = arg;
	if (kind == K_NEWTASK)
		d->has_newtask = true;
	if (!d->f_pid.size) {
		resolve_field(tep_find_common_field(e, "common_pid"), &d->f_pid);
		resolve_field(tep_find_common_field(e, "common_flags"), &d->f_flags);
	}
	return 0;
}

/* ---- task table ---- */

static inline uint32_t thash(int32_t tid)
{
	return (uint32_t)tid * 2654435761u;
}

static void cache_clear(struct mmr_decoder *d)
{
	for (unsigned i = 0; i < d->ncpus; i++) {
		d->cpus[i].cache = NULL;
		d->cpus[i].cache_tid = -1;
	}
}

static struct task *tfind(struct mmr_decoder *d, int32_t tid)
{
	uint32_t m = d->tcap - 1, i = thash(tid) & m;

	while (d->tasks[i].tid != -1) {
		if (d->tasks[i].tid == tid)
			return &d->tasks[i];
		i = (i + 1) & m;
	}
	return NULL;
}

static struct task *tslot(struct task *tab, uint32_t cap, int32_t tid)
{
	uint32_t m = cap - 1, i = thash(tid) & m;

	while (tab[i].tid != -1 && tab[i].tid != tid)
		i = (i + 1) & m;
	return &tab[i];
}

static void task_finalize(struct mmr_decoder *d, struct task *t, uint64_t now);

/* Rebuild the table, dropping tasks that exited long ago; grow when needed. */
static int trebuild(struct mmr_decoder *d, uint64_t now)
{
	uint32_t live = 0, ncap;
	struct task *nt;

	for (uint32_t i = 0; i < d->tcap; i++) {
		struct task *t = &d->tasks[i];

		if (t->tid == -1)
			continue;
		if (t->exited && now > t->exit_ts + TASK_LINGER_NS)
			continue;
		live++;
	}
	ncap = d->tcap;
	while ((uint64_t)(live + 1) * 10 > (uint64_t)ncap * 5)
		ncap *= 2;
	nt = malloc((size_t)ncap * sizeof(*nt));
	if (!nt)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < ncap; i++)
		nt[i].tid = -1;
	d->tcount = 0;
	for (uint32_t i = 0; i < d->tcap; i++) {
		struct task *t = &d->tasks[i];

		if (t->tid == -1)
			continue;
		if (t->exited && now > t->exit_ts + TASK_LINGER_NS) {
			task_finalize(d, t, now);
			continue;
		}
		*tslot(nt, ncap, t->tid) = *t;
		d->tcount++;
	}
	free(d->tasks);
	d->tasks = nt;
	d->tcap = ncap;
	cache_clear(d);
	return 0;
}

static int32_t proc_tgid(int32_t tid)
{
	char path[64], buf[1024], *p;

	if (tid <= 0)
		return tid;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (!mmr_read_small(path, buf, sizeof(buf)))
		return tid;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return tid;
	return (int32_t)strtol(p + 6, NULL, 10);
}

static bool comm_matches(struct mmr_decoder *d, const char *comm)
{
	return !d->comm_re_ok || regexec(&d->comm_re, comm, 0, NULL, 0) == 0;
}

/* Path prefix match: "/a" matches "/a" and "/a/b", not "/ab"; "/" matches all. */
static bool cgroup_prefix(const char *path, const char *cg)
{
	size_t n = strlen(cg);

	while (n > 1 && cg[n - 1] == '/')
		n--;
	if (n == 1 && cg[0] == '/')
		return path[0] == '/';
	return !strncmp(path, cg, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * Whether any of the task's cgroups ("ID:controllers:/path" lines of
 * /proc/PID/cgroup: the v2 "0::" line, or a v1 hierarchy) is under d->cgroup.
 */
bool mmr_cgroup_file_matches(const char *content, const char *cg)
{
	const char *p = content;

	while (p && *p) {
		const char *e = strchr(p, '\n'), *c1 = strchr(p, ':'), *c2;
		char path[4096];
		size_t n;

		if (!e)
			e = p + strlen(p);
		c2 = c1 && c1 < e ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL;
		if (c2) {
			n = (size_t)(e - c2 - 1);
			if (n >= sizeof(path))
				n = sizeof(path) - 1;
			memcpy(path, c2 + 1, n);
			path[n] = '\0';
			if (cgroup_prefix(path, cg))
				return true;
		}
		p = *e ? e + 1 : NULL;
	}
	return false;
}

/* 1 in the cgroup, 0 not, -1 unknown (the task is gone). */
static int cgroup_matches(struct mmr_decoder *d, int32_t pid)
{
	char path[64], buf[4096];

	if (!d->cgroup)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (!mmr_read_small(path, buf, sizeof(buf)))
		return -1;
	return mmr_cgroup_file_matches(buf, d->cgroup);
}

static uint8_t eval_bits(struct mmr_decoder *d, int32_t pid)
{
	uint8_t b = 0;
	char path[64], comm[64];

	if (!d->self_pid || pid != d->self_pid)
		b |= M_SELF;
	if (!d->exec_pid || pid != d->exec_pid)
		b |= M_EXEC;
	if (!d->has_filter)
		return b | M_COMM | M_CG;
	if (d->comm_re_ok) {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (mmr_read_small(path, comm, sizeof(comm))) {
			comm[strcspn(comm, "\n")] = '\0';
			if (comm_matches(d, comm))
				b |= M_COMM;
		}
	} else {
		b |= M_COMM;
	}
	if (cgroup_matches(d, pid) == 1)
		b |= M_CG;
	return b;
}

static bool in_follow(const struct mmr_decoder *d, int32_t pid)
{
	for (unsigned i = 0; i < d->nfollow; i++)
		if (d->follow[i] == pid)
			return true;
	return false;
}

/* The parent of a process from /proc/PID/stat; -1 when it is gone. */
static int32_t proc_ppid(int32_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!mmr_read_small(path, buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');	/* comm may hold spaces and parens */
	if (!p || strlen(p) < 5)
		return -1;
	return (int32_t)strtol(p + 4, NULL, 10);	/* ") S ppid" */
}

/*
 * Following pids, a task seen for the first time without its fork belongs
 * to the followed tree when it (or its process) was followed at the start
 * or descends from a followed process (forked before tracing was on).
 * Other tasks get through the kernel's pid filter around scheduling: the
 * task that wakes a followed one or switches to it records its events in
 * between (trace_events.c, event_filter_pid_sched_wakeup_probe_post /
 * sched_switch_probe_pre). Those are not ours. A task already gone from
 * /proc cannot be placed: it is kept, as before.
 */
static uint8_t follow_bit(const struct mmr_decoder *d, int32_t tid, int32_t pid)
{
	int32_t p = pid;

	if (!d->follow || in_follow(d, tid) || in_follow(d, pid))
		return M_FOLLOW;
	if (tid <= 0)
		return 0;	/* the idle task */
	for (int depth = 0; depth < 64; depth++) {
		p = proc_ppid(p);
		if (p < 0)
			return depth ? 0 : M_FOLLOW;
		if (p <= 1)
			return 0;
		if (in_follow(d, p))
			return M_FOLLOW;
	}
	return 0;
}

static void task_init(struct task *t, int32_t tid)
{
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = tid;
}

/* Insert a fresh entry for tid (replacing an old one). Pointers may move. */
static struct task *tinsert(struct mmr_decoder *d, int32_t tid, uint64_t now)
{
	struct task *t = tfind(d, tid);

	if (t) {
		task_finalize(d, t, now);
		task_init(t, tid);
		return t;
	}
	if ((uint64_t)(d->tcount + 1) * 10 > (uint64_t)d->tcap * 6) {
		if (trebuild(d, now) < 0)
			return NULL;
		d->last_sweep = now;
	}
	t = tslot(d->tasks, d->tcap, tid);
	task_init(t, tid);
	d->tcount++;
	return t;
}

/* The task of tid, created from /proc when first seen. */
static struct task *tget(struct mmr_decoder *d, unsigned cpu, int32_t tid, uint64_t now)
{
	struct cpu_state *cs = &d->cpus[cpu];
	struct task *t;

	if (cs->cache_tid == tid && cs->cache)
		return cs->cache;
	t = tfind(d, tid);
	if (!t) {
		t = tinsert(d, tid, now);
		if (!t)
			return NULL;
		t->pid = proc_tgid(tid);
		t->mbits = eval_bits(d, t->pid) | follow_bit(d, tid, t->pid);
	}
	/* tinsert may have rebuilt the table and cleared every cache */
	cs = &d->cpus[cpu];
	cs->cache_tid = tid;
	cs->cache = t;
	return t;
}

static inline bool tmatch(const struct task *t)
{
	return (t->mbits & M_ALL) == M_ALL;
}

static enum mmr_op task_op(const struct mmr_decoder *d, const struct task *t, bool irq)
{
	if (irq)
		return MMR_OP_OTHER;
	if (t->in_reclaim)
		return MMR_OP_RECLAIM;
	switch (t->sc) {
	case SC_MMAP: return MMR_OP_MMAP;
	case SC_MUNMAP: return MMR_OP_MUNMAP;
	case SC_MREMAP: return MMR_OP_MREMAP;
	case SC_MPROTECT: return MMR_OP_MPROTECT;
	case SC_MADVISE: return MMR_OP_MADVISE;
	case SC_BRK: return MMR_OP_BRK;
	case SC_CLONE: return MMR_OP_FORK;
	case SC_EXIT: return MMR_OP_EXIT;
	case SC_OTHER: return MMR_OP_OTHER;
	default: break;
	}
	if (t->in_fault)
		return MMR_OP_FAULT;
	if (t->exited)
		return MMR_OP_EXIT;
	return d->faults_implied ? MMR_OP_FAULT : MMR_OP_OTHER;
}

/* ---- stacks ---- */

static void lifo_remove(struct mmr_decoder *d, unsigned cpu, uint64_t cont_seq)
{
	struct cpu_state *cs;

	if (cpu >= d->ncpus)
		return;
	cs = &d->cpus[cpu];
	for (unsigned i = cs->nlifo; i-- > 0;)
		if (!cs->lifo[i].skip && cs->lifo[i].cont_seq == cont_seq) {
			memmove(&cs->lifo[i], &cs->lifo[i + 1],
				(cs->nlifo - i - 1) * sizeof(cs->lifo[0]));
			cs->nlifo--;
			return;
		}
}

static bool tracing_frame(const char *n)
{
	return !strncmp(n, "trace_", 6) || !strncmp(n, "__trace", 7) ||
	       !strncmp(n, "perf_trace_", 11) || !strncmp(n, "event_trigger", 13) ||
	       !strncmp(n, "stacktrace_", 11) || !strncmp(n, "__ftrace_trace_stack", 20) ||
	       !strncmp(n, "ftrace_", 7);
}

static void stk_free_frames(struct stk *s)
{
	for (unsigned i = 0; i < s->nframes; i++)
		free(s->frames[i]);
	free(s->frames);
	free(s->addrs);
}

static int stk_grow(struct mmr_decoder *d)
{
	uint32_t ncap = d->scap ? d->scap * 2 : 256, m = ncap - 1;
	struct stk *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < d->scap; i++) {
		uint32_t j;

		if (!d->stks[i].id)
			continue;
		j = (uint32_t)d->stks[i].hash & m;
		while (ns[j].id)
			j = (j + 1) & m;
		ns[j] = d->stks[i];
	}
	free(d->stks);
	d->stks = ns;
	d->scap = ncap;
	return 0;
}

void mmr_decoder_load_ksyms(struct mmr_decoder *d)
{
	if (d->ksyms || d->ksyms_tried)
		return;
	d->ksyms_tried = true;
	d->ksyms = mmr_ksyms_load(NULL);
	if (!d->ksyms)
		mmr_clearerr();	/* unsymbolised (hex) frames are still useful */
}

/* Find or add the stack of these addresses. NULL: none (table full, ENOMEM). */
static struct stk *stk_get(struct mmr_decoder *d, const uint64_t *a, unsigned n)
{
	uint64_t h = 1469598103934665603ULL;
	uint32_t m, i;
	struct stk *s;
	char buf[128];
	unsigned skip = 0;

	for (unsigned k = 0; k < n; k++) {
		h ^= a[k];
		h *= 1099511628211ULL;
	}
	h ^= n;
	if (d->scap) {
		m = d->scap - 1;
		for (i = (uint32_t)h & m; d->stks[i].id; i = (i + 1) & m) {
			s = &d->stks[i];
			if (s->hash == h && s->n == n && !memcmp(s->addrs, a, n * sizeof(*a)))
				return s;
		}
	}
	if (d->scount >= MAX_STACKS)
		return NULL;
	if ((d->scount + 1) * 2 > d->scap && stk_grow(d) < 0)
		return NULL;
	m = d->scap - 1;
	for (i = (uint32_t)h & m; d->stks[i].id; i = (i + 1) & m)
		;
	s = &d->stks[i];
	memset(s, 0, sizeof(*s));
	s->addrs = malloc((n ? n : 1) * sizeof(*a));
	s->frames = calloc(n ? n : 1, sizeof(char *));
	if (!s->addrs || !s->frames)
		goto nomem;
	memcpy(s->addrs, a, n * sizeof(*a));
	s->n = (uint16_t)n;
	s->hash = h;
	mmr_decoder_load_ksyms(d);
	for (unsigned k = 0; k < n; k++) {
		mmr_ksyms_name(d->ksyms, a[k], buf, sizeof(buf));
		if (s->nframes == 0 && skip == k && tracing_frame(buf)) {
			skip++;
			continue;
		}
		s->frames[s->nframes] = strdup(buf);
		if (!s->frames[s->nframes])
			goto nomem;
		s->nframes++;
	}
	s->cls = (uint8_t)mmr_classify_stack((const char *const *)s->frames, s->nframes);
	if (d->scount + 2 > d->idcap) {
		uint32_t nc = d->idcap ? d->idcap * 2 : 256;
		struct stkid *ni = realloc(d->byid, nc * sizeof(*ni));

		if (!ni)
			goto nomem;
		d->byid = ni;
		d->idcap = nc;
	}
	s->id = ++d->scount;
	d->byid[s->id].frames = s->frames;
	d->byid[s->id].nframes = s->nframes;
	d->byid[s->id].gen = 0;
	d->st.stacks++;
	return s;
nomem:
	stk_free_frames(s);
	memset(s, 0, sizeof(*s));
	mmr_seterr(MMR_E_NOMEM, "out of memory");
	return NULL;
}

/* ---- pending state ---- */

static void cont_drop(struct mmr_decoder *d, struct cont *c)
{
	if (c->stack_pending)
		lifo_remove(d, c->cpu, c->seq);
	mmr_coalesce_cancel(d->c, c->seq);
}

/* Complete or drop everything a task has pending (it is going away). */
static void task_finalize(struct mmr_decoder *d, struct task *t, uint64_t now)
{
	struct mmr_event *ev;

	mmr_coalesce_break(d->c, &t->run);
	if (t->sc_slot) {
		d->st.unmatched_syscall++;
		mmr_coalesce_commit(d->c, t->sc_seq);
		t->sc_slot = false;
	}
	if (t->in_reclaim && t->rc_slot) {
		ev = mmr_coalesce_get(d->c, t->rc_seq);
		if (ev) {
			ev->reclaim.dur = now > t->rc_ts ? now - t->rc_ts : 0;
			ev->reclaim.scanned = t->rc_scanned;
			ev->reclaim.reclaimed = t->rc_reclaimed;
		}
		mmr_coalesce_commit(d->c, t->rc_seq);
		t->rc_slot = false;
	}
	if (t->lk_pending) {
		mmr_coalesce_cancel(d->c, t->lk_seq);
		t->lk_pending = false;
	}
	for (unsigned i = 0; i < t->nholds; i++)
		mmr_coalesce_cancel(d->c, t->holds[i].seq);
	t->nholds = 0;
	for (unsigned i = 0; i < t->ncont; i++)
		cont_drop(d, &t->cont[i]);
	t->ncont = 0;
}

/* ---- decoding ---- */

static inline void fill_head(struct mmr_event *ev, enum mmr_ev_type type, const struct task *t)
{
	ev->type = type;
	ev->pid = t->pid;
	ev->tid = t->tid;
}

static void mmap_file(struct mmr_decoder *d, struct mmr_event *ev, int32_t pid)
{
	char link[128], path[PATH_MAX];
	uint64_t start = (uint64_t)ev->mmap.ret;
	uint64_t end = start + ((ev->mmap.len + d->page_size - 1) & d->page_mask);
	struct stat st;
	ssize_t n;

	if (ev->mmap.ret < 0 || (ev->mmap.flags & MAP_ANONYMOUS) || ev->mmap.fd < 0)
		return;
	snprintf(link, sizeof(link), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0) {
		snprintf(link, sizeof(link), "/proc/%d/fd/%" PRId64, pid, ev->mmap.fd);
		n = readlink(link, path, sizeof(path) - 1);
	}
	if (n <= 0)
		return;
	path[n] = '\0';
	if (stat(link, &st) == 0)
		ev->mmap.fsize = (uint64_t)st.st_size;
	mmr_file_identity(path, d->hash_paths, ev->mmap.file);
}

static int do_sys_enter(struct mmr_decoder *d, struct task *t, const struct evdesc *ds,
			uint64_t ts, const uint8_t *data, unsigned size)
{
	struct mmr_event *ev;
	uint64_t seq;

	if (t->sc_slot) {
		d->st.unmatched_syscall++;
		if (mmr_coalesce_commit(d->c, t->sc_seq) < 0)
			return -1;
	}
	t->sc_slot = false;
	t->in_fault = false;
	t->sc = ds->arg;
	t->sc_ts = ts;
	if (ds->arg != SC_OTHER)
		mmr_coalesce_break(d->c, &t->run);
	if (!tmatch(t) || ds->arg > SC_BRK)
		return 0;
	ev = mmr_coalesce_reserve(d->c, ts, &seq);
	if (!ev)
		return -1;
	switch (ds->arg) {
	case SC_MMAP:
		fill_head(ev, MMR_EV_MMAP, t);
		ev->mmap.addr = rdu(data, size, ds->f[0]);
		ev->mmap.len = rdu(data, size, ds->f[1]);
		ev->mmap.prot = rdu(data, size, ds->f[2]);
		ev->mmap.flags = rdu(data, size, ds->f[3]);
		ev->mmap.fd = (int64_t)(int32_t)rdu(data, size, ds->f[4]);
		ev->mmap.off = rdu(data, size, ds->f[5]);
		ev->mmap.ret = -EINPROGRESS;
		break;
	case SC_MUNMAP:
	case SC_MPROTECT:
	case SC_MADVISE:
		fill_head(ev, ds->arg == SC_MUNMAP ? MMR_EV_MUNMAP :
			      ds->arg == SC_MPROTECT ? MMR_EV_MPROTECT : MMR_EV_MADVISE, t);
		ev->range.addr = rdu(data, size, ds->f[0]);
		ev->range.len = rdu(data, size, ds->f[1]);
		ev->range.arg = ds->f[2].size ? rdu(data, size, ds->f[2]) : 0;
		if (ds->arg == SC_MADVISE)
			ev->range.arg = (uint64_t)(int64_t)(int32_t)ev->range.arg;
		ev->range.ret = -EINPROGRESS;
		break;
	case SC_MREMAP:
		fill_head(ev, MMR_EV_MREMAP, t);
		ev->mremap.addr = rdu(data, size, ds->f[0]);
		ev->mremap.old_len = rdu(data, size, ds->f[1]);
		ev->mremap.new_len = rdu(data, size, ds->f[2]);
		ev->mremap.flags = rdu(data, size, ds->f[3]);
		ev->mremap.new_addr = rdu(data, size, ds->f[4]);
		ev->mremap.ret = -EINPROGRESS;
		break;
	case SC_BRK:
		fill_head(ev, MMR_EV_BRK, t);
		ev->brk.addr = rdu(data, size, ds->f[0]);
		ev->brk.ret = -EINPROGRESS;
		break;
	}
	t->sc_seq = seq;
	t->sc_slot = true;
	return 0;
}

static int do_sys_exit(struct mmr_decoder *d, struct task *t, const struct evdesc *ds,
		       uint64_t ts, const uint8_t *data, unsigned size)
{
	t->in_fault = false;
	if (t->sc != ds->arg || t->sc == SC_NONE) {
		/* a new child returns from clone without having entered it */
		if (ds->arg != SC_CLONE && tmatch(t))
			d->st.unmatched_syscall++;
		return 0;
	}
	t->sc = SC_NONE;
	if (t->sc_slot) {
		struct mmr_event *ev = mmr_coalesce_get(d->c, t->sc_seq);
		int64_t ret = (int64_t)rdu(data, size, ds->f[0]);
		uint64_t dur = ts > t->sc_ts ? ts - t->sc_ts : 0;

		t->sc_slot = false;
		if (!ev)
			return 0;
		switch (ev->type) {
		case MMR_EV_MMAP:
			ev->mmap.ret = ret;
			ev->mmap.dur = dur;
			mmap_file(d, ev, t->pid);
			break;
		case MMR_EV_MUNMAP:
		case MMR_EV_MPROTECT:
		case MMR_EV_MADVISE:
			ev->range.ret = ret;
			ev->range.dur = dur;
			break;
		case MMR_EV_MREMAP:
			ev->mremap.ret = ret;
			ev->mremap.dur = dur;
			break;
		case MMR_EV_BRK:
			ev->brk.ret = ret;
			ev->brk.dur = dur;
			break;
		default:
			break;
		}
		if (mmr_coalesce_commit(d->c, t->sc_seq) < 0)
			return -1;
	}
	return 0;
}

static int do_newtask(struct mmr_decoder *d, unsigned cpu, int32_t ptid, uint64_t ts,
		      int32_t child, uint64_t flags)
{
	struct task *p = tget(d, cpu, ptid, ts), *c;
	bool thread = flags & CLONE_THREAD;
	int32_t ppid;
	uint8_t bits;

	if (!p)
		return -1;
	mmr_coalesce_break(d->c, &p->run);
	p->in_fault = false;
	ppid = p->pid;
	bits = p->mbits;
	if (tmatch(p)) {
		struct mmr_event ev;

		memset(&ev, 0, sizeof(ev));
		fill_head(&ev, MMR_EV_FORK, p);
		ev.ts = ts;
		ev.fork.child = child;
		ev.fork.thread = thread;
		ev.fork.flags = flags;
		if (mmr_coalesce_event(d->c, &ev) < 0)
			return -1;
	}
	c = tinsert(d, child, ts);	/* p may be stale from here on */
	if (!c)
		return -1;
	c->pid = thread ? ppid : child;
	c->mbits = bits;
	return 0;
}

/* The kernel's comm: the first 15 bytes of the file's base name. */
static void copy_comm(char out[MMR_COMM_LEN], const char *base)
{
	size_t n = strnlen(base, MMR_COMM_LEN - 1);

	memcpy(out, base, n);
	out[n] = '\0';
}

static int do_exec(struct mmr_decoder *d, unsigned cpu, uint64_t ts, const uint8_t *data,
		   unsigned size, const struct evdesc *ds)
{
	int32_t pid = (int32_t)rdu(data, size, ds->f[1]);
	int32_t old = ds->f[2].size ? (int32_t)rdu(data, size, ds->f[2]) : pid;
	uint32_t loc = (uint32_t)rdu(data, size, ds->f[0]);
	unsigned off = (loc & 0xffff) + (ds->f[0].rel ? ds->f[0].off + 4u : 0), len = loc >> 16;
	char file[PATH_MAX];
	const char *base;
	struct mmr_event ev;
	struct task *t;
	bool starting = false;

	if (off >= size)
		len = 0;
	else if (off + len > size)
		len = size - off;
	if (len >= sizeof(file))
		len = sizeof(file) - 1;
	memcpy(file, data + off, len);
	file[len] = '\0';

	t = tget(d, cpu, pid, ts);
	if (!t)
		return -1;
	if (old != pid) {
		/* a non-leader thread exec'd and took over the leader's tid */
		struct task *o = tfind(d, old);

		if (o) {
			struct task tmp = *o;

			task_finalize(d, t, ts);
			*t = tmp;
			t->tid = pid;
			task_init(o, old);	/* its pending state moved to t */
			o->exited = true;	/* swept later */
			o->exit_ts = ts;
			cache_clear(d);
		}
	}
	t->pid = pid;
	if (!(t->mbits & M_EXEC)) {
		t->mbits |= M_EXEC;	/* the program to record starts here */
		starting = d->exec_in_header;
	}
	mmr_coalesce_break(d->c, &t->run);
	t->in_fault = false;
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	if (d->comm_re_ok) {
		char comm[MMR_COMM_LEN];

		copy_comm(comm, base);
		t->mbits = comm_matches(d, comm) ? (t->mbits | M_COMM) : (t->mbits & ~M_COMM);
	}
	if (d->cgroup) {
		/* a service manager moves a new process into its cgroup before exec */
		int in = cgroup_matches(d, pid);

		if (in >= 0)
			t->mbits = in ? (t->mbits | M_CG) : (t->mbits & ~M_CG);
	}
	if (!tmatch(t) || starting)
		return 0;
	memset(&ev, 0, sizeof(ev));
	fill_head(&ev, MMR_EV_EXEC, t);
	ev.ts = ts;
	copy_comm(ev.exec.comm, base);
	mmr_file_identity(file, d->hash_paths, ev.exec.file);
	return mmr_coalesce_event(d->c, &ev);
}

static int do_exit(struct mmr_decoder *d, struct task *t, uint64_t ts, const uint8_t *data,
		   unsigned size, const struct evdesc *ds)
{
	bool group = ds->f[1].size ? rdu(data, size, ds->f[1]) != 0 : t->tid == t->pid;

	mmr_coalesce_break(d->c, &t->run);
	if (t->sc_slot) {
		d->st.unmatched_syscall++;
		if (mmr_coalesce_commit(d->c, t->sc_seq) < 0)
			return -1;
		t->sc_slot = false;
	}
	t->sc = SC_EXIT;
	t->in_fault = false;
	t->exited = true;
	t->exit_ts = ts;
	if (tmatch(t)) {
		struct mmr_event ev;

		memset(&ev, 0, sizeof(ev));
		fill_head(&ev, MMR_EV_EXIT, t);
		ev.ts = ts;
		ev.exit.group = group;
		return mmr_coalesce_event(d->c, &ev);
	}
	return 0;
}

static struct mmr_event *reserve_lock(struct mmr_decoder *d, struct task *t, uint64_t ts,
				      bool write, bool hold, enum mmr_op op, uint64_t *seq)
{
	struct mmr_event *ev = mmr_coalesce_reserve(d->c, ts, seq);

	if (!ev)
		return NULL;
	fill_head(ev, MMR_EV_LOCK, t);
	ev->lock.write = write;
	ev->lock.hold = hold;
	ev->lock.success = hold;
	ev->lock.op = op;
	return ev;
}

static int end_hold(struct mmr_decoder *d, struct task *t, unsigned i, uint64_t ts)
{
	struct mmr_event *ev = mmr_coalesce_get(d->c, t->holds[i].seq);

	if (ev)
		ev->lock.dur = ts > t->holds[i].ts ? ts - t->holds[i].ts : 0;
	if (mmr_coalesce_commit(d->c, t->holds[i].seq) < 0)
		return -1;
	memmove(&t->holds[i], &t->holds[i + 1], (t->nholds - i - 1) * sizeof(t->holds[0]));
	t->nholds--;
	return 0;
}

static int do_lock(struct mmr_decoder *d, struct task *t, const struct evdesc *ds, uint64_t ts,
		   const uint8_t *data, unsigned size, bool irq)
{
	uint64_t mm = rdu(data, size, ds->f[0]), seq;
	bool write = rdu(data, size, ds->f[1]) != 0;
	struct mmr_event *ev;

	if (!tmatch(t))
		return 0;
	switch (ds->kind) {
	case K_LOCK_START:
		if (t->lk_pending) {
			d->st.unmatched_lock++;
			mmr_coalesce_cancel(d->c, t->lk_seq);
		}
		ev = reserve_lock(d, t, ts, write, false, task_op(d, t, irq), &seq);
		if (!ev)
			return -1;
		t->lk_pending = true;
		t->lk_mm = mm;
		t->lk_write = write;
		t->lk_ts = ts;
		t->lk_seq = seq;
		return 0;
	case K_LOCK_ACQ: {
		bool success = rdu(data, size, ds->f[2]) != 0, downgrade = false;

		if (t->lk_pending && t->lk_mm == mm && t->lk_write == write) {
			ev = mmr_coalesce_get(d->c, t->lk_seq);
			if (ev) {
				ev->lock.success = success;
				ev->lock.dur = ts > t->lk_ts ? ts - t->lk_ts : 0;
			}
			t->lk_pending = false;
			if (mmr_coalesce_commit(d->c, t->lk_seq) < 0)
				return -1;
		} else {
			if (t->lk_pending) {
				d->st.unmatched_lock++;
				mmr_coalesce_cancel(d->c, t->lk_seq);
				t->lk_pending = false;
			}
			if (!write && success) {
				for (unsigned i = t->nholds; i-- > 0;)
					if (t->holds[i].mm == mm && t->holds[i].write) {
						if (end_hold(d, t, i, ts) < 0)
							return -1;
						downgrade = true;
						break;
					}
			}
			if (!downgrade) {
				struct mmr_event tev;

				memset(&tev, 0, sizeof(tev));
				fill_head(&tev, MMR_EV_LOCK, t);
				tev.ts = ts;
				tev.lock.write = write;
				tev.lock.success = success;
				tev.lock.trylock = true;
				tev.lock.op = task_op(d, t, irq);
				if (mmr_coalesce_event(d->c, &tev) < 0)
					return -1;
			}
		}
		if (!success)
			return 0;
		if (t->nholds == NHOLD) {
			d->st.unmatched_lock++;
			mmr_coalesce_cancel(d->c, t->holds[0].seq);
			memmove(&t->holds[0], &t->holds[1], (NHOLD - 1) * sizeof(t->holds[0]));
			t->nholds--;
		}
		ev = reserve_lock(d, t, ts, write, true, task_op(d, t, irq), &seq);
		if (!ev)
			return -1;
		t->holds[t->nholds].mm = mm;
		t->holds[t->nholds].write = write;
		t->holds[t->nholds].ts = ts;
		t->holds[t->nholds].seq = seq;
		t->nholds++;
		return 0;
	}
	case K_LOCK_REL:
		for (unsigned i = t->nholds; i-- > 0;)
			if (t->holds[i].mm == mm && t->holds[i].write == write)
				return end_hold(d, t, i, ts);
		d->st.unmatched_lock++;
		return 0;
	}
	return 0;
}

static int do_cont_begin(struct mmr_decoder *d, unsigned cpu, struct task *t, uint64_t ts,
			 const uint8_t *data, unsigned size, const struct evdesc *ds, bool irq)
{
	struct cpu_state *cs = &d->cpus[cpu];
	struct lifo_ent le = { .tid = t->tid, .skip = true };
	uint64_t cseq;
	struct mmr_event *ev;
	struct cont *c;

	c = NULL;
	if (tmatch(t))
		for (unsigned i = t->ncont; i-- > 0 && !c;)
			if (t->cont[i].lock == rdu(data, size, ds->f[0]))
				c = &t->cont[i];
	if (c) {
		/*
		 * The same lock again before its end: a mutex that spun
		 * (SPIN|MUTEX) now goes to sleep (MUTEX). One wait from the
		 * first begin to the end, as perf lock counts it; it takes the
		 * latest flags. This begin's stack is consumed and ignored.
		 */
		ev = mmr_coalesce_get(d->c, c->seq);
		if (ev)
			ev->contention.flags = (uint32_t)rdu(data, size, ds->f[1]);
	} else if (tmatch(t)) {
		ev = mmr_coalesce_reserve(d->c, ts, &cseq);
		if (!ev)
			return -1;
		fill_head(ev, MMR_EV_CONTENTION, t);
		ev->contention.flags = (uint32_t)rdu(data, size, ds->f[1]);
		ev->contention.op = task_op(d, t, irq);
		ev->contention.cls = MMR_LC_OTHER;
		if (t->ncont == NCONT) {
			d->st.unmatched_contention++;
			cont_drop(d, &t->cont[0]);
			memmove(&t->cont[0], &t->cont[1], (NCONT - 1) * sizeof(t->cont[0]));
			t->ncont--;
		}
		c = &t->cont[t->ncont++];
		c->lock = rdu(data, size, ds->f[0]);
		c->ts = ts;
		c->stack_ts = 0;
		c->seq = cseq;
		c->cpu = (uint16_t)cpu;
		c->stack_pending = true;
		le.skip = false;
		le.cont_seq = cseq;
	}
	if (cs->nlifo == LIFO_DEPTH) {
		/* the oldest never got its stack */
		if (!cs->lifo[0].skip) {
			struct task *o = tfind(d, cs->lifo[0].tid);

			if (o)
				for (unsigned i = 0; i < o->ncont; i++)
					if (o->cont[i].seq == cs->lifo[0].cont_seq)
						o->cont[i].stack_pending = false;
		}
		memmove(&cs->lifo[0], &cs->lifo[1], (LIFO_DEPTH - 1) * sizeof(cs->lifo[0]));
		cs->nlifo--;
	}
	cs->lifo[cs->nlifo++] = le;
	return 0;
}

static int do_kstack(struct mmr_decoder *d, unsigned cpu, uint64_t ts, const uint8_t *data,
		     unsigned size, const struct evdesc *ds)
{
	struct cpu_state *cs = &d->cpus[cpu];
	uint64_t a[MAX_FRAMES];
	struct lifo_ent le;
	struct mmr_event *ev;
	struct task *t;
	struct stk *s;
	unsigned n, avail;

	if (!cs->nlifo)
		return 0;	/* not one of ours */
	le = cs->lifo[--cs->nlifo];
	if (le.skip)
		return 0;
	n = (unsigned)rdu(data, size, ds->f[0]);
	avail = size > ds->f[1].off ? (size - ds->f[1].off) / 8 : 0;
	if (n > avail)
		n = avail;
	if (n > MAX_FRAMES)
		n = MAX_FRAMES;
	memcpy(a, data + ds->f[1].off, n * 8);
	while (n && !a[n - 1])
		n--;
	s = stk_get(d, a, n);
	ev = mmr_coalesce_get(d->c, le.cont_seq);
	if (ev && s) {
		ev->contention.stack = s->id;
		ev->contention.cls = (enum mmr_lockclass)s->cls;
	}
	t = tfind(d, le.tid);
	if (t)
		for (unsigned i = 0; i < t->ncont; i++)
			if (t->cont[i].seq == le.cont_seq) {
				t->cont[i].stack_pending = false;
				t->cont[i].stack_ts = ts;
			}
	/* no stack (table full, out of memory): the contention keeps id 0 */
	return 0;
}

static int do_cont_end(struct mmr_decoder *d, struct task *t, uint64_t ts, const uint8_t *data,
		       unsigned size, const struct evdesc *ds)
{
	uint64_t lock = rdu(data, size, ds->f[0]);

	if (!tmatch(t))
		return 0;
	for (unsigned i = t->ncont; i-- > 0;) {
		struct cont *c = &t->cont[i];
		struct mmr_event *ev;
		uint64_t from;

		if (c->lock != lock)
			continue;
		if (c->stack_pending)
			lifo_remove(d, c->cpu, c->seq);
		from = c->stack_ts && c->stack_ts <= ts ? c->stack_ts : c->ts;
		ev = mmr_coalesce_get(d->c, c->seq);
		if (ev)
			ev->contention.dur = ts > from ? ts - from : 0;
		if (mmr_coalesce_commit(d->c, c->seq) < 0)
			return -1;
		memmove(c, c + 1, (t->ncont - i - 1) * sizeof(*c));
		t->ncont--;
		return 0;
	}
	d->st.unmatched_contention++;
	return 0;
}

static int do_reclaim(struct mmr_decoder *d, unsigned cpu, struct task *t, const struct evdesc *ds,
		      uint64_t ts, const uint8_t *data, unsigned size)
{
	struct mmr_event *ev;
	struct node *nd;
	unsigned nid;

	switch (ds->kind) {
	case K_RECLAIM_BEGIN:
		if (t->in_reclaim) {
			d->st.unmatched_reclaim++;
			if (t->rc_slot && mmr_coalesce_commit(d->c, t->rc_seq) < 0)
				return -1;
		}
		t->in_reclaim = true;
		t->rc_slot = false;
		t->rc_kind = ds->arg;
		t->rc_ts = ts;
		t->rc_scanned = t->rc_reclaimed = 0;
		if (!tmatch(t))
			return 0;
		ev = mmr_coalesce_reserve(d->c, ts, &t->rc_seq);
		if (!ev)
			return -1;
		fill_head(ev, MMR_EV_RECLAIM, t);
		ev->reclaim.kind = (enum mmr_reclaim_kind)ds->arg;
		t->rc_slot = true;
		return 0;
	case K_RECLAIM_END:
		if (!t->in_reclaim) {
			if (tmatch(t))
				d->st.unmatched_reclaim++;
			return 0;
		}
		t->in_reclaim = false;
		if (!t->rc_slot)
			return 0;
		t->rc_slot = false;
		ev = mmr_coalesce_get(d->c, t->rc_seq);
		if (ev) {
			ev->reclaim.dur = ts > t->rc_ts ? ts - t->rc_ts : 0;
			ev->reclaim.scanned = t->rc_scanned;
			ev->reclaim.reclaimed = ds->f[0].size ? rdu(data, size, ds->f[0])
							      : t->rc_reclaimed;
		}
		return mmr_coalesce_commit(d->c, t->rc_seq) < 0 ? -1 : 0;
	case K_LRU_ACTIVE:
	case K_LRU_INACTIVE: {
		uint64_t scanned = rdu(data, size, ds->f[1]);
		uint64_t reclaimed = ds->kind == K_LRU_INACTIVE ? rdu(data, size, ds->f[2]) : 0;

		if (t->in_reclaim) {
			t->rc_scanned += scanned;
			t->rc_reclaimed += reclaimed;
			return 0;
		}
		nid = (unsigned)rdu(data, size, ds->f[0]);
		if (nid < MAX_NODES && d->nodes[nid].open) {
			d->nodes[nid].scanned += scanned;
			d->nodes[nid].reclaimed += reclaimed;
		}
		return 0;
	}
	case K_KSWAPD_WAKE:
		nid = (unsigned)rdu(data, size, ds->f[0]);
		if (nid >= MAX_NODES || !tmatch(t))
			return 0;
		nd = &d->nodes[nid];
		if (!d->system_wide) {
			struct mmr_event e;

			if (nd->last_wake && ts - nd->last_wake < KSWAPD_DEDUP_NS)
				return 0;
			nd->last_wake = ts;
			memset(&e, 0, sizeof(e));
			fill_head(&e, MMR_EV_RECLAIM, t);
			e.ts = ts;
			e.reclaim.kind = MMR_RECLAIM_KSWAPD;
			return mmr_coalesce_event(d->c, &e);
		}
		if (nd->open)
			return 0;
		ev = mmr_coalesce_reserve(d->c, ts, &nd->seq);
		if (!ev)
			return -1;
		fill_head(ev, MMR_EV_RECLAIM, t);
		ev->reclaim.kind = MMR_RECLAIM_KSWAPD;
		nd->open = true;
		nd->ts = ts;
		nd->scanned = nd->reclaimed = 0;
		return 0;
	case K_KSWAPD_SLEEP:
		nid = (unsigned)rdu(data, size, ds->f[0]);
		if (nid >= MAX_NODES || !d->nodes[nid].open)
			return 0;
		nd = &d->nodes[nid];
		nd->open = false;
		ev = mmr_coalesce_get(d->c, nd->seq);
		if (ev) {
			ev->reclaim.dur = ts > nd->ts ? ts - nd->ts : 0;
			ev->reclaim.scanned = nd->scanned;
			ev->reclaim.reclaimed = nd->reclaimed;
		}
		return mmr_coalesce_commit(d->c, nd->seq) < 0 ? -1 : 0;
	}
	(void)cpu;
	return 0;
}

int mmr_decoder_record(struct mmr_decoder *d, unsigned cpu, uint64_t ts, const void *vdata,
		       unsigned size)
{
	const uint8_t *data = vdata;
	const struct evdesc *ds;
	struct task *t;
	uint16_t type;
	int32_t tid;
	bool irq;

	if (size < 8 || cpu >= d->ncpus)
		return 0;
	memcpy(&type, data, 2);
	d->st.raw_events++;
	if (type >= d->ndesc || !(ds = &d->desc[type])->kind)
		return 0;
	tid = (int32_t)rdu(data, size, d->f_pid);

	if (ds->kind == K_FAULT) {
		/* the hot path */
		struct cpu_state *cs = &d->cpus[cpu];

		t = cs->cache_tid == tid && cs->cache ? cs->cache : tget(d, cpu, tid, ts);
		if (!t)
			return -1;
		if (!tmatch(t)) {
			d->st.filtered++;
			return 0;
		}
		t->in_fault = true;
		d->st.faults++;
		return mmr_coalesce_fault(d->c, &t->run, t->pid, tid, ts,
					  rdu(data, size, ds->f[0]) & d->page_mask,
					  (uint32_t)rdu(data, size, ds->f[1]));
	}

	irq = (rdu(data, size, d->f_flags) & (TF_HARDIRQ | TF_SOFTIRQ | TF_NMI)) != 0;
	switch (ds->kind) {
	case K_NEWTASK:
		return do_newtask(d, cpu, tid, ts, (int32_t)rdu(data, size, ds->f[0]),
				  rdu(data, size, ds->f[1]));
	case K_PFORK: {
		int32_t child = (int32_t)rdu(data, size, ds->f[1]);
		int32_t tg;

		if (d->has_newtask)
			return 0;
		tg = proc_tgid(child);
		return do_newtask(d, cpu, tid, ts, child, tg != child ? CLONE_THREAD : 0);
	}
	case K_EXEC:
		return do_exec(d, cpu, ts, data, size, ds);
	case K_KSTACK:
		return do_kstack(d, cpu, ts, data, size, ds);
	default:
		break;
	}

	t = tget(d, cpu, tid, ts);
	if (!t)
		return -1;
	switch (ds->kind) {
	case K_EXIT:
		return do_exit(d, t, ts, data, size, ds);
	case K_SYS_ENTER:
		return do_sys_enter(d, t, ds, ts, data, size);
	case K_SYS_EXIT:
		return do_sys_exit(d, t, ds, ts, data, size);
	case K_LOCK_START:
	case K_LOCK_ACQ:
	case K_LOCK_REL:
		return do_lock(d, t, ds, ts, data, size, irq);
	case K_CONT_BEGIN:
		return do_cont_begin(d, cpu, t, ts, data, size, ds, irq);
	case K_CONT_END:
		return do_cont_end(d, t, ts, data, size, ds);
	case K_RECLAIM_BEGIN:
	case K_RECLAIM_END:
	case K_KSWAPD_WAKE:
	case K_KSWAPD_SLEEP:
	case K_LRU_ACTIVE:
	case K_LRU_INACTIVE:
		return do_reclaim(d, cpu, t, ds, ts, data, size);
	}
	return 0;
}

void mmr_decoder_tick(struct mmr_decoder *d, uint64_t now)
{
	if (now < d->last_sweep + 4 * TASK_LINGER_NS)
		return;
	d->last_sweep = now;
	if (trebuild(d, now) < 0)
		mmr_clearerr();	/* keep going with the old table */
}

int mmr_decoder_finish(struct mmr_decoder *d, uint64_t now)
{
	for (uint32_t i = 0; i < d->tcap; i++) {
		struct task *t = &d->tasks[i];

		if (t->tid == -1)
			continue;
		/* syscalls still in progress did happen: keep them */
		task_finalize(d, t, now);
	}
	for (unsigned n = 0; n < MAX_NODES; n++) {
		struct node *nd = &d->nodes[n];
		struct mmr_event *ev;

		if (!nd->open)
			continue;
		nd->open = false;
		ev = mmr_coalesce_get(d->c, nd->seq);
		if (ev) {
			ev->reclaim.dur = now > nd->ts ? now - nd->ts : 0;
			ev->reclaim.scanned = nd->scanned;
			ev->reclaim.reclaimed = nd->reclaimed;
		}
		mmr_coalesce_commit(d->c, nd->seq);
	}
	for (unsigned c = 0; c < d->ncpus; c++)
		d->cpus[c].nlifo = 0;
	return mmr_coalesce_failed(d->c) ? -1 : 0;
}

int mmr_decoder_stack_event(struct mmr_decoder *d, uint32_t id, struct mmr_event *ev)
{
	if (!id || id > d->scount || d->byid[id].gen == d->gen)
		return 0;
	d->byid[id].gen = d->gen;
	memset(ev, 0, sizeof(*ev));
	ev->type = MMR_EV_STACK;
	ev->stack.id = id;
	ev->stack.nframes = d->byid[id].nframes;
	ev->stack.frames = d->byid[id].frames;
	return 1;
}

void mmr_decoder_new_segment(struct mmr_decoder *d)
{
	d->gen++;
}

void mmr_decoder_exec_in_header(struct mmr_decoder *d)
{
	d->exec_in_header = true;
}

void mmr_decoder_add_stats(const struct mmr_decoder *d, struct mmr_recorder_stats *st)
{
	st->raw_events += d->st.raw_events;
	st->faults += d->st.faults;
	st->filtered += d->st.filtered;
	st->unmatched_syscall += d->st.unmatched_syscall;
	st->unmatched_lock += d->st.unmatched_lock;
	st->unmatched_contention += d->st.unmatched_contention;
	st->unmatched_reclaim += d->st.unmatched_reclaim;
	st->stacks += d->st.stacks;
}

struct mmr_decoder *mmr_decoder_new(struct tep_handle *tep, unsigned ncpus,
				    const struct mmr_decoder_opts *o, struct mmr_coalesce *c)
{
	struct mmr_decoder *d = calloc(1, sizeof(*d));
	long ps = sysconf(_SC_PAGESIZE);
	char name[128];

	if (!d)
		goto nomem;
	d->c = c;
	d->gen = 1;
	d->page_size = o->page_size ? o->page_size : (ps > 0 ? (unsigned)ps : 4096);
	d->page_mask = ~((uint64_t)d->page_size - 1);
	d->system_wide = o->system_wide;
	d->hash_paths = o->hash_paths;
	d->faults_implied = o->faults_implied;
	d->self_pid = o->self_pid;
	d->exec_pid = o->exec_pid;
	if (o->nfollow) {
		d->follow = malloc(o->nfollow * sizeof(*d->follow));
		if (!d->follow)
			goto nomem;
		memcpy(d->follow, o->follow, o->nfollow * sizeof(*d->follow));
		d->nfollow = o->nfollow;
	}
	d->ncpus = ncpus ? ncpus : 1;
	d->cpus = calloc(d->ncpus, sizeof(*d->cpus));
	if (!d->cpus)
		goto nomem;
	cache_clear(d);
	d->tcap = 1024;
	d->tasks = malloc(d->tcap * sizeof(*d->tasks));
	if (!d->tasks)
		goto nomem;
	for (uint32_t i = 0; i < d->tcap; i++)
		d->tasks[i].tid = -1;
	if (o->comm_re && *o->comm_re) {
		int rc = regcomp(&d->comm_re, o->comm_re, REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[256];

			regerror(rc, &d->comm_re, msg, sizeof(msg));
			mmr_seterr(MMR_E_USAGE, "bad comm regex '%s': %s", o->comm_re, msg);
			goto fail;
		}
		d->comm_re_ok = true;
		d->has_filter = true;
	}
	if (o->cgroup && *o->cgroup) {
		d->cgroup = strdup(o->cgroup);
		if (!d->cgroup)
			goto nomem;
		d->has_filter = true;
	}
	/* default common field layout, replaced by what the formats say */
	d->f_pid = (struct fld){ .off = 4, .size = 4, .sgn = 1 };
	d->f_flags = (struct fld){ .off = 2, .size = 1 };
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (add_desc(d, tep, specs[i].sys, specs[i].name, specs[i].kind, specs[i].arg,
			     specs[i].f) < 0)
			goto fail;
	for (unsigned i = 0; mmr_span_syscalls[i]; i++) {
		static const char *const ret_field[] = { "ret", NULL };
		static const char *const none[] = { NULL };
		uint8_t sc = span_sc(mmr_span_syscalls[i]);

		snprintf(name, sizeof(name), "sys_enter_%s", mmr_span_syscalls[i]);
		if (add_desc(d, tep, "syscalls", name, K_SYS_ENTER, sc, none) < 0)
			goto fail;
		snprintf(name, sizeof(name), "sys_exit_%s", mmr_span_syscalls[i]);
		if (add_desc(d, tep, "syscalls", name, K_SYS_EXIT, sc, ret_field) < 0)
			goto fail;
	}
	return d;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	mmr_decoder_free(d);
	return NULL;
}

void mmr_decoder_free(struct mmr_decoder *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->scap; i++)
		if (d->stks[i].id)
			stk_free_frames(&d->stks[i]);
	free(d->stks);
	free(d->byid);
	mmr_ksyms_free(d->ksyms);
	if (d->comm_re_ok)
		regfree(&d->comm_re);
	free(d->cgroup);
	free(d->follow);
	free(d->tasks);
	free(d->cpus);
	free(d->desc);
	free(d);
}
