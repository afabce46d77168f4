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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN), mb = 16, page = sysconf(_SC_PAGESIZE);
	double secs = 2, t0, t1;
	unsigned long long total = 0;
	int (*pipes)[2];
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
	pipes = calloc(procs, sizeof(*pipes));
	t0 = now();
	for (long i = 0; i < procs; i++) {
		if (pipe(pipes[i]) < 0)
			return 1;
		if (fork() == 0) {
			size_t len = (size_t)mb << 20;
			unsigned long long faults = 0;
			double end = t0 + secs;

			while (now() < end) {
				char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (p == MAP_FAILED)
					_exit(1);
				/* 4 KiB faults, not THP: the recorder's worst case */
				madvise(p, len, MADV_NOHUGEPAGE);
				for (size_t off = 0; off < len; off += page)
					p[off] = 1;
				faults += len / page;
				mprotect(p, len / 2, PROT_READ);
				munmap(p, len);
			}
			if (write(pipes[i][1], &faults, sizeof(faults)) != sizeof(faults))
				_exit(1);
			_exit(0);
		}
	}
	for (long i = 0; i < procs; i++) {
		unsigned long long f = 0;

		if (read(pipes[i][0], &f, sizeof(f)) == sizeof(f))
			total += f;
	}
	while (wait(NULL) > 0)
		;
	t1 = now();
	printf("faults %llu seconds %.3f faults_per_sec %.0f\n", total, t1 - t0, total / (t1 - t0));
	return 0;
}
