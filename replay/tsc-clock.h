/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clock replay tasks read, from the TSC where the kernel's own
 * CLOCK_MONOTONIC comes from it (x86-64, the "tsc" clocksource). Read
 * through the vDSO instead, the clock costs every replayed child a fault
 * on the vDSO's code and, at every fork, page tables for the vvar pages
 * (fork copies their entries): page tables the recorded child did not
 * have, ~5 us of a fork for each on a 2-CPU VM. The caller calibrates the
 * TSC against CLOCK_MONOTONIC over a run's set-up and hands the tasks one
 * anchor at the go; long-lived tasks re-anchor now and then, so the two
 * clocks stay within a microsecond of each other.
 */
#ifndef MMR_TSC_CLOCK_H
#define MMR_TSC_CLOCK_H

#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#define MMR_HAVE_TSC 1

/* The TSC, after every earlier instruction (as the kernel's rdtsc_ordered). */
static inline uint64_t mmr_tsc(void)
{
	_mm_lfence();
	return __rdtsc();
}
#else
#define MMR_HAVE_TSC 0

static inline uint64_t mmr_tsc(void)
{
	return 0;
}
#endif

/*
 * CLOCK_MONOTONIC and the TSC at one moment, by system call: no vDSO page
 * touched. The TSC is read on both sides of the call; of four tries the
 * narrowest is kept (a vCPU preempted in the middle of one, on a shared
 * host, would put the anchor off by as long). Returns that width in ticks.
 */
static inline uint64_t mmr_tsc_pair(uint64_t *ns, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX;

	*ns = *tsc = 0;
	for (int i = 0; i < 4; i++) {
		struct timespec ts;
		uint64_t a = mmr_tsc(), b;

		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		b = mmr_tsc();
		if (b - a < best) {
			best = b - a;
			*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
			*tsc = a + (b - a) / 2;
		}
	}
	return best;
}

/* ns per TSC tick, in units of 2^-32, from two pairs; 0: no usable ratio. */
static inline uint64_t mmr_tsc_mult(uint64_t ns0, uint64_t tsc0, uint64_t ns1, uint64_t tsc1)
{
#if MMR_HAVE_TSC
	if (ns1 <= ns0 || tsc1 <= tsc0)
		return 0;
	return (uint64_t)(((unsigned __int128)(ns1 - ns0) << 32) / (tsc1 - tsc0));
#else
	(void)ns0, (void)tsc0, (void)ns1, (void)tsc1;
	return 0;
#endif
}

/* CLOCK_MONOTONIC ns at TSC tsc, given an anchor pair (at, at_ns). */
static inline uint64_t mmr_tsc_ns(uint64_t tsc, uint64_t at, uint64_t at_ns, uint64_t mult)
{
#if MMR_HAVE_TSC
	int64_t d = (int64_t)(tsc - at);

	/* a TSC read on another CPU a hair behind the anchor's */
	if (d < 0)
		d = 0;
	return at_ns + (uint64_t)(((unsigned __int128)(uint64_t)d * mult) >> 32);
#else
	(void)tsc, (void)at, (void)mult;
	return at_ns;
#endif
}

#endif
