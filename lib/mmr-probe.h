/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What this machine supports: the tracefs mount, which of the events the
 * recorder wants exist here, privileges, KVM and qemu. `mmreplay info`
 * prints it; the recorder uses the same event table.
 */
#ifndef MMR_PROBE_H
#define MMR_PROBE_H

#include <stdbool.h>

/* Event groups the recorder can enable (-e). */
enum mmr_evgroup {
	MMR_G_FAULTS = 1 << 0,
	MMR_G_TASKS = 1 << 1,
	MMR_G_VM = 1 << 2,	/* address-space syscalls */
	MMR_G_RECLAIM = 1 << 3,
	MMR_G_LOCKS = 1 << 4,
	MMR_G_ALL = (1 << 5) - 1,
};

struct mmr_wanted_event {
	const char *system, *name;
	enum mmr_evgroup group;
	const char *lost;	/* what the trace lacks without it */
};

/* NULL-terminated table of every event the recorder enables. */
extern const struct mmr_wanted_event mmr_wanted_events[];

/* Parse "faults,locks" (or "all"); -1 with an error naming the bad word. */
int mmr_evgroups_parse(const char *s, unsigned *groups);
const char *mmr_evgroup_name(enum mmr_evgroup g);

/*
 * The tracefs directory, mounting it when it is not (as libtracefs does).
 * NULL with MMR_E_NOTSUP and a message saying what to do.
 */
const char *mmr_tracefs_dir(void);
/* Whether system:name exists under the tracefs events directory. */
bool mmr_event_exists(const char *system, const char *name);

struct mmr_probe {
	const char *tracefs;		/* NULL when unavailable */
	bool root;			/* can create tracefs instances */
	bool kallsyms;			/* addresses readable (not all zero) */
	bool kvm_dev;			/* /dev/kvm present */
	bool kvm_usable;		/* KVM_CREATE_VM worked */
	char qemu[256];			/* path of qemu-system-<arch>, "" if none */
	bool perf;			/* perf in PATH */
	char cgroup[16];		/* "v1", "v2", "hybrid", "none" */
	bool zram;			/* zram module/device available */
};

void mmr_probe_machine(struct mmr_probe *p);

#endif
