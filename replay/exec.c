// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The caller's side of the executor: replay-owned files, the shared
 * results region, forking the roots of the replay tree, the start
 * barrier, waiting, killing the tree on error or stop, and turning the
 * shared counters into struct mmr_stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-exec.h"
#include "mmr-hist.h"
#include "mmr-sysinfo.h"
#include "mmr-util.h"
#include "exec-internal.h"
#include "tsc-clock.h"

/* Write real file contents up to this much (faults then need real I/O). */
#define FILE_CONTENT_MAX (1ull << 30)

struct mmr_exec_view {
	struct mmr_exec *x;
};

struct mmr_exec {
	const struct mmr_plan *plan;
	struct mmr_exec_opts opts;
	int *fds;
	void *ctl;			/* control, then results: one memfd, ctl_fd */
	size_t ctl_len;			/* page-aligned */
	int ctl_fd;
	void *shm;			/* the results part (cleared before each run) */
	size_t shm_size;
	struct mmr_xboot *boot;
	struct mmr_xhdr *hdr;
	volatile uint64_t *base;
	struct mmr_xtask *tasks;
	char *hists;
	size_t hist_size;
	uint32_t ncpus;			/* histograms per kind */
	struct mmr_exec_view view;
	bool over;
	bool tsc;			/* the tasks' clock is the TSC (tsc-clock.h) */
	uint64_t cal_ns, cal_tsc;	/* its first calibration pair */
};

/* ---- view ---- */

uint64_t mmr_exec_view_t0(const struct mmr_exec_view *v)
{
	return __atomic_load_n(&v->x->hdr->go, __ATOMIC_ACQUIRE) ? v->x->hdr->t0 : 0;
}

double mmr_exec_view_speed(const struct mmr_exec_view *v)
{
	return v->x->opts.mode == MMR_REPLAY_MAX_SPEED ? 0 : v->x->opts.speed;
}

const struct mmr_plan *mmr_exec_view_plan(const struct mmr_exec_view *v)
{
	return v->x->plan;
}

uint64_t mmr_exec_view_base(const struct mmr_exec_view *v, uint32_t region)
{
	return region < v->x->plan->nregions ? v->x->base[region] : 0;
}

pid_t mmr_exec_view_pid(const struct mmr_exec_view *v, uint32_t task)
{
	return task < v->x->plan->ntasks && v->x->tasks[task].state == 1 ? v->x->tasks[task].pid : 0;
}

bool mmr_exec_view_started(const struct mmr_exec_view *v, uint32_t task)
{
	return task < v->x->plan->ntasks && v->x->tasks[task].state != 0;
}

uint64_t mmr_exec_view_ops_done(const struct mmr_exec_view *v, uint32_t task)
{
	return task < v->x->plan->ntasks ? v->x->tasks[task].ops_done : 0;
}

void mmr_exec_view_gate_reclaims(const struct mmr_exec_view *v)
{
	v->x->hdr->reclaim_gate = 1;
}

void mmr_exec_view_reclaimed(const struct mmr_exec_view *v, uint32_t i)
{
	__atomic_store_n(&v->x->hdr->reclaims_done, i + 1, __ATOMIC_RELEASE);
}

bool mmr_exec_view_over(const struct mmr_exec_view *v)
{
	return __atomic_load_n(&v->x->over, __ATOMIC_ACQUIRE) || v->x->hdr->abort;
}

/* ---- setup ---- */

/* An unlinked file of size bytes in dir: it vanishes with the last fd. */
static int make_file(const char *dir, uint64_t size, bool content)
{
	/*
	 * Not static: every replay process inherits what this process has
	 * touched, and fork copies its page tables (1 MiB is 256 of them).
	 */
	enum { CHUNK = 1 << 20 };
	char path[PATH_MAX], *chunk;
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(path, sizeof(path), "%s/mmreplay-file-XXXXXX", dir);
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0)
		return mmr_seterr_errno(MMR_E_IO, "cannot create a replay file in %s (set TMPDIR to a writable directory)", dir);
	if (ftruncate(fd, (off_t)size) < 0) {
		mmr_seterr_errno(MMR_E_IO, "cannot size a replay file to %llu bytes in %s",
				 (unsigned long long)size, dir);
		close(fd);
		return -1;
	}
	if (!content)
		return fd;
	chunk = malloc(CHUNK);	/* glibc maps it apart and unmaps it on free */
	if (!chunk) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		close(fd);
		return -1;
	}
	memset(chunk, 0x5a, CHUNK);
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t w = pwrite(fd, chunk, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			mmr_seterr_errno(MMR_E_IO, "writing a replay file in %s", dir);
			free(chunk);
			close(fd);
			return -1;
		}
		off += (uint64_t)w;
	}
	free(chunk);
	return fd;
}

static int make_files(struct mmr_exec *x)
{
	const struct mmr_plan *p = x->plan;
	const char *dir = x->opts.tmpdir ? x->opts.tmpdir : "/var/tmp";
	struct statvfs vfs;
	bool content = p->file_bytes <= FILE_CONTENT_MAX;

	/* Real contents only with room to spare; sparse files otherwise. */
	if (content && statvfs(dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < 2 * p->file_bytes + (256ull << 20))
		content = false;
	x->fds = malloc((p->nfiles ? p->nfiles : 1) * sizeof(*x->fds));
	if (!x->fds)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < p->nfiles; i++)
		x->fds[i] = -1;
	for (uint32_t i = 0; i < p->nfiles; i++) {
		x->fds[i] = make_file(dir, p->files[i].size, content);
		if (x->fds[i] < 0)
			return -1;
	}
	return 0;
}

static size_t align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

/*
 * Everything replay processes read or write lives in two memfd-backed
 * shared mappings: fork copies the page tables of private memory (see
 * plan_share, plan.c), and mmreplay-task maps the same memfds after exec.
 *  - control (read-only for the tasks): the boot block and the replay
 *    files' descriptors;
 *  - results (cleared before each run): header, region bases, per-task
 *    counters, histograms.
 */
/*
 * Thread groups as lists (see mmr_xrt.grp): the tasks of each leader, in
 * task order. A leader precedes its threads, so one pass counts, a prefix
 * sum places, a second pass fills.
 */
static void make_groups(const struct mmr_plan *p, uint32_t *grp, uint32_t *members)
{
	uint32_t at = 0;

	for (uint32_t t = 0; t < p->ntasks; t++)
		grp[2 * t + 1] = 0;
	for (uint32_t t = 0; t < p->ntasks; t++)
		grp[2 * p->tasks[t].leader + 1]++;
	for (uint32_t t = 0; t < p->ntasks; t++) {
		if (p->tasks[t].leader != t)
			continue;
		grp[2 * t] = at;
		at += grp[2 * t + 1];
		grp[2 * t + 1] = 0;
	}
	for (uint32_t t = 0; t < p->ntasks; t++) {
		uint32_t l = p->tasks[t].leader;

		members[grp[2 * l] + grp[2 * l + 1]++] = t;
	}
	for (uint32_t t = 0; t < p->ntasks; t++) {
		grp[2 * t] = grp[2 * p->tasks[t].leader];
		grp[2 * t + 1] = grp[2 * p->tasks[t].leader + 1];
	}
}

/*
 * Tasks that update their counters in place while they run (see
 * mmr_xrt.live): those with sibling threads, which wait on each other's
 * progress, and the targets of recorded reclaim, whose pid and progress
 * the pageout reclaimer follows.
 */
static void make_live(const struct mmr_plan *p, const uint32_t *grp, uint8_t *live)
{
	for (uint32_t t = 0; t < p->ntasks; t++)
		live[t] = grp[2 * t + 1] > 1;
	for (uint32_t i = 0; i < p->nreclaims; i++)
		if (p->reclaims[i].task < p->ntasks)
			live[p->reclaims[i].task] = 1;
}

static int make_shm(struct mmr_exec *x)
{
	const struct mmr_plan *p = x->plan;
	size_t off_fds, off_grp, off_members, off_live;
	size_t off_base, off_tasks, off_hists;
	struct mmr_xboot *bt;
	int ncpus = get_nprocs_conf();

	off_fds = align64(sizeof(struct mmr_xboot));
	off_grp = align64(off_fds + (size_t)(p->nfiles ? p->nfiles : 1) * sizeof(int));
	off_members = off_grp + (size_t)p->ntasks * 2 * sizeof(uint32_t);
	off_live = off_members + (size_t)(p->ntasks ? p->ntasks : 1) * sizeof(uint32_t);
	x->ctl_len = off_live + (p->ntasks ? p->ntasks : 1);
	x->ctl_len = (x->ctl_len + 4095) & ~(size_t)4095;
	x->ncpus = ncpus > 0 ? (uint32_t)ncpus : 1;
	x->hist_size = align64(sizeof(struct mmr_xhist) + mmr_hist_nbuckets() * sizeof(uint64_t));
	off_base = align64(sizeof(struct mmr_xhdr));
	off_tasks = align64(off_base + (size_t)p->nregions * sizeof(uint64_t));
	off_hists = align64(off_tasks + (size_t)p->ntasks * sizeof(struct mmr_xtask));
	x->shm_size = off_hists + (size_t)x->ncpus * MMR_XH_KINDS * x->hist_size;
	/* One mapping, not two: every replayed fork and exit pays per mapping. */
	x->ctl = mmr_shared_map("mmreplay-shared", x->ctl_len + x->shm_size, &x->ctl_fd);
	if (x->ctl == MAP_FAILED) {
		x->ctl = NULL;
		mmr_adderr_context("replay control and results");
		return -1;
	}
	x->boot = bt = x->ctl;
	memcpy((char *)x->ctl + off_fds, x->fds, (size_t)p->nfiles * sizeof(int));
	make_groups(p, (uint32_t *)((char *)x->ctl + off_grp),
		    (uint32_t *)((char *)x->ctl + off_members));
	make_live(p, (const uint32_t *)((char *)x->ctl + off_grp), (uint8_t *)x->ctl + off_live);
	x->shm = (char *)x->ctl + x->ctl_len;
	x->hdr = x->shm;
	x->base = (volatile uint64_t *)((char *)x->shm + off_base);
	x->tasks = (struct mmr_xtask *)((char *)x->shm + off_tasks);
	x->hists = (char *)x->shm + off_hists;
	*bt = (struct mmr_xboot){
		.magic = MMR_XBOOT_MAGIC, .size = sizeof(*bt), .plan = *p,
		.ctl_len = x->ctl_len, .shm_len = x->shm_size, .hist_size = x->hist_size,
		.off_fds = off_fds, .off_grp = off_grp, .off_members = off_members,
		.off_live = off_live, .off_base = off_base, .off_tasks = off_tasks,
		.off_hists = off_hists, .ncpus = x->ncpus,
	};
	return 0;
}

/* Whether the kernel's CLOCK_MONOTONIC comes from the TSC (and the TSC can be read). */
static bool tsc_usable(void)
{
	char cs[32] = "";
	FILE *f;

	if (!MMR_HAVE_TSC)
		return false;
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (!f)
		return false;
	if (!fgets(cs, sizeof(cs), f))
		cs[0] = 0;
	fclose(f);
	return !strcmp(cs, "tsc\n");
}

struct mmr_exec *mmr_exec_new(const struct mmr_plan *p, const struct mmr_exec_opts *o)
{
	struct mmr_exec *x;

	if (o->mode == MMR_REPLAY_SCALED && !(o->speed > 0)) {
		mmr_seterr(MMR_E_USAGE, "speed must be greater than 0");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	x->plan = p;
	x->opts = *o;
	if (x->opts.mode != MMR_REPLAY_SCALED)
		x->opts.speed = 1.0;
	if (!x->opts.start_timeout_ns)
		x->opts.start_timeout_ns = 30ull * 1000000000ull;
	x->view.x = x;
	x->ctl_fd = -1;
	if (x->opts.helper && access(x->opts.helper, X_OK) < 0) {
		mmr_seterr_errno(MMR_E_USAGE, "the replay task helper %s cannot be run (reinstall mmreplay, or set MMREPLAY_TASK_HELPER to its path)",
				 x->opts.helper);
		free(x);
		return NULL;
	}
	if (x->opts.helper && p->shared_fd < 0) {
		mmr_seterr(MMR_E_USAGE, "the plan is not in shared memory; the task helper cannot map it");
		free(x);
		return NULL;
	}
	if (make_files(x) < 0 || make_shm(x) < 0) {
		mmr_exec_free(x);
		return NULL;
	}
	x->tsc = tsc_usable();
	if (x->tsc)
		mmr_tsc_pair(&x->cal_ns, &x->cal_tsc);
	return x;
}

void mmr_exec_free(struct mmr_exec *x)
{
	if (!x)
		return;
	for (uint32_t i = 0; x->fds && i < x->plan->nfiles; i++)
		if (x->fds[i] >= 0)
			close(x->fds[i]);
	free(x->fds);
	if (x->ctl)
		munmap(x->ctl, x->ctl_len + x->shm_size);
	if (x->ctl_fd >= 0)
		close(x->ctl_fd);
	free(x);
}

/* ---- one run ---- */

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

/*
 * The TSC's rate against CLOCK_MONOTONIC, from the pair taken when the
 * replay was set up to one now (20 ms apart at least: ~5 ppm from clock
 * reads a few hundred ns wide), and the anchor the tasks start from.
 */
#define TSC_CAL_NS 20000000ull

static void tsc_calibrate(struct mmr_exec *x)
{
	uint64_t ns, tsc;

	mmr_tsc_pair(&ns, &tsc);
	if (ns < x->cal_ns + TSC_CAL_NS) {
		sleep_ns(x->cal_ns + TSC_CAL_NS - ns);
		mmr_tsc_pair(&ns, &tsc);
	}
	x->hdr->tsc_mult = mmr_tsc_mult(x->cal_ns, x->cal_tsc, ns, tsc);
	x->hdr->tsc_ns = ns;
	x->hdr->tsc_at = tsc;
}

static bool stopped(const struct mmr_exec *x)
{
	return x->opts.stop && *x->opts.stop;
}

/* Kill the whole replay tree and reap every child; idempotent. */
static void kill_tree(struct mmr_exec *x, pid_t pgid)
{
	int st;

	x->hdr->abort = 1;
	__atomic_store_n(&x->hdr->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &x->hdr->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	if (pgid > 0)
		kill(-pgid, SIGKILL);
	/* Orphans come to us (subreaper); a fork racing the kill is caught by the next kill. */
	for (;;) {
		pid_t r = waitpid(-1, &st, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (pgid > 0)
			kill(-pgid, SIGKILL);
	}
}

/* Reap what has ended; 1 when no child is left. */
static int reap(void)
{
	int st;

	for (;;) {
		pid_t r = waitpid(-1, &st, WNOHANG | __WALL);

		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 && errno == ECHILD;
	}
}

static void drop_file_cache(struct mmr_exec *x)
{
	/* Replay files start cold, as files whose faults read from disk. */
	for (uint32_t i = 0; i < x->plan->nfiles; i++) {
		fdatasync(x->fds[i]);
		posix_fadvise(x->fds[i], 0, 0, POSIX_FADV_DONTNEED);
	}
}

static const char *fail_name(int code, char *buf, size_t len)
{
	const char *n;

	switch (-code) {
	case MMR_XF_SEGV: return "SIGSEGV";
	case MMR_XF_BUS: return "SIGBUS";
	case MMR_XF_UNMAPPED: return "unmapped";
	case MMR_XF_LATE: return "not mapped in time";
	case MMR_XF_STACK: return "fork chain too deep (ulimit -s)";
	default:
		break;
	}
	n = code > 0 ? strerrorname_np(code) : NULL;
	if (n)
		return n;
	snprintf(buf, len, "error %d", code);
	return buf;
}

/* The shared-memory histogram as an mmr_hist, exactly (via its JSON form). */
static struct mmr_hist *xhist_to_hist(const struct mmr_xhist *xh)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct mmr_hist *h = NULL;
	unsigned nb = mmr_hist_nbuckets();

	if (!o || !arr)
		goto out;
	json_object_object_add(o, "count", json_object_new_uint64(xh->count));
	json_object_object_add(o, "sum", json_object_new_uint64(xh->sum));
	json_object_object_add(o, "min", json_object_new_uint64(xh->count && xh->min ? xh->min - 1 : 0));
	json_object_object_add(o, "max", json_object_new_uint64(xh->max));
	for (unsigned i = 0; i < nb; i++) {
		struct json_object *pair;

		if (!xh->b[i])
			continue;
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_uint64(i));
		json_object_array_add(pair, json_object_new_uint64(xh->b[i]));
		json_object_array_add(arr, pair);
	}
	json_object_object_add(o, "buckets", arr);
	arr = NULL;
	h = mmr_hist_from_json(o);
out:
	json_object_put(o);
	json_object_put(arr);
	if (!h && mmr_errcode() == MMR_E_OK)
		mmr_seterr(MMR_E_NOMEM, "out of memory");
	return h;
}

/* Where samples of kind k (MMR_XH_*) go in the stats; NULL on error. */
static struct mmr_hist *stats_hist(struct mmr_stats *s, unsigned k)
{
	if (k == MMR_XH_LAG)
		return mmr_stats_lag(s);
	if (k >= MMR_XH_KINDS) {
		mmr_seterr(MMR_E_FAIL, "a replay task reported a sample of unknown kind %u", k);
		return NULL;
	}
	return mmr_stats_op(s, mmr_pop_op(k), k == MMR_POP_FAULT);
}

static int collect(struct mmr_exec *x, struct mmr_stats *s, uint64_t wall)
{
	const struct mmr_plan *p = x->plan;
	uint64_t killed = 0, unstarted = 0, recorded = 0;
	char buf[32];

	for (uint32_t t = 0; t < p->ntasks; t++) {
		const struct mmr_xtask *xt = &x->tasks[t];

		s->fidelity.ops_replayed += xt->ops_done;
		s->fidelity.ops_failed += xt->ops_failed;
		for (unsigned i = 0; i < MMR_XF_SLOTS; i++)
			if (xt->fails[i].count &&
			    mmr_stats_add_failure(s, mmr_pop_op(xt->fails[i].op),
						  fail_name(xt->fails[i].code, buf, sizeof(buf)),
						  xt->fails[i].count) < 0)
				return -1;
		if (xt->other_fails && mmr_stats_add_failure(s, MMR_OP_OTHER, "other", xt->other_fails) < 0)
			return -1;
		for (unsigned i = 0; i < MMR_LAG_TENTHS; i++)
			if (xt->lag_n[i])
				mmr_fidelity_add_tenth(&s->fidelity, i, xt->lag_n[i], xt->lag_sum[i],
						       xt->lag_max[i]);
		if (xt->state == 1 || (xt->state == 2 && xt->ops_done < p->tasks[t].nops))
			killed++;
		else if (xt->state == 0 && p->tasks[t].nops)
			unstarted++;
		if (p->tasks[t].end_ts > recorded)
			recorded = p->tasks[t].end_ts;
	}
	if (killed && mmr_stats_add_failure(s, MMR_OP_NONE, "task ended early", killed) < 0)
		return -1;
	if (unstarted && mmr_stats_add_failure(s, MMR_OP_NONE, "task not started", unstarted) < 0)
		return -1;
	for (uint32_t t = 0; t < p->ntasks; t++) {
		const struct mmr_xtask *xt = &x->tasks[t];

		for (uint32_t i = 0; xt->nsamples <= MMR_XS_SAMPLES && i < xt->nsamples; i++) {
			struct mmr_hist *dst = stats_hist(s, (unsigned)(xt->s[i] >> MMR_XS_KIND_SHIFT));

			if (!dst)
				return -1;
			mmr_hist_add(dst, xt->s[i] & MMR_XS_NS_MASK);
		}
	}
	for (uint32_t i = 0; i < x->ncpus * MMR_XH_KINDS; i++) {
		const struct mmr_xhist *xh = (const struct mmr_xhist *)(x->hists + i * x->hist_size);
		struct mmr_hist *h, *dst;

		if (!xh->count)
			continue;
		dst = stats_hist(s, i % MMR_XH_KINDS);
		if (!dst)
			return -1;
		h = xhist_to_hist(xh);
		if (!h)
			return -1;
		mmr_hist_merge(dst, h);
		mmr_hist_free(h);
	}
	if (x->opts.mode != MMR_REPLAY_MAX_SPEED && !mmr_stats_lag(s))
		return -1;
	s->fidelity.ops_recorded += p->nops;
	s->fidelity.recorded_ns += recorded;
	s->fidelity.replayed_ns += wall;
	mmr_stats_finish(s);
	return 0;
}

/* Decimal digits of v into buf (no stdio between fork and exec). */
static char *utoa(uint64_t v, char *buf, size_t len)
{
	char *e = buf + len - 1;

	*e = 0;
	do {
		*--e = (char)('0' + v % 10);
		v /= 10;
	} while (v && e > buf);
	return e;
}

/*
 * In a forked root: become mmreplay-task, a small program that maps the
 * plan and the shared state and runs mmr_xtask_root. Replay processes
 * then carry none of this process's libraries and heap, which every fork
 * and exit of the replay would pay for (page tables, VMAs).
 */
static void exec_helper(struct mmr_exec *x, uint32_t task, pid_t pgid) __attribute__((noreturn));
static void exec_helper(struct mmr_exec *x, uint32_t task, pid_t pgid)
{
	char b[4][24];
	char *argv[] = {
		(char *)x->opts.helper,
		utoa((uint64_t)x->plan->shared_fd, b[0], sizeof(b[0])),
		utoa((uint64_t)x->ctl_fd, b[1], sizeof(b[1])),
		utoa(task, b[2], sizeof(b[2])),
		utoa((uint64_t)pgid, b[3], sizeof(b[3])),
		NULL,
	};

	setpgid(0, pgid);
	fcntl(x->plan->shared_fd, F_SETFD, 0);
	fcntl(x->ctl_fd, F_SETFD, 0);
	/*
	 * The helper's stack and vDSO at the top of the address space, out
	 * of the recorded mappings' way (see HELPER_ZONE in task-main.c).
	 */
	personality(ADDR_NO_RANDOMIZE);
	execv(x->opts.helper, argv);
	_exit(127);
}

/* Fork the processes that exist at the start; -1 with the tree killed. */
static int fork_roots(struct mmr_exec *x, pid_t *roots, unsigned *nroots, pid_t *pgid)
{
	const struct mmr_plan *p = x->plan;

	*nroots = 0;
	for (uint32_t t = 0; t < p->ntasks; t++) {
		pid_t pid;

		if (!p->tasks[t].initial || p->tasks[t].thread)
			continue;
		pid = fork();
		if (pid == 0 && x->opts.helper)
			exec_helper(x, t, *pgid);
		if (pid == 0)
			mmr_xtask_root(t, *pgid);
		if (pid < 0) {
			mmr_seterr_errno(MMR_E_FAIL, "cannot fork the replay processes");
			return -1;
		}
		if (!*pgid)
			*pgid = pid;
		setpgid(pid, *pgid);	/* also in the child: whoever runs first */
		roots[(*nroots)++] = pid;
	}
	return 0;
}

static int wait_barrier(struct mmr_exec *x)
{
	uint64_t deadline = mmr_now_ns() + x->opts.start_timeout_ns;

	while (__atomic_load_n(&x->hdr->ready, __ATOMIC_ACQUIRE) < x->plan->initial_tasks) {
		if (stopped(x))
			return mmr_seterr(MMR_E_FAIL, "interrupted; the replay tree was killed");
		if (mmr_now_ns() > deadline)
			return mmr_seterr(MMR_E_FAIL,
					  "only %u of %u replay tasks reached the start barrier within %llu s; the machine may be overloaded",
					  x->hdr->ready, x->plan->initial_tasks,
					  (unsigned long long)(x->opts.start_timeout_ns / 1000000000ull));
		{
			int st;
			pid_t r = waitpid(-1, &st, WNOHANG | __WALL);

			if (r > 0)
				return mmr_seterr(MMR_E_FAIL,
						  "a replay process died before the start (%s %d)",
						  WIFSIGNALED(st) ? "signal" : "exit status",
						  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
		sleep_ns(200000);
	}
	return 0;
}

int mmr_exec_run(struct mmr_exec *x, struct mmr_stats *stats, uint64_t *wall_ns)
{
	const struct mmr_plan *p = x->plan;
	pid_t *roots = calloc(p->ntasks ? p->ntasks : 1, sizeof(*roots)), pgid = 0;
	unsigned nroots = 0;
	uint64_t t0, end = 0, steal0 = 0, steal1;
	bool steal_ok = false;
	int old_subreaper = 0, rc = -1;
	bool started = false;

	if (!roots)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	memset(x->shm, 0, x->shm_size);
	x->over = false;
	if (x->opts.cold_files)
		drop_file_cache(x);
	x->boot->closed_loop = x->opts.mode == MMR_REPLAY_MAX_SPEED;
	x->boot->speed = x->opts.speed;
	x->boot->parent = getpid();
	mmr_xrt_init(x->boot, x->ctl_fd, p);	/* for the in-process path (no helper) */
	/* Orphaned replay processes come back to us, so we can reap them all. */
	prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper, 0, 0, 0);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/*
	 * Every replay process inherits this one's private memory and pays
	 * for it at each fork and exit (page tables): hand the garbage of
	 * planning back first.
	 */
	malloc_trim(0);
	if (fork_roots(x, roots, &nroots, &pgid) < 0 || wait_barrier(x) < 0)
		goto kill;
	if (x->opts.hooks.start &&
	    x->opts.hooks.start(x->opts.hooks.arg, &x->view, roots, nroots) < 0)
		goto kill;
	started = true;
	if (stopped(x)) {
		mmr_seterr(MMR_E_FAIL, "interrupted; the replay tree was killed");
		goto kill;
	}
	/*
	 * Timed modes: time 0 a little ahead, so every task is awake when it
	 * comes. Closed loop: the tasks start at once, so time 0 is now.
	 */
	if (x->tsc)
		tsc_calibrate(x);
	t0 = mmr_now_ns() + (x->opts.mode == MMR_REPLAY_MAX_SPEED ? 0 : 2000000);
	x->hdr->t0 = t0;
	/* what a shared VM's host takes from the run (optional: not every kernel says) */
	steal_ok = mmr_steal_ns(&steal0) == 0;
	if (!steal_ok)
		mmr_clearerr();	/* no figure, no failure */
	__atomic_store_n(&x->hdr->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &x->hdr->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	/*
	 * Replay processes reap their own children; what comes here are the
	 * roots and orphans. Waking up seldom: on a small machine every
	 * wakeup preempts a replay process. (The replay's timing comes from
	 * the tasks' own clocks, not from when this loop notices the end.)
	 */
	while (!reap()) {
		if (stopped(x)) {
			mmr_seterr(MMR_E_FAIL, "interrupted; the replay tree was killed");
			goto kill;
		}
		sleep_ns(10000000);
	}
	if (steal_ok && mmr_steal_ns(&steal1) == 0 && steal1 >= steal0) {
		stats->fidelity.steal_ns += steal1 - steal0;
		stats->fidelity.has_steal = true;
	}
	for (uint32_t t = 0; t < p->ntasks; t++)
		if (x->tasks[t].end_ns > end)
			end = x->tasks[t].end_ns;
	*wall_ns = end > t0 ? end - t0 : 0;
	__atomic_store_n(&x->over, true, __ATOMIC_RELEASE);
	if (x->opts.hooks.end && x->opts.hooks.end(x->opts.hooks.arg, &x->view, stats) < 0)
		goto out;
	rc = collect(x, stats, *wall_ns);
	goto out;
kill:
	kill_tree(x, pgid);
	__atomic_store_n(&x->over, true, __ATOMIC_RELEASE);
	/* Let the hooks stop what they started; the error stays the run's. */
	if (started && x->opts.hooks.end) {
		char msg[512];
		enum mmr_err code = mmr_errcode();

		snprintf(msg, sizeof(msg), "%s", mmr_strerror());
		x->opts.hooks.end(x->opts.hooks.arg, &x->view, stats);
		mmr_seterr(code, "%s", msg);
	}
out:
	prctl(PR_SET_CHILD_SUBREAPER, old_subreaper, 0, 0, 0);
	free(roots);
	return rc;
}
