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
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * Give the vDSO an anon_vma, so that fork copies its page table entries
 * (two pages): a replayed child reads the clock around every op and
 * would otherwise fault the vDSO back in first, a fault the recorded
 * child did not take. Writing one byte, unchanged, through
 * /proc/self/mem (as a debugger sets a breakpoint) does it without ever
 * making it writable. Not this program's code: with an anon_vma there,
 * fork copied all ~180 of its entries under the parent's mmap_lock and
 * every exit tore them down again, more than the one fault a child takes
 * on the code packed for it (task-hot.ld). Best effort: a kernel or
 * policy that refuses leaves things as they were.
 */
static void inherit_vdso_ptes(void)
{
	const volatile unsigned char *at = (const volatile unsigned char *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	unsigned char b;
	int fd;

	if (!at)
		return;
	fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	b = *at;
	(void)!pwrite(fd, &b, 1, (off_t)(uintptr_t)at);	/* refused: nothing changed */
	close(fd);
}

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
	inherit_vdso_ptes();
	mmr_xtask_root((uint32_t)task, (pid_t)pgid);
}
