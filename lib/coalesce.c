// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault-run coalescing and timestamp-ordered output.
 *
 * Design. The decoder feeds events in timestamp order (the recorder merges
 * the per-CPU buffers). Every event takes a slot at the tail of a FIFO, so
 * the FIFO is sorted by ts. A slot is
 *   - done: its content is final;
 *   - pending: its ts is known (a syscall's enter, a lock's start) but the
 *     content is completed later (result, duration) via get()/commit();
 *   - an open fault run: ts = the first fault, extended while the task
 *     keeps faulting with the same error code at a constant stride.
 * Output is the head of the FIFO, emitted as soon as it is done: a run is
 * therefore written with ts = its first fault and everything that happened
 * after that is held back until the run closes. That keeps the output in
 * ts order without any sort.
 *
 * A task's run is extended by its next fault when
 *   - the error code (access kind) is the same,
 *   - the address is first + stride * count (the stride is set by the
 *     second fault; 0 < |stride| <= max_stride pages, either direction),
 *   - less than gap_ns passed since the previous fault of the run,
 *   - the run is younger than max_run_ns,
 *   - the task did nothing in between that changes its address space
 *     (the decoder calls mmr_coalesce_break() on the task's mm syscalls,
 *     fork, exec, exit).
 * Otherwise the run is closed and a new one starts. VMAs are not known;
 * the max stride bounds how far a run can jump, so one run never spans an
 * unmapped hole wider than that.
 *
 * Bounds. An open run at the head closes once the stream (the ts of later
 * input, or the recorder's watermark via advance()) is gap_ns past its last
 * fault, or max_run_ns past its start: later faults of that task could not
 * extend it anyway. When the FIFO reaches queue_max slots the head is
 * forced out: an open run is closed, a pending event is emitted as it is,
 * with its duration measured up to now (counted as "forced"). So memory is
 * bounded and no late event can block the output forever.
 *
 * Hot path: extending a run touches one slot, compares three values and
 * bumps a counter; no allocation (the FIFO grows by doubling up to
 * queue_max and is then reused).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-recorder.h"

enum { S_DONE = 0, S_PENDING, S_RUN, S_CANCELLED };

struct slot {
	struct mmr_event ev;
	uint8_t state;
};

struct mmr_coalesce {
	struct slot *q;
	uint64_t cap, mask;		/* cap is a power of two */
	uint64_t head, tail;		/* sequence numbers; slot = seq & mask */
	uint64_t now;			/* stream position (ts) */
	uint64_t last_in;		/* ts of the last slot queued */
	uint64_t gap_ns, max_run_ns, max_stride_bytes;
	uint64_t queue_max;
	mmr_event_cb cb;
	void *arg;
	int failed;
	struct mmr_coalesce_stats st;
};

static inline struct slot *slot_of(struct mmr_coalesce *c, uint64_t seq)
{
	return &c->q[seq & c->mask];
}

static uint64_t *ev_dur(struct mmr_event *ev)
{
	switch (ev->type) {
	case MMR_EV_MMAP: return &ev->mmap.dur;
	case MMR_EV_MUNMAP:
	case MMR_EV_MPROTECT:
	case MMR_EV_MADVISE: return &ev->range.dur;
	case MMR_EV_MREMAP: return &ev->mremap.dur;
	case MMR_EV_BRK: return &ev->brk.dur;
	case MMR_EV_RECLAIM: return &ev->reclaim.dur;
	case MMR_EV_LOCK: return &ev->lock.dur;
	case MMR_EV_CONTENTION: return &ev->contention.dur;
	default: return NULL;
	}
}

struct mmr_coalesce *mmr_coalesce_new(const struct mmr_coalesce_opts *o)
{
	struct mmr_coalesce *c = calloc(1, sizeof(*c));
	long ps = sysconf(_SC_PAGESIZE);
	unsigned page, stride;

	if (!c) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	page = o && o->page_size ? o->page_size : (ps > 0 ? (unsigned)ps : 4096);
	stride = o && o->max_stride ? o->max_stride : MMR_REC_DEFAULT_MAX_STRIDE;
	c->gap_ns = o && o->gap_ns ? o->gap_ns : MMR_REC_DEFAULT_FAULT_GAP_NS;
	c->max_run_ns = o && o->max_run_ns ? o->max_run_ns : MMR_REC_DEFAULT_MAX_RUN_NS;
	c->max_stride_bytes = (uint64_t)stride * page;
	c->queue_max = o && o->queue_max ? o->queue_max : MMR_REC_DEFAULT_REORDER_MAX;
	if (c->queue_max < 4)
		c->queue_max = 4;
	c->cap = 64;
	while (c->cap > c->queue_max)
		c->cap >>= 1;
	c->mask = c->cap - 1;
	c->q = calloc(c->cap, sizeof(*c->q));
	if (!c->q) {
		free(c);
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	return c;
}

void mmr_coalesce_free(struct mmr_coalesce *c)
{
	if (!c)
		return;
	free(c->q);
	free(c);
}

void mmr_coalesce_set_cb(struct mmr_coalesce *c, mmr_event_cb cb, void *arg)
{
	c->cb = cb;
	c->arg = arg;
}

int mmr_coalesce_failed(const struct mmr_coalesce *c)
{
	return c->failed;
}

void mmr_coalesce_get_stats(const struct mmr_coalesce *c, struct mmr_coalesce_stats *st)
{
	*st = c->st;
}

static int emit_head(struct mmr_coalesce *c)
{
	struct slot *s = slot_of(c, c->head);

	c->head++;
	if (s->state == S_CANCELLED || s->ev.type == MMR_EV_NONE)
		return 0;
	if (s->ev.type == MMR_EV_FAULT)
		c->st.runs++;
	c->st.emitted++;
	if (c->cb && c->cb(&s->ev, c->arg) != 0) {
		c->failed = 1;
		if (mmr_errcode() == MMR_E_OK)
			mmr_seterr(MMR_E_FAIL, "event callback failed");
		return -1;
	}
	return 0;
}

/* Emit the done slots at the head; close idle runs there. */
static int pump(struct mmr_coalesce *c)
{
	while (c->head < c->tail) {
		struct slot *s = slot_of(c, c->head);

		if (s->state == S_RUN) {
			if (c->now - s->ev.fault.last >= c->gap_ns ||
			    c->now - s->ev.ts >= c->max_run_ns)
				s->state = S_DONE;
			else
				break;
		} else if (s->state == S_PENDING) {
			break;
		}
		if (emit_head(c) < 0)
			return -1;
	}
	return 0;
}

/* Push the head out whatever its state. */
static int force_head(struct mmr_coalesce *c)
{
	struct slot *s = slot_of(c, c->head);

	if (s->state == S_PENDING) {
		uint64_t *dur = ev_dur(&s->ev);

		if (s->ev.type == MMR_EV_NONE) {
			s->state = S_CANCELLED;
		} else {
			if (dur && c->now > s->ev.ts)
				*dur = c->now - s->ev.ts;
			c->st.forced++;
			s->state = S_DONE;
		}
	} else if (s->state == S_RUN) {
		s->state = S_DONE;
	}
	return emit_head(c);
}

static int grow(struct mmr_coalesce *c)
{
	uint64_t ncap = c->cap * 2, nmask = ncap - 1;
	struct slot *nq = malloc(ncap * sizeof(*nq));

	if (!nq)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint64_t s = c->head; s < c->tail; s++)
		nq[s & nmask] = c->q[s & c->mask];
	free(c->q);
	c->q = nq;
	c->cap = ncap;
	c->mask = nmask;
	return 0;
}

/* A new slot at the tail, with room made first. NULL on failure. */
static struct slot *new_slot(struct mmr_coalesce *c, uint64_t *ts, uint64_t *seq)
{
	struct slot *s;

	if (c->failed)
		return NULL;
	if (*ts < c->last_in) {
		c->st.late++;
		*ts = c->last_in;
	}
	c->last_in = *ts;
	if (*ts > c->now)
		c->now = *ts;
	if (c->tail - c->head >= c->cap) {
		if (pump(c) < 0)
			return NULL;
		if (c->tail - c->head >= c->cap) {
			if (c->cap < c->queue_max) {
				if (grow(c) < 0)
					return NULL;
			} else if (force_head(c) < 0) {
				return NULL;
			}
		}
	}
	*seq = c->tail++;
	if (c->tail - c->head > c->st.queued_max)
		c->st.queued_max = c->tail - c->head;
	s = slot_of(c, *seq);
	return s;
}

int mmr_coalesce_fault(struct mmr_coalesce *c, struct mmr_fault_run *run, int32_t pid,
		       int32_t tid, uint64_t ts, uint64_t addr, uint32_t err)
{
	struct slot *s;
	uint64_t seq;

	if (c->failed)
		return -1;
	c->st.faults++;
	if (ts < c->last_in) {
		c->st.late++;
		ts = c->last_in;
	}
	if (ts > c->now)
		c->now = ts;
	if (run->open) {
		if (run->seq >= c->head && run->seq < c->tail &&
		    (s = slot_of(c, run->seq))->state == S_RUN) {
			struct mmr_event *ev = &s->ev;

			if (ev->fault.err == err && ts - ev->fault.last < c->gap_ns &&
			    ts - ev->ts < c->max_run_ns) {
				if (ev->fault.count == 1) {
					int64_t d = (int64_t)(addr - ev->fault.addr);
					uint64_t m = d < 0 ? (uint64_t)-d : (uint64_t)d;

					if (d != 0 && m <= c->max_stride_bytes) {
						ev->fault.stride = d;
						ev->fault.count = 2;
						ev->fault.last = ts;
						c->last_in = ts;
						return pump(c);
					}
				} else if (addr == ev->fault.addr +
						  (uint64_t)ev->fault.stride * ev->fault.count) {
					ev->fault.count++;
					ev->fault.last = ts;
					c->last_in = ts;
					return pump(c);
				}
			}
			s->state = S_DONE;
		}
		run->open = false;
	}
	s = new_slot(c, &ts, &seq);
	if (!s)
		return -1;
	s->state = S_RUN;
	s->ev.type = MMR_EV_FAULT;
	s->ev.ts = ts;
	s->ev.pid = pid;
	s->ev.tid = tid;
	s->ev.fault.addr = addr;
	s->ev.fault.stride = 0;
	s->ev.fault.count = 1;
	s->ev.fault.err = err;
	s->ev.fault.last = ts;
	run->seq = seq;
	run->open = true;
	return pump(c);
}

void mmr_coalesce_break(struct mmr_coalesce *c, struct mmr_fault_run *run)
{
	if (!run->open)
		return;
	run->open = false;
	if (run->seq >= c->head && run->seq < c->tail) {
		struct slot *s = slot_of(c, run->seq);

		if (s->state == S_RUN)
			s->state = S_DONE;
	}
	pump(c);
}

struct mmr_event *mmr_coalesce_reserve(struct mmr_coalesce *c, uint64_t ts, uint64_t *seq)
{
	struct slot *s = new_slot(c, &ts, seq);

	if (!s)
		return NULL;
	memset(&s->ev, 0, sizeof(s->ev));
	s->ev.ts = ts;
	s->state = S_PENDING;
	return &s->ev;
}

int mmr_coalesce_event(struct mmr_coalesce *c, const struct mmr_event *ev)
{
	uint64_t ts = ev->ts, seq;
	struct slot *s = new_slot(c, &ts, &seq);

	if (!s)
		return -1;
	s->ev = *ev;
	s->ev.ts = ts;
	s->state = S_DONE;
	return pump(c);
}

/* The slot of a reserved event still pending; NULL when seq was pushed out or settled. */
static struct slot *pending_slot(struct mmr_coalesce *c, uint64_t seq)
{
	struct slot *s;

	if (seq < c->head || seq >= c->tail)
		return NULL;
	s = slot_of(c, seq);
	return s->state == S_PENDING ? s : NULL;
}

/* Commit (S_DONE) or cancel (S_CANCELLED) a pending reservation. */
static int settle(struct mmr_coalesce *c, uint64_t seq, uint8_t state)
{
	struct slot *s;

	if (c->failed)
		return -1;
	s = pending_slot(c, seq);
	if (!s)
		return 0;
	s->state = state;
	return pump(c) < 0 ? -1 : 1;
}

struct mmr_event *mmr_coalesce_get(struct mmr_coalesce *c, uint64_t seq)
{
	struct slot *s = pending_slot(c, seq);

	return s ? &s->ev : NULL;
}

int mmr_coalesce_commit(struct mmr_coalesce *c, uint64_t seq)
{
	return settle(c, seq, S_DONE);
}

int mmr_coalesce_cancel(struct mmr_coalesce *c, uint64_t seq)
{
	return settle(c, seq, S_CANCELLED);
}

int mmr_coalesce_advance(struct mmr_coalesce *c, uint64_t now)
{
	if (c->failed)
		return -1;
	if (now > c->now)
		c->now = now;
	return pump(c);
}

int mmr_coalesce_flush(struct mmr_coalesce *c)
{
	if (c->failed)
		return -1;
	while (c->head < c->tail)
		if (force_head(c) < 0)
			return -1;
	return 0;
}
