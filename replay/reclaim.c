// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --reclaim=memcg: a memory cgroup with a limit plus zram swap, and the
 * bookkeeping that guarantees both are undone: each step is recorded in a
 * state file before the next one, cleanup undoes whatever the state says
 * (idempotent), and cleanup_stale() does the same for state files and
 * cgroups of mmreplay processes that died (SIGKILL, power loss).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-reclaim.h"
#include "mmr-sysinfo.h"

#define CG1_ROOT "/sys/fs/cgroup/memory"
#define CG2_ROOT "/sys/fs/cgroup"
#define ZRAM_CONTROL "/sys/class/zram-control"
#define SWAP_PRIO 100

struct mmr_reclaim {
	enum mmr_reclaim_mode mode;
	uint64_t limit, zram_bytes;
	int cg_version;			/* 1 or 2 */
	char cgroup[256];		/* "" when none */
	bool subtree_added;		/* v2: we enabled +memory in the root */
	int zram;			/* device number, -1 when none */
	bool zram_added;		/* hot_add'ed by us (hot_remove at the end) */
	char swapdev[64];		/* swapon'ed path, "" when none */
	bool node_made;			/* we created the /dev node */
	char state[128];		/* state file */
	uint64_t pswpout0;		/* /proc/vmstat at the start of a run */
	struct mmr_pageout *po;
	char desc[256];
};

/* ---- small file helpers ---- */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int write_u64(const char *path, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return write_str(path, buf);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

uint64_t mmr_reclaim_vmstat(const char *key)
{
	char line[128];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static bool in_proc_swaps(const char *dev)
{
	char line[512];
	size_t n = strlen(dev);
	bool found = false;
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, dev, n) && (line[n] == ' ' || line[n] == '\t');
	fclose(f);
	return found;
}

/* ---- state file: what to undo if we die ---- */

static void state_save(struct mmr_reclaim *r)
{
	char tmp[160];
	FILE *f;

	if (!r->state[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->state);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "cgroup %s\nsubtree %d\nzram %d\nadded %d\nswap %s\nnode %d\n",
		r->cgroup[0] ? r->cgroup : "-", r->subtree_added, r->zram, r->zram_added,
		r->swapdev[0] ? r->swapdev : "-", r->node_made);
	if (fclose(f) == 0)
		rename(tmp, r->state);
}

static void state_load(struct mmr_reclaim *r, const char *path)
{
	char key[16], val[256];
	FILE *f = fopen(path, "re");

	memset(r, 0, sizeof(*r));
	r->zram = -1;
	snprintf(r->state, sizeof(r->state), "%s", path);
	if (!f)
		return;
	while (fscanf(f, "%15s %255s", key, val) == 2) {
		bool dash = !strcmp(val, "-");

		if (!strcmp(key, "cgroup") && !dash)
			snprintf(r->cgroup, sizeof(r->cgroup), "%s", val);
		else if (!strcmp(key, "subtree"))
			r->subtree_added = atoi(val);
		else if (!strcmp(key, "zram"))
			r->zram = atoi(val);
		else if (!strcmp(key, "added"))
			r->zram_added = atoi(val);
		else if (!strcmp(key, "swap") && !dash)
			snprintf(r->swapdev, sizeof(r->swapdev), "%s", val);
		else if (!strcmp(key, "node"))
			r->node_made = atoi(val);
	}
	fclose(f);
	/* only our own paths are ever undone */
	if (strncmp(r->cgroup, CG2_ROOT "/", strlen(CG2_ROOT) + 1) || !strstr(r->cgroup, "/mmreplay-"))
		r->cgroup[0] = '\0';
	if (strncmp(r->swapdev, "/dev/zram", 9))
		r->swapdev[0] = '\0';
}

/* ---- cleanup ---- */

/* Kill what is still in a cgroup (stray replay tasks) so it can go. */
static void empty_cgroup(const char *dir)
{
	char path[300], line[32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	for (int round = 0; round < 50; round++) {
		bool any = false;

		f = fopen(path, "re");
		if (!f)
			return;
		while (fgets(line, sizeof(line), f)) {
			pid_t pid = (pid_t)atoi(line);

			if (pid > 0 && pid != getpid()) {
				kill(pid, SIGKILL);
				any = true;
			}
		}
		fclose(f);
		if (!any)
			return;
		usleep(20000);
	}
}

static int remove_cgroup(struct mmr_reclaim *r)
{
	if (!r->cgroup[0])
		return 0;
	empty_cgroup(r->cgroup);
	/* Tasks leave a cgroup a moment after they are reaped. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(r->cgroup) == 0 || errno == ENOENT) {
			r->cgroup[0] = '\0';
			state_save(r);
			break;
		}
		if (errno != EBUSY)
			break;
		usleep(20000);
	}
	if (r->cgroup[0])
		return mmr_seterr_errno(MMR_E_FAIL, "cannot remove cgroup %s (remove it with rmdir)",
					r->cgroup);
	if (r->subtree_added) {
		write_str(CG2_ROOT "/cgroup.subtree_control", "-memory");
		r->subtree_added = false;
		state_save(r);
	}
	return 0;
}

static int remove_swap(struct mmr_reclaim *r)
{
	char path[128], num[16];
	int rc = 0;

	if (r->swapdev[0]) {
		/* swapoff stops on a pending signal: retry rather than leave swap behind */
		for (int i = 0; i < 20; i++) {
			if (swapoff(r->swapdev) == 0 || errno == EINVAL || !in_proc_swaps(r->swapdev)) {
				r->swapdev[0] = '\0';
				break;
			}
			if (errno != EINTR && errno != EBUSY)
				break;
			usleep(50000);
		}
		if (r->swapdev[0])
			return mmr_seterr_errno(MMR_E_FAIL, "cannot turn off swap on %s (run swapoff %s)",
						r->swapdev, r->swapdev);
		state_save(r);
	}
	if (r->zram >= 0) {
		snprintf(path, sizeof(path), "/sys/block/zram%d/reset", r->zram);
		write_str(path, "1");
		if (r->node_made) {
			snprintf(path, sizeof(path), "/dev/zram%d", r->zram);
			unlink(path);
			r->node_made = false;
		}
		if (r->zram_added) {
			snprintf(num, sizeof(num), "%d", r->zram);
			if (write_str(ZRAM_CONTROL "/hot_remove", num) < 0 && errno != ENODEV) {
				rc = mmr_seterr_errno(MMR_E_FAIL,
						      "cannot remove zram%d (echo %d > %s/hot_remove)",
						      r->zram, r->zram, ZRAM_CONTROL);
			}
		}
		if (!rc) {
			r->zram = -1;
			r->zram_added = false;
		}
		state_save(r);
	}
	return rc;
}

int mmr_reclaim_cleanup(struct mmr_reclaim *r)
{
	int rc = 0;

	if (!r)
		return 0;
	if (r->po) {
		mmr_pageout_stop(r->po, NULL);
		r->po = NULL;
	}
	/* The cgroup first: its tasks must be gone before swap can be taken away. */
	if (remove_cgroup(r) < 0)
		rc = -1;
	if (remove_swap(r) < 0)
		rc = -1;
	if (!rc && r->state[0]) {
		unlink(r->state);
		rmdir(MMR_RECLAIM_STATE_DIR);	/* only when empty */
		r->state[0] = '\0';
	}
	return rc;
}

void mmr_reclaim_free(struct mmr_reclaim *r)
{
	if (!r)
		return;
	mmr_reclaim_cleanup(r);
	free(r);
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int mmr_reclaim_cleanup_stale(void)
{
	static const char *const roots[] = { CG1_ROOT, CG2_ROOT };
	char path[300];
	struct dirent *d;
	int n = 0, rc = 0;
	DIR *dir;

	dir = opendir(MMR_RECLAIM_STATE_DIR);
	while (dir && (d = readdir(dir))) {
		struct mmr_reclaim r;
		pid_t pid;

		if (strncmp(d->d_name, "reclaim-", 8) || strchr(d->d_name, '.'))
			continue;
		pid = (pid_t)atoi(d->d_name + 8);
		if (pid_alive(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", MMR_RECLAIM_STATE_DIR, d->d_name);
		state_load(&r, path);
		if (mmr_reclaim_cleanup(&r) < 0)
			rc = -1;
		else
			n++;
	}
	if (dir)
		closedir(dir);
	/* cgroups without a state file (killed between mkdir and the first save) */
	for (unsigned i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		dir = opendir(roots[i]);
		while (dir && (d = readdir(dir))) {
			struct mmr_reclaim r;

			if (strncmp(d->d_name, "mmreplay-", 9) || pid_alive((pid_t)atoi(d->d_name + 9)))
				continue;
			memset(&r, 0, sizeof(r));
			r.zram = -1;
			snprintf(r.cgroup, sizeof(r.cgroup), "%s/%s", roots[i], d->d_name);
			if (remove_cgroup(&r) < 0)
				rc = -1;
			else
				n++;
		}
		if (dir)
			closedir(dir);
	}
	return rc < 0 ? -1 : n;
}

/* ---- setup ---- */

static int setup_cgroup(struct mmr_reclaim *r)
{
	char path[300], buf[256];
	struct stat st;

	if (stat(CG1_ROOT "/memory.limit_in_bytes", &st) == 0) {
		r->cg_version = 1;
		snprintf(r->cgroup, sizeof(r->cgroup), CG1_ROOT "/mmreplay-%d", (int)getpid());
	} else if (read_str(CG2_ROOT "/cgroup.controllers", buf, sizeof(buf)) == 0 &&
		   strstr(buf, "memory")) {
		r->cg_version = 2;
		snprintf(r->cgroup, sizeof(r->cgroup), CG2_ROOT "/mmreplay-%d", (int)getpid());
		if (read_str(CG2_ROOT "/cgroup.subtree_control", buf, sizeof(buf)) == 0 &&
		    !strstr(buf, "memory")) {
			if (write_str(CG2_ROOT "/cgroup.subtree_control", "+memory") < 0) {
				r->cgroup[0] = '\0';
				return mmr_seterr_errno(MMR_E_NOTSUP,
							"cannot enable the memory controller in %s; use --reclaim=pageout or none",
							CG2_ROOT);
			}
			r->subtree_added = true;
		}
	} else {
		return mmr_seterr(MMR_E_NOTSUP,
				  "no memory cgroup controller here (neither %s nor cgroup v2 with memory); use --reclaim=pageout or none",
				  CG1_ROOT);
	}
	state_save(r);
	if (mkdir(r->cgroup, 0755) < 0) {
		int e = errno;

		r->cgroup[0] = '\0';
		state_save(r);
		errno = e;
		return mmr_seterr_errno(e == EACCES || e == EPERM || e == EROFS ? MMR_E_NOTSUP : MMR_E_FAIL,
					"cannot create a memory cgroup (needs root)");
	}
	state_save(r);
	snprintf(path, sizeof(path), "%s/%s", r->cgroup,
		 r->cg_version == 1 ? "memory.limit_in_bytes" : "memory.max");
	if (write_u64(path, r->limit) < 0)
		return mmr_seterr_errno(MMR_E_FAIL, "cannot set %s", path);
	/* Reclaim must be allowed to swap anonymous memory inside the cgroup. */
	if (r->cg_version == 1 && read_str("/proc/sys/vm/swappiness", buf, sizeof(buf)) == 0 &&
	    atoi(buf) == 0) {
		snprintf(path, sizeof(path), "%s/memory.swappiness", r->cgroup);
		write_str(path, "60");
	}
	return 0;
}

/* The swap header mkswap writes (version 1): page 0 of the device. */
static int write_swap_header(const char *dev, uint64_t bytes, uint32_t page)
{
	unsigned char *hdr = calloc(1, page);
	char label[24];
	uint32_t info[3];
	int fd, rc = -1;

	if (!hdr)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	info[0] = 1;				/* version */
	info[1] = (uint32_t)(bytes / page - 1);	/* last_page */
	info[2] = 0;				/* nr_badpages */
	memcpy(hdr + 1024, info, sizeof(info));
	for (int i = 0; i < 16; i++)		/* uuid: not used by the kernel */
		hdr[1024 + 12 + i] = (unsigned char)(rand() & 0xff);
	/* volume label naming the owner, so leftovers can be told from others' swap */
	snprintf(label, sizeof(label), "mmreplay-%d", (int)getpid());
	memcpy(hdr + 1024 + 28, label, strnlen(label, 16));
	memcpy(hdr + page - 10, "SWAPSPACE2", 10);
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		mmr_seterr_errno(MMR_E_FAIL, "cannot open %s", dev);
		goto out;
	}
	if (pwrite(fd, hdr, page, 0) != (ssize_t)page || fsync(fd) < 0)
		mmr_seterr_errno(MMR_E_FAIL, "cannot write a swap header to %s", dev);
	else
		rc = 0;
	close(fd);
out:
	free(hdr);
	return rc;
}

/* Load the zram module when it is not there (best effort; it may be built in). */
static void modprobe_zram(void)
{
	pid_t pid;
	int st;

	if (access(ZRAM_CONTROL, F_OK) == 0)
		return;
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("modprobe", "modprobe", "zram", "num_devices=0", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static int setup_zram(struct mmr_reclaim *r)
{
	char path[128], buf[64];
	struct stat st;
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);

	modprobe_zram();
	/* A device of our own: never touch a zram someone else uses. */
	if (read_str(ZRAM_CONTROL "/hot_add", buf, sizeof(buf)) == 0) {
		r->zram = atoi(buf);
		r->zram_added = true;
	} else if (read_str("/sys/block/zram0/disksize", buf, sizeof(buf)) == 0 &&
		   !strcmp(buf, "0") && !in_proc_swaps("/dev/zram0")) {
		r->zram = 0;
	} else {
		return mmr_seterr(MMR_E_NOTSUP,
				  "zram is not available (no %s, no unused zram0); load the zram module or use --reclaim=pageout",
				  ZRAM_CONTROL);
	}
	state_save(r);
	snprintf(path, sizeof(path), "/sys/block/zram%d/disksize", r->zram);
	if (write_u64(path, r->zram_bytes) < 0)
		return mmr_seterr_errno(MMR_E_FAIL, "cannot set %s", path);
	snprintf(r->swapdev, sizeof(r->swapdev), "/dev/zram%d", r->zram);
	if (stat(r->swapdev, &st) < 0 || !S_ISBLK(st.st_mode)) {
		unsigned maj, min;

		snprintf(path, sizeof(path), "/sys/block/zram%d/dev", r->zram);
		if (read_str(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &maj, &min) != 2 ||
		    mknod(r->swapdev, S_IFBLK | 0600, makedev(maj, min)) < 0) {
			r->swapdev[0] = '\0';
			return mmr_seterr_errno(MMR_E_FAIL, "no device node for zram%d", r->zram);
		}
		r->node_made = true;
	}
	if (write_swap_header(r->swapdev, r->zram_bytes, page) < 0) {
		r->swapdev[0] = '\0';
		return -1;
	}
	state_save(r);	/* swap recorded before it is turned on */
	if (swapon(r->swapdev, SWAP_FLAG_PREFER |
			       ((SWAP_PRIO << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK)) < 0) {
		int e = errno;

		r->swapdev[0] = '\0';
		state_save(r);
		errno = e;
		return mmr_seterr_errno(MMR_E_FAIL, "swapon /dev/zram%d", r->zram);
	}
	return 0;
}

static double mib(uint64_t b)
{
	return (double)b / (1 << 20);
}

struct mmr_reclaim *mmr_reclaim_new(const struct mmr_plan *p, const struct mmr_reclaim_opts *o)
{
	return mmr_reclaim_new_sized(p->fault_pages * p->page_size, p->page_size, o);
}

struct mmr_reclaim *mmr_reclaim_new_sized(uint64_t touched, uint32_t page_size,
					  const struct mmr_reclaim_opts *o)
{
	struct mmr_reclaim *r = calloc(1, sizeof(*r));
	struct mmr_sysinfo si;

	if (!r) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	r->mode = o->mode;
	r->zram = -1;
	snprintf(r->desc, sizeof(r->desc), "%s", mmr_reclaim_mode_name(o->mode));
	if (o->mode == MMR_RECLAIM_MODE_NONE)
		return r;
	if (geteuid() != 0) {
		mmr_seterr(MMR_E_NOTSUP, "--reclaim=%s needs root (run as root or use --reclaim=none)",
			   mmr_reclaim_mode_name(o->mode));
		goto fail;
	}
	if (mmr_sysinfo_get(&si) < 0)
		goto fail;
	if (o->mode == MMR_RECLAIM_MODE_MEMCG) {
		r->limit = o->memcg_limit ? o->memcg_limit : touched / 2;
		if (r->limit < (4u << 20))
			r->limit = 4u << 20;	/* below that the replayer itself does not fit */
	}
	/* Anonymous memory is only paged out to swap: pageout needs zram too. */
	r->zram_bytes = o->zram_bytes;
	if (!r->zram_bytes && o->mode == MMR_RECLAIM_MODE_MEMCG)
		r->zram_bytes = touched > r->limit ? touched - r->limit + (32u << 20) : 64u << 20;
	else if (!r->zram_bytes)
		r->zram_bytes = touched + (32u << 20);
	if (r->zram_bytes < (64u << 20))
		r->zram_bytes = 64u << 20;
	if (si.mem_total && r->zram_bytes > si.mem_total / 2)
		r->zram_bytes = si.mem_total / 2;
	r->zram_bytes &= ~(uint64_t)(page_size - 1);
	mkdir(MMR_RECLAIM_STATE_DIR, 0755);
	snprintf(r->state, sizeof(r->state), MMR_RECLAIM_STATE_DIR "/reclaim-%d", (int)getpid());
	if ((o->mode == MMR_RECLAIM_MODE_MEMCG && setup_cgroup(r) < 0) || setup_zram(r) < 0)
		goto fail;
	if (o->mode == MMR_RECLAIM_MODE_MEMCG)
		snprintf(r->desc, sizeof(r->desc), "memcg v%d limit %.1f MiB, zram%d swap %.1f MiB",
			 r->cg_version, mib(r->limit), r->zram, mib(r->zram_bytes));
	else
		snprintf(r->desc, sizeof(r->desc), "pageout, zram%d swap %.1f MiB", r->zram,
			 mib(r->zram_bytes));
	return r;
fail:
	{
		char msg[512];
		enum mmr_err code = mmr_errcode();

		snprintf(msg, sizeof(msg), "%s", mmr_strerror());
		mmr_reclaim_cleanup(r);
		mmr_seterr(code, "%s", msg);
	}
	free(r);
	return NULL;
}

int mmr_reclaim_start(struct mmr_reclaim *r, const struct mmr_exec_view *v, const pid_t *roots,
		      unsigned nroots)
{
	char path[300], pid[16];

	r->pswpout0 = mmr_reclaim_vmstat("pswpout");
	if (r->cgroup[0]) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", r->cgroup);
		for (unsigned i = 0; i < nroots; i++) {
			snprintf(pid, sizeof(pid), "%d", (int)roots[i]);
			if (write_str(path, pid) < 0)
				return mmr_seterr_errno(MMR_E_FAIL, "cannot move replay process %d into %s",
							(int)roots[i], r->cgroup);
		}
	}
	if (r->mode == MMR_RECLAIM_MODE_PAGEOUT && v) {
		r->po = mmr_pageout_start(v);
		if (!r->po)
			return -1;
	}
	return 0;
}

int mmr_reclaim_end(struct mmr_reclaim *r, const struct mmr_exec_view *v, struct mmr_stats *s)
{
	int rc = 0;

	(void)v;
	if (r->po) {
		rc = mmr_pageout_stop(r->po, s);
		r->po = NULL;
	}
	if (r->mode != MMR_RECLAIM_MODE_NONE) {
		uint64_t now = mmr_reclaim_vmstat("pswpout");

		s->has_reclaim = true;
		s->reclaim.swapouts += now > r->pswpout0 ? now - r->pswpout0 : 0;
	}
	return rc;
}

const char *mmr_reclaim_describe(const struct mmr_reclaim *r)
{
	return r ? r->desc : "none";
}

uint64_t mmr_reclaim_limit(const struct mmr_reclaim *r)
{
	return r ? r->limit : 0;
}
