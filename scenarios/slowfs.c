// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A FUSE file system with one read-only file whose reads sleep: page
 * faults on a mapping of it wait for "slow I/O" the way they wait for a
 * slow disk, without dm-delay (often not built) or libfuse (one more
 * dependency). It speaks the /dev/fuse protocol directly; only the
 * requests a lookup, open, mmap and read need are implemented, the rest
 * get ENOSYS, which the kernel takes as "not implemented" and remembers.
 *
 * The server is a process forked by the runner, outside the scenario tree
 * (its reads do not belong in a recording of the tree), with a few
 * threads so that several faults wait at the same time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmr-error.h"
#include "scn-internal.h"

#define SLOWFS_TYPE	"fuse.mmreplay"
#define SLOWFS_PREFIX	"/tmp/mmreplay-scn-"
#define SLOWFS_NAME	"data"
#define FILE_NODE	2
#define MAX_WRITE	(128u << 10)
#define BUF_SIZE	(MAX_WRITE + 4096)
#define MAX_THREADS	64

struct mmr_slowfs {
	char dir[128];
	char file[160];
	pid_t server;
	bool mounted;
};

struct server {
	int fd;
	uint64_t size;
	unsigned delay_us;
	uint64_t *reads;
};

static void fill_attr(const struct server *s, uint64_t node, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->nlink = node == FUSE_ROOT_ID ? 2 : 1;
	a->mode = node == FUSE_ROOT_ID ? (S_IFDIR | 0755) : (S_IFREG | 0444);
	a->size = node == FUSE_ROOT_ID ? 0 : s->size;
	a->blocks = (a->size + 511) / 512;
	a->blksize = 4096;
}

static void reply(int fd, uint64_t unique, int err, const void *body, size_t len)
{
	struct fuse_out_header h = { (uint32_t)(sizeof(h) + (err ? 0 : len)), err ? -err : 0, unique };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, err ? 0 : len } };

	/* ENOENT: the request was interrupted meanwhile; nothing to do */
	if (writev(fd, iov, 2) < 0)
		return;
}

/* Content that differs per page, so faults read real data. */
static void fill_data(char *p, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = (off + i) * 0x9e3779b97f4a7c15ull;

		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

static void handle(struct server *s, const struct fuse_in_header *in, const void *arg, char *out)
{
	switch (in->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *ii = arg;
		struct fuse_init_out io = { 0 };

		io.major = FUSE_KERNEL_VERSION;
		io.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ? ii->minor : FUSE_KERNEL_MINOR_VERSION;
		io.max_readahead = 0;	/* one read request per fault */
		io.flags = FUSE_ASYNC_READ;
		io.max_background = 16;
		io.congestion_threshold = 12;
		io.max_write = MAX_WRITE;
		reply(s->fd, in->unique, 0, &io, sizeof(io));
		return;
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out e = { 0 };

		if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, SLOWFS_NAME)) {
			reply(s->fd, in->unique, ENOENT, NULL, 0);
			return;
		}
		e.nodeid = FILE_NODE;
		e.generation = 1;
		e.entry_valid = e.attr_valid = 3600;
		fill_attr(s, FILE_NODE, &e.attr);
		reply(s->fd, in->unique, 0, &e, sizeof(e));
		return;
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out a = { .attr_valid = 3600 };

		fill_attr(s, in->nodeid, &a.attr);
		reply(s->fd, in->unique, 0, &a, sizeof(a));
		return;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out o = { 0 };

		reply(s->fd, in->unique, 0, &o, sizeof(o));
		return;
	}
	case FUSE_READ: {
		const struct fuse_read_in *r = arg;
		uint64_t len = r->size;

		if (in->nodeid != FILE_NODE) {
			reply(s->fd, in->unique, EISDIR, NULL, 0);
			return;
		}
		if (r->offset >= s->size)
			len = 0;
		else if (len > s->size - r->offset)
			len = s->size - r->offset;
		if (len > MAX_WRITE)
			len = MAX_WRITE;
		mmr_scn_sleep_us(s->delay_us);	/* the slow device */
		fill_data(out, r->offset, (size_t)len);
		if (s->reads)
			__atomic_fetch_add(s->reads, 1, __ATOMIC_RELAXED);
		reply(s->fd, in->unique, 0, out, (size_t)len);
		return;
	}
	case FUSE_READDIR:
		reply(s->fd, in->unique, 0, NULL, 0);	/* empty: nobody lists it */
		return;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FLUSH:
	case FUSE_DESTROY:
		reply(s->fd, in->unique, 0, NULL, 0);
		return;
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return;		/* no reply expected */
	default:
		reply(s->fd, in->unique, ENOSYS, NULL, 0);
		return;
	}
}

static void *serve(void *arg)
{
	struct server *s = arg;
	char *buf = malloc(BUF_SIZE), *out = malloc(MAX_WRITE);

	while (buf && out) {
		ssize_t n = read(s->fd, buf, BUF_SIZE);

		if (n < 0) {
			if (errno == EINTR || errno == ENOENT || errno == EAGAIN)
				continue;
			break;	/* ENODEV: unmounted or aborted */
		}
		if ((size_t)n < sizeof(struct fuse_in_header))
			continue;
		handle(s, (const struct fuse_in_header *)buf, buf + sizeof(struct fuse_in_header), out);
	}
	free(buf);
	free(out);
	return NULL;
}

/* The server process: threads reading /dev/fuse until the connection goes. */
static int server_main(struct server *s, unsigned threads)
{
	pthread_t t[MAX_THREADS];
	unsigned n = 0;

	for (; n < threads && n < MAX_THREADS; n++)
		if (pthread_create(&t[n], NULL, serve, s))
			break;
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int mmr_slowfs_cleanup_stale(void)
{
	char line[1024], src[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	int rc = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		pid_t pid;

		if (sscanf(line, "%255s %511s %63s", src, dir, type) != 3 || strcmp(type, SLOWFS_TYPE) ||
		    strncmp(dir, SLOWFS_PREFIX, strlen(SLOWFS_PREFIX)))
			continue;
		pid = (pid_t)atoi(dir + strlen(SLOWFS_PREFIX));
		if (pid_alive(pid))
			continue;
		if (umount2(dir, MNT_DETACH) < 0)
			rc = mmr_seterr_errno(MMR_E_FAIL, "cannot unmount stale %s (umount -l %s)", dir, dir);
		else
			rmdir(dir);
	}
	fclose(f);
	/* directories of runs killed between mkdir and mount */
	DIR *d = opendir("/tmp");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "mmreplay-scn-", 13))
			continue;
		if (pid_alive((pid_t)atoi(e->d_name + 13)))
			continue;
		snprintf(dir, sizeof(dir), "/tmp/%s", e->d_name);
		rmdir(dir);	/* only when empty: never removes files */
	}
	if (d)
		closedir(d);
	return rc;
}

struct mmr_slowfs *mmr_slowfs_start(const struct mmr_slowfs_opts *o)
{
	struct mmr_slowfs *fs = calloc(1, sizeof(*fs));
	struct server s = { .fd = -1, .size = o->size, .delay_us = o->delay_us, .reads = o->reads };
	char opts[160];

	if (!fs) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	fs->server = -1;
	snprintf(fs->dir, sizeof(fs->dir), SLOWFS_PREFIX "%d-XXXXXX", (int)getpid());
	if (!mkdtemp(fs->dir)) {
		mmr_seterr_errno(MMR_E_FAIL, "mkdtemp %s", fs->dir);
		fs->dir[0] = '\0';
		goto fail;
	}
	snprintf(fs->file, sizeof(fs->file), "%s/" SLOWFS_NAME, fs->dir);
	s.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (s.fd < 0) {
		mmr_seterr_errno(MMR_E_NOTSUP, "cannot open /dev/fuse (is FUSE built in or loaded?)");
		goto fail;
	}
	/* the server first: mount() queues INIT and returns, the server answers it */
	fs->server = fork();
	if (fs->server < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "fork");
		goto fail;
	}
	if (fs->server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_IGN);	/* the runner stops us */
		signal(SIGTERM, SIG_DFL);
		_exit(server_main(&s, o->threads ? o->threads : 4));
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,max_read=%u", s.fd,
		 MAX_WRITE);
	if (mount("mmreplay-slowfs", fs->dir, SLOWFS_TYPE, MS_NOSUID | MS_NODEV, opts) < 0) {
		int e = errno;

		mmr_seterr_errno(e == EPERM || e == ENODEV ? MMR_E_NOTSUP : MMR_E_FAIL,
				 "cannot mount a FUSE file system at %s", fs->dir);
		goto fail;
	}
	fs->mounted = true;
	close(s.fd);	/* the server has its copy */
	return fs;
fail:
	if (s.fd >= 0)
		close(s.fd);
	{
		char msg[512];
		enum mmr_err code = mmr_errcode();

		snprintf(msg, sizeof(msg), "%s", mmr_strerror());
		mmr_slowfs_stop(fs);
		mmr_seterr(code, "%s", msg);
	}
	return NULL;
}

const char *mmr_slowfs_file(const struct mmr_slowfs *fs)
{
	return fs->file;
}

int mmr_slowfs_stop(struct mmr_slowfs *fs)
{
	int rc = 0;

	if (!fs)
		return 0;
	if (fs->mounted) {
		/* lazy: a file still open somewhere keeps the superblock, not the mount */
		if (umount2(fs->dir, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			rc = mmr_seterr_errno(MMR_E_FAIL, "cannot unmount %s (umount -l %s)", fs->dir,
					      fs->dir);
		else
			fs->mounted = false;
	}
	if (fs->server > 0) {
		/* closing its /dev/fuse aborts the connection: waiting faults get EIO */
		kill(fs->server, SIGKILL);
		while (waitpid(fs->server, NULL, 0) < 0 && errno == EINTR)
			;
		fs->server = -1;
	}
	if (!fs->mounted && fs->dir[0] && rmdir(fs->dir) < 0 && errno != ENOENT && !rc)
		rc = mmr_seterr_errno(MMR_E_FAIL, "cannot remove %s", fs->dir);
	free(fs);	/* what stayed is named in the error; a later run's cleanup_stale takes it */
	return rc;
}
