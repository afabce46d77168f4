/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The frame the benchmark workloads share: fork PROCS worker processes,
 * let each run its loop until a common deadline, and add up the counts
 * they report through a pipe.
 */
#ifndef MMR_BENCH_WORKERS_H
#define MMR_BENCH_WORKERS_H

#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Run work(end, arg) in procs processes until the deadline end; returns the
 * sum of what they returned, the elapsed seconds in *elapsed. A worker that
 * fails calls _exit(1) and contributes nothing.
 */
static inline unsigned long long bench_run_workers(long procs, double secs,
						   unsigned long long (*work)(double end, void *arg),
						   void *arg, double *elapsed)
{
	unsigned long long total = 0;
	int (*pipes)[2] = calloc(procs, sizeof(*pipes));
	double t0 = bench_now();

	if (!pipes)
		exit(1);
	for (long i = 0; i < procs; i++) {
		if (pipe(pipes[i]) < 0)
			exit(1);
		if (fork() == 0) {
			unsigned long long n = work(t0 + secs, arg);

			if (write(pipes[i][1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	for (long i = 0; i < procs; i++) {
		unsigned long long n = 0;

		if (read(pipes[i][0], &n, sizeof(n)) == sizeof(n))
			total += n;
	}
	while (wait(NULL) > 0)
		;
	*elapsed = bench_now() - t0;
	free(pipes);
	return total;
}

#endif
