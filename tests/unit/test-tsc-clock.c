// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The replay tasks' TSC clock (replay/tsc-clock.h): calibrated over
 * 20 ms as the executor does, it must read CLOCK_MONOTONIC to within a
 * few microseconds over the next 200 ms; the arithmetic must not go
 * backwards on a TSC read a hair before the anchor's. Where the kernel's
 * clock does not come from the TSC, the reading part is skipped.
 */
#include <stdio.h>
#include <string.h>

#include "test-util.h"
#include "tsc-clock.h"

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_arithmetic(void **state)
{
	uint64_t mult;

	(void)state;
	/* 1 GHz: one tick a nanosecond */
	mult = mmr_tsc_mult(1000, 5000, 2001000, 2005000);
	if (!MMR_HAVE_TSC) {
		assert_int_equal(mult, 0);
		return;
	}
	assert_int_equal(mult, 1ull << 32);
	assert_int_equal(mmr_tsc_ns(7000, 5000, 1000, mult), 3000);
	/* earlier than the anchor: the anchor's time, not a wrap to 2^64 */
	assert_int_equal(mmr_tsc_ns(4990, 5000, 1000, mult), 1000);
	/* 3 GHz, an hour after the anchor: no overflow */
	mult = mmr_tsc_mult(0, 0, 3000000000ull, 9000000000ull);
	assert_true(mmr_tsc_ns(10800000000000ull, 0, 0, mult) > 3599999000000ull);
	assert_true(mmr_tsc_ns(10800000000000ull, 0, 0, mult) < 3600001000000ull);
	/* pairs out of order: no ratio */
	assert_int_equal(mmr_tsc_mult(2000, 10, 1000, 20), 0);
	assert_int_equal(mmr_tsc_mult(1000, 20, 2000, 10), 0);
}

static void test_reads_monotonic(void **state)
{
	char cs[32] = "";
	uint64_t ns0, tsc0, ns1, tsc1, mult, w, worst = 0;
	struct timespec nap = { 0, 20000000 };
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	(void)state;
	if (f) {
		if (!fgets(cs, sizeof(cs), f))
			cs[0] = 0;
		fclose(f);
	}
	if (!MMR_HAVE_TSC || strcmp(cs, "tsc\n")) {
		printf("skipped: the kernel's clocksource is not the TSC (%s)\n", cs[0] ? cs : "unknown");
		return;
	}
	w = mmr_tsc_pair(&ns0, &tsc0);
	nanosleep(&nap, NULL);
	w += mmr_tsc_pair(&ns1, &tsc1);
	mult = mmr_tsc_mult(ns0, tsc0, ns1, tsc1);
	assert_true(mult > 0);
	w = mmr_tsc_ns(w, 0, 0, mult);
	/* under valgrind a system call takes tens of microseconds: no anchor is that exact */
	if (w > 10000) {
		printf("skipped: reading CLOCK_MONOTONIC takes %llu ns here\n", (unsigned long long)w / 2);
		return;
	}
	for (int i = 0; i < 10; i++) {
		uint64_t a, t, b, d;

		nanosleep(&nap, NULL);
		a = mono();
		t = mmr_tsc_ns(mmr_tsc(), tsc1, ns1, mult);
		b = mono();
		d = t < a ? a - t : t > b ? t - b : 0;
		if (d > worst)
			worst = d;
	}
	/* ~5 ppm of calibration error over 200 ms, plus a vCPU preempted between reads */
	printf("TSC clock vs CLOCK_MONOTONIC over 200 ms: worst %llu ns off\n", (unsigned long long)worst);
	assert_true(worst < 50000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arithmetic),
		cmocka_unit_test(test_reads_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
