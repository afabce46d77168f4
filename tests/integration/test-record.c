// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Record tests/integration/workload-known through the library, following
 * its pid, and check exact counts: forks (process/thread), exec, exits,
 * the mmaps/madvises/mprotects/munmaps of its distinctive regions, and
 * that the fault runs cover exactly the pages it wrote in each region.
 *
 * Needs root and tracefs; exits 77 with a reason otherwise.
 * Usage: test-record PATH-TO-workload-known   (or $MMR_WORKLOAD)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#include "mmr-error.h"
#include "mmr-recorder.h"

#include "workload-known.h"

static int failures;

#define CHECK(cond, ...)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			failures++;                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);     \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
		}                                                       \
	} while (0)

struct evs {
	struct mmr_event *v;
	unsigned *seg;			/* output segment of each event */
	unsigned cur_seg;
	size_t n, cap;
	uint64_t last_ts;
	unsigned disorder;
};

static int collect(const struct mmr_event *ev, void *arg)
{
	struct evs *e = arg;

	if (ev->ts < e->last_ts)
		e->disorder++;
	e->last_ts = ev->ts;
	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 4096;
		struct mmr_event *nv = realloc(e->v, nc * sizeof(*nv));
		unsigned *ns;

		if (!nv)
			return -1;
		e->v = nv;
		ns = realloc(e->seg, nc * sizeof(*ns));
		if (!ns)
			return -1;
		e->seg = ns;
		e->cap = nc;
	}
	e->seg[e->n] = e->cur_seg;
	e->v[e->n] = *ev;
	if (ev->type == MMR_EV_STACK)
		e->v[e->n].stack.frames = NULL;	/* owned by the recorder */
	e->n++;
	return 0;
}

struct region {
	char name;
	int pid, tid;
	uint64_t start;
	unsigned pages;
	int step;
};

static unsigned region_pages(char name)
{
	switch (name) {
	case 'A': return WL_A_PAGES;
	case 'B': return WL_B_PAGES;
	case 'C': return WL_C_PAGES;
	case 'D': return WL_D_PAGES;
	default: return WL_E_PAGES;
	}
}

static int region_step(char name)
{
	switch (name) {
	case 'B': return -1;
	case 'C': return 3;
	case 'E': return 2;
	default: return 1;
	}
}

static void check_region(const struct evs *e, const struct region *rg, long page)
{
	unsigned cnt[128] = { 0 }, runs = 0, bad_err = 0, bad_stride = 0;
	uint64_t end = rg->start + (uint64_t)rg->pages * page;

	for (size_t i = 0; i < e->n; i++) {
		const struct mmr_event *ev = &e->v[i];
		bool hit = false;

		/* D and E regions of different tasks share addresses */
		if (ev->type != MMR_EV_FAULT || ev->tid != rg->tid)
			continue;
		for (uint64_t k = 0; k < ev->fault.count; k++) {
			uint64_t a = ev->fault.addr + (uint64_t)(ev->fault.stride * (int64_t)k);

			if (a < rg->start || a >= end)
				continue;
			hit = true;
			cnt[(a - rg->start) / page]++;
		}
		if (!hit)
			continue;
		runs++;
		if (!(ev->fault.err & MMR_PF_WRITE) || !(ev->fault.err & MMR_PF_USER))
			bad_err++;
		if (ev->fault.count > 1 && ev->fault.stride != rg->step * page)
			bad_stride++;
	}
	for (unsigned p = 0; p < rg->pages; p++) {
		bool want = rg->step > 0 ? p % (unsigned)rg->step == 0 : true;

		CHECK(cnt[p] == (want ? 1u : 0u), "region %c (tid %d): page %u faulted %u times, want %u",
		      rg->name, rg->tid, p, cnt[p], want ? 1 : 0);
	}
	CHECK(bad_err == 0, "region %c: %u runs without write|user error code", rg->name, bad_err);
	CHECK(bad_stride == 0, "region %c: %u runs with a stride other than %d pages", rg->name,
	      bad_stride, rg->step);
	/* coalescing: one run per region unless the task was preempted > 1 ms */
	CHECK(runs >= 1 && runs <= 4, "region %c: %u fault runs (want 1, at most 4)", rg->name, runs);
	printf("region %c tid %d: %u run(s)\n", rg->name, rg->tid, runs);
}

/* Syscalls of type t by task tid on [addr, addr + len). */
static unsigned count_syscall(const struct evs *e, enum mmr_ev_type t, int tid, uint64_t addr,
			      uint64_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct mmr_event *ev = &e->v[i];

		if (ev->type != t || ev->tid != tid)
			continue;
		switch (t) {
		case MMR_EV_MMAP:
			if (ev->mmap.len == len && (uint64_t)ev->mmap.ret == addr)
				n++;
			break;
		case MMR_EV_MADVISE:
			if (ev->range.len == len && ev->range.addr == addr &&
			    ev->range.arg == MADV_NOHUGEPAGE && ev->range.ret == 0)
				n++;
			break;
		default:
			if (ev->range.addr == addr && ev->range.len == len && ev->range.ret == 0)
				n++;
			break;
		}
	}
	return n;
}

static bool has_event(struct mmr_recorder *r, const char *name)
{
	unsigned n;
	const char *const *v = mmr_recorder_events(r, &n);

	for (unsigned i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const char *wl = argc > 1 ? argv[1] : getenv("MMR_WORKLOAD");
	/*
	 * --hold: the same checks, the pages held raw until the flush (a
	 * replay's measurement); --hold-small: read without waiting (no
	 * poll, whatever the kernel holds), 16 KiB held at most: the rings
	 * cannot grow and batches are decoded on the way.
	 */
	bool hold = argc > 2 && !strcmp(argv[2], "--hold");
	bool hold_small = argc > 2 && !strcmp(argv[2], "--hold-small");
	size_t before_flush = 0;
	uint64_t ring0 = 0;		/* ring bytes at the start */
	int gate[2], out[2], status = 0;
	struct mmr_recorder_opts o = { 0 };
	struct mmr_recorder_stats st;
	struct mmr_recorder *r;
	struct evs e = { 0 };
	struct region rg[16];
	unsigned nrg = 0;
	char buf[8192], inst[64];
	size_t blen = 0;
	long page = sysconf(_SC_PAGESIZE);
	int32_t pid;
	pid_t child;
	bool exited = false;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!wl) {
		printf("usage: test-record PATH-TO-workload-known\n");
		return 2;
	}
	if (geteuid() != 0) {
		printf("SKIP: needs root to create tracefs instances\n");
		return 77;
	}
	if (mmr_recorder_cleanup_stale() < 0) {
		printf("SKIP: %s\n", mmr_strerror());
		return 77;
	}
	if (pipe(gate) < 0 || pipe(out) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		char c;

		close(gate[1]);
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		if (read(gate[0], &c, 1) != 1)
			_exit(126);
		execl(wl, "workload-known", (char *)NULL);
		_exit(127);
	}
	close(gate[0]);
	close(out[1]);

	pid = child;
	o.pids = &pid;
	o.npids = 1;
	o.hold_bytes = hold ? 64u << 20 : hold_small ? 16u << 10 : 0;
	r = mmr_recorder_new(&o);
	if (!r) {
		int code = mmr_errcode() == MMR_E_NOTSUP ? 77 : 1;

		printf("%s: %s\n", code == 77 ? "SKIP" : "FAIL", mmr_strerror());
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return code;
	}
	snprintf(inst, sizeof(inst), "%s", mmr_recorder_instance(r));
	mmr_recorder_get_stats(r, &st);
	ring0 = st.ring_bytes;
	{
		static const char *const need[] = {
			"exceptions:page_fault_user", "sched:sched_process_exec",
			"sched:sched_process_exit", "task:task_newtask", "syscalls:sys_enter_mmap",
			"syscalls:sys_exit_mmap", "syscalls:sys_enter_munmap",
			"syscalls:sys_enter_mprotect", "syscalls:sys_enter_madvise", NULL,
		};

		for (int i = 0; need[i]; i++)
			if (!has_event(r, need[i])) {
				printf("SKIP: event %s is not available on this kernel\n", need[i]);
				mmr_recorder_free(r);
				kill(child, SIGKILL);
				waitpid(child, NULL, 0);
				return 77;
			}
	}
	if (mmr_recorder_start(r) < 0) {
		printf("FAIL: start: %s\n", mmr_strerror());
		goto fail;
	}
	if (write(gate[1], "g", 1) != 1)
		goto fail;
	close(gate[1]);

	fcntl(out[0], F_SETFL, O_NONBLOCK);
	for (int rounds = 0; rounds < 600; rounds++) {
		ssize_t n;

		if (hold_small)
			usleep(50000);
		if (mmr_recorder_read(r, collect, &e, hold_small ? 0 : 50) < 0) {
			printf("FAIL: read: %s\n", mmr_strerror());
			goto fail;
		}
		while ((n = read(out[0], buf + blen, sizeof(buf) - 1 - blen)) > 0)
			blen += (size_t)n;
		if (!exited && waitpid(child, &status, WNOHANG) == child)
			exited = true;
		if (rounds == 2) {
			/* as if the output rotated to a new file */
			mmr_recorder_new_segment(r);
			e.cur_seg++;
		}
		if (exited)
			break;
	}
	if (!exited) {
		printf("FAIL: workload did not finish\n");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		goto fail;
	}
	before_flush = e.n;
	if (mmr_recorder_stop(r) < 0 || mmr_recorder_flush(r, collect, &e) < 0) {
		printf("FAIL: stop/flush: %s\n", mmr_strerror());
		goto fail;
	}
	{
		ssize_t n;

		fcntl(out[0], F_SETFL, 0);
		while ((n = read(out[0], buf + blen, sizeof(buf) - 1 - blen)) > 0)
			blen += (size_t)n;
		buf[blen] = '\0';
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "workload failed (status %d)", status);

	/* the workload's own account of what it did */
	f = fmemopen(buf, blen, "r");
	if (f) {
		char line[256];

		while (fgets(line, sizeof(line), f)) {
			int w[8];
			char name;

			if (line[0] == 'W') {
				CHECK(sscanf(line, "W %d %d %d %d %d %d %d %d", &w[0], &w[1], &w[2], &w[3],
					     &w[4], &w[5], &w[6], &w[7]) == 8 &&
				      w[0] == WL_THREADS && w[1] == WL_CHILDREN && w[2] == WL_MPROTECTS &&
				      w[3] == WL_A_PAGES && w[4] == WL_B_PAGES && w[5] == WL_C_PAGES &&
				      w[6] == WL_D_PAGES && w[7] == WL_E_PAGES,
				      "workload parameters differ from the test's: %s", line);
				continue;
			}
			if (nrg < 16 && sscanf(line, "%c %d %d %" SCNx64, &name, &rg[nrg].pid,
					       &rg[nrg].tid, &rg[nrg].start) == 4) {
				rg[nrg].name = name;
				rg[nrg].pages = region_pages(name);
				rg[nrg].step = region_step(name);
				nrg++;
			}
		}
		fclose(f);
	}
	CHECK(nrg == 3 + WL_THREADS + WL_CHILDREN, "workload reported %u regions", nrg);

	mmr_recorder_get_stats(r, &st);
	printf("events %zu, raw %" PRIu64 ", faults %" PRIu64 " in %" PRIu64
	       " runs, unmatched: syscall %" PRIu64 " lock %" PRIu64 " contention %" PRIu64
	       ", forced %" PRIu64 ", lost %" PRIu64 "\n",
	       e.n, st.raw_events, st.faults, st.fault_runs, st.unmatched_syscall,
	       st.unmatched_lock, st.unmatched_contention, st.forced, mmr_recorder_lost_total(r));
	CHECK(e.disorder == 0, "%u events out of timestamp order", e.disorder);
	CHECK(mmr_recorder_lost_total(r) == 0, "ring buffer lost events");
	CHECK(st.unmatched_syscall == 0, "%" PRIu64 " unmatched syscalls", st.unmatched_syscall);
	CHECK(st.forced == 0, "%" PRIu64 " events forced out incomplete", st.forced);
	if (hold) {
		/* rings start at 2 sub-buffers a CPU: what the workload wrote made them grow */
		printf("held: %zu events delivered before the flush, rings grew from %" PRIu64
		       " to %" PRIu64 " KiB\n", before_flush, ring0 >> 10, st.ring_bytes >> 10);
		CHECK(before_flush == 0, "%zu events decoded while holding", before_flush);
		CHECK(st.ring_bytes > ring0, "the rings did not grow (%" PRIu64 " bytes)", st.ring_bytes);
	}
	/* decoded late, still in order: nothing clamped by the coalescer */
	if (hold || hold_small)
		CHECK(st.late == 0, "%" PRIu64 " records came after later ones", st.late);
	if (hold_small) {
		printf("held 16 KiB at most: %zu events delivered before the flush, rings %" PRIu64 " KiB\n",
		       before_flush, st.ring_bytes >> 10);
		CHECK(st.ring_bytes <= (ring0 > 16u << 10 ? ring0 : 16u << 10),
		      "held %" PRIu64 " bytes", st.ring_bytes);
		CHECK(before_flush > 0, "nothing was decoded before the flush");
	}

	{
		const char *base = strrchr(wl, '/') ? strrchr(wl, '/') + 1 : wl;
		char comm[MMR_COMM_LEN];
		unsigned exec = 0, fork_p = 0, fork_t = 0, exit_g = 0, exit_t = 0;

		snprintf(comm, sizeof(comm), "%.15s", base);
		for (size_t i = 0; i < e.n; i++) {
			const struct mmr_event *ev = &e.v[i];

			if (ev->type == MMR_EV_EXEC && ev->pid == child && !strcmp(ev->exec.comm, comm))
				exec++;
			if (ev->type == MMR_EV_FORK) {
				CHECK(ev->pid == child, "fork by pid %d, not the workload", ev->pid);
				if (ev->fork.thread)
					fork_t++;
				else
					fork_p++;
			}
			if (ev->type == MMR_EV_EXIT) {
				if (ev->exit.group)
					exit_g++;
				else
					exit_t++;
			}
		}
		CHECK(exec == 1, "%u exec events of %s, want 1", exec, comm);
		CHECK(fork_p == WL_CHILDREN, "%u process forks, want %d", fork_p, WL_CHILDREN);
		CHECK(fork_t == WL_THREADS, "%u thread creations, want %d", fork_t, WL_THREADS);
		CHECK(exit_g == WL_CHILDREN + 1, "%u group exits, want %d", exit_g, WL_CHILDREN + 1);
		CHECK(exit_t == WL_THREADS, "%u thread exits, want %d", exit_t, WL_THREADS);
	}

	for (unsigned i = 0; i < nrg; i++) {
		uint64_t len = (uint64_t)rg[i].pages * page;
		unsigned n;

		n = count_syscall(&e, MMR_EV_MMAP, rg[i].tid, rg[i].start, len);
		CHECK(n == 1, "region %c of %d: %u mmaps", rg[i].name, rg[i].tid, n);
		n = count_syscall(&e, MMR_EV_MADVISE, rg[i].tid, rg[i].start, len);
		CHECK(n == 1, "region %c of %d: %u madvise(NOHUGEPAGE)", rg[i].name, rg[i].tid, n);
		n = count_syscall(&e, MMR_EV_MUNMAP, rg[i].tid, rg[i].start, len);
		CHECK(n == 1, "region %c of %d: %u munmaps", rg[i].name, rg[i].tid, n);
		if (rg[i].name == 'A') {
			n = count_syscall(&e, MMR_EV_MPROTECT, rg[i].tid, rg[i].start, 2 * page);
			CHECK(n == WL_MPROTECTS, "region A: %u mprotects, want %d", n, WL_MPROTECTS);
		}
		check_region(&e, &rg[i], page);
	}

	/* every stack a contention uses is defined before it, in its segment */
	{
		unsigned conts = 0, undefined = 0;

		for (size_t i = 0; i < e.n; i++) {
			const struct mmr_event *ev = &e.v[i];
			bool found = false;

			if (ev->type != MMR_EV_CONTENTION)
				continue;
			conts++;
			if (!ev->contention.stack)
				continue;
			for (size_t j = i; j-- > 0 && e.seg[j] == e.seg[i] && !found;)
				found = e.v[j].type == MMR_EV_STACK &&
					e.v[j].stack.id == ev->contention.stack;
			if (!found)
				undefined++;
		}
		printf("contention events: %u\n", conts);
		CHECK(undefined == 0, "%u contention events use a stack not defined in their file",
		      undefined);
	}

	mmr_recorder_free(r);
	CHECK(!tracefs_instance_exists(inst), "tracefs instance %s left behind", inst);
	free(e.v);
	free(e.seg);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
fail:
	mmr_recorder_free(r);
	free(e.v);
	free(e.seg);
	return 1;
}
