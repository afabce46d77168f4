// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The page-fault workload of the recorder benchmark: N processes each
 * repeatedly map an anonymous region, write every page, mprotect half of
 * it read-only, and unmap it. Prints total faults per second.
 *
 * fault-workload [-n PROCS] [-s SECONDS] [-m REGION_MB]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workers.h"

struct fault_args {
	size_t len;
	long page;
};

/* One worker: map, write every page, mprotect half, unmap; count faults. */
static unsigned long long fault_loop(double end, void *arg)
{
	const struct fault_args *a = arg;
	unsigned long long faults = 0;

	while (bench_now() < end) {
		char *p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		/* 4 KiB faults, not THP: the recorder's worst case */
		madvise(p, a->len, MADV_NOHUGEPAGE);
		for (size_t off = 0; off < a->len; off += a->page)
			p[off] = 1;
		faults += a->len / a->page;
		mprotect(p, a->len / 2, PROT_READ);
		munmap(p, a->len);
	}
	return faults;
}

int main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN), mb = 16;
	struct fault_args a = { .page = sysconf(_SC_PAGESIZE) };
	double secs = 2, elapsed;
	unsigned long long total;
	int c;

	while ((c = getopt(argc, argv, "n:s:m:")) != -1) {
		switch (c) {
		case 'n': procs = atol(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'm': mb = atol(optarg); break;
		default:
			fprintf(stderr, "usage: fault-workload [-n PROCS] [-s SECONDS] [-m MB]\n");
			return 2;
		}
	}
	if (procs < 1 || mb < 1) {
		fprintf(stderr, "fault-workload: need PROCS >= 1 and MB >= 1\n");
		return 2;
	}
	a.len = (size_t)mb << 20;
	total = bench_run_workers(procs, secs, fault_loop, &a, &elapsed);
	printf("faults %llu seconds %.3f faults_per_sec %.0f\n", total, elapsed, total / elapsed);
	return 0;
}
