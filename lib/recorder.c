// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tracefs session: a private instance "mmreplay-<pid>", the events of
 * DESIGN.md's table, raw per-CPU ring buffer reading and the merge of the
 * CPUs by timestamp.
 *
 * Reading. Each CPU's trace_pipe_raw is read (non-blocking read(2), one
 * sub-buffer per call) into a ring of sub-buffers. kbuffer walks the
 * records of a sub-buffer without copying them; the decoder reads fields at
 * offsets resolved once per event id. (libtracefs 1.6's tracefs_cpu_read()
 * is the same read(2) but hides the fd that poll(2) needs;
 * tracefs_cpu_read_buf() only exists from 1.8; tracefs_iterate_raw_events()
 * builds a tep_record per event and merges through a callback per record.)
 *
 * Merging. The CPUs are merged by timestamp up to a bound every CPU is
 * known to be complete to: for a CPU read until
 * EAGAIN, the time of that read minus a margin (records are committed
 * microseconds after they are stamped); for a CPU whose ring filled up,
 * the first timestamp of the last sub-buffer read. Records past the bound
 * wait for the next call.
 *
 * Waiting. buffer_percent is 25 so poll(2) on the per-CPU files wakes up
 * early only when a buffer fills quickly; otherwise a read waits for
 * the caller's timeout and then drains what accumulated, which keeps the
 * number of read(2) calls per record small.
 *
 * Holding (opts.hold_bytes), for a replay's measurement: nothing is read
 * until a kernel ring is half full (buffer_percent 50, and no read on
 * the poll timeout), the caller having sized the rings (buffer_kb) for
 * the whole run where it can; what is read is kept raw, growing the
 * per-CPU rings, and decoded at the flush, after the run. Reading and
 * decoding while a replay runs took 3-6% of its pace on 2 CPUs, time the
 * tasks it measures have none of to spare. Past hold_bytes it decodes a
 * batch and holds again.
 *
 * Symbols. /proc/kallsyms (for contention stacks) is read when the
 * recorder is created, before tracing starts: it costs ~0.1 s of CPU, most
 * of it the kernel formatting the file, which would otherwise land in the
 * middle of the recording.
 *
 * Losses. The ring buffers run in non-overwrite mode: when the reader
 * falls behind, new records are dropped and counted by the kernel
 * ("dropped events", plus "overrun" should overwrite be on) in
 * per_cpu/cpuN/stats; sub-buffers flagged with missed events are counted
 * too. mmr_recorder_lost() reports the larger of the two per CPU.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "mmr-error.h"
#include "mmr-sysinfo.h"
#include "mmr-util.h"
#include "mmr-probe.h"
#include "mmr-recorder.h"

#define INSTANCE_PREFIX "mmreplay-"
#define MERGE_MARGIN_NS 10000000ULL	/* 10 ms */
#define RING_BUDGET (8u << 20)		/* bytes of sub-buffers held, all CPUs */
#define MAX_FILL_ROUNDS 8
#define BUFFER_PERCENT "25"
#define BUFFER_PERCENT_HOLD "50"

struct rcpu {
	int fd;
	uint8_t *pages;
	unsigned head, count, cap;	/* ring of sub-buffers */
	struct kbuffer *kbuf;
	void *cur;			/* current record, NULL if none loaded */
	uint64_t cur_ts;
	bool drained;
	uint64_t drained_at, last_page_ts;
	uint64_t missed;
	uint64_t lost;			/* last value read from stats */
};

struct mmr_recorder {
	struct tracefs_instance *inst;
	char name[64];
	struct tep_handle *tep;
	struct mmr_coalesce *c;
	struct mmr_decoder *d;
	unsigned ncpus, subbuf, npages;	/* npages: each ring's first capacity */
	size_t hold_bytes, held_bytes;	/* see mmr_recorder_opts.hold_bytes */
	struct rcpu *cpus;
	struct pollfd *pfds;

	char **events, **missing;
	unsigned nevents, nmissing;

	unsigned groups;
	int32_t *pids;
	unsigned npids;
	int32_t *procs;			/* followed processes at start */
	int32_t exec_pid;		/* see mmr_recorder_opts */
	bool exec_stopped;		/* exec_pid's maps are its program's */
	unsigned nprocs;
	bool system_wide, hash_paths;
	char *comm_re, *cgroup;
	regex_t re;
	bool re_ok;

	bool started, stopped, destroyed;
	bool backlog;			/* the last read left data in the kernel */
	uint64_t start_ns, stop_ns, last_ts;
	int64_t start_rt;
	uint64_t emitted_reported;
	uint64_t stacks_emitted;	/* STACK definitions (not counted by c) */
	mmr_event_cb cb;		/* the caller's, behind emit_cb */
	void *cb_arg;
};

/* ---- small list helpers ---- */

static int i32_add(int32_t **v, unsigned *n, int32_t x)
{
	int32_t *nv;

	for (unsigned i = 0; i < *n; i++)
		if ((*v)[i] == x)
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	*v = nv;
	nv[(*n)++] = x;
	return 0;
}

static bool is_num(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---- stale instances ---- */

static int32_t instance_owner(const char *name)
{
	const char *p = name + strlen(INSTANCE_PREFIX);
	char *end;
	long v;

	if (strncmp(name, INSTANCE_PREFIX, strlen(INSTANCE_PREFIX)) || *p < '0' || *p > '9')
		return -1;
	v = strtol(p, &end, 10);
	if (*end && *end != '-')
		return -1;
	return v > 0 && v <= INT32_MAX ? (int32_t)v : -1;
}

int mmr_recorder_cleanup_stale(void)
{
	char **list;
	int removed = 0;

	if (!mmr_tracefs_dir())
		return -1;
	/* no regex: libtracefs 1.6 leaks the one it compiles; filter here */
	list = tracefs_instances(NULL);
	if (!list)
		return 0;
	for (int i = 0; list[i]; i++) {
		int32_t owner = instance_owner(list[i]);
		struct tracefs_instance *in;

		if (owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH)
			continue;
		in = tracefs_instance_alloc(NULL, list[i]);
		if (!in)
			continue;
		if (tracefs_instance_destroy(in) == 0)
			removed++;
		tracefs_instance_free(in);
	}
	tracefs_list_free(list);
	return removed;
}

/* ---- processes to follow ---- */

static int add_tids(int32_t **v, unsigned *n, int32_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return i32_add(v, n, pid);
	while ((de = readdir(dir)))
		if (is_num(de->d_name) && i32_add(v, n, (int32_t)atoi(de->d_name)) < 0) {
			closedir(dir);
			return -1;
		}
	closedir(dir);
	return 0;
}

/* /proc/<pid>/<name> into buf, NUL-terminated; false when unreadable or empty. */
static bool read_proc(int32_t pid, const char *name, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return mmr_read_small(path, buf, len);
}

static int32_t proc_ppid(int32_t pid)
{
	char buf[512], *p;

	if (!read_proc(pid, "stat", buf, sizeof(buf)))
		return -1;
	p = strrchr(buf, ')');	/* comm may hold spaces and parens */
	if (!p)
		return -1;
	/* ") S ppid" */
	return (int32_t)strtol(p + 4, NULL, 10);
}

/* The followed processes: the given pids and their existing descendants. */
static int collect_procs(struct mmr_recorder *r)
{
	int32_t *all = NULL, *ppid = NULL;
	unsigned n = 0, cap = 0;
	struct dirent *de;
	bool grew;
	DIR *dir;

	for (unsigned i = 0; i < r->npids; i++)
		if (i32_add(&r->procs, &r->nprocs, r->pids[i]) < 0)
			return -1;
	dir = opendir("/proc");
	if (!dir)
		return mmr_seterr_errno(MMR_E_IO, "/proc");
	while ((de = readdir(dir))) {
		if (!is_num(de->d_name))
			continue;
		if (n == cap) {
			unsigned nc = cap ? cap * 2 : 256;
			int32_t *na = realloc(all, nc * sizeof(*na)), *np;

			if (!na)
				goto nomem;
			all = na;
			np = realloc(ppid, nc * sizeof(*np));
			if (!np)
				goto nomem;
			ppid = np;
			cap = nc;
		}
		all[n] = (int32_t)atoi(de->d_name);
		ppid[n] = proc_ppid(all[n]);
		n++;
	}
	closedir(dir);
	dir = NULL;
	do {
		grew = false;
		for (unsigned i = 0; i < n; i++) {
			bool in = false, parent_in = false;

			for (unsigned j = 0; j < r->nprocs; j++) {
				if (r->procs[j] == all[i])
					in = true;
				if (r->procs[j] == ppid[i])
					parent_in = true;
			}
			if (!in && parent_in) {
				if (i32_add(&r->procs, &r->nprocs, all[i]) < 0)
					goto fail;
				grew = true;
			}
		}
	} while (grew);
	free(all);
	free(ppid);
	return 0;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	if (dir)
		closedir(dir);
	free(all);
	free(ppid);
	return -1;
}

static int write_pids(struct mmr_recorder *r, const char *file, const int32_t *tids, unsigned n,
		      bool append)
{
	size_t len = (size_t)n * 12 + 2, off = 0;
	char *buf = malloc(len);
	int rc;

	if (!buf)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? " " : "", tids[i]);
	if (!n)
		return free(buf), 0;
	rc = append ? tracefs_instance_file_append(r->inst, file, buf)
		    : tracefs_instance_file_write(r->inst, file, buf);
	free(buf);
	if (rc < 0)
		return mmr_seterr_errno(MMR_E_IO, "writing %s of %s", file, r->name);
	return 0;
}

static int setup_pids(struct mmr_recorder *r)
{
	int32_t *tids = NULL, *more = NULL;
	unsigned ntids = 0, nmore = 0;
	int rc = -1;

	if (r->system_wide) {
		/* keep the recorder's own activity out of the buffers */
		if (add_tids(&tids, &ntids, getpid()) < 0)
			goto out;
		if (tracefs_file_exists(r->inst, "set_event_notrace_pid"))
			rc = write_pids(r, "set_event_notrace_pid", tids, ntids, false);
		else
			rc = 0;
		goto out;
	}
	if (collect_procs(r) < 0)
		goto out;
	for (unsigned i = 0; i < r->nprocs; i++)
		if (add_tids(&tids, &ntids, r->procs[i]) < 0)
			goto out;
	if (tracefs_option_enable(r->inst, TRACEFS_OPTION_EVENT_FORK) < 0) {
		mmr_seterr_errno(MMR_E_NOTSUP, "cannot set the event-fork option");
		goto out;
	}
	if (write_pids(r, "set_event_pid", tids, ntids, false) < 0)
		goto out;
	/* tasks created while we wrote: a second pass appends them */
	for (unsigned i = 0; i < r->nprocs; i++)
		if (add_tids(&more, &nmore, r->procs[i]) < 0)
			goto out;
	for (unsigned i = 0; i < nmore; i++) {
		bool seen = false;

		for (unsigned j = 0; j < ntids && !seen; j++)
			seen = tids[j] == more[i];
		if (!seen && write_pids(r, "set_event_pid", &more[i], 1, true) < 0)
			goto out;
	}
	rc = 0;
out:
	free(tids);
	free(more);
	return rc;
}

/* ---- events ---- */

/*
 * MMREPLAY_HIDE_EVENTS="sys:name,..." makes the recorder treat those events
 * as absent: how a kernel without an event is handled can then be tested
 * (and shown) on any kernel.
 */
static bool hidden_event(const char *full)
{
	const char *h = getenv("MMREPLAY_HIDE_EVENTS");
	size_t n = strlen(full);

	while (h && *h) {
		size_t len = strcspn(h, ",");

		if (len == n && !strncmp(h, full, n))
			return true;
		h += len + (h[len] == ',');
	}
	return false;
}

static int want_event(struct mmr_recorder *r, const char *sys, const char *name, bool enable)
{
	char full[160];
	char *fmt;
	int len;

	snprintf(full, sizeof(full), "%s:%s", sys, name);
	if (hidden_event(full))
		return enable ? mmr_strv_add(&r->missing, &r->nmissing, full) : 0;
	fmt = tracefs_event_file_read(NULL, sys, name, "format", &len);
	if (!fmt)
		return enable ? mmr_strv_add(&r->missing, &r->nmissing, full) : 0;
	if (tep_parse_event(r->tep, fmt, len, sys) != 0) {
		free(fmt);
		return enable ? mmr_strv_add(&r->missing, &r->nmissing, full) : 0;
	}
	free(fmt);
	if (!enable)
		return 0;
	if (tracefs_event_file_write(r->inst, sys, name, "enable", "1") < 0) {
		if (errno == EPERM || errno == EACCES)
			return mmr_seterr_errno(MMR_E_NOTSUP, "enabling %s", full);
		return mmr_strv_add(&r->missing, &r->nmissing, full);
	}
	return mmr_strv_add(&r->events, &r->nevents, full);
}

static bool enabled(struct mmr_recorder *r, const char *full)
{
	for (unsigned i = 0; i < r->nevents; i++)
		if (!strcmp(r->events[i], full))
			return true;
	return false;
}

static int setup_events(struct mmr_recorder *r)
{
	char *hp;
	int len;

	r->tep = tep_alloc();
	if (!r->tep)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	hp = tracefs_instance_file_read(NULL, "events/header_page", &len);
	if (hp) {
		tep_parse_header_page(r->tep, hp, len, sizeof(long));
		free(hp);
	}
	for (const struct mmr_wanted_event *w = mmr_wanted_events; w->system; w++)
		if ((w->group & r->groups) && want_event(r, w->system, w->name, true) < 0)
			return -1;
	if (r->groups & MMR_G_LOCKS) {
		char name[96];

		for (unsigned i = 0; mmr_span_syscalls[i]; i++) {
			snprintf(name, sizeof(name), "sys_enter_%s", mmr_span_syscalls[i]);
			if (want_event(r, "syscalls", name, true) < 0)
				return -1;
			snprintf(name, sizeof(name), "sys_exit_%s", mmr_span_syscalls[i]);
			if (want_event(r, "syscalls", name, true) < 0)
				return -1;
		}
	}
	if (enabled(r, "lock:contention_begin")) {
		/* the stack arrives as an ftrace kernel_stack record */
		if (want_event(r, "ftrace", "kernel_stack", false) < 0)
			return -1;
		if (tracefs_event_file_write(r->inst, "lock", "contention_begin", "trigger",
					     "stacktrace") < 0 &&
		    mmr_strv_add(&r->missing, &r->nmissing, "lock:contention_begin/stacktrace") < 0)
			return -1;
	}
	if (!r->nevents)
		return mmr_seterr(MMR_E_NOTSUP, "none of the wanted trace events exists on this kernel");
	return 0;
}

/* ---- per-CPU readers ---- */

static int setup_cpus(struct mmr_recorder *r)
{
	char path[64];
	long long kb = 0;
	unsigned n = 0;

	while (n < 4096) {
		snprintf(path, sizeof(path), "per_cpu/cpu%u", n);
		if (!tracefs_dir_exists(r->inst, path))
			break;
		n++;
	}
	if (!n)
		return mmr_seterr(MMR_E_NOTSUP, "no per_cpu buffers in tracefs instance %s", r->name);
	r->ncpus = n;
	if (tracefs_instance_file_read_number(r->inst, "buffer_subbuf_size_kb", &kb) == 0 && kb > 0)
		r->subbuf = (unsigned)kb * 1024;
	else if (tep_get_sub_buffer_size(r->tep) > 0)
		r->subbuf = (unsigned)tep_get_sub_buffer_size(r->tep);
	else
		r->subbuf = (unsigned)sysconf(_SC_PAGESIZE);
	r->npages = RING_BUDGET / r->subbuf / n;
	if (r->npages < 16)
		r->npages = 16;
	if (r->npages > 1024)
		r->npages = 1024;
	if (r->hold_bytes)
		r->npages = 2;	/* grown as needed */
	r->cpus = calloc(n, sizeof(*r->cpus));
	r->pfds = calloc(n, sizeof(*r->pfds));
	if (!r->cpus || !r->pfds)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < n; i++)
		r->cpus[i].fd = -1;
	for (unsigned i = 0; i < n; i++) {
		struct rcpu *rc = &r->cpus[i];

		snprintf(path, sizeof(path), "per_cpu/cpu%u/trace_pipe_raw", i);
		rc->fd = tracefs_instance_file_open(r->inst, path, O_RDONLY | O_NONBLOCK);
		if (rc->fd < 0)
			return mmr_seterr_errno(MMR_E_IO, "opening %s of %s", path, r->name);
		rc->cap = r->npages;
		rc->pages = malloc((size_t)rc->cap * r->subbuf);
		r->held_bytes += (size_t)rc->cap * r->subbuf;
		rc->kbuf = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
		if (!rc->pages || !rc->kbuf)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		r->pfds[i].fd = rc->fd;
		r->pfds[i].events = POLLIN;
	}
	return 0;
}

static inline uint8_t *page_at(struct mmr_recorder *r, struct rcpu *rc, unsigned i)
{
	return rc->pages + (size_t)(i % rc->cap) * r->subbuf;
}

/*
 * Double a full ring while the held pages stay within hold_bytes; 0 when
 * it grew. Only between merges (no record loaded from it): kbuffer points
 * into the current sub-buffer.
 */
static int grow_ring(struct mmr_recorder *r, struct rcpu *rc)
{
	size_t add = (size_t)rc->cap * r->subbuf;
	unsigned wrapped = rc->head + rc->count > rc->cap ? rc->head + rc->count - rc->cap : 0;
	uint8_t *np;

	if (rc->cur || r->held_bytes + add > r->hold_bytes)
		return -1;
	/* large blocks grow by mremap: only the wrapped part is copied */
	np = realloc(rc->pages, 2 * add);
	if (!np)
		return -1;	/* decode instead, as without holding */
	memcpy(np + add, np, (size_t)wrapped * r->subbuf);
	rc->pages = np;
	rc->cap *= 2;
	r->held_bytes += add;
	return 0;
}

/* Read sub-buffers until EAGAIN or the ring is full; 1 when full. */
static int fill_cpu(struct mmr_recorder *r, struct rcpu *rc)
{
	while (rc->count < rc->cap || grow_ring(r, rc) == 0) {
		uint64_t t0 = mmr_now_ns();
		uint8_t *p = page_at(r, rc, rc->head + rc->count);
		ssize_t n = read(rc->fd, p, r->subbuf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return mmr_seterr_errno(MMR_E_IO, "reading the ring buffer of %s", r->name);
		if (n <= 0) {
			rc->drained = true;
			rc->drained_at = t0;
			return 0;
		}
		rc->drained = false;
		memcpy(&rc->last_page_ts, p, sizeof(uint64_t));
		rc->count++;
	}
	return 1;
}

/* Make rc->cur the next record, loading sub-buffers as needed. */
static void load_cpu(struct mmr_recorder *r, struct rcpu *rc)
{
	unsigned long long ts;

	while (rc->count) {
		int missed;

		kbuffer_load_subbuffer(rc->kbuf, page_at(r, rc, rc->head));
		missed = kbuffer_missed_events(rc->kbuf);
		if (missed)
			rc->missed += missed > 0 ? (uint64_t)missed : 1;
		rc->cur = kbuffer_read_event(rc->kbuf, &ts);
		if (rc->cur) {
			rc->cur_ts = ts;
			return;
		}
		rc->head = (rc->head + 1) % rc->cap;
		rc->count--;
	}
	rc->cur = NULL;
}

static void next_record(struct mmr_recorder *r, struct rcpu *rc)
{
	unsigned long long ts;

	rc->cur = kbuffer_next_event(rc->kbuf, &ts);
	if (rc->cur) {
		rc->cur_ts = ts;
		return;
	}
	rc->head = (rc->head + 1) % rc->cap;
	rc->count--;
	load_cpu(r, rc);
}

/* Decode every buffered record with ts <= bound, in timestamp order. */
static int merge(struct mmr_recorder *r, uint64_t bound)
{
	for (;;) {
		uint64_t best_ts = UINT64_MAX, second = UINT64_MAX, limit;
		struct rcpu *rc;
		int best = -1;

		for (unsigned i = 0; i < r->ncpus; i++) {
			struct rcpu *c = &r->cpus[i];

			if (!c->cur && c->count)
				load_cpu(r, c);
			if (!c->cur)
				continue;
			if (c->cur_ts < best_ts) {
				second = best_ts;
				best_ts = c->cur_ts;
				best = (int)i;
			} else if (c->cur_ts < second) {
				second = c->cur_ts;
			}
		}
		if (best < 0 || best_ts > bound)
			return 0;
		limit = second < bound ? second : bound;
		rc = &r->cpus[best];
		do {
			if (mmr_decoder_record(r->d, (unsigned)best, rc->cur_ts, rc->cur,
					       (unsigned)kbuffer_event_size(rc->kbuf)) < 0)
				return -1;
			if (rc->cur_ts > r->last_ts)
				r->last_ts = rc->cur_ts;
			next_record(r, rc);
		} while (rc->cur && rc->cur_ts <= limit);
	}
}

static uint64_t merge_bound(struct mmr_recorder *r)
{
	uint64_t b = UINT64_MAX;

	for (unsigned i = 0; i < r->ncpus; i++) {
		struct rcpu *rc = &r->cpus[i];
		uint64_t cb = rc->drained ? (rc->drained_at > MERGE_MARGIN_NS ?
					     rc->drained_at - MERGE_MARGIN_NS : 0)
					  : rc->last_page_ts;

		if (cb < b)
			b = cb;
	}
	return b;
}

/*
 * Between the coalescer and the caller: define a kernel stack (in this
 * segment) right before the first contention that references it.
 */
static int emit_cb(const struct mmr_event *ev, void *arg)
{
	struct mmr_recorder *r = arg;

	if (ev->type == MMR_EV_CONTENTION && ev->contention.stack) {
		struct mmr_event sev;

		if (mmr_decoder_stack_event(r->d, ev->contention.stack, &sev)) {
			sev.ts = ev->ts;
			r->stacks_emitted++;
			if (r->cb && r->cb(&sev, r->cb_arg) != 0)
				return -1;
		}
	}
	return r->cb ? r->cb(ev, r->cb_arg) : 0;
}

static void set_cb(struct mmr_recorder *r, mmr_event_cb cb, void *arg)
{
	r->cb = cb;
	r->cb_arg = arg;
	mmr_coalesce_set_cb(r->c, emit_cb, r);
}

void mmr_recorder_new_segment(struct mmr_recorder *r)
{
	if (r && r->d)
		mmr_decoder_new_segment(r->d);
}

static int emitted_since(struct mmr_recorder *r)
{
	struct mmr_coalesce_stats st;
	uint64_t n, all;

	mmr_coalesce_get_stats(r->c, &st);
	all = st.emitted + r->stacks_emitted;
	n = all - r->emitted_reported;
	r->emitted_reported = all;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int mmr_recorder_read(struct mmr_recorder *r, mmr_event_cb cb, void *arg, int timeout_ms)
{
	int rounds = 0, full;

	if (!r || r->destroyed)
		return mmr_seterr(MMR_E_USAGE, "recorder is not running");
	set_cb(r, cb, arg);
	/*
	 * Wait unless the last round left data in the kernel (a ring was
	 * full). Records held back by the merge bound do not count: they are
	 * released by time passing, not by reading sooner.
	 */
	if (timeout_ms > 0 && !r->backlog) {
		int n = poll(r->pfds, r->ncpus, timeout_ms);

		if (n < 0 && errno != EINTR)
			return mmr_seterr_errno(MMR_E_IO, "poll on the ring buffers");
		/* holding: the kernel's rings hold it until one is half full */
		if (r->hold_bytes && n <= 0)
			return 0;
	}
	do {
		uint64_t bound;

		full = 0;
		for (unsigned i = 0; i < r->ncpus; i++) {
			int f = fill_cpu(r, &r->cpus[i]);

			if (f < 0)
				return -1;
			full |= f;
		}
		/* holding: pages stay raw until a ring cannot grow or the flush */
		if (r->hold_bytes && !full)
			break;
		bound = merge_bound(r);
		if (merge(r, bound) < 0)
			return -1;
		if (mmr_coalesce_advance(r->c, bound) < 0)
			return -1;
		mmr_decoder_tick(r->d, bound);
	} while (full && ++rounds < MAX_FILL_ROUNDS);
	r->backlog = full;
	if (mmr_coalesce_failed(r->c))
		return -1;
	return emitted_since(r);
}

int mmr_recorder_flush(struct mmr_recorder *r, mmr_event_cb cb, void *arg)
{
	bool more;

	if (!r || r->destroyed)
		return mmr_seterr(MMR_E_USAGE, "recorder is not running");
	if (!r->stopped && mmr_recorder_stop(r) < 0)
		return -1;
	set_cb(r, cb, arg);
	/*
	 * Tracing is off: a drained CPU has nothing older to come. A CPU
	 * whose ring filled still has newer records in the kernel: merge no
	 * further than the start of its last page read, or those records
	 * would come after later ones of the other CPUs.
	 */
	do {
		uint64_t bound = UINT64_MAX;

		more = false;
		for (unsigned i = 0; i < r->ncpus; i++) {
			int f = fill_cpu(r, &r->cpus[i]);

			if (f < 0)
				return -1;
			if (f && r->cpus[i].last_page_ts < bound)
				bound = r->cpus[i].last_page_ts;
			more |= f;
		}
		if (merge(r, bound) < 0)
			return -1;
	} while (more);
	if (mmr_decoder_finish(r->d, r->last_ts > r->stop_ns ? r->last_ts : r->stop_ns) < 0)
		return -1;
	if (mmr_coalesce_flush(r->c) < 0)
		return -1;
	return emitted_since(r);
}

/* ---- lifecycle ---- */

static int create_instance(struct mmr_recorder *r)
{
	for (int k = 0; k < 100; k++) {
		if (k)
			snprintf(r->name, sizeof(r->name), INSTANCE_PREFIX "%d-%d", (int)getpid(), k);
		else
			snprintf(r->name, sizeof(r->name), INSTANCE_PREFIX "%d", (int)getpid());
		if (tracefs_instance_exists(r->name))
			continue;
		errno = 0;
		r->inst = tracefs_instance_create(r->name);
		if (!r->inst) {
			if (errno == EACCES || errno == EPERM || errno == EROFS)
				return mmr_seterr(MMR_E_NOTSUP,
						  "need root (CAP_SYS_ADMIN) to create tracefs instances");
			return mmr_seterr_errno(MMR_E_IO, "creating tracefs instance %s", r->name);
		}
		if (tracefs_instance_is_new(r->inst))
			return 0;
		/* someone else made it between our check and create */
		tracefs_instance_free(r->inst);
		r->inst = NULL;
	}
	return mmr_seterr(MMR_E_FAIL, "no free tracefs instance name " INSTANCE_PREFIX "%d-*",
			  (int)getpid());
}

/*
 * 32 MiB in all, between 4 and 16 MiB per CPU: on 2 CPUs 16 MiB each holds
 * ~0.6 s of 1.5 M faults/s (36-byte records), far more than the reader's
 * poll interval.
 */
static unsigned default_buffer_kb(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	unsigned kb = MMR_REC_DEFAULT_BUFFER_KB * 2 / (unsigned)(n > 0 ? n : 1);

	if (kb > MMR_REC_DEFAULT_BUFFER_KB)
		kb = MMR_REC_DEFAULT_BUFFER_KB;
	if (kb < 4096)
		kb = 4096;
	return kb;
}

static int setup_buffers(struct mmr_recorder *r, unsigned kb)
{
	if (tracefs_instance_file_write(r->inst, "trace_clock", "mono") < 0)
		return mmr_seterr_errno(MMR_E_NOTSUP, "cannot select the mono trace clock");
	if (tracefs_instance_set_buffer_size(r->inst, kb, -1) < 0)
		return mmr_seterr_errno(MMR_E_IO, "setting the ring buffer to %u KiB per CPU", kb);
	tracefs_option_disable(r->inst, TRACEFS_OPTION_OVERWRITE);
	if (tracefs_file_exists(r->inst, "buffer_percent"))
		tracefs_instance_file_write(r->inst, "buffer_percent",
					    r->hold_bytes ? BUFFER_PERCENT_HOLD : BUFFER_PERCENT);
	return 0;
}

struct mmr_recorder *mmr_recorder_new(const struct mmr_recorder_opts *o)
{
	struct mmr_recorder *r;
	struct mmr_coalesce_opts co;
	struct mmr_decoder_opts dopts;
	const char *dir;
	char path[4096];

	if (!o || (!o->system_wide && !o->npids) || (o->system_wide && o->npids)) {
		mmr_seterr(MMR_E_USAGE, "give either pids to follow or system-wide recording");
		return NULL;
	}
	if (!o->system_wide && (o->comm_re || o->cgroup)) {
		mmr_seterr(MMR_E_USAGE, "comm and cgroup filters apply to system-wide recording");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	r->groups = o->groups ? o->groups : MMR_G_ALL;
	r->system_wide = o->system_wide;
	r->hash_paths = o->hash_paths;
	r->hold_bytes = o->hold_bytes;
	r->exec_pid = o->exec_pid;
	if (o->npids) {
		r->pids = malloc(o->npids * sizeof(*r->pids));
		if (!r->pids)
			goto nomem;
		memcpy(r->pids, o->pids, o->npids * sizeof(*r->pids));
		r->npids = o->npids;
		for (unsigned i = 0; i < r->npids; i++)
			if (r->pids[i] <= 0 || (kill(r->pids[i], 0) < 0 && errno == ESRCH)) {
				mmr_seterr(MMR_E_USAGE, "no process %d", r->pids[i]);
				goto fail;
			}
	}
	if (o->comm_re && *o->comm_re) {
		int rc;

		r->comm_re = strdup(o->comm_re);
		if (!r->comm_re)
			goto nomem;
		rc = regcomp(&r->re, r->comm_re, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[256];

			regerror(rc, &r->re, msg, sizeof(msg));
			mmr_seterr(MMR_E_USAGE, "bad comm regex '%s': %s", r->comm_re, msg);
			goto fail;
		}
		r->re_ok = true;
	}
	if (o->cgroup && *o->cgroup) {
		r->cgroup = strdup(o->cgroup);
		if (!r->cgroup)
			goto nomem;
	}

	dir = mmr_tracefs_dir();
	if (!dir)
		goto fail;
	snprintf(path, sizeof(path), "%s/instances", dir);
	if (access(path, W_OK) != 0) {
		mmr_seterr(MMR_E_NOTSUP, "need root (CAP_SYS_ADMIN) to trace: %s is not writable",
			   path);
		goto fail;
	}
	/* instances of recorders that died without cleaning up */
	if (mmr_recorder_cleanup_stale() < 0)
		mmr_clearerr();
	if (create_instance(r) < 0)
		goto fail;
	/* a new instance traces right away: keep it quiet until start */
	tracefs_trace_off(r->inst);
	if (setup_buffers(r, o->buffer_kb ? o->buffer_kb : default_buffer_kb()) < 0)
		goto fail;
	if (setup_pids(r) < 0)
		goto fail;
	if (setup_events(r) < 0)
		goto fail;
	if (setup_cpus(r) < 0)
		goto fail;

	memset(&co, 0, sizeof(co));
	co.gap_ns = o->fault_gap_ns;
	co.max_stride = o->fault_max_stride;
	co.max_run_ns = o->fault_max_run_ns;
	co.queue_max = o->reorder_max;
	r->c = mmr_coalesce_new(&co);
	if (!r->c)
		goto fail;
	memset(&dopts, 0, sizeof(dopts));
	dopts.system_wide = r->system_wide;
	dopts.hash_paths = r->hash_paths;
	dopts.comm_re = r->comm_re;
	dopts.cgroup = r->cgroup;
	dopts.self_pid = r->system_wide ? getpid() : 0;
	dopts.faults_implied = o->faults_implied && !(r->groups & MMR_G_FAULTS);
	dopts.exec_pid = r->exec_pid;
	if (!r->system_wide) {
		dopts.follow = r->procs;
		dopts.nfollow = r->nprocs;
	}
	r->d = mmr_decoder_new(r->tep, r->ncpus, &dopts, r->c);
	if (!r->d)
		goto fail;
	/* symbols for contention stacks: read them before tracing starts */
	if (enabled(r, "lock:contention_begin"))
		mmr_decoder_load_ksyms(r->d);
	return r;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	mmr_recorder_free(r);
	return NULL;
}

static void destroy_instance(struct mmr_recorder *r)
{
	if (!r->inst)
		return;
	/* the stats go with the instance: keep the last values */
	for (unsigned i = 0; i < r->ncpus; i++)
		mmr_recorder_lost(r, i);
	tracefs_trace_off(r->inst);
	for (unsigned i = 0; r->cpus && i < r->ncpus; i++)
		if (r->cpus[i].fd >= 0) {
			close(r->cpus[i].fd);
			r->cpus[i].fd = -1;
		}
	tracefs_instance_destroy(r->inst);
	tracefs_instance_free(r->inst);
	r->inst = NULL;
	r->destroyed = true;
}

void mmr_recorder_free(struct mmr_recorder *r)
{
	if (!r)
		return;
	destroy_instance(r);
	for (unsigned i = 0; r->cpus && i < r->ncpus; i++) {
		free(r->cpus[i].pages);
		if (r->cpus[i].kbuf)
			kbuffer_free(r->cpus[i].kbuf);
	}
	free(r->cpus);
	free(r->pfds);
	mmr_decoder_free(r->d);
	mmr_coalesce_free(r->c);
	if (r->tep)
		tep_free(r->tep);
	mmr_strv_free(r->events, r->nevents);
	mmr_strv_free(r->missing, r->nmissing);
	free(r->pids);
	free(r->procs);
	if (r->re_ok)
		regfree(&r->re);
	free(r->comm_re);
	free(r->cgroup);
	free(r);
}

int mmr_recorder_start(struct mmr_recorder *r)
{
	if (!r || !r->inst)
		return mmr_seterr(MMR_E_USAGE, "recorder is not set up");
	if (r->started && !r->stopped)
		return 0;
	if (!r->started) {
		r->start_ns = mmr_now_ns();
		r->start_rt = (int64_t)time(NULL);
	}
	/* a restart after stop (the daemon pauses) continues the same session */
	if (tracefs_trace_on(r->inst) < 0)
		return mmr_seterr_errno(MMR_E_IO, "turning tracing on in %s", r->name);
	r->started = true;
	r->stopped = false;
	return 0;
}

int mmr_recorder_stop(struct mmr_recorder *r)
{
	if (!r || !r->inst)
		return mmr_seterr(MMR_E_USAGE, "recorder is not set up");
	if (r->stopped)
		return 0;
	if (tracefs_trace_off(r->inst) < 0)
		return mmr_seterr_errno(MMR_E_IO, "turning tracing off in %s", r->name);
	r->stop_ns = mmr_now_ns();
	r->stopped = true;
	return 0;
}

/* ---- accessors ---- */

const char *mmr_recorder_instance(const struct mmr_recorder *r)
{
	return r->name;
}

const char *const *mmr_recorder_events(const struct mmr_recorder *r, unsigned *n)
{
	*n = r->nevents;
	return (const char *const *)r->events;
}

const char *const *mmr_recorder_missing(const struct mmr_recorder *r, unsigned *n)
{
	*n = r->nmissing;
	return (const char *const *)r->missing;
}

unsigned mmr_recorder_ncpus(const struct mmr_recorder *r)
{
	return r->ncpus;
}

static uint64_t stat_value(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

uint64_t mmr_recorder_lost(struct mmr_recorder *r, unsigned cpu)
{
	struct rcpu *rc;
	char path[64], *buf;
	int len;

	if (!r || cpu >= r->ncpus)
		return 0;
	rc = &r->cpus[cpu];
	if (r->inst) {
		snprintf(path, sizeof(path), "per_cpu/cpu%u/stats", cpu);
		buf = tracefs_instance_file_read(r->inst, path, &len);
		if (buf) {
			uint64_t v = stat_value(buf, "overrun:") + stat_value(buf, "dropped events:");

			if (v > rc->lost)
				rc->lost = v;
			free(buf);
		}
	}
	return rc->lost > rc->missed ? rc->lost : rc->missed;
}

uint64_t mmr_recorder_lost_total(struct mmr_recorder *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; r && i < r->ncpus; i++)
		n += mmr_recorder_lost(r, i);
	return n;
}

void mmr_recorder_get_stats(const struct mmr_recorder *r, struct mmr_recorder_stats *st)
{
	struct mmr_coalesce_stats cs;

	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	if (r->d)
		mmr_decoder_add_stats(r->d, st);
	if (r->c) {
		mmr_coalesce_get_stats(r->c, &cs);
		st->emitted = cs.emitted + r->stacks_emitted;
		st->fault_runs = cs.runs;
		st->forced = cs.forced;
		st->late = cs.late;
	}
	for (unsigned i = 0; i < r->ncpus; i++)
		st->missed += r->cpus[i].missed;
	st->ring_bytes = r->held_bytes;
}

static bool proc_selected(struct mmr_recorder *r, int32_t pid)
{
	char path[64], buf[4096];

	if (pid == getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (readlink(path, buf, sizeof(buf)) < 0)
		return false;	/* kernel thread or gone */
	if (r->re_ok) {
		if (!read_proc(pid, "comm", buf, sizeof(buf)))
			return false;
		buf[strcspn(buf, "\n")] = '\0';
		if (regexec(&r->re, buf, 0, NULL, 0) != 0)
			return false;
	}
	if (r->cgroup && (!read_proc(pid, "cgroup", buf, sizeof(buf)) ||
			  !mmr_cgroup_file_matches(buf, r->cgroup)))
		return false;
	return true;
}

void mmr_recorder_exec_stopped(struct mmr_recorder *r)
{
	if (!r || !r->exec_pid)
		return;
	r->exec_stopped = true;
	mmr_decoder_exec_in_header(r->d);
}

int mmr_recorder_fill_header(struct mmr_recorder *r, struct mmr_trace_header *h)
{
	if (!r || !h)
		return mmr_seterr(MMR_E_USAGE, "no recorder or header");
	/* a header starts a file: stacks are defined again in it */
	mmr_recorder_new_segment(r);
	for (unsigned i = 0; i < r->nevents; i++)
		if (mmr_trace_header_add_event(h, r->events[i], false) < 0)
			return -1;
	for (unsigned i = 0; i < r->nmissing; i++)
		if (mmr_trace_header_add_event(h, r->missing[i], true) < 0)
			return -1;
	snprintf(h->clock, sizeof(h->clock), "mono");
	if (r->started) {
		h->start_ns = r->start_ns;
		h->start_realtime = r->start_rt;
	}
	h->paths_hashed = r->hash_paths;
	h->system_wide = r->system_wide;
	if (r->npids && !h->pids) {
		h->pids = malloc(r->npids * sizeof(*h->pids));
		if (!h->pids)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		memcpy(h->pids, r->pids, r->npids * sizeof(*h->pids));
		h->npids = r->npids;
	}
	if (r->comm_re && !h->comm_re && !(h->comm_re = strdup(r->comm_re)))
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	if (r->cgroup && !h->cgroup && !(h->cgroup = strdup(r->cgroup)))
		return mmr_seterr(MMR_E_NOMEM, "out of memory");

	/* initial maps of the traced processes */
	if (!r->system_wide) {
		for (unsigned i = 0; i < r->nprocs; i++)
			if ((r->procs[i] != r->exec_pid || r->exec_stopped) &&
			    mmr_trace_header_add_maps(h, r->procs[i], r->hash_paths) < 0) {
				if (mmr_errcode() == MMR_E_NOMEM)
					return -1;
				mmr_clearerr();	/* it exited meanwhile */
			}
	} else {
		struct dirent *de;
		DIR *dir = opendir("/proc");

		if (!dir)
			return mmr_seterr_errno(MMR_E_IO, "/proc");
		while ((de = readdir(dir))) {
			int32_t pid;

			if (!is_num(de->d_name))
				continue;
			pid = (int32_t)atoi(de->d_name);
			if (!proc_selected(r, pid))
				continue;
			if (mmr_trace_header_add_maps(h, pid, r->hash_paths) < 0) {
				if (mmr_errcode() == MMR_E_NOMEM) {
					closedir(dir);
					return -1;
				}
				mmr_clearerr();
			}
		}
		closedir(dir);
	}
	return 0;
}

int mmr_recorder_fill_footer(struct mmr_recorder *r, struct mmr_trace_footer *f)
{
	uint64_t end;

	if (!r || !f)
		return mmr_seterr(MMR_E_USAGE, "no recorder or footer");
	free(f->lost);
	f->lost = calloc(r->ncpus ? r->ncpus : 1, sizeof(*f->lost));
	if (!f->lost)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	f->ncpus = r->ncpus;
	for (unsigned i = 0; i < r->ncpus; i++)
		f->lost[i] = mmr_recorder_lost(r, i);
	end = r->stopped ? r->stop_ns : mmr_now_ns();
	f->end_ns = end;
	f->duration_ns = r->started && end > r->start_ns ? end - r->start_ns : 0;
	return 0;
}
