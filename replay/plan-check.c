// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guard rails: a replay must not take the machine down. A plan needing
 * more tasks or memory than the machine offers is refused (the caller may
 * override with --force).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-plan.h"
#include "mmr-sysinfo.h"

/* Tasks on the machine now: the 4th field of /proc/loadavg ("running/total"). */
static uint64_t tasks_now(void)
{
	unsigned long long run = 0, total = 0;
	FILE *f = fopen("/proc/loadavg", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%*f %*f %*f %llu/%llu", &run, &total) != 2)
		total = 0;
	fclose(f);
	return total;
}

int mmr_plan_limits_probe(struct mmr_plan_limits *l)
{
	struct mmr_sysinfo si;
	struct rlimit rl;

	memset(l, 0, sizeof(*l));
	if (mmr_sysinfo_get(&si) < 0)
		return -1;
	l->pid_max = si.pid_max;
	l->mem_available = si.mem_available;
	l->tasks_now = tasks_now();
	l->nproc_limit = UINT64_MAX;
	/* root (CAP_SYS_RESOURCE/ADMIN) is exempt from RLIMIT_NPROC */
	if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		l->nproc_limit = rl.rlim_cur;
	return 0;
}

static double mib(uint64_t b)
{
	return (double)b / (1 << 20);
}

int mmr_plan_check(const struct mmr_plan *p, const struct mmr_plan_limits *l)
{
	uint64_t need = p->mem_bytes;

	if (l->pid_max && (uint64_t)p->peak_tasks + l->tasks_now >= l->pid_max)
		return mmr_seterr(MMR_E_USAGE,
				  "the trace needs %u tasks at once but pid_max is %" PRIu64
				  " with %" PRIu64 " tasks running; raise kernel.pid_max or use --force",
				  p->peak_tasks, l->pid_max, l->tasks_now);
	if (l->nproc_limit != UINT64_MAX && p->peak_tasks >= l->nproc_limit)
		return mmr_seterr(MMR_E_USAGE,
				  "the trace needs %u tasks at once but RLIMIT_NPROC is %" PRIu64
				  "; raise it (ulimit -u) or use --force",
				  p->peak_tasks, l->nproc_limit);
	/* Under a memory cgroup limit the excess is reclaimed, not allocated. */
	if (l->mem_cap && need > l->mem_cap)
		need = l->mem_cap;
	if (l->mem_available && need > l->mem_available)
		return mmr_seterr(MMR_E_USAGE,
				  "the trace touches up to %.1f MiB but only %.1f MiB are available; use --reclaim=memcg with a --memcg-limit, a larger machine, or --force",
				  mib(need), mib(l->mem_available));
	return 0;
}
