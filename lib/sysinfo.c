// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-sysinfo.h"

static uint64_t meminfo(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			sscanf(line + klen + 1, "%llu", &kb);
			break;
		}
	fclose(f);
	return kb * 1024;
}

int mmr_sysinfo_get(struct mmr_sysinfo *si)
{
	struct utsname u;
	FILE *f;

	memset(si, 0, sizeof(*si));
	if (uname(&u) < 0)
		return mmr_seterr_errno(MMR_E_FAIL, "uname");
	snprintf(si->kernel, sizeof(si->kernel), "%s", u.release);
	snprintf(si->kversion, sizeof(si->kversion), "%s", u.version);
	snprintf(si->arch, sizeof(si->arch), "%s", u.machine);
	if (gethostname(si->host, sizeof(si->host) - 1) < 0)
		snprintf(si->host, sizeof(si->host), "%s", u.nodename);
	si->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	si->cpus = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	si->mem_total = meminfo("MemTotal");
	si->mem_available = meminfo("MemAvailable");
	f = fopen("/proc/sys/kernel/pid_max", "re");
	if (f) {
		unsigned long long v;

		if (fscanf(f, "%llu", &v) == 1)
			si->pid_max = v;
		fclose(f);
	}
	return 0;
}

uint64_t mmr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int mmr_steal_ns(uint64_t *ns)
{
	unsigned long long v[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return mmr_seterr(MMR_E_IO, "cannot read /proc/stat: %s", strerror(errno));
	/* cpu  user nice system idle iowait irq softirq steal ... (USER_HZ ticks) */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8 || hz <= 0)
		return mmr_seterr(MMR_E_NOTSUP, "/proc/stat has no steal time");
	*ns = (uint64_t)v[7] * (1000000000ull / (uint64_t)hz);
	return 0;
}

bool mmr_pids_all_gone(const int32_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (kill(pids[i], 0) == 0 || errno != ESRCH)
			return false;
	return true;
}
