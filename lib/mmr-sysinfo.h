/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the running machine is: recorded in trace headers and results. */
#ifndef MMR_SYSINFO_H
#define MMR_SYSINFO_H

#include <stdbool.h>
#include <stdint.h>

struct mmr_sysinfo {
	char host[256];
	char kernel[128];	/* uname -r */
	char kversion[256];	/* uname -v (build, PREEMPT flavour) */
	char arch[32];
	uint32_t page_size;
	uint32_t cpus;		/* online */
	uint64_t mem_total;	/* bytes */
	uint64_t mem_available;	/* bytes, MemAvailable */
	uint64_t pid_max;
};

int mmr_sysinfo_get(struct mmr_sysinfo *si);
/* CLOCK_MONOTONIC in ns: the "mono" trace clock reads the same clock. */
uint64_t mmr_now_ns(void);
/*
 * CPU time the hypervisor has stolen from this machine since boot, all
 * CPUs together (/proc/stat), in *ns; -1 when unknown. On a shared VM
 * it says how much of a run's wall time its CPUs did not have.
 */
int mmr_steal_ns(uint64_t *ns);

/* True when none of the pids exists any more. */
bool mmr_pids_all_gone(const int32_t *pids, unsigned n);

#endif
