// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Trace -> replay plan. The trace is read once, in time order; a model of
 * every recorded address space (plan-mm.c) turns each address into
 * (region, offset) as of that moment, so the executor never has to reason
 * about recorded addresses. Everything is checked here, before anything
 * runs: the executor trusts the plan.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-trace.h"
#include "mmr-plan.h"
#include "mmr-util.h"
#include "plan-mm.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* Per-task state while planning. */
struct btask {
	struct mmr_plan_op *ops;
	uint32_t nops, cap;
	uint32_t *setup;
	uint32_t nsetup, setup_cap;
	bool alive;
	uint32_t live_threads;	/* leaders: threads of the process alive */
	struct mmr_mm mm;	/* leaders: the process's address space */
};

/* Open-addressing map tid -> task (MMR_PLAN_NONE: removed). */
struct tidmap {
	int32_t *keys;
	uint32_t *vals;
	uint32_t cap, used;
};

struct builder {
	struct mmr_plan *p;
	struct btask *bt;
	uint32_t tcap;
	uint32_t pcap, rcap, fcap, ccap;
	struct tidmap live;
	const struct mmr_trace_header *hdr;
	uint64_t line;
	uint64_t last_ts;
	bool have_base;
	uint64_t forked_alive, forked_peak;
};

static const char *const pop_names[MMR_POP__COUNT] = {
	"fault", "mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "fork", "thread",
	"exit", "exec",
};

const char *mmr_pop_name(enum mmr_pop k)
{
	return (unsigned)k < MMR_POP__COUNT ? pop_names[k] : "unknown";
}

enum mmr_op mmr_pop_op(enum mmr_pop k)
{
	static const enum mmr_op map[MMR_POP__COUNT] = {
		MMR_OP_FAULT, MMR_OP_MMAP, MMR_OP_MUNMAP, MMR_OP_MREMAP, MMR_OP_MPROTECT,
		MMR_OP_MADVISE, MMR_OP_BRK, MMR_OP_FORK, MMR_OP_OTHER, MMR_OP_EXIT,
		MMR_OP_OTHER,
	};

	return (unsigned)k < MMR_POP__COUNT ? map[k] : MMR_OP_OTHER;
}

/* ---- small containers ---- */

static int grow_arr(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > UINT32_MAX / 2)
			return mmr_seterr(MMR_E_NOMEM, "plan too large");
		ncap *= 2;
	}
	n = realloc(*arr, (size_t)ncap * size);
	if (!n)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	*arr = n;
	*cap = ncap;
	return 0;
}

static uint32_t hash_tid(int32_t tid, uint32_t cap)
{
	return ((uint32_t)tid * 2654435761u) & (cap - 1);
}

static int tidmap_put(struct tidmap *m, int32_t tid, uint32_t task);

static int tidmap_rehash(struct tidmap *m)
{
	struct tidmap n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 256;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < n.cap; i++)
		n.keys[i] = 0;	/* tid 0 never occurs: it marks a free slot */
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->keys[i] && m->vals[i] != MMR_PLAN_NONE)
			tidmap_put(&n, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

static int tidmap_put(struct tidmap *m, int32_t tid, uint32_t task)
{
	uint32_t i;

	if ((m->used + 1) * 2 > m->cap && tidmap_rehash(m) < 0)
		return -1;
	for (i = hash_tid(tid, m->cap); m->keys[i] && m->keys[i] != tid; i = (i + 1) & (m->cap - 1))
		;
	if (!m->keys[i])
		m->used++;
	m->keys[i] = tid;
	m->vals[i] = task;
	return 0;
}

static uint32_t tidmap_get(const struct tidmap *m, int32_t tid)
{
	if (!m->cap)
		return MMR_PLAN_NONE;
	for (uint32_t i = hash_tid(tid, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == tid)
			return m->vals[i];
	return MMR_PLAN_NONE;
}

/* ---- builder helpers ---- */

static int fail(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct builder *b, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return mmr_seterr(MMR_E_FORMAT, "line %" PRIu64 ": %s", b->line, msg);
}

static uint64_t page_up(const struct builder *b, uint64_t v)
{
	uint64_t ps = b->p->page_size;

	return v > UINT64_MAX - (ps - 1) ? UINT64_MAX & ~(ps - 1) : (v + ps - 1) & ~(ps - 1);
}

static uint32_t new_task(struct builder *b, int32_t pid, int32_t tid, uint32_t parent,
			 bool thread, bool initial)
{
	struct mmr_plan *p = b->p;
	struct mmr_plan_task *t;
	uint32_t idx = p->ntasks;

	if (grow_arr((void **)&p->tasks, &b->tcap, idx + 1, sizeof(*p->tasks)) < 0)
		return MMR_PLAN_NONE;
	/* bt grows with the same capacity */
	{
		struct btask *nbt = realloc(b->bt, (size_t)b->tcap * sizeof(*nbt));

		if (!nbt) {
			mmr_seterr(MMR_E_NOMEM, "out of memory");
			return MMR_PLAN_NONE;
		}
		b->bt = nbt;
	}
	t = &p->tasks[idx];
	memset(t, 0, sizeof(*t));
	t->rec_pid = pid;
	t->rec_tid = tid;
	t->leader = thread ? MMR_PLAN_NONE : idx;
	t->parent = parent;
	t->thread = thread;
	t->initial = initial;
	memset(&b->bt[idx], 0, sizeof(b->bt[idx]));
	mmr_mm_init(&b->bt[idx].mm);
	b->bt[idx].alive = true;
	p->ntasks++;
	if (initial)
		p->initial_tasks++;
	if (tidmap_put(&b->live, tid, idx) < 0)
		return MMR_PLAN_NONE;
	return idx;
}

static struct mmr_plan_op *add_op(struct builder *b, uint32_t task, enum mmr_pop kind,
				  uint64_t ts)
{
	struct btask *bt = &b->bt[task];
	struct mmr_plan_op *op;

	if (grow_arr((void **)&bt->ops, &bt->cap, bt->nops + 1, sizeof(*bt->ops)) < 0)
		return NULL;
	op = &bt->ops[bt->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->ts = ts - b->p->base_ts;
	op->last = op->ts;
	op->piece = b->p->npieces;
	b->p->tasks[task].opmask |= 1u << kind;
	b->p->opcount[kind]++;
	return op;
}

static int add_piece(struct builder *b, struct mmr_plan_op *op, uint32_t region, uint64_t off,
		     uint64_t len)
{
	struct mmr_plan *p = b->p;

	/* A piece continuing the previous one (same region, adjacent) extends it. */
	if (op->npieces && region != MMR_PLAN_NONE) {
		struct mmr_plan_piece *last = &p->pieces[p->npieces - 1];

		if (last->region == region && op->kind != MMR_POP_FAULT &&
		    last->off + last->len == off) {
			last->len += len;
			return 0;
		}
	}
	if (grow_arr((void **)&p->pieces, &b->pcap, p->npieces + 1, sizeof(*p->pieces)) < 0)
		return -1;
	p->pieces[p->npieces++] = (struct mmr_plan_piece){ region, off, len };
	op->npieces++;
	return 0;
}

/*
 * The piece of segment s from recorded address addr, len bytes (pages for
 * a fault run). None for the kernel's own pages ([vdso], [vvar]: region
 * NONE, see initial_maps): every replay process has its own, not the
 * replay's to touch, change or take down.
 */
static int seg_piece(struct builder *b, struct mmr_plan_op *op, const struct mmr_seg *s,
		     uint64_t addr, uint64_t len)
{
	if (s->region == MMR_PLAN_NONE)
		return 0;
	return add_piece(b, op, s->region, addr - s->rec_start, len);
}

static int add_setup(struct builder *b, uint32_t task, uint32_t region)
{
	struct btask *bt = &b->bt[task];

	if (grow_arr((void **)&bt->setup, &bt->setup_cap, bt->nsetup + 1, sizeof(*bt->setup)) < 0)
		return -1;
	bt->setup[bt->nsetup++] = region;
	return 0;
}

static uint32_t new_region(struct builder *b, uint8_t origin, uint64_t rec_start, uint64_t len,
			   uint32_t task)
{
	struct mmr_plan *p = b->p;
	struct mmr_plan_region *r;

	if (grow_arr((void **)&p->regions, &b->rcap, p->nregions + 1, sizeof(*p->regions)) < 0)
		return MMR_PLAN_NONE;
	r = &p->regions[p->nregions];
	memset(r, 0, sizeof(*r));
	r->rec_start = rec_start;
	r->len = len;
	r->origin = origin;
	r->task = task;
	r->file = MMR_PLAN_NONE;
	return p->nregions++;
}

/* A real file (not anonymous memory, not "[heap]" and friends). */
static bool is_file(const char *id)
{
	return id[0] && id[0] != '[';
}

static uint32_t file_index(struct builder *b, const char *id, uint64_t size)
{
	struct mmr_plan *p = b->p;

	for (uint32_t i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].id, id)) {
			if (size > p->files[i].size)
				p->files[i].size = size;
			return i;
		}
	if (grow_arr((void **)&p->files, &b->fcap, p->nfiles + 1, sizeof(*p->files)) < 0)
		return MMR_PLAN_NONE;
	snprintf(p->files[p->nfiles].id, MMR_FILE_LEN, "%s", id);
	p->files[p->nfiles].size = size;
	return p->nfiles++;
}

static struct mmr_mm *mm_of(struct builder *b, uint32_t task)
{
	return &b->bt[b->p->tasks[task].leader].mm;
}

#define IMPLICIT_GRAIN (2ull << 20)
#define USER_TOP (1ull << 56)

/* Regions of the header's initial maps for a process seen for the first time. */
static int initial_maps(struct builder *b, uint32_t task, int32_t pid)
{
	const struct mmr_proc_maps *pm = NULL;
	struct mmr_mm *mm = &b->bt[task].mm;

	for (unsigned i = 0; b->hdr && i < b->hdr->nprocs; i++)
		if (b->hdr->procs[i].pid == pid)
			pm = &b->hdr->procs[i];
	if (!pm)
		return 0;
	for (unsigned i = 0; i < pm->nmaps; i++) {
		const struct mmr_map *m = &pm->maps[i];
		bool heap = !strcmp(m->file, "[heap]");
		struct mmr_plan_region *r;
		uint32_t reg;

		/*
		 * [vdso], [vvar], [vsyscall]: the kernel provides its own to
		 * every process. Known as such (region NONE), so the faults the
		 * program took on them are not replayed on stand-in memory, a
		 * mapping the program never had.
		 */
		if (!strncmp(m->file, "[v", 2)) {
			struct mmr_plan_task *t = &b->p->tasks[task];

			if (m->end <= m->start || m->end > USER_TOP)
				continue;
			if (mmr_mm_insert(mm, m->start, m->end, MMR_PLAN_NONE, m->start) < 0)
				return -1;
			/* [vvar], [vvar_vclock], [vdso]: one block (see move_vdso in exec-task.c) */
			if (!strcmp(m->file, "[vsyscall]"))
				continue;
			if (!t->vdso_len)
				t->vdso_at = m->start;
			if (m->start == t->vdso_at + t->vdso_len)
				t->vdso_len += m->end - m->start;
			continue;
		}
		if (m->end <= m->start || (m->start | m->end) & (b->p->page_size - 1))
			return mmr_seterr(MMR_E_FORMAT,
					  "line 1 (header): map %#" PRIx64 "-%#" PRIx64
					  " of pid %d is empty or not page aligned",
					  m->start, m->end, pid);
		reg = new_region(b, heap ? MMR_REGION_HEAP : MMR_REGION_INITIAL, m->start,
				 m->end - m->start, task);
		if (reg == MMR_PLAN_NONE)
			return -1;
		r = &b->p->regions[reg];
		r->prot = (m->perms[0] == 'r' ? PROT_READ : 0) |
			  (m->perms[1] == 'w' ? PROT_WRITE : 0) |
			  (m->perms[2] == 'x' ? PROT_EXEC : 0);
		r->flags = m->perms[3] == 's' ? MAP_SHARED : MAP_PRIVATE;
		r->init_len = m->end - m->start;
		r->main_stack = !strcmp(m->file, "[stack]");
		if (is_file(m->file)) {
			r->file = file_index(b, m->file, m->off + (m->end - m->start));
			if (r->file == MMR_PLAN_NONE)
				return -1;
			r->file_off = m->off;
		}
		if (heap) {
			r->prot = PROT_READ | PROT_WRITE;
			r->flags = MAP_PRIVATE;
			mm->heap = reg;
			mm->heap_start = m->start;
			mm->brk = m->end;
		}
		if (mmr_mm_insert(mm, m->start, m->end, reg, m->start) < 0 ||
		    add_setup(b, task, reg) < 0)
			return -1;
	}
	return 0;
}

/* The task of (pid, tid), creating tasks that existed before the recording. */
static uint32_t task_of(struct builder *b, int32_t pid, int32_t tid)
{
	uint32_t t = tidmap_get(&b->live, tid), leader;

	if (pid <= 0 || tid <= 0) {
		fail(b, "pid %d / tid %d: must be positive", pid, tid);
		return MMR_PLAN_NONE;
	}
	if (t != MMR_PLAN_NONE) {
		if (b->p->tasks[t].rec_pid != pid) {
			fail(b, "tid %d belongs to process %d but the event says process %d",
			     tid, b->p->tasks[t].rec_pid, pid);
			return MMR_PLAN_NONE;
		}
		return t;
	}
	if (pid == tid) {
		t = new_task(b, pid, tid, MMR_PLAN_NONE, false, true);
		if (t == MMR_PLAN_NONE || initial_maps(b, t, pid) < 0)
			return MMR_PLAN_NONE;
		b->bt[t].live_threads = 1;
		return t;
	}
	/* A thread of a process that ran before the recording. */
	leader = task_of(b, pid, pid);
	if (leader == MMR_PLAN_NONE)
		return MMR_PLAN_NONE;
	t = new_task(b, pid, tid, MMR_PLAN_NONE, true, true);
	if (t == MMR_PLAN_NONE)
		return MMR_PLAN_NONE;
	b->p->tasks[t].leader = leader;
	b->bt[leader].live_threads++;
	return t;
}

/*
 * Memory the trace uses but never showed being mapped: the program image
 * and stack an exec creates, processes recorded without their maps. It is
 * replayed on stand-in anonymous memory around addr (up to the
 * neighbouring mappings), created by the first task that needs it.
 * Returns the new segment, NULL when addr cannot be user memory (errors
 * are ENOMEM only, with b->p->implicit unchanged).
 */
static const struct mmr_seg *implicit_seg(struct builder *b, uint32_t task, struct mmr_mm *mm,
					  uint64_t addr, int *err)
{
	uint64_t start = addr & ~(IMPLICIT_GRAIN - 1), end = start + IMPLICIT_GRAIN;
	const struct mmr_seg *prev = mmr_mm_prev(mm, addr), *next = mmr_mm_next(mm, addr);
	struct mmr_plan_region *r;
	uint32_t reg;

	if (addr >= USER_TOP)
		return NULL;
	if (prev && prev->end > start)
		start = prev->end;
	if (next && next->start < end)
		end = next->start;
	reg = new_region(b, MMR_REGION_IMPLICIT, start, end - start, task);
	if (reg == MMR_PLAN_NONE || mmr_mm_insert(mm, start, end, reg, start) < 0) {
		*err = -1;
		return NULL;
	}
	r = &b->p->regions[reg];
	r->prot = PROT_READ | PROT_WRITE;
	r->flags = MAP_PRIVATE;
	b->p->implicit++;
	return mmr_mm_find(mm, addr);
}

/*
 * Split [addr, addr + len) into pieces per region; with implicit, holes
 * get stand-in regions. Returns bytes covered, or -1 on ENOMEM.
 */
static int64_t range_pieces(struct builder *b, struct mmr_plan_op *op, struct mmr_mm *mm,
			    uint64_t addr, uint64_t len, uint32_t implicit_task)
{
	uint64_t end = addr + len, cur = addr, covered = 0;
	int err = 0;

	while (cur < end) {
		const struct mmr_seg *s = mmr_mm_find(mm, cur);
		uint64_t stop;

		if (!s && implicit_task != MMR_PLAN_NONE) {
			s = implicit_seg(b, implicit_task, mm, cur, &err);
			if (err)
				return -1;
		}
		if (!s) {
			s = mmr_mm_next(mm, cur);
			if (!s || s->start >= end)
				break;
			cur = s->start;
			continue;
		}
		stop = s->end < end ? s->end : end;
		if (seg_piece(b, op, s, cur, stop - cur) < 0)
			return -1;
		covered += stop - cur;
		cur = stop;
	}
	return (int64_t)covered;
}

static int check_range(struct builder *b, uint64_t addr, uint64_t len, const char *what)
{
	if (addr & (b->p->page_size - 1))
		return fail(b, "%s: address %#" PRIx64 " is not page aligned", what, addr);
	if (len > UINT64_MAX - addr)
		return fail(b, "%s: range %#" PRIx64 " + %" PRIu64 " wraps around", what, addr,
			    len);
	return 0;
}

/* ---- events ---- */

static void task_gone(struct builder *b, uint32_t t);

static int ev_fork(struct builder *b, const struct mmr_event *ev)
{
	uint32_t parent = task_of(b, ev->pid, ev->tid), child, old;
	struct mmr_plan_op *op;

	if (parent == MMR_PLAN_NONE)
		return -1;
	if (ev->fork.child <= 0 || ev->fork.child == ev->tid)
		return fail(b, "fork: child %d is not a new task", ev->fork.child);
	/* A tid still alive means its exit was lost: that task ends here. */
	old = tidmap_get(&b->live, ev->fork.child);
	if (old != MMR_PLAN_NONE)
		task_gone(b, old);
	if (ev->fork.thread) {
		uint32_t leader = b->p->tasks[parent].leader;

		child = new_task(b, ev->pid, ev->fork.child, parent, true, false);
		if (child == MMR_PLAN_NONE)
			return -1;
		b->p->tasks[child].leader = leader;
		b->bt[leader].live_threads++;
	} else {
		child = new_task(b, ev->fork.child, ev->fork.child, parent, false, false);
		if (child == MMR_PLAN_NONE)
			return -1;
		/* The child's address space is a copy: same regions, same addresses. */
		if (mmr_mm_copy(&b->bt[child].mm, mm_of(b, parent)) < 0)
			return -1;
		b->bt[child].live_threads = 1;
	}
	if (++b->forked_alive > b->forked_peak)
		b->forked_peak = b->forked_alive;
	op = add_op(b, parent, ev->fork.thread ? MMR_POP_THREAD : MMR_POP_FORK, ev->ts);
	if (!op)
		return -1;
	op->arg.fork.child = child;
	return 0;
}

static void task_gone(struct builder *b, uint32_t t)
{
	struct mmr_plan_task *pt = &b->p->tasks[t];

	if (!b->bt[t].alive)
		return;
	b->bt[t].alive = false;
	if (tidmap_get(&b->live, pt->rec_tid) == t)
		tidmap_put(&b->live, pt->rec_tid, MMR_PLAN_NONE);
	if (!pt->initial && b->forked_alive)
		b->forked_alive--;
	if (b->bt[pt->leader].live_threads && !--b->bt[pt->leader].live_threads)
		mmr_mm_release(&b->bt[pt->leader].mm);
}

static int ev_exit(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid), leader;
	struct mmr_plan_op *op;

	if (t == MMR_PLAN_NONE)
		return -1;
	op = add_op(b, t, MMR_POP_EXIT, ev->ts);
	if (!op)
		return -1;
	op->arg.exit.group = ev->exit.group;
	leader = b->p->tasks[t].leader;
	task_gone(b, t);
	if (ev->exit.group)
		for (uint32_t i = 0; i < b->p->ntasks; i++)
			if (b->p->tasks[i].leader == leader)
				task_gone(b, i);
	return 0;
}

/* Whether no task of t's process has an op yet (a scan: ask only when it matters). */
static bool process_idle(const struct builder *b, uint32_t t)
{
	uint32_t leader = b->p->tasks[t].leader;

	for (uint32_t i = 0; i < b->p->ntasks; i++)
		if (b->p->tasks[i].leader == leader && b->bt[i].nops)
			return false;
	return true;
}

static int ev_exec(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid);
	struct mmr_plan_op *op;
	struct mmr_mm *mm;

	if (t == MMR_PLAN_NONE)
		return -1;
	/*
	 * A process that execs before anything else (the program of `record
	 * -- CMD`, whose header maps are the recorder's own child waiting to
	 * exec) never uses its initial maps: they are not set up, so the
	 * exec has nothing to take down, and their files are not made (see
	 * drop_unused_files). Every replay process would otherwise carry
	 * their descriptors.
	 */
	if (b->bt[b->p->tasks[t].leader].nsetup && process_idle(b, t)) {
		b->bt[b->p->tasks[t].leader].nsetup = 0;
		mmr_mm_release(mm_of(b, t));
	}
	op = add_op(b, t, MMR_POP_EXEC, ev->ts);
	if (!op)
		return -1;
	mm = mm_of(b, t);
	for (unsigned i = 0; i < mm->n; i++)
		if (seg_piece(b, op, &mm->segs[i], mm->segs[i].start,
			      mm->segs[i].end - mm->segs[i].start) < 0)
			return -1;
	/* The new program starts with an empty address space. */
	mmr_mm_release(mm);
	return 0;
}

static int ev_mmap(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid), reg;
	struct mmr_plan_region *r;
	struct mmr_plan_op *op;
	struct mmr_mm *mm;
	uint64_t addr, len;

	if (t == MMR_PLAN_NONE)
		return -1;
	if (ev->mmap.ret < 0 && ev->mmap.ret > -4096) {
		b->p->skipped_failed++;	/* created nothing */
		return 0;
	}
	addr = (uint64_t)ev->mmap.ret;
	len = page_up(b, ev->mmap.len);
	if (!len)
		return fail(b, "mmap: length 0 cannot succeed");
	if (check_range(b, addr, len, "mmap result") < 0)
		return -1;
	mm = mm_of(b, t);
	op = add_op(b, t, MMR_POP_MMAP, ev->ts);
	if (!op)
		return -1;
	reg = new_region(b, MMR_REGION_MMAP, addr, len, t);
	if (reg == MMR_PLAN_NONE)
		return -1;
	r = &b->p->regions[reg];
	r->prot = (uint32_t)ev->mmap.prot;
	r->flags = (uint32_t)ev->mmap.flags;
	op->arg.mmap.region = reg;
	op->arg.mmap.len = len;
	op->arg.mmap.prot = ev->mmap.prot;
	op->arg.mmap.flags = ev->mmap.flags;
	op->arg.mmap.off = ev->mmap.off;
	op->arg.mmap.file = MMR_PLAN_NONE;
	if (is_file(ev->mmap.file) && !(ev->mmap.flags & MAP_ANONYMOUS)) {
		uint64_t need = ev->mmap.fsize ? ev->mmap.fsize : ev->mmap.off + len;

		op->arg.mmap.file = file_index(b, ev->mmap.file, need);
		if (op->arg.mmap.file == MMR_PLAN_NONE)
			return -1;
		r->file = op->arg.mmap.file;
		r->file_off = ev->mmap.off;
	}
	/*
	 * A fixed placement is replayed as fixed only inside one region the
	 * replay owns; anywhere else MAP_FIXED could clobber the replayer's
	 * own memory, so the kernel picks the place instead.
	 */
	if (ev->mmap.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		const struct mmr_seg *s = mmr_mm_find(mm, addr);
		uint32_t first = b->p->npieces;

		if (s && range_pieces(b, op, mm, addr, len, MMR_PLAN_NONE) == (int64_t)len &&
		    op->npieces == 1)
			op->arg.mmap.fixed = true;
		else {
			b->p->npieces = first;	/* drop what range_pieces added */
			op->npieces = 0;
		}
	}
	return mmr_mm_insert(mm, addr, addr + len, reg, addr);
}

static int ev_range(struct builder *b, const struct mmr_event *ev, enum mmr_pop kind)
{
	uint32_t t = task_of(b, ev->pid, ev->tid);
	struct mmr_plan_op *op;
	struct mmr_mm *mm;
	uint64_t len;
	int64_t covered;

	if (t == MMR_PLAN_NONE)
		return -1;
	if (ev->range.ret < 0) {
		b->p->skipped_failed++;	/* nothing changed in the recording either */
		return 0;
	}
	len = page_up(b, ev->range.len);
	if (check_range(b, ev->range.addr, len, mmr_pop_name(kind)) < 0)
		return -1;
	mm = mm_of(b, t);
	op = add_op(b, t, kind, ev->ts);
	if (!op)
		return -1;
	op->arg.range.arg = ev->range.arg;
	/* Memory-failure injection must never run against the host. */
	if (kind == MMR_POP_MADVISE && (ev->range.arg == 100 || ev->range.arg == 101)) {
		op->unresolved = true;
		b->p->unresolved++;
		return 0;
	}
	/*
	 * Memory never seen mapped gets stand-in memory, so the call still does
	 * its kernel work (a munmap removes a VMA, under mmap_lock).
	 */
	covered = range_pieces(b, op, mm, ev->range.addr, len, t);
	if (covered < 0)
		return -1;
	if (!covered && len) {
		op->unresolved = true;
		b->p->unresolved++;
	}
	if (kind == MMR_POP_MUNMAP)
		return mmr_mm_remove(mm, ev->range.addr, ev->range.addr + len);
	return 0;
}

static int ev_mremap(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid), reg;
	const struct mmr_seg *s;
	struct mmr_plan_op *op;
	struct mmr_mm *mm;
	uint64_t old_len, new_len, ret;

	if (t == MMR_PLAN_NONE)
		return -1;
	if (ev->mremap.ret < 0 && ev->mremap.ret > -4096) {
		b->p->skipped_failed++;
		return 0;
	}
	ret = (uint64_t)ev->mremap.ret;
	old_len = page_up(b, ev->mremap.old_len);
	new_len = page_up(b, ev->mremap.new_len);
	if (!new_len)
		return fail(b, "mremap: new length 0 cannot succeed");
	if (check_range(b, ev->mremap.addr, old_len, "mremap") < 0 ||
	    check_range(b, ret, new_len, "mremap result") < 0)
		return -1;
	mm = mm_of(b, t);
	op = add_op(b, t, MMR_POP_MREMAP, ev->ts);
	if (!op)
		return -1;
	s = mmr_mm_find(mm, ev->mremap.addr);
	if (s && s->region == MMR_PLAN_NONE)
		s = NULL;	/* [vdso] and the like: not the replay's to move */
	reg = new_region(b, MMR_REGION_MREMAP, ret, new_len, t);
	if (reg == MMR_PLAN_NONE)
		return -1;
	if (s) {
		/* The source lies in one mapping (mremap cannot span VMAs). */
		if (add_piece(b, op, s->region, ev->mremap.addr - s->rec_start, old_len) < 0)
			return -1;
		b->p->regions[reg].prot = b->p->regions[s->region].prot;
		b->p->regions[reg].flags = b->p->regions[s->region].flags;
		b->p->regions[reg].file = b->p->regions[s->region].file;
	} else {
		op->unresolved = true;
		b->p->unresolved++;
	}
	op->arg.mremap.region = reg;
	op->arg.mremap.old_len = old_len;
	op->arg.mremap.new_len = new_len;
	op->arg.mremap.flags = ev->mremap.flags;
	if (!(ev->mremap.flags & MREMAP_DONTUNMAP) &&
	    mmr_mm_remove(mm, ev->mremap.addr, ev->mremap.addr + old_len) < 0)
		return -1;
	return mmr_mm_insert(mm, ret, ret + new_len, reg, ret);
}

static int ev_brk(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid);
	struct mmr_plan_region *r;
	struct mmr_plan_op *op;
	struct mmr_mm *mm;
	uint64_t brk;

	if (t == MMR_PLAN_NONE)
		return -1;
	if (ev->brk.ret < 0)
		return fail(b, "brk: result %" PRId64 " is not an address", ev->brk.ret);
	brk = (uint64_t)ev->brk.ret;
	mm = mm_of(b, t);
	if (mm->heap == MMR_PLAN_NONE) {
		/* First sight of this heap: the break marks its start. */
		uint32_t reg = new_region(b, MMR_REGION_HEAP, page_up(b, brk), 0, t);

		if (reg == MMR_PLAN_NONE || add_setup(b, t, reg) < 0)
			return -1;
		b->p->regions[reg].prot = PROT_READ | PROT_WRITE;
		b->p->regions[reg].flags = MAP_PRIVATE;
		mm->heap = reg;
		mm->heap_start = page_up(b, brk);
		mm->brk = mm->heap_start;
	}
	op = add_op(b, t, MMR_POP_BRK, ev->ts);
	if (!op)
		return -1;
	r = &b->p->regions[mm->heap];
	op->arg.brk.region = mm->heap;
	if (brk < mm->heap_start) {
		op->unresolved = true;
		b->p->unresolved++;
		return 0;
	}
	op->arg.brk.old_off = page_up(b, mm->brk) - mm->heap_start;
	op->arg.brk.new_off = page_up(b, brk) - mm->heap_start;
	if (op->arg.brk.new_off > r->len)
		r->len = op->arg.brk.new_off;
	if (mmr_mm_remove(mm, mm->heap_start, page_up(b, mm->brk)) < 0 ||
	    mmr_mm_insert(mm, mm->heap_start, page_up(b, brk), mm->heap, mm->heap_start) < 0)
		return -1;
	mm->brk = brk;
	return 0;
}

static int ev_fault(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = task_of(b, ev->pid, ev->tid);
	int64_t stride = ev->fault.stride;
	uint64_t n = ev->fault.count, i = 0, addr = ev->fault.addr, ustride;
	struct mmr_plan_op *op;
	struct mmr_mm *mm;

	if (t == MMR_PLAN_NONE)
		return -1;
	ustride = stride < 0 ? (uint64_t)-(stride + 1) + 1 : (uint64_t)stride;
	/* The whole run must stay inside the address space. */
	if (n > 1 && ustride && (n - 1) > UINT64_MAX / ustride)
		return fail(b, "fault: run of %" PRIu64 " pages at stride %" PRId64
			    " leaves the address space", n, stride);
	if (n > 1 && stride > 0 && (n - 1) * ustride > UINT64_MAX - addr)
		return fail(b, "fault: run of %" PRIu64 " pages wraps around", n);
	if (n > 1 && stride < 0 && (n - 1) * ustride > addr)
		return fail(b, "fault: run of %" PRIu64 " pages goes below address 0", n);
	mm = mm_of(b, t);
	op = add_op(b, t, MMR_POP_FAULT, ev->ts);
	if (!op)
		return -1;
	op->last = ev->fault.last - b->p->base_ts;
	op->arg.fault.stride = stride;
	op->arg.fault.write = ev->fault.err & MMR_PF_WRITE;
	b->p->fault_pages += n;
	while (i < n) {
		uint64_t a = stride >= 0 ? addr + i * ustride : addr - i * ustride;
		const struct mmr_seg *s = mmr_mm_find(mm, a), *o;
		uint64_t k;
		int err = 0;

		if (!s) {
			s = implicit_seg(b, t, mm, a, &err);
			if (err)
				return -1;
		}
		if (s) {
			/* pages from a that stay inside this segment */
			if (!ustride)
				k = n - i;
			else if (stride > 0)
				k = (s->end - 1 - a) / ustride + 1;
			else
				k = (a - s->start) / ustride + 1;
			if (k > n - i)
				k = n - i;
			if (seg_piece(b, op, s, a, k) < 0)
				return -1;
		} else {
			/* skip to the next segment in the run's direction */
			if (!ustride) {
				k = n - i;
			} else if (stride > 0) {
				o = mmr_mm_next(mm, a);
				k = o ? (o->start - a + ustride - 1) / ustride : n - i;
			} else {
				o = mmr_mm_prev(mm, a);
				k = o ? (a - (o->end - 1) + ustride - 1) / ustride : n - i;
			}
			if (k > n - i || !k)
				k = n - i;
			if (add_piece(b, op, MMR_PLAN_NONE, 0, k) < 0)
				return -1;
			op->unresolved = true;
		}
		i += k;
	}
	if (op->unresolved)
		b->p->unresolved++;
	return 0;
}

/* Private writable anonymous memory of a process: what reclaim goes for. */
static int reclaim_for(struct builder *b, const struct mmr_event *ev, uint32_t leader)
{
	struct mmr_plan *p = b->p;
	struct mmr_plan_reclaim *rc;
	const struct mmr_mm *mm = &b->bt[leader].mm;
	struct mmr_plan_op tmp = { .kind = MMR_POP_MADVISE };

	if (grow_arr((void **)&p->reclaims, &b->ccap, p->nreclaims + 1, sizeof(*p->reclaims)) < 0)
		return -1;
	rc = &p->reclaims[p->nreclaims++];
	memset(rc, 0, sizeof(*rc));
	rc->ts = ev->ts - p->base_ts;
	rc->task = leader;
	rc->after_ops = b->bt[leader].nops;
	rc->bytes = ev->reclaim.reclaimed * p->page_size;
	tmp.piece = p->npieces;
	for (unsigned i = 0; i < mm->n; i++) {
		const struct mmr_plan_region *r;

		if (mm->segs[i].region == MMR_PLAN_NONE)
			continue;	/* [vdso] and the like */
		r = &p->regions[mm->segs[i].region];
		if (r->file != MMR_PLAN_NONE || !(r->prot & PROT_WRITE) || (r->flags & MAP_SHARED))
			continue;
		if (add_piece(b, &tmp, mm->segs[i].region, mm->segs[i].start - mm->segs[i].rec_start,
			      mm->segs[i].end - mm->segs[i].start) < 0)
			return -1;
	}
	rc->piece = tmp.piece;
	rc->npieces = tmp.npieces;
	return 0;
}

static int ev_reclaim(struct builder *b, const struct mmr_event *ev)
{
	uint32_t t = tidmap_get(&b->live, ev->tid);

	if (t != MMR_PLAN_NONE && b->p->tasks[t].rec_pid == ev->pid)
		return reclaim_for(b, ev, b->p->tasks[t].leader);
	/* kswapd or a task outside the trace: every live process was a target. */
	for (uint32_t i = 0; i < b->p->ntasks; i++)
		if (!b->p->tasks[i].thread && b->bt[i].live_threads &&
		    reclaim_for(b, ev, i) < 0)
			return -1;
	return 0;
}

static int plan_event(struct builder *b, const struct mmr_event *ev)
{
	if (ev->type == MMR_EV_STACK)
		return 0;
	if (ev->ts < b->last_ts)
		return fail(b, "time goes backwards (%" PRIu64 " after %" PRIu64 ")", ev->ts,
			    b->last_ts);
	b->last_ts = ev->ts;
	if (!b->have_base) {
		b->p->base_ts = ev->ts;
		b->have_base = true;
	}
	switch (ev->type) {
	case MMR_EV_FORK: return ev_fork(b, ev);
	case MMR_EV_EXIT: return ev_exit(b, ev);
	case MMR_EV_EXEC: return ev_exec(b, ev);
	case MMR_EV_MMAP: return ev_mmap(b, ev);
	case MMR_EV_MUNMAP: return ev_range(b, ev, MMR_POP_MUNMAP);
	case MMR_EV_MPROTECT: return ev_range(b, ev, MMR_POP_MPROTECT);
	case MMR_EV_MADVISE: return ev_range(b, ev, MMR_POP_MADVISE);
	case MMR_EV_MREMAP: return ev_mremap(b, ev);
	case MMR_EV_BRK: return ev_brk(b, ev);
	case MMR_EV_FAULT: return ev_fault(b, ev);
	case MMR_EV_RECLAIM: return ev_reclaim(b, ev);
	default:
		return 0;	/* lock samples: the recording's measurement, not work */
	}
}

/* The plan's arrays and their lengths in bytes. */
static unsigned plan_arrays(struct mmr_plan *p, void ***ptr, size_t *len)
{
	ptr[0] = (void **)&p->tasks;		len[0] = p->ntasks * sizeof(*p->tasks);
	ptr[1] = (void **)&p->ops;		len[1] = p->nops * sizeof(*p->ops);
	ptr[2] = (void **)&p->pieces;		len[2] = p->npieces * sizeof(*p->pieces);
	ptr[3] = (void **)&p->regions;		len[3] = p->nregions * sizeof(*p->regions);
	ptr[4] = (void **)&p->files;		len[4] = p->nfiles * sizeof(*p->files);
	ptr[5] = (void **)&p->reclaims;		len[5] = p->nreclaims * sizeof(*p->reclaims);
	ptr[6] = (void **)&p->setup_regions;	len[6] = p->nsetup * sizeof(*p->setup_regions);
	return 7;
}

/*
 * Move the finished plan's arrays into one shared mapping (a memfd, so the
 * task helper can map it too: see mmreplay-task). Every
 * replay process inherits the plan, thousands of them in a fork-heavy
 * trace, and fork copies the page tables of private memory (exit frees
 * them again): a 4500-fork replay spent 40% of its CPU time there for a
 * 5 MiB op array. A shared mapping is not copied; a child faults in only
 * the pages it reads, the ops of its own task. One mapping, not seven:
 * each mapping costs every fork and exit too.
 */
static int plan_share(struct mmr_plan *p)
{
	void **ptr[7];
	size_t len[7], off[7], total = 0;
	unsigned n = plan_arrays(p, ptr, len);
	char *m;

	for (unsigned i = 0; i < n; i++) {
		off[i] = total;
		total += (len[i] + 63) & ~(size_t)63;
	}
	m = mmr_shared_map("mmreplay-plan", total ? total : 1, &p->shared_fd);
	if (m == MAP_FAILED) {
		mmr_adderr_context("the plan (%zu bytes)", total);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (len[i])
			memcpy(m + off[i], *ptr[i], len[i]);
		free(*ptr[i]);
		*ptr[i] = m + off[i];
	}
	p->shared = m;
	p->shared_len = total ? total : 1;
	return 0;
}

/* Move the per-task lists into the plan's flat arrays. */
static int flatten(struct builder *b)
{
	struct mmr_plan *p = b->p;
	uint64_t nops = 0, nsetup = 0;

	for (uint32_t i = 0; i < p->ntasks; i++) {
		nops += b->bt[i].nops;
		nsetup += b->bt[i].nsetup;
	}
	if (nops > UINT32_MAX || nsetup > UINT32_MAX)
		return mmr_seterr(MMR_E_FORMAT, "trace too large to replay (%" PRIu64 " ops)", nops);
	p->ops = malloc((nops ? nops : 1) * sizeof(*p->ops));
	p->setup_regions = malloc((nsetup ? nsetup : 1) * sizeof(*p->setup_regions));
	if (!p->ops || !p->setup_regions)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < p->ntasks; i++) {
		struct mmr_plan_task *t = &p->tasks[i];

		t->op = p->nops;
		t->nops = b->bt[i].nops;
		if (t->nops)
			memcpy(&p->ops[p->nops], b->bt[i].ops, t->nops * sizeof(*p->ops));
		p->nops += t->nops;
		t->end_ts = t->nops ? p->ops[p->nops - 1].last : 0;
		t->setup = p->nsetup;
		t->nsetup = b->bt[i].nsetup;
		if (t->nsetup)
			memcpy(&p->setup_regions[p->nsetup], b->bt[i].setup,
			       t->nsetup * sizeof(*p->setup_regions));
		p->nsetup += t->nsetup;
	}
	return 0;
}

/*
 * How many children each task waits for at once at most, as the executor
 * keeps them (exec-task.c: do_fork adds a child recorded to exit before
 * its parent ends, the first op recorded after that exit waits for it):
 * the executor's table of them lies on a stack every replayed fork copies.
 */
static void count_reaps(struct mmr_plan *p)
{
	for (uint32_t i = 0; i < p->ntasks; i++) {
		struct mmr_plan_task *t = &p->tasks[i];
		uint64_t pending[MMR_PLAN_REAP_MAX];
		unsigned n = 0;

		t->reaps = 0;
		if (!(t->opmask & (1u << MMR_POP_FORK)))
			continue;
		for (uint32_t k = 0; k < t->nops; k++) {
			const struct mmr_plan_op *op = &p->ops[t->op + k];
			uint64_t end;

			for (unsigned j = 0; j < n;) {
				if (pending[j] < op->ts)
					pending[j] = pending[--n];
				else
					j++;
			}
			if (op->kind != MMR_POP_FORK || n == MMR_PLAN_REAP_MAX)
				continue;
			end = p->tasks[op->arg.fork.child].end_ts;
			if (end < t->end_ts) {
				pending[n++] = end;
				if (n > t->reaps)
					t->reaps = (uint16_t)n;
			}
		}
	}
}

/* copy_max of every task that forks (see MMR_PLAN_COPY_MAX) */
static void size_copies(struct mmr_plan *p)
{
	for (uint32_t i = 0; i < p->ntasks; i++) {
		struct mmr_plan_task *t = &p->tasks[i];
		size_t max = 0;

		t->copy_max = 0;
		if (!(t->opmask & (1u << MMR_POP_FORK)))
			continue;
		for (uint32_t k = 0; k < t->nops && max < MMR_PLAN_COPY_MAX +
			     MMR_PLAN_COPY_BASES * sizeof(struct mmr_plan_base); k++) {
			const struct mmr_plan_op *op = &p->ops[t->op + k];
			unsigned nb;
			size_t len;

			if (op->kind != MMR_POP_FORK)
				continue;
			len = mmr_plan_copy_len(p, op->arg.fork.child, &nb);
			if (len <= MMR_PLAN_COPY_MAX && len + nb * sizeof(struct mmr_plan_base) > max)
				max = len + nb * sizeof(struct mmr_plan_base);
		}
		t->copy_max = (uint16_t)max;
	}
}

/*
 * Keep only the files a replay uses: those of regions set up at a task's
 * start and those mmap ops map (a region made by mremap has its source's
 * file). Numbers are kept in order.
 */
static int drop_unused_files(struct mmr_plan *p)
{
	uint32_t *to = calloc(p->nfiles ? p->nfiles : 1, sizeof(*to)), n = 0;

	if (!to)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < p->nsetup; i++)
		if (p->regions[p->setup_regions[i]].file != MMR_PLAN_NONE)
			to[p->regions[p->setup_regions[i]].file] = 1;
	for (uint32_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == MMR_POP_MMAP && p->ops[i].arg.mmap.file != MMR_PLAN_NONE)
			to[p->ops[i].arg.mmap.file] = 1;
	for (uint32_t i = 0; i < p->nfiles; i++) {
		if (!to[i]) {
			to[i] = MMR_PLAN_NONE;
			continue;
		}
		p->files[n] = p->files[i];
		to[i] = n++;
	}
	for (uint32_t i = 0; i < p->nregions; i++)
		if (p->regions[i].file != MMR_PLAN_NONE)
			p->regions[i].file = to[p->regions[i].file];
	for (uint32_t i = 0; i < p->nops; i++)
		if (p->ops[i].kind == MMR_POP_MMAP && p->ops[i].arg.mmap.file != MMR_PLAN_NONE)
			p->ops[i].arg.mmap.file = to[p->ops[i].arg.mmap.file];
	p->nfiles = n;
	free(to);
	return 0;
}

static void builder_release(struct builder *b, uint32_t ntasks)
{
	for (uint32_t i = 0; b->bt && i < ntasks; i++) {
		free(b->bt[i].ops);
		free(b->bt[i].setup);
		mmr_mm_release(&b->bt[i].mm);
	}
	free(b->bt);
	free(b->live.keys);
	free(b->live.vals);
}

static struct mmr_plan *plan_reader(struct mmr_trace_reader *r, const struct mmr_plan_opts *o)
{
	struct builder b = { 0 };
	struct mmr_plan *p = calloc(1, sizeof(*p));
	const struct mmr_trace_footer *f;
	struct mmr_event ev;
	uint32_t ntasks;
	int n;

	if (p)
		p->shared_fd = -1;
	if (!p) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	b.p = p;
	b.hdr = mmr_trace_reader_header(r);
	snprintf(p->rec_kernel, sizeof(p->rec_kernel), "%s", b.hdr->kernel);
	snprintf(p->rec_host, sizeof(p->rec_host), "%s", b.hdr->host);
	p->page_size = o && o->page_size ? o->page_size : b.hdr->page_size;
	if (!p->page_size || (p->page_size & (p->page_size - 1))) {
		mmr_seterr(MMR_E_FORMAT, "line 1 (header): page size %u is not a power of two",
			   p->page_size);
		goto fail;
	}
	while ((n = mmr_trace_reader_next(r, &ev)) > 0) {
		p->events++;
		b.line = mmr_trace_reader_line(r);
		if (plan_event(&b, &ev) < 0)
			goto fail;
	}
	if (n < 0)
		goto fail;
	f = mmr_trace_reader_footer(r);
	p->truncated = !f;
	p->duration_ns = f && f->duration_ns ? f->duration_ns : b.last_ts - p->base_ts;
	if (flatten(&b) < 0 || drop_unused_files(p) < 0)
		goto fail;
	count_reaps(p);
	size_copies(p);
	for (uint32_t i = 0; i < p->nregions; i++)
		p->regions[i].len = page_up(&b, p->regions[i].len);
	for (uint32_t i = 0; i < p->nfiles; i++)
		p->file_bytes += page_up(&b, p->files[i].size);
	p->peak_tasks = p->initial_tasks + (uint32_t)b.forked_peak;
	/* Touched pages plus a thread stack per task: an upper bound. */
	p->mem_bytes = p->fault_pages * p->page_size + (uint64_t)p->peak_tasks * (256 << 10);
	if (plan_share(p) < 0)
		goto fail;
	builder_release(&b, p->ntasks);
	return p;
fail:
	ntasks = p->ntasks;
	builder_release(&b, ntasks);
	mmr_plan_free(p);
	return NULL;
}

struct mmr_plan *mmr_plan_from_file(const char *path, const struct mmr_plan_opts *o)
{
	struct mmr_trace_reader *r = mmr_trace_reader_new(path);
	struct mmr_plan *p;

	if (!r)
		return NULL;
	p = plan_reader(r, o);
	if (!p)
		mmr_adderr_context("%s", path);
	mmr_trace_reader_free(r);
	return p;
}

struct mmr_plan *mmr_plan_from_mem(const void *buf, size_t len, const struct mmr_plan_opts *o)
{
	struct mmr_trace_reader *r = mmr_trace_reader_mem(buf, len);
	struct mmr_plan *p;

	if (!r)
		return NULL;
	p = plan_reader(r, o);
	mmr_trace_reader_free(r);
	return p;
}

void mmr_plan_free(struct mmr_plan *p)
{
	void **ptr[7];
	size_t len[7];
	unsigned n;

	if (!p)
		return;
	if (p->shared_fd >= 0)
		close(p->shared_fd);
	if (p->shared) {
		munmap(p->shared, p->shared_len);
	} else {
		n = plan_arrays(p, ptr, len);
		for (unsigned i = 0; i < n; i++)
			free(*ptr[i]);
	}
	free(p);
}

uint64_t mmr_plan_ops(const struct mmr_plan *p)
{
	return p->nops;
}
