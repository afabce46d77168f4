// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay-task: the program replay processes run (see exec_helper in
 * exec.c). It maps the plan and the executor's shared state from the
 * memfds it inherits, rebuilds mmr_xrt and becomes a root of the replay
 * tree. Linked statically against libc alone, so a replayed fork copies
 * the recorded program's mappings and little else.
 *
 *   mmreplay-task PLAN_FD SHARED_FD TASK PGID
 *
 * Not for running by hand: it exits 2 with a line on stderr when its
 * arguments or the shared state do not fit this build.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(MMR_TASK_STATIC) && __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif

#include "exec-internal.h"

static struct mmr_plan plan;

static void fail(const char *what)
{
	fprintf(stderr, "mmreplay-task: %s (it is started by mmreplay replay; reinstall if the two differ)\n",
		what);
	exit(2);
}

static long arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0)
		fail("bad arguments");
	return v;
}

/*
 * Where this program maps the plan and the shared state: away from where
 * programs keep their memory (binaries at 0x400000 or 0x55..., heaps of
 * language runtimes up to a few hundred GiB, libraries and stacks at
 * 0x7f...), so that in the replayed address space the recorded mappings
 * are neighbours as they were when recorded, not interleaved with ours
 * (the cost of a split or merge depends on its VMA's neighbourhood in the
 * VMA tree). The caller's ADDR_NO_RANDOMIZE puts our stack and vDSO at
 * the very top for the same reason. A hint only: the kernel picks
 * elsewhere when it is taken.
 */
#define HELPER_ZONE 0x200000000000ull

/* Map the memfd; the plan's is closed then, the shared one stays (see mmr_xrt.shm_fd). */
static void *map_fd(int fd, size_t len, int prot, bool keep)
{
	static uintptr_t at = HELPER_ZONE;
	struct stat st;
	void *m;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < len)
		fail("shared state missing or too small");
	m = mmap((void *)at, len, prot, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		fail("cannot map the shared state");
	at = (uintptr_t)m + ((len + 0xfffff) & ~(size_t)0xfffff);
	if (!keep)
		close(fd);
	return m;
}

#ifdef MMR_TASK_STATIC
#if defined(__has_attribute) && __has_attribute(no_stack_protector)
#define NO_SSP __attribute__((no_stack_protector))
#else
#define NO_SSP
#endif

/* The start of this program's code (GNU ld's default script defines it). */
extern char __executable_start[];

/* In .data: the mapping holding it starts the run merge_data merges. */
static volatile int data_marker = 1;

/*
 * Map fresh anonymous memory over [at, at + len) and copy the pages of
 * from that are not all zeros back. Meanwhile this program has no
 * globals, no GOT (memcpy and the other IFUNCs are reached through it)
 * and no TLS (a static program keeps it in the heap, stack canary
 * included): only the raw system call and plain loops run here, stores
 * volatile so the compiler makes no memcpy call of them. 0 or -1.
 */
static NO_SSP __attribute__((noinline)) int remap_copy(uintptr_t at, size_t len, const uint64_t *from,
						       size_t page)
{
	if (syscall(SYS_mmap, at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1, 0) != (long)at)
		return -1;
	for (size_t w = 0; w < len / 8; w += page / 8) {
		volatile uint64_t *d = (volatile uint64_t *)at + w;
		size_t k = 0;

		while (k < page / 8 && !from[w + k])
			k++;
		for (; k < page / 8; k++)
			d[k] = from[w + k];
	}
	return 0;
}

/*
 * glibc registered this thread's rseq area, which lives in the TLS, so
 * in the heap: the kernel must not write it while merge_data has it
 * replaced. Unregister it; false when it stays registered.
 */
static bool rseq_off(void **area, uint32_t *len)
{
#ifdef RSEQ_SIG
	*area = NULL;
	if (!__rseq_size)
		return true;
	*area = (char *)__builtin_thread_pointer() + __rseq_offset;
	/* glibc registers 32 bytes; newer ones say less in __rseq_size */
	for (unsigned i = 0; i < 2; i++) {
		*len = i ? 32 : __rseq_size;
		if (!syscall(SYS_rseq, *area, *len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
			return true;
	}
	return false;
#else
	*area = NULL;
	*len = 0;
	return true;
#endif
}

static void rseq_on(void *area, uint32_t len)
{
#ifdef RSEQ_SIG
	/* refused: glibc's sched_getcpu falls back to the vDSO on a negative cpu_id */
	if (area && syscall(SYS_rseq, area, len, 0, RSEQ_SIG))
		((struct rseq *)area)->cpu_id = RSEQ_CPU_ID_REGISTRATION_FAILED;
#else
	(void)area;
	(void)len;
#endif
}

/*
 * Make this program's data, bss and heap one anonymous mapping (and note
 * where its stack is, for move_stack in exec-task.c, and where its image
 * ends, for place_binary there). Fork gives every
 * mapping with anonymous pages its own anon_vma, chain and interval-tree
 * entries in the child, and exit frees them again: ~2 us a mapping per
 * replayed fork on a 2-CPU VM, for three where the recorded program's
 * binary has one. The contents are copied out and back (zero pages
 * skipped: untouched, they stay unmapped). Best effort: anything
 * unexpected leaves the mappings as they are.
 */
static void merge_data(void)
{
	uintptr_t mark = (uintptr_t)&data_marker, start = 0, end = 0, s, e;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
	unsigned n = 0;
	bool done = false;
	char line[4096], perms[8];
	uint32_t rlen = 0;
	void *tmp, *rs;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3)
			break;
		if (strstr(line, " [stack]\n")) {
			mmr_xrt.exec_stack_lo = s;
			mmr_xrt.exec_stack_hi = e;
		}
		if ((strstr(line, " [vvar") || strstr(line, " [vdso]\n")) && mmr_xrt.nvdso < 4) {
			mmr_xrt.vdso[mmr_xrt.nvdso].lo = s;
			mmr_xrt.vdso[mmr_xrt.nvdso++].hi = e;
		}
		if (done)
			continue;	/* read on for [stack] and [vdso] */
		if (!n) {
			if (s <= mark && mark < e && !strcmp(perms, "rw-p")) {
				start = s;
				end = e;
				n = 1;
			}
		} else if (s == end && !strcmp(perms, "rw-p")) {
			end = e;
			n++;
		} else {
			done = true;
		}
	}
	fclose(f);
	if (n) {
		mmr_xrt.self_lo = (uintptr_t)__executable_start;
		mmr_xrt.self_hi = end;
	}
	if (n < 2)
		return;
	len = end - start;
	tmp = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tmp == MAP_FAILED)
		return;
	if (rseq_off(&rs, &rlen)) {
		memcpy(tmp, (void *)start, len);
		remap_copy(start, len, tmp, page);	/* failed: nothing was replaced */
		rseq_on(rs, rlen);
	}
	munmap(tmp, len);
}
#endif

/* ptr pointed into the caller's mapping at old: the same place in ours. */
#define REBASE(ptr, old, new) ((ptr) = (void *)((char *)(new) + ((char *)(ptr) - (char *)(old))))

int main(int argc, char **argv)
{
	const struct mmr_xboot *bt;
	char *ctl, *pm;
	int plan_fd, ctl_fd;
	long task, pgid;
	struct stat st;

	if (argc != 5)
		fail("usage: mmreplay-task PLAN_FD SHARED_FD TASK PGID");
	plan_fd = (int)arg(argv[1]);
	ctl_fd = (int)arg(argv[2]);
	task = arg(argv[3]);
	pgid = arg(argv[4]);
	if (fstat(ctl_fd, &st) < 0 || (size_t)st.st_size < sizeof(*bt))
		fail("no control block");
	ctl = map_fd(ctl_fd, (size_t)st.st_size, PROT_READ | PROT_WRITE, true);
	bt = (const struct mmr_xboot *)ctl;
	if (bt->magic != MMR_XBOOT_MAGIC || bt->size != sizeof(*bt) ||
	    bt->ctl_len + bt->shm_len != (size_t)st.st_size)
		fail("control block of another build");
	if ((uint64_t)task >= bt->plan.ntasks)
		fail("no such task");
	plan = bt->plan;
	pm = map_fd(plan_fd, plan.shared_len, PROT_READ, false);
	REBASE(plan.tasks, bt->plan.shared, pm);
	REBASE(plan.ops, bt->plan.shared, pm);
	REBASE(plan.pieces, bt->plan.shared, pm);
	REBASE(plan.regions, bt->plan.shared, pm);
	REBASE(plan.files, bt->plan.shared, pm);
	REBASE(plan.reclaims, bt->plan.shared, pm);
	REBASE(plan.setup_regions, bt->plan.shared, pm);
	plan.shared = pm;
	plan.shared_fd = -1;
	mmr_xrt_init(bt, ctl_fd, &plan);
	/*
	 * The vDSO is left for a child to fault in when it first reads the
	 * clock: giving it an anon_vma, so that fork copied its two entries
	 * instead, cost a replayed fork more than that fault (closed-loop
	 * A/B on the bench's fork trace: 263 against 250 us of CPU a fork).
	 */
#ifdef MMR_TASK_STATIC
	merge_data();
#endif
	mmr_xtask_root((uint32_t)task, (pid_t)pgid);
}
