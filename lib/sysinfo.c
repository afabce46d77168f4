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

bool mmr_pids_all_gone(const int32_t *pids, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (kill(pids[i], 0) == 0 || errno != ESRCH)
			return false;
	return true;
}
