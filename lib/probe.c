// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <tracefs.h>

#include "mmr-error.h"
#include "mmr-probe.h"

const struct mmr_wanted_event mmr_wanted_events[] = {
	{ "exceptions", "page_fault_user", MMR_G_FAULTS, "page faults" },
	{ "sched", "sched_process_fork", MMR_G_TASKS, "the process tree" },
	{ "sched", "sched_process_exec", MMR_G_TASKS, "exec events" },
	{ "sched", "sched_process_exit", MMR_G_TASKS, "exits" },
	{ "task", "task_newtask", MMR_G_TASKS, "thread vs process distinction" },
	{ "syscalls", "sys_enter_clone", MMR_G_TASKS, "fork timing" },
	{ "syscalls", "sys_exit_clone", MMR_G_TASKS, "fork timing" },
	{ "syscalls", "sys_enter_clone3", MMR_G_TASKS, "fork timing" },
	{ "syscalls", "sys_exit_clone3", MMR_G_TASKS, "fork timing" },
	{ "syscalls", "sys_enter_exit_group", MMR_G_TASKS, "exit timing" },
	{ "syscalls", "sys_enter_mmap", MMR_G_VM, "mmap" },
	{ "syscalls", "sys_exit_mmap", MMR_G_VM, "mmap results" },
	{ "syscalls", "sys_enter_munmap", MMR_G_VM, "munmap" },
	{ "syscalls", "sys_exit_munmap", MMR_G_VM, "munmap results" },
	{ "syscalls", "sys_enter_mremap", MMR_G_VM, "mremap" },
	{ "syscalls", "sys_exit_mremap", MMR_G_VM, "mremap results" },
	{ "syscalls", "sys_enter_mprotect", MMR_G_VM, "mprotect" },
	{ "syscalls", "sys_exit_mprotect", MMR_G_VM, "mprotect results" },
	{ "syscalls", "sys_enter_madvise", MMR_G_VM, "madvise" },
	{ "syscalls", "sys_exit_madvise", MMR_G_VM, "madvise results" },
	{ "syscalls", "sys_enter_brk", MMR_G_VM, "brk" },
	{ "syscalls", "sys_exit_brk", MMR_G_VM, "brk results" },
	{ "vmscan", "mm_vmscan_kswapd_wake", MMR_G_RECLAIM, "kswapd activity" },
	{ "vmscan", "mm_vmscan_kswapd_sleep", MMR_G_RECLAIM, "kswapd activity" },
	{ "vmscan", "mm_vmscan_direct_reclaim_begin", MMR_G_RECLAIM, "direct reclaim" },
	{ "vmscan", "mm_vmscan_direct_reclaim_end", MMR_G_RECLAIM, "direct reclaim" },
	{ "vmscan", "mm_vmscan_memcg_reclaim_begin", MMR_G_RECLAIM, "memcg reclaim" },
	{ "vmscan", "mm_vmscan_memcg_reclaim_end", MMR_G_RECLAIM, "memcg reclaim" },
	{ "vmscan", "mm_vmscan_lru_shrink_active", MMR_G_RECLAIM, "pages scanned" },
	{ "vmscan", "mm_vmscan_lru_shrink_inactive", MMR_G_RECLAIM, "pages reclaimed" },
	{ "mmap_lock", "mmap_lock_start_locking", MMR_G_LOCKS, "mmap_lock wait times" },
	{ "mmap_lock", "mmap_lock_acquire_returned", MMR_G_LOCKS, "mmap_lock wait/hold times" },
	{ "mmap_lock", "mmap_lock_released", MMR_G_LOCKS, "mmap_lock hold times" },
	{ "lock", "contention_begin", MMR_G_LOCKS, "rwsem/mutex/spinlock contention" },
	{ "lock", "contention_end", MMR_G_LOCKS, "contention wait times" },
	{ NULL, NULL, 0, NULL },
};

static const struct {
	const char *name;
	enum mmr_evgroup g;
} group_names[] = {
	{ "faults", MMR_G_FAULTS }, { "tasks", MMR_G_TASKS }, { "vm", MMR_G_VM },
	{ "reclaim", MMR_G_RECLAIM }, { "locks", MMR_G_LOCKS }, { "all", MMR_G_ALL },
};

int mmr_evgroups_parse(const char *s, unsigned *groups)
{
	char *dup = strdup(s), *save = NULL, *tok;

	if (!dup)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	*groups = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++)
			if (!strcmp(tok, group_names[i].name))
				break;
		if (i == sizeof(group_names) / sizeof(group_names[0])) {
			mmr_seterr(MMR_E_USAGE,
				   "unknown event group '%s' (use faults, tasks, vm, reclaim, locks, all)",
				   tok);
			free(dup);
			return -1;
		}
		*groups |= group_names[i].g;
	}
	free(dup);
	if (!*groups)
		return mmr_seterr(MMR_E_USAGE, "no event group given");
	return 0;
}

const char *mmr_evgroup_name(enum mmr_evgroup g)
{
	for (size_t i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++)
		if (group_names[i].g == g)
			return group_names[i].name;
	return "?";
}

const char *mmr_tracefs_dir(void)
{
	const char *dir;

	if (geteuid() != 0 && access("/sys/kernel/tracing/events", R_OK) != 0) {
		mmr_seterr(MMR_E_NOTSUP,
			   "tracing needs root (or CAP_SYS_ADMIN and CAP_PERFMON): run as root");
		return NULL;
	}
	dir = tracefs_tracing_dir();
	if (!dir) {
		mmr_seterr(MMR_E_NOTSUP,
			   "tracefs is not mounted and could not be: mount -t tracefs nodev /sys/kernel/tracing");
		return NULL;
	}
	return dir;
}

bool mmr_event_exists(const char *system, const char *name)
{
	const char *dir = tracefs_tracing_dir();
	char path[PATH_MAX];

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, system, name);
	return access(path, R_OK) == 0;
}

static bool kallsyms_readable(void)
{
	char line[256];
	bool ok = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return false;
	/* kptr_restrict shows zeros to the unprivileged: look at a few lines. */
	for (int i = 0; i < 32 && fgets(line, sizeof(line), f); i++)
		if (strspn(line, "0") < 16) {
			ok = true;
			break;
		}
	fclose(f);
	return ok;
}

static bool kvm_works(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	if (fd < 0)
		return false;
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0)
		return false;
	close(vm);
	/* Creating a VM can succeed where running a guest kernel fails
	 * (nested virtualisation); the VM runner still falls back to TCG. */
	return true;
}

static bool in_path(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *dup, *save = NULL;
	bool found = false;

	if (!path)
		path = "/usr/bin:/bin";
	dup = strdup(path);
	if (!dup)
		return false;
	for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/%s", d, prog);
		if (access(p, X_OK) == 0) {
			if (out)
				snprintf(out, len, "%s", p);
			found = true;
			break;
		}
	}
	free(dup);
	return found;
}

static void cgroup_mode(char *out, size_t len)
{
	struct statfs sf;
	bool v2 = false, v1 = false;

	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270 /* CGROUP2 */)
		v2 = true;
	if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0)
		v1 = true;
	if (!v2 && access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0)
		v2 = true;
	snprintf(out, len, "%s", v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none");
}

static bool zram_available(void)
{
	static const char *const ext[] = { "", ".xz", ".zst", ".gz" };
	struct utsname u;
	char path[PATH_MAX];

	if (access("/sys/class/zram-control", F_OK) == 0 || access("/sys/module/zram", F_OK) == 0)
		return true;
	if (uname(&u) < 0)
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/kernel/drivers/block/zram/zram.ko%s",
			 u.release, ext[i]);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

void mmr_probe_machine(struct mmr_probe *p)
{
	char arch_qemu[64];

	memset(p, 0, sizeof(*p));
	p->root = geteuid() == 0;
	p->tracefs = p->root || access("/sys/kernel/tracing/events", R_OK) == 0 ?
		     tracefs_tracing_dir() : NULL;
	p->kallsyms = kallsyms_readable();
	p->kvm_dev = access("/dev/kvm", F_OK) == 0;
	p->kvm_usable = p->kvm_dev && kvm_works();
#if defined(__x86_64__)
	snprintf(arch_qemu, sizeof(arch_qemu), "qemu-system-x86_64");
#elif defined(__aarch64__)
	snprintf(arch_qemu, sizeof(arch_qemu), "qemu-system-aarch64");
#else
	snprintf(arch_qemu, sizeof(arch_qemu), "qemu-system-unknown");
#endif
	in_path(arch_qemu, p->qemu, sizeof(p->qemu));
	p->perf = in_path("perf", NULL, 0);
	cgroup_mode(p->cgroup, sizeof(p->cgroup));
	p->zram = zram_available();
}
