// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lock accounting of replay runs (replay/measure.c) without tracefs:
 * events in, histograms per (lock, source, mode, kind, op) and kernel
 * paths out.
 */
#include "test-util.h"
#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-measure.h"
#include "mmr-trace.h"

static struct mmr_hist *find(struct mmr_stats *s, enum mmr_lockclass lock,
			     enum mmr_lock_source src, enum mmr_lock_mode mode,
			     enum mmr_lock_kind kind, enum mmr_op op)
{
	for (unsigned i = 0; i < s->nlocks; i++) {
		struct mmr_lockkey *k = &s->locks[i].key;

		if (k->lock == lock && k->source == src && k->mode == mode && k->kind == kind &&
		    k->op == op)
			return s->locks[i].hist;
	}
	return NULL;
}

static void feed_lock(struct mmr_measure *m, bool write, bool hold, enum mmr_op op, uint64_t dur)
{
	struct mmr_event ev = { .type = MMR_EV_LOCK, .ts = 1, .pid = 1, .tid = 1 };

	ev.lock.write = write;
	ev.lock.hold = hold;
	ev.lock.op = op;
	ev.lock.dur = dur;
	assert_int_equal(mmr_measure_event(&ev, m), 0);
}

static void feed_cont(struct mmr_measure *m, uint32_t flags, enum mmr_lockclass cls,
		      enum mmr_op op, uint32_t stack, uint64_t dur)
{
	struct mmr_event ev = { .type = MMR_EV_CONTENTION, .ts = 1, .pid = 1, .tid = 1 };

	ev.contention.flags = flags;
	ev.contention.cls = cls;
	ev.contention.op = op;
	ev.contention.stack = stack;
	ev.contention.dur = dur;
	assert_int_equal(mmr_measure_event(&ev, m), 0);
}

static void test_keys(void **state)
{
	struct mmr_measure *m = mmr_measure_new();
	struct mmr_stats s = { 0 };
	char *frames[] = { "rwsem_down_write_slowpath+0x2c0/0x7a0", "down_write+0x5b/0x60",
			   "anon_vma_fork+0x60/0x180" };
	struct mmr_event st = { .type = MMR_EV_STACK };
	struct mmr_event rc = { .type = MMR_EV_RECLAIM };
	struct mmr_hist *h;

	(void)state;
	assert_non_null(m);
	feed_lock(m, true, true, MMR_OP_MPROTECT, 5000);
	feed_lock(m, true, true, MMR_OP_MPROTECT, 7000);
	feed_lock(m, false, false, MMR_OP_FAULT, 300);
	st.stack.id = 7;
	st.stack.nframes = 3;
	st.stack.frames = frames;
	assert_int_equal(mmr_measure_event(&st, m), 0);
	feed_cont(m, MMR_LCB_WRITE, MMR_LC_ANON_VMA, MMR_OP_FORK, 7, 40000);
	feed_cont(m, MMR_LCB_WRITE, MMR_LC_ANON_VMA, MMR_OP_FORK, 7, 2000);
	feed_cont(m, MMR_LCB_READ, MMR_LC_ANON_VMA, MMR_OP_RECLAIM, 0, 900);
	feed_cont(m, MMR_LCB_SPIN, MMR_LC_LRU, MMR_OP_FAULT, 99, 100);	/* unknown stack: no path */
	feed_cont(m, MMR_LCB_MUTEX, MMR_LC_OTHER, MMR_OP_MMAP, 0, 100);
	feed_cont(m, MMR_LCB_RT, MMR_LC_OTHER, MMR_OP_MMAP, 0, 100);
	rc.reclaim.scanned = 64;
	rc.reclaim.reclaimed = 32;
	assert_int_equal(mmr_measure_event(&rc, m), 0);
	assert_int_equal(mmr_measure_collect(m, &s), 0);

	h = find(&s, MMR_LC_MMAP_LOCK, MMR_SRC_MMAP_LOCK, MMR_MODE_WRITE, MMR_KIND_HOLD, MMR_OP_MPROTECT);
	assert_non_null(h);
	assert_int_equal(mmr_hist_count(h), 2);
	assert_int_equal(mmr_hist_sum(h), 12000);
	h = find(&s, MMR_LC_MMAP_LOCK, MMR_SRC_MMAP_LOCK, MMR_MODE_READ, MMR_KIND_WAIT, MMR_OP_FAULT);
	assert_non_null(h);
	h = find(&s, MMR_LC_ANON_VMA, MMR_SRC_CONTENTION, MMR_MODE_WRITE, MMR_KIND_WAIT, MMR_OP_FORK);
	assert_non_null(h);
	assert_int_equal(mmr_hist_max(h), 40000);
	assert_non_null(find(&s, MMR_LC_ANON_VMA, MMR_SRC_CONTENTION, MMR_MODE_READ, MMR_KIND_WAIT,
			     MMR_OP_RECLAIM));
	assert_non_null(find(&s, MMR_LC_LRU, MMR_SRC_CONTENTION, MMR_MODE_SPIN, MMR_KIND_WAIT,
			     MMR_OP_FAULT));
	assert_non_null(find(&s, MMR_LC_OTHER, MMR_SRC_CONTENTION, MMR_MODE_MUTEX, MMR_KIND_WAIT,
			     MMR_OP_MMAP));
	assert_non_null(find(&s, MMR_LC_OTHER, MMR_SRC_CONTENTION, MMR_MODE_OTHER, MMR_KIND_WAIT,
			     MMR_OP_MMAP));
	assert_int_equal(s.nlocks, 7);
	/* one path: the two fork waits with stack 7, frames copied */
	assert_int_equal(s.npaths, 1);
	assert_int_equal(s.paths[0].count, 2);
	assert_int_equal(s.paths[0].wait_ns, 42000);
	assert_int_equal(s.paths[0].nframes, 3);
	assert_string_equal(s.paths[0].frames[2], "anon_vma_fork+0x60/0x180");
	assert_int_equal(s.paths[0].cls, MMR_LC_ANON_VMA);
	assert_true(s.has_reclaim);
	assert_int_equal(s.reclaim.episodes, 1);
	assert_int_equal(s.reclaim.reclaimed, 32);
	assert_true(s.has_lost);

	/* collect moved everything: a second collect adds nothing */
	assert_int_equal(mmr_measure_collect(m, &s), 0);
	assert_int_equal(s.nlocks, 7);
	assert_int_equal(s.paths[0].count, 2);
	mmr_stats_release(&s);
	mmr_measure_free(m);
	mmr_measure_free(NULL);
}

/* The samples of a trace file account the same way (the recorder's events). */
static void test_trace(void **state)
{
	struct mmr_trace_reader *r = mmr_trace_reader_new(MMR_SRCDIR "/tests/fixtures/replay-tree.jsonl");
	struct mmr_measure *m = mmr_measure_new();
	struct mmr_stats s = { 0 };
	struct mmr_event ev;
	int n;

	(void)state;
	assert_non_null(r);
	while ((n = mmr_trace_reader_next(r, &ev)) > 0)
		assert_int_equal(mmr_measure_event(&ev, m), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mmr_measure_collect(m, &s), 0);
	assert_int_equal(s.nlocks, 2);
	assert_non_null(find(&s, MMR_LC_MMAP_LOCK, MMR_SRC_MMAP_LOCK, MMR_MODE_READ, MMR_KIND_HOLD,
			     MMR_OP_FAULT));
	assert_non_null(find(&s, MMR_LC_ANON_VMA, MMR_SRC_CONTENTION, MMR_MODE_WRITE, MMR_KIND_WAIT,
			     MMR_OP_MPROTECT));
	assert_int_equal(s.npaths, 1);
	assert_int_equal(s.reclaim.episodes, 1);
	mmr_stats_release(&s);
	mmr_measure_free(m);
	mmr_trace_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
