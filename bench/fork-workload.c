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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN), region = 64, touch = 4, page = sysconf(_SC_PAGESIZE);
	double secs = 2, t0, t1;
	unsigned long long total = 0;
	int (*pipes)[2];
	int c;

	while ((c = getopt(argc, argv, "n:s:r:t:")) != -1) {
		switch (c) {
		case 'n': procs = atol(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'r': region = atol(optarg); break;
		case 't': touch = atol(optarg); break;
		default:
			fprintf(stderr, "usage: fork-workload [-n PROCS] [-s SECONDS] [-r REGION_PAGES] [-t TOUCH_PAGES]\n");
			return 2;
		}
	}
	if (procs < 1 || region < 1 || touch < 0 || touch > region) {
		fprintf(stderr, "fork-workload: need PROCS >= 1, REGION_PAGES >= 1, 0 <= TOUCH_PAGES <= REGION_PAGES\n");
		return 2;
	}
	pipes = calloc(procs, sizeof(*pipes));
	if (!pipes)
		return 1;
	t0 = now();
	for (long i = 0; i < procs; i++) {
		if (pipe(pipes[i]) < 0)
			return 1;
		if (fork() == 0) {
			char *p = mmap(NULL, (size_t)region * page, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			unsigned long long forks = 0;
			double end = t0 + secs;

			if (p == MAP_FAILED)
				_exit(1);
			for (long k = 0; k < region; k++)
				p[k * page] = 1;
			while (now() < end) {
				pid_t pid = fork();

				if (pid < 0)
					_exit(1);
				if (pid == 0) {
					/* spread the touched pages over the region */
					for (long k = 0; k < touch; k++)
						p[(k * region / (touch ? touch : 1)) * page] = 2;
					_exit(0);
				}
				if (waitpid(pid, NULL, 0) != pid)
					_exit(1);
				forks++;
			}
			if (write(pipes[i][1], &forks, sizeof(forks)) != sizeof(forks))
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
	printf("forks %llu seconds %.3f forks_per_sec %.0f\n", total, t1 - t0, total / (t1 - t0));
	return 0;
}
