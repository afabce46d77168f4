// SPDX-License-Identifier: GPL-2.0-or-later
/* Fault-run coalescing and ordered output (lib/coalesce.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mmr-recorder.h"

#define PG 4096ULL
#define BASE 0x7f0000000000ULL
#define US 1000ULL
#define MS 1000000ULL

struct out {
	struct mmr_event ev[4096];
	unsigned n;
};

static int collect(const struct mmr_event *ev, void *arg)
{
	struct out *o = arg;

	assert_true(o->n < 4096);
	o->ev[o->n++] = *ev;
	return 0;
}

/* A coalescer whose output is collected into o. */
static struct mmr_coalesce *mk_opts(struct out *o, const struct mmr_coalesce_opts *co)
{
	struct mmr_coalesce *c = mmr_coalesce_new(co);

	assert_non_null(c);
	memset(o, 0, sizeof(*o));
	mmr_coalesce_set_cb(c, collect, o);
	return c;
}

static struct mmr_coalesce *mk(struct out *o, unsigned queue_max)
{
	struct mmr_coalesce_opts co = {
		.gap_ns = 1 * MS, .max_stride = 64, .max_run_ns = 1000 * MS,
		.queue_max = queue_max, .page_size = 4096,
	};

	return mk_opts(o, &co);
}

static void assert_run(const struct mmr_event *ev, int32_t tid, uint64_t ts, uint64_t addr,
		       int64_t stride, uint64_t count, uint32_t err, uint64_t last)
{
	assert_int_equal(ev->type, MMR_EV_FAULT);
	assert_int_equal(ev->tid, tid);
	assert_int_equal(ev->ts, ts);
	assert_int_equal(ev->fault.addr, addr);
	assert_int_equal(ev->fault.stride, stride);
	assert_int_equal(ev->fault.count, count);
	assert_int_equal(ev->fault.err, err);
	assert_int_equal(ev->fault.last, last);
}

/* n faults of one task at BASE + page*step*i, 1 us apart from t0 */
static void faults(struct mmr_coalesce *c, struct mmr_fault_run *run, int32_t tid, uint64_t t0,
		   uint64_t first, int64_t step, unsigned n, uint32_t err)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(mmr_coalesce_fault(c, run, tid, tid, t0 + i * US,
						    first + (uint64_t)(step * (int64_t)i * (int64_t)PG),
						    err), 0);
}

static void test_sequential(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 1000, BASE, 1, 1000, 6);
	assert_int_equal(o->n, 0);	/* still open */
	assert_int_equal(mmr_coalesce_flush(c), 0);
	assert_int_equal(o->n, 1);
	assert_run(&o->ev[0], 10, 1000, BASE, (int64_t)PG, 1000, 6, 1000 + 999 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_reverse(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 1000, BASE + 99 * PG, -1, 100, 7);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 1);
	assert_run(&o->ev[0], 10, 1000, BASE + 99 * PG, -(int64_t)PG, 100, 7, 1000 + 99 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_strided(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 1000, BASE, 3, 21, 6);
	/* 64 pages is the largest stride a run may have */
	faults(c, &run, 10, 1 * MS, BASE + 10000 * PG, 64, 5, 6);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 2);
	assert_run(&o->ev[0], 10, 1000, BASE, 3 * (int64_t)PG, 21, 6, 1000 + 20 * US);
	assert_run(&o->ev[1], 10, 1 * MS, BASE + 10000 * PG, 64 * (int64_t)PG, 5, 6, 1 * MS + 4 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_random(void **state)
{
	static const int64_t pages[] = { 0, 5, 2, 9, 100, 101, 300, 300, 1000 };
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };
	uint64_t ts = 5000;

	(void)state;
	for (unsigned i = 0; i < sizeof(pages) / sizeof(pages[0]); i++, ts += US)
		mmr_coalesce_fault(c, &run, 3, 3, ts, BASE + (uint64_t)pages[i] * PG, 6);
	mmr_coalesce_flush(c);
	/* a stride is set by the second fault; anything that breaks it starts a new run;
	 * 0 (same page) and > 64 pages never make a stride */
	assert_int_equal(o->n, 6);
	assert_run(&o->ev[0], 3, 5000, BASE, 5 * (int64_t)PG, 2, 6, 5000 + 1 * US);
	assert_run(&o->ev[1], 3, 5000 + 2 * US, BASE + 2 * PG, 7 * (int64_t)PG, 2, 6, 5000 + 3 * US);
	assert_run(&o->ev[2], 3, 5000 + 4 * US, BASE + 100 * PG, (int64_t)PG, 2, 6, 5000 + 5 * US);
	assert_run(&o->ev[3], 3, 5000 + 6 * US, BASE + 300 * PG, 0, 1, 6, 5000 + 6 * US);
	assert_run(&o->ev[4], 3, 5000 + 7 * US, BASE + 300 * PG, 0, 1, 6, 5000 + 7 * US);
	assert_run(&o->ev[5], 3, 5000 + 8 * US, BASE + 1000 * PG, 0, 1, 6, 5000 + 8 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_interleaved(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run r1 = { 0 }, r2 = { 0 };
	uint64_t ts = 1000;

	(void)state;
	/* task 1 forward in X, task 2 backward in Y, alternating */
	for (unsigned i = 0; i < 50; i++) {
		mmr_coalesce_fault(c, &r1, 1, 1, ts, BASE + i * PG, 6);
		ts += US;
		mmr_coalesce_fault(c, &r2, 2, 2, ts, BASE + (1000 - i) * PG, 6);
		ts += US;
	}
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 2);
	assert_run(&o->ev[0], 1, 1000, BASE, (int64_t)PG, 50, 6, 1000 + 98 * US);
	assert_run(&o->ev[1], 2, 1000 + US, BASE + 1000 * PG, -(int64_t)PG, 50, 6, 1000 + 99 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_time_gap(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 1000, BASE, 1, 5, 6);
	/* 5th page 1 ms after the 4th: the gap is not < 1 ms */
	faults(c, &run, 10, 1000 + 4 * US + 1 * MS, BASE + 5 * PG, 1, 5, 6);
	/* the first run closed as soon as the stream moved 1 ms past it */
	assert_int_equal(o->n, 1);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 2);
	assert_run(&o->ev[0], 10, 1000, BASE, (int64_t)PG, 5, 6, 1000 + 4 * US);
	assert_run(&o->ev[1], 10, 1000 + 4 * US + 1 * MS, BASE + 5 * PG, (int64_t)PG, 5, 6,
		   1000 + 8 * US + 1 * MS);
	mmr_coalesce_free(c);
	free(o);
}

static void test_err_and_break(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 1000, BASE, 1, 4, 6);
	faults(c, &run, 10, 1000 + 4 * US, BASE + 4 * PG, 1, 4, 7);	/* other access kind */
	mmr_coalesce_break(c, &run);					/* e.g. munmap */
	faults(c, &run, 10, 1000 + 8 * US, BASE + 8 * PG, 1, 4, 7);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 3);
	assert_run(&o->ev[0], 10, 1000, BASE, (int64_t)PG, 4, 6, 1000 + 3 * US);
	assert_run(&o->ev[1], 10, 1000 + 4 * US, BASE + 4 * PG, (int64_t)PG, 4, 7, 1000 + 7 * US);
	assert_run(&o->ev[2], 10, 1000 + 8 * US, BASE + 8 * PG, (int64_t)PG, 4, 7, 1000 + 11 * US);
	mmr_coalesce_free(c);
	free(o);
}

static void test_max_run(void **state)
{
	struct mmr_coalesce_opts co = { .gap_ns = 1 * MS, .max_run_ns = 10 * US, .page_size = 4096 };
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk_opts(o, &co);
	struct mmr_fault_run run = { 0 };

	(void)state;
	faults(c, &run, 10, 0, BASE, 1, 25, 6);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 3);
	assert_run(&o->ev[0], 10, 0, BASE, (int64_t)PG, 10, 6, 9 * US);
	assert_run(&o->ev[1], 10, 10 * US, BASE + 10 * PG, (int64_t)PG, 10, 6, 19 * US);
	assert_run(&o->ev[2], 10, 20 * US, BASE + 20 * PG, (int64_t)PG, 5, 6, 24 * US);
	mmr_coalesce_free(c);
	free(o);
}

/* Other events behind an open run wait for it: output stays in ts order. */
static void test_order(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_fault_run run = { 0 };
	struct mmr_event ev = { .type = MMR_EV_MMAP, .pid = 2, .tid = 2, .ts = 1500 };
	struct mmr_event *p;
	uint64_t seq;

	(void)state;
	faults(c, &run, 1, 1000, BASE, 1, 1, 6);
	assert_int_equal(mmr_coalesce_event(c, &ev), 0);
	p = mmr_coalesce_reserve(c, 1600, &seq);	/* e.g. a syscall in progress */
	assert_non_null(p);
	p->type = MMR_EV_MUNMAP;
	p->tid = 3;
	faults(c, &run, 1, 2000, BASE + PG, 1, 10, 6);
	assert_int_equal(o->n, 0);
	/* the stream moves on: the run closes, the mmap follows, the munmap waits */
	assert_int_equal(mmr_coalesce_advance(c, 2000 + 9 * US + 1 * MS), 0);
	assert_int_equal(o->n, 2);
	assert_run(&o->ev[0], 1, 1000, BASE, (int64_t)PG, 11, 6, 2000 + 9 * US);
	assert_int_equal(o->ev[1].type, MMR_EV_MMAP);
	assert_int_equal(o->ev[1].ts, 1500);
	p = mmr_coalesce_get(c, seq);
	assert_non_null(p);
	p->range.ret = 0;
	p->range.dur = 77;
	assert_int_equal(mmr_coalesce_commit(c, seq), 1);
	assert_int_equal(o->n, 3);
	assert_int_equal(o->ev[2].type, MMR_EV_MUNMAP);
	assert_int_equal(o->ev[2].ts, 1600);
	assert_int_equal(o->ev[2].range.dur, 77);
	assert_null(mmr_coalesce_get(c, seq));
	assert_int_equal(mmr_coalesce_commit(c, seq), 0);
	mmr_coalesce_free(c);
	free(o);
}

/* A full queue pushes the head out, even a pending one. */
static void test_bound(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 4);
	struct mmr_coalesce_stats st;
	struct mmr_event *p;
	uint64_t seq, s2;

	(void)state;
	p = mmr_coalesce_reserve(c, 100, &seq);
	p->type = MMR_EV_LOCK;
	p = mmr_coalesce_reserve(c, 150, &s2);	/* cancelled: never emitted */
	p->type = MMR_EV_LOCK;
	assert_int_equal(mmr_coalesce_cancel(c, s2), 1);
	for (unsigned i = 0; i < 5; i++) {
		struct mmr_event ev = { .type = MMR_EV_EXIT, .ts = 200 + i, .tid = (int32_t)i };

		assert_int_equal(mmr_coalesce_event(c, &ev), 0);
	}
	/* the pending lock had to go out, with its duration up to "now" */
	assert_true(o->n >= 1);
	assert_int_equal(o->ev[0].type, MMR_EV_LOCK);
	assert_int_equal(o->ev[0].lock.dur, 202 - 100);	/* forced when exit 202 came */
	assert_null(mmr_coalesce_get(c, seq));
	assert_int_equal(mmr_coalesce_commit(c, seq), 0);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 6);
	for (unsigned i = 1; i < 6; i++) {
		assert_int_equal(o->ev[i].type, MMR_EV_EXIT);
		assert_int_equal(o->ev[i].ts, 200 + i - 1);
	}
	mmr_coalesce_get_stats(c, &st);
	assert_int_equal(st.forced, 1);
	assert_int_equal(st.emitted, 6);
	mmr_coalesce_free(c);
	free(o);
}

/* Late input is clamped so the output never goes back in time. */
static void test_late(void **state)
{
	struct out *o = malloc(sizeof(*o));
	struct mmr_coalesce *c = mk(o, 64);
	struct mmr_event a = { .type = MMR_EV_EXIT, .ts = 1000 }, b = { .type = MMR_EV_EXIT, .ts = 900 };
	struct mmr_coalesce_stats st;

	(void)state;
	mmr_coalesce_event(c, &a);
	mmr_coalesce_event(c, &b);
	mmr_coalesce_flush(c);
	assert_int_equal(o->n, 2);
	assert_int_equal(o->ev[1].ts, 1000);
	mmr_coalesce_get_stats(c, &st);
	assert_int_equal(st.late, 1);
	mmr_coalesce_free(c);
	free(o);
}

static int fail_cb(const struct mmr_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
	return -1;
}

static void test_cb_failure(void **state)
{
	struct mmr_coalesce *c = mmr_coalesce_new(NULL);
	struct mmr_event a = { .type = MMR_EV_EXIT, .ts = 1000 };

	(void)state;
	mmr_coalesce_set_cb(c, fail_cb, NULL);
	assert_int_equal(mmr_coalesce_event(c, &a), -1);
	assert_true(mmr_coalesce_failed(c));
	assert_int_equal(mmr_coalesce_event(c, &a), -1);
	mmr_coalesce_free(c);
	mmr_coalesce_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_strided),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_time_gap),
		cmocka_unit_test(test_err_and_break),
		cmocka_unit_test(test_max_run),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_cb_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
