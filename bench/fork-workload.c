// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fork-heavy workload of the replay benchmark: N processes each map
 * and write a small private region, then loop: fork; the child writes a
 * few pages of the inherited region (copy-on-write faults) and exits; the
 * parent waits for it. Prints the total fork cycles per second.
 *
 * fork-workload [-n PROCS] [-s SECONDS] [-r REGION_PAGES] [-t TOUCH_PAGES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workers.h"

struct fork_args {
	long region, touch, page;
};

/* One worker: a private region, then fork; the child COWs a few pages and exits. */
static unsigned long long fork_loop(double end, void *arg)
{
	const struct fork_args *a = arg;
	char *p = mmap(NULL, (size_t)a->region * a->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long long forks = 0;

	if (p == MAP_FAILED)
		_exit(1);
	for (long k = 0; k < a->region; k++)
		p[k * a->page] = 1;
	while (bench_now() < end) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			/* spread the touched pages over the region */
			for (long k = 0; k < a->touch; k++)
				p[(k * a->region / (a->touch ? a->touch : 1)) * a->page] = 2;
			_exit(0);
		}
		if (waitpid(pid, NULL, 0) != pid)
			_exit(1);
		forks++;
	}
	return forks;
}

int main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN);
	struct fork_args a = { .region = 64, .touch = 4, .page = sysconf(_SC_PAGESIZE) };
	double secs = 2, elapsed;
	unsigned long long total;
	int c;

	while ((c = getopt(argc, argv, "n:s:r:t:")) != -1) {
		switch (c) {
		case 'n': procs = atol(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'r': a.region = atol(optarg); break;
		case 't': a.touch = atol(optarg); break;
		default:
			fprintf(stderr, "usage: fork-workload [-n PROCS] [-s SECONDS] [-r REGION_PAGES] [-t TOUCH_PAGES]\n");
			return 2;
		}
	}
	if (procs < 1 || a.region < 1 || a.touch < 0 || a.touch > a.region) {
		fprintf(stderr, "fork-workload: need PROCS >= 1, REGION_PAGES >= 1, 0 <= TOUCH_PAGES <= REGION_PAGES\n");
		return 2;
	}
	total = bench_run_workers(procs, secs, fork_loop, &a, &elapsed);
	printf("forks %llu seconds %.3f forks_per_sec %.0f\n", total, elapsed, total / elapsed);
	return 0;
}
