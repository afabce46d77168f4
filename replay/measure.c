// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lock accounting for replay runs, fed by the recorder's events. The
 * recorder already pairs the tracepoints (start_locking/acquire_returned/
 * released, contention_begin/end) into samples with durations and
 * attributes each to the operation the task was in; here they become
 * histograms per (lock, source, mode, kind, op) and kernel paths.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-measure.h"
#include "mmr-recorder.h"
#include "mmr-sysinfo.h"

struct stack {
	uint32_t id;
	unsigned n;
	char **frames;
};

/*
 * The run's events stay in the kernel's ring buffers until it ends, sized
 * for what the trace had (EVENT_BYTES a trace line, twice over: a ring is
 * read when half full), between RING_MIN_KB and RING_MAX_KB a CPU; what
 * does not fit is read raw and held (HOLD_MAX), and everything is decoded
 * after the run. Each at most 1/16 of MemAvailable: the replay's own
 * memory comes first. A 2 s fork replay on 2 CPUs (1.0 M trace lines)
 * read 32-40 MiB of events.
 */
#define EVENT_BYTES 48
#define RING_MIN_KB 4096
#define RING_MAX_KB 65536
#define HOLD_MAX (256u << 20)

struct mmr_measure {
	struct mmr_stats stats;		/* accumulated since the last collect */
	struct stack *stacks;
	unsigned nstacks, cap;
	struct mmr_recorder *rec;
	pthread_t reader;
	bool reading;
	volatile int stop;
	int read_err;			/* the reader thread failed */
	char read_msg[256];
	uint64_t lost;
	uint64_t expect;		/* trace lines (mmr_measure_expect) */
};

struct mmr_measure *mmr_measure_new(void)
{
	struct mmr_measure *m = calloc(1, sizeof(*m));

	if (!m)
		mmr_seterr(MMR_E_NOMEM, "out of memory");
	return m;
}

void mmr_measure_expect(struct mmr_measure *m, uint64_t lines)
{
	m->expect = lines;
}

/* Per-CPU ring buffer, KiB, for m->expect trace lines within budget bytes. */
static unsigned ring_kb(const struct mmr_measure *m, uint64_t budget)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t ncpus = n > 0 ? (uint64_t)n : 1, kb = m->expect * EVENT_BYTES * 2 / ncpus / 1024;

	if (!m->expect)
		return 0;	/* the recorder's default */
	if (kb > budget / ncpus / 1024)
		kb = budget / ncpus / 1024;
	if (kb > RING_MAX_KB)
		kb = RING_MAX_KB;
	return kb < RING_MIN_KB ? RING_MIN_KB : (unsigned)kb;
}

static void free_stacks(struct mmr_measure *m)
{
	for (unsigned i = 0; i < m->nstacks; i++) {
		for (unsigned j = 0; j < m->stacks[i].n; j++)
			free(m->stacks[i].frames[j]);
		free(m->stacks[i].frames);
	}
	free(m->stacks);
	m->stacks = NULL;
	m->nstacks = m->cap = 0;
}

void mmr_measure_free(struct mmr_measure *m)
{
	if (!m)
		return;
	mmr_measure_stop(m);
	mmr_stats_release(&m->stats);
	free_stacks(m);
	free(m);
}

static const struct stack *find_stack(const struct mmr_measure *m, uint32_t id)
{
	for (unsigned i = m->nstacks; i-- > 0;)
		if (m->stacks[i].id == id)
			return &m->stacks[i];
	return NULL;
}

/* The recorder owns STACK frames: keep a copy. */
static int add_stack(struct mmr_measure *m, const struct mmr_event *ev)
{
	struct stack *s;

	if (m->nstacks == m->cap) {
		unsigned ncap = m->cap ? m->cap * 2 : 64;

		s = realloc(m->stacks, ncap * sizeof(*s));
		if (!s)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		m->stacks = s;
		m->cap = ncap;
	}
	s = &m->stacks[m->nstacks];
	s->id = ev->stack.id;
	s->n = 0;
	s->frames = calloc(ev->stack.nframes ? ev->stack.nframes : 1, sizeof(char *));
	if (!s->frames)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < ev->stack.nframes; i++) {
		s->frames[i] = strdup(ev->stack.frames[i] ? ev->stack.frames[i] : "?");
		if (!s->frames[i]) {
			s->n = i;
			m->nstacks++;
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		}
	}
	s->n = ev->stack.nframes;
	m->nstacks++;
	return 0;
}

int mmr_measure_event(const struct mmr_event *ev, void *arg)
{
	struct mmr_measure *m = arg;
	struct mmr_lockkey k;
	struct mmr_hist *h;

	switch (ev->type) {
	case MMR_EV_LOCK:
		k = (struct mmr_lockkey){
			.lock = MMR_LC_MMAP_LOCK, .source = MMR_SRC_MMAP_LOCK,
			.mode = ev->lock.write ? MMR_MODE_WRITE : MMR_MODE_READ,
			.kind = ev->lock.hold ? MMR_KIND_HOLD : MMR_KIND_WAIT,
			.op = ev->lock.op,
		};
		h = mmr_stats_lock(&m->stats, &k);
		if (!h)
			return -1;
		mmr_hist_add(h, ev->lock.dur);
		return 0;
	case MMR_EV_CONTENTION: {
		const struct stack *s = ev->contention.stack ? find_stack(m, ev->contention.stack) : NULL;

		k = (struct mmr_lockkey){
			.lock = ev->contention.cls, .source = MMR_SRC_CONTENTION,
			.mode = mmr_lock_mode_from_lcb(ev->contention.flags),
			.kind = MMR_KIND_WAIT, .op = ev->contention.op,
		};
		h = mmr_stats_lock(&m->stats, &k);
		if (!h)
			return -1;
		mmr_hist_add(h, ev->contention.dur);
		if (s && mmr_stats_add_path(&m->stats, ev->contention.cls, ev->contention.op,
					    (const char *const *)s->frames, s->n, 1,
					    ev->contention.dur) < 0)
			return -1;
		return 0;
	}
	case MMR_EV_STACK:
		return add_stack(m, ev) < 0 ? -1 : 0;
	case MMR_EV_RECLAIM:
		m->stats.has_reclaim = true;
		m->stats.reclaim.episodes++;
		m->stats.reclaim.scanned += ev->reclaim.scanned;
		m->stats.reclaim.reclaimed += ev->reclaim.reclaimed;
		return 0;
	default:
		return 0;
	}
}

static void *reader_main(void *arg)
{
	struct mmr_measure *m = arg;

	while (!m->stop)
		if (mmr_recorder_read(m->rec, mmr_measure_event, m, 100) < 0) {
			m->read_err = 1;
			snprintf(m->read_msg, sizeof(m->read_msg), "%s", mmr_strerror());
			break;
		}
	return NULL;
}

int mmr_measure_start(struct mmr_measure *m, const pid_t *pids, unsigned npids)
{
	struct mmr_recorder_opts o;
	struct mmr_sysinfo si;
	int32_t *p32 = calloc(npids ? npids : 1, sizeof(*p32));

	if (!p32)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < npids; i++)
		p32[i] = pids[i];
	memset(&o, 0, sizeof(o));
	/*
	 * Op attribution needs the syscalls. Not the page faults: a replay
	 * task outside a system call is touching memory, so its samples
	 * there are the faults' (faults_implied), and page_fault_user would
	 * tax every replayed fault (~20% on a fault-bound replay).
	 */
	o.groups = MMR_G_ALL & ~MMR_G_FAULTS;
	o.faults_implied = true;
	o.pids = p32;
	o.npids = npids;
	o.hold_bytes = HOLD_MAX;
	if (mmr_sysinfo_get(&si) == 0 && si.mem_available / 16 < o.hold_bytes)
		o.hold_bytes = si.mem_available / 16;
	o.buffer_kb = ring_kb(m, o.hold_bytes);
	m->rec = mmr_recorder_new(&o);
	free(p32);
	if (!m->rec)
		return -1;
	if (mmr_recorder_start(m->rec) < 0)
		goto fail;
	m->stop = 0;
	m->read_err = 0;
	if (pthread_create(&m->reader, NULL, reader_main, m)) {
		mmr_seterr(MMR_E_FAIL, "cannot start the measurement reader thread");
		goto fail;
	}
	m->reading = true;
	return 0;
fail:
	mmr_recorder_free(m->rec);
	m->rec = NULL;
	return -1;
}

int mmr_measure_stop(struct mmr_measure *m)
{
	int rc = 0;

	if (!m || !m->rec)
		return 0;
	if (m->reading) {
		m->stop = 1;
		pthread_join(m->reader, NULL);
		m->reading = false;
	}
	if (mmr_recorder_flush(m->rec, mmr_measure_event, m) < 0)
		rc = -1;
	m->lost += mmr_recorder_lost_total(m->rec);
	mmr_recorder_free(m->rec);	/* destroys the tracefs instance */
	m->rec = NULL;
	if (!rc && m->read_err)
		rc = mmr_seterr(MMR_E_FAIL, "reading lock events: %s", m->read_msg);
	return rc;
}

int mmr_measure_collect(struct mmr_measure *m, struct mmr_stats *s)
{
	int rc;

	m->stats.has_lost = true;
	m->stats.lost_events = m->lost;
	rc = mmr_stats_merge(s, &m->stats);
	mmr_stats_release(&m->stats);
	free_stacks(m);
	m->lost = 0;
	return rc;
}
