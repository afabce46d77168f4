// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fork-under-fault-io: a process with many threads and 1000+ VMAs. Some
 * threads take file-backed faults that need slow I/O, others fault on
 * their own anonymous memory, one thread forks in a loop. dup_mmap takes
 * mmap_lock for write and vma_start_write()s every VMA: when fault I/O
 * runs under a VMA lock or under mmap_lock (the retry after the lock was
 * dropped for I/O), fork waits for the I/O, and every other thread's
 * fault then waits behind fork: the chained waiting of the threads on
 * VM_FAULT_RETRY_VMA and conditional vma_start_write in fork.
 *
 * Slow I/O, best first: a FUSE file whose reads sleep (slowfs.c); else a
 * file on the local disk whose pages are evicted after each access, so
 * every fault reads from the device. The notes say which ran.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-scenario.h"
#include "mmr-sysinfo.h"

#define EVICT_DIR	"/var/tmp"
#define EVICT_PREFIX	"mmreplay-scn-"

enum { F_THREADS, F_VMAS, F_FORKS, F_FORK_NS, F_FORK_MAX_NS, F_FILE, F_IO_READS, F_ANON };

static const char *const counters[] = {
	"threads", "vmas", "forks", "fork_total_ns", "fork_max_ns", "file_faults",
	"fuse_reads", "anon_pages", NULL,
};

static const struct mmr_scn_param params[] = {
	{ "threads", "0", "threads in all (0: 4 per CPU, at least 12)", MMR_SCN_INT, NULL },
	{ "io_threads", "4", "threads taking file-backed faults", MMR_SCN_INT, NULL },
	{ "vmas", "1200", "extra single-page VMAs (alternating protections so they do not merge)",
	  MMR_SCN_INT, NULL },
	{ "file", "32M", "size of the file the I/O threads fault on", MMR_SCN_SIZE, NULL },
	{ "delay_us", "20000", "FUSE: how long each read sleeps", MMR_SCN_INT, NULL },
	{ "anon_pause_us", "500", "pause of the anonymous-fault threads between rounds of 16 faults",
	  MMR_SCN_INT, NULL },
	{ "fork_pause_us", "0", "pause of the forking thread between forks (0: none)", MMR_SCN_INT, NULL },
	{ "io", "fuse", "fuse: a FUSE file whose reads sleep; evict: local file, page cache dropped",
	  MMR_SCN_CHOICE, "fuse|evict" },
	{ NULL, NULL, NULL, 0, NULL },
};

struct fio {
	struct mmr_scn_ctx *c;
	int fd;
	char *map;
	size_t fpages;
	uint64_t seed;
};

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Files that killed runs left in EVICT_DIR. */
static void remove_stale_files(void)
{
	DIR *d = opendir(EVICT_DIR);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (strncmp(e->d_name, EVICT_PREFIX, strlen(EVICT_PREFIX)) || l < 5 ||
		    strcmp(e->d_name + l - 5, "-data"))
			continue;
		if (pid_alive((pid_t)atoi(e->d_name + strlen(EVICT_PREFIX))))
			continue;
		snprintf(path, sizeof(path), EVICT_DIR "/%s", e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static int make_file(struct mmr_scn_ctx *c, uint64_t size)
{
	char *buf = malloc(1 << 20);
	int fd, rc = -1;

	if (!buf)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	snprintf(c->path, sizeof(c->path), EVICT_DIR "/" EVICT_PREFIX "%d-data", (int)getpid());
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "cannot create %s", c->path);
		goto out;
	}
	c->priv = c->path;	/* teardown removes it */
	/* real data, not a hole: reads of a hole do no I/O */
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		size_t n = size - off < (1u << 20) ? (size_t)(size - off) : 1u << 20;

		for (size_t i = 0; i < n; i += 8)
			*(uint64_t *)(buf + i) = (off + i) * 0x9e3779b97f4a7c15ull;
		if (write(fd, buf, n) != (ssize_t)n) {
			mmr_seterr_errno(MMR_E_FAIL, "cannot write %s", c->path);
			goto out;
		}
	}
	if (fsync(fd) < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "fsync %s", c->path);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static int fio_prepare(struct mmr_scn_ctx *c)
{
	uint64_t size = mmr_scn_u64(c, "file");
	unsigned io = (unsigned)mmr_scn_u64(c, "io_threads");

	remove_stale_files();
	if (size < c->page_size)
		return mmr_seterr(MMR_E_USAGE, "file must be at least a page");
	if (!strcmp(mmr_scn_str(c, "io"), "fuse")) {
		struct mmr_slowfs_opts o = {
			.size = size,
			.delay_us = (unsigned)mmr_scn_u64(c, "delay_us"),
			.threads = io + 2,
			.reads = mmr_scn_counter_ptr(c, F_IO_READS),
		};

		c->slowfs = mmr_slowfs_start(&o);
		if (c->slowfs) {
			snprintf(c->path, sizeof(c->path), "%s", mmr_slowfs_file(c->slowfs));
			mmr_scn_note(c, "slow I/O: FUSE file whose reads sleep %u us (raw /dev/fuse server)",
				     o.delay_us);
			return 0;
		}
		if (mmr_errcode() != MMR_E_NOTSUP)
			return -1;
		mmr_scn_note(c, "FUSE not usable here (%s): page-cache eviction instead", mmr_strerror());
	}
	if (make_file(c, size) < 0)
		return -1;
	mmr_scn_note(c, "slow I/O: page cache evicted (POSIX_FADV_DONTNEED) after each access of a "
		     "file in " EVICT_DIR ": faults read from the disk");
	return 0;
}

static void fio_teardown(struct mmr_scn_ctx *c)
{
	if (c->priv)
		unlink(c->path);
	c->priv = NULL;
}

static void *file_thread(void *arg)
{
	struct fio *f = arg;
	uint32_t page = f->c->page_size;
	uint64_t rnd = __atomic_add_fetch(&f->seed, 0x51ed27, __ATOMIC_RELAXED);

	while (!mmr_scn_should_stop(f->c)) {
		size_t idx = mmr_scn_rand(&rnd) % f->fpages;
		char *at = f->map + idx * page;

		(void)*(volatile char *)at;	/* the fault: a read from the slow file */
		mmr_scn_add(f->c, F_FILE, 1);
		/* unmap and drop the page so the next access does I/O again */
		madvise(at, page, MADV_DONTNEED);
		posix_fadvise(f->fd, (off_t)idx * page, page, POSIX_FADV_DONTNEED);
	}
	return NULL;
}

static void *anon_thread(void *arg)
{
	struct fio *f = arg;
	uint32_t page = f->c->page_size;
	size_t len = 16 * (size_t)page;
	unsigned pause = (unsigned)mmr_scn_u64(f->c, "anon_pause_us");
	char *buf = mmr_scn_map_anon(len);

	if (!buf) {
		mmr_scn_fail(f->c);
		return NULL;
	}
	/* faults under the per-VMA lock, until fork write-locks every VMA */
	while (!mmr_scn_should_stop(f->c)) {
		for (size_t i = 0; i < len; i += page)
			buf[i] = 1;
		mmr_scn_add(f->c, F_ANON, len / page);
		madvise(buf, len, MADV_DONTNEED);
		/* enough to be caught behind fork, not so much that the PTE lock they share is the story */
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	munmap(buf, len);
	return NULL;
}

static void *fork_thread(void *arg)
{
	struct fio *f = arg;
	unsigned pause = (unsigned)mmr_scn_u64(f->c, "fork_pause_us");

	while (!mmr_scn_should_stop(f->c)) {
		uint64_t t0 = mmr_now_ns(), dt;
		pid_t pid = mmr_scn_spawn(f->c, 0, NULL, NULL);

		dt = mmr_now_ns() - t0;
		if (pid < 0) {
			mmr_scn_fail(f->c);
			break;
		}
		mmr_scn_wait(f->c, pid);
		mmr_scn_add(f->c, F_FORKS, 1);
		mmr_scn_add(f->c, F_FORK_NS, dt);
		mmr_scn_max(f->c, F_FORK_MAX_NS, dt);
		if (pause)
			mmr_scn_sleep_us(pause);
	}
	return NULL;
}

static unsigned count_vmas(void)
{
	FILE *m = fopen("/proc/self/maps", "re");
	unsigned n = 0;
	int ch;

	if (!m)
		return 0;
	while ((ch = fgetc(m)) != EOF)
		n += ch == '\n';
	fclose(m);
	return n;
}

/* Single-page VMAs that cannot merge: every other page read-only. */
static int make_vmas(struct mmr_scn_ctx *c, unsigned n)
{
	uint32_t page = c->page_size;
	char *p;

	if (!n)
		return 0;
	p = mmr_scn_map_anon((size_t)n * page);
	if (!p)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (i & 1) {
			if (mprotect(p + (size_t)i * page, page, PROT_READ) < 0)
				return mmr_seterr_errno(MMR_E_FAIL, "mprotect (vm.max_map_count?)");
		} else {
			p[(size_t)i * page] = 1;	/* an anon_vma for fork to copy */
		}
	}
	return 0;
}

static int fio_run(struct mmr_scn_ctx *c)
{
	struct fio f = { .c = c, .fd = -1 };
	uint64_t size = mmr_scn_u64(c, "file");
	unsigned nthreads = mmr_scn_by_cpus(c, "threads", 4, 12);
	unsigned io = (unsigned)mmr_scn_u64(c, "io_threads"), started = 0;
	pthread_t *t = calloc(nthreads, sizeof(*t));
	int rc = -1;

	if (!t)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	if (io + 1 > nthreads)
		nthreads = io + 1;
	f.fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "cannot open %s", c->path);
		goto out;
	}
	f.fpages = size / c->page_size;
	f.map = mmap(NULL, f.fpages * c->page_size, PROT_READ, MAP_SHARED, f.fd, 0);
	if (f.map == MAP_FAILED) {
		mmr_seterr_errno(MMR_E_FAIL, "cannot map %s", c->path);
		goto out;
	}
	madvise(f.map, f.fpages * c->page_size, MADV_RANDOM);	/* one page per fault, no readahead */
	if (make_vmas(c, (unsigned)mmr_scn_u64(c, "vmas")) < 0)
		goto out;
	mmr_scn_add(c, F_VMAS, count_vmas());
	for (unsigned i = 0; i < nthreads; i++) {
		void *(*fn)(void *) = i == 0 ? fork_thread : i <= io ? file_thread : anon_thread;

		if (pthread_create(&t[i], NULL, fn, &f)) {
			mmr_seterr(MMR_E_FAIL, "cannot create a thread");
			goto join;
		}
		started++;
	}
	mmr_scn_add(c, F_THREADS, nthreads + 1);
	mmr_scn_note(c, "%u threads: 1 forking, %u on file faults, %u on anonymous faults",
		     nthreads + 1, io, nthreads - 1 - io);
	rc = 0;
join:
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
out:
	if (f.fd >= 0)
		close(f.fd);
	free(t);
	return rc;
}

const struct mmr_scenario mmr_scn_fork_under_fault_io = {
	.name = "fork-under-fault-io",
	.summary = "a many-threaded process with 1000+ VMAs forks while its threads wait on slow file faults",
	.demonstrates = "fork (dup_mmap, vma_start_write on every VMA) waiting for fault I/O, and the "
			"chained waiting of the other threads' faults behind fork's mmap_lock",
	.stresses = "mmap_lock and per-VMA locks: dup_mmap/vma_start_write (write) vs filemap_fault "
		    "I/O and its VM_FAULT_RETRY under mmap_lock (read)",
	.params = params,
	.counters = counters,
	.prepare = fio_prepare,
	.teardown = fio_teardown,
	.run = fio_run,
};
