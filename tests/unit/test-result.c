// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Result v1: build -> write -> read gives the same document, merging adds
 * runs and merges histograms by key, unknown versions and schema
 * violations are refused with a message that says why.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-result.h"
#include "mmr-trace.h"
#include "mmr-validate.h"

static const char *trace_path = MMR_SRCDIR "/schemas/examples/trace-zygote-small.jsonl";

static int setup(void **state)
{
	(void)state;
	return test_tmpdir_setup("result");
}

static void fill_stats(struct mmr_stats *s, unsigned scale)
{
	struct mmr_lockkey fork_wait = { MMR_LC_ANON_VMA, MMR_SRC_CONTENTION, MMR_MODE_WRITE,
					 MMR_KIND_WAIT, MMR_OP_FORK };
	struct mmr_lockkey fault_hold = { MMR_LC_MMAP_LOCK, MMR_SRC_MMAP_LOCK, MMR_MODE_READ,
					  MMR_KIND_HOLD, MMR_OP_FAULT };
	const char *frames[] = { "rwsem_down_write_slowpath", "down_write", "anon_vma_fork",
				 "dup_mmap" };
	struct mmr_hist *h;

	h = mmr_stats_lock(s, &fork_wait);
	assert_non_null(h);
	for (unsigned i = 1; i <= 40 * scale; i++)
		mmr_hist_add(h, 1000 * i);
	h = mmr_stats_lock(s, &fault_hold);
	assert_non_null(h);
	mmr_hist_add_n(h, 777, 10 * scale);
	/* The same key again is the same histogram. */
	assert_ptr_equal(mmr_stats_lock(s, &fault_hold), h);
	h = mmr_stats_op(s, MMR_OP_FAULT, true);
	assert_non_null(h);
	mmr_hist_add_n(h, 2000, 500 * scale);
	h = mmr_stats_op(s, MMR_OP_FORK, false);
	mmr_hist_add(h, 250000);
	assert_int_equal(mmr_stats_add_path(s, MMR_LC_ANON_VMA, MMR_OP_FORK, frames, 4, 40, 2140000), 0);
	assert_int_equal(mmr_stats_add_failure(s, MMR_OP_MPROTECT, "ENOMEM", 2), 0);
	h = mmr_stats_lag(s);
	assert_non_null(h);
	for (unsigned i = 0; i < 100; i++)
		mmr_hist_add(h, 10000 + i * 100 * scale);
	s->fidelity.ops_recorded = 964;
	s->fidelity.ops_replayed = 962;
	s->fidelity.ops_failed = 2;
	s->fidelity.recorded_ns = 24100000;
	s->fidelity.replayed_ns = 24900000;
	s->fidelity.steal_ns = 1000000 * scale;
	s->fidelity.has_steal = true;
	/* lag by tenth: mean (i + 1) ms * scale over 10 ops, max (i + 2) ms * scale */
	s->fidelity.has_tenths = true;
	for (unsigned i = 0; i < MMR_LAG_TENTHS; i++) {
		s->fidelity.tenth[i].n = 10;
		s->fidelity.tenth[i].sum_ns = 10ull * (i + 1) * 1000000 * scale;
		s->fidelity.tenth[i].max_ns = (i + 2) * 1000000ull * scale;
	}
	s->has_lost = true;
	s->lost_events = scale;
	s->has_reclaim = true;
	s->reclaim.episodes = 3;
	s->reclaim.scanned = 192;
	s->reclaim.reclaimed = 96;
	mmr_stats_finish(s);
}

static struct mmr_result *build(unsigned nruns)
{
	struct mmr_result *r = mmr_result_new();
	struct mmr_trace_reader *tr;
	struct mmr_event ev;
	uint64_t events = 0;
	int n;

	assert_non_null(r);
	assert_int_equal(mmr_result_set_host(r), 0);
	tr = mmr_trace_reader_new(trace_path);
	assert_non_null(tr);
	while ((n = mmr_trace_reader_next(tr, &ev)) > 0)
		events++;
	assert_int_equal(n, 0);
	assert_int_equal(mmr_result_set_trace(r, trace_path, mmr_trace_reader_header(tr),
					      mmr_trace_reader_footer(tr), events), 0);
	mmr_trace_reader_free(tr);
	assert_int_equal(mmr_result_set_label(r, "unit \"test\""), 0);
	r->params.runs = nruns;
	r->params.mode = MMR_REPLAY_SCALED;
	r->params.speed = 2.5;
	r->params.reclaim = MMR_RECLAIM_MODE_MEMCG;
	r->params.memcg_limit = 32 << 20;
	for (unsigned i = 0; i < nruns; i++) {
		struct mmr_run *run = mmr_result_add_run(r);

		assert_non_null(run);
		assert_int_equal(run->run, i + 1);
		run->wall_ns = 25000000 + i;
		fill_stats(&run->stats, i + 1);
	}
	assert_int_equal(mmr_result_summarize(r), 0);
	return r;
}

static char *json_of(const struct mmr_result *r)
{
	struct json_object *o = mmr_result_to_json(r);
	char *s;

	assert_non_null(o);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_WRITE), MMR_MODE_WRITE);
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_READ), MMR_MODE_READ);
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_SPIN | MMR_LCB_READ), MMR_MODE_READ);
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_SPIN), MMR_MODE_SPIN);
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_MUTEX), MMR_MODE_MUTEX);
	assert_int_equal(mmr_lock_mode_from_lcb(MMR_LCB_RT), MMR_MODE_OTHER);
	assert_string_equal(mmr_replay_mode_name(MMR_REPLAY_MAX_SPEED), "max-speed");
	assert_int_equal(mmr_replay_mode_from_name("as-recorded"), MMR_REPLAY_AS_RECORDED);
	assert_int_equal(mmr_reclaim_mode_from_name("pageout"), MMR_RECLAIM_MODE_PAGEOUT);
	assert_int_equal(mmr_reclaim_mode_from_name("zram"), -1);
	assert_int_equal(mmr_lock_source_from_name("contention"), MMR_SRC_CONTENTION);
	assert_int_equal(mmr_lock_mode_from_name("mutex"), MMR_MODE_MUTEX);
	assert_int_equal(mmr_lock_kind_from_name("hold"), MMR_KIND_HOLD);
	assert_int_equal(mmr_lock_kind_from_name("wait-ish"), -1);
}

static void test_round_trip(void **state)
{
	struct mmr_result *r = build(2), *back;
	struct mmr_validation v;
	char *a, *b;

	(void)state;
	assert_int_equal(r->summary.fidelity.ops_recorded, 2 * 964);
	assert_non_null(r->summary.fidelity.lag);	/* exact: every run had one */
	assert_int_equal(r->summary.fidelity.lag_max_ns, 10000 + 99 * 200);
	assert_int_equal(mmr_result_write(r, tpath("r.json")), 0);
	/* The file passes the same validation `mmreplay validate` does. */
	assert_int_equal(mmr_validate_file(tpath("r.json"), &v), 0);
	assert_int_equal(v.kind, MMR_FILE_RESULT);
	assert_int_equal(v.runs, 2);
	back = mmr_result_read(tpath("r.json"));
	if (!back)
		fail_msg("read back: %s", mmr_strerror());
	a = json_of(r);
	b = json_of(back);
	assert_string_equal(a, b);
	assert_string_equal(back->label, "unit \"test\"");
	assert_int_equal(back->params.mode, MMR_REPLAY_SCALED);
	assert_true(back->params.speed == 2.5);
	assert_int_equal(back->params.memcg_limit, 32 << 20);
	assert_int_equal(back->nruns, 2);
	assert_int_equal(strlen(back->trace.sha256), 64);
	assert_string_equal(back->trace.name, "trace-zygote-small.jsonl");
	assert_int_equal(back->trace.events, 13);
	assert_int_equal(back->trace.duration_ns, 24100000);
	assert_false(back->trace.truncated);
	assert_int_equal(back->summary.nlocks, 2);
	assert_int_equal(back->summary.npaths, 1);
	assert_int_equal(back->summary.paths[0].count, 80);
	assert_int_equal(back->summary.fidelity.nfailures, 1);
	assert_int_equal(back->summary.fidelity.failures[0].count, 4);
	/* steal: summed over the runs (scales 1 and 2), kept through the file */
	assert_true(back->summary.fidelity.has_steal);
	assert_int_equal(back->summary.fidelity.steal_ns, 3000000);
	assert_true(back->runs[1].stats.fidelity.has_steal);
	assert_int_equal(back->runs[1].stats.fidelity.steal_ns, 2000000);
	/* lag tenths: ops summed, means weighted, maxima the worst run's */
	assert_true(back->summary.fidelity.has_tenths);
	for (unsigned i = 0; i < MMR_LAG_TENTHS; i++) {
		const struct mmr_lag_tenth *t = &back->summary.fidelity.tenth[i];

		assert_int_equal(t->n, 20);
		assert_int_equal(t->sum_ns / t->n, 1500000ull * (i + 1));
		assert_int_equal(t->max_ns, 2000000ull * (i + 2));
	}
	assert_true(mmr_fidelity_lag_grows(&back->summary.fidelity));
	assert_int_equal(back->summary.lost_events, 3);
	free(a);
	free(b);
	mmr_result_free(r);
	mmr_result_free(back);
}

/* Lag tenths with these means (ms), 100 ops each. */
static struct mmr_fidelity tenths(const double ms[MMR_LAG_TENTHS])
{
	struct mmr_fidelity f = { .has_tenths = true };

	for (unsigned i = 0; i < MMR_LAG_TENTHS; i++) {
		f.tenth[i].n = 100;
		f.tenth[i].sum_ns = (uint64_t)(ms[i] * 1e6) * 100;
		f.tenth[i].max_ns = (uint64_t)(ms[i] * 2e6);
	}
	return f;
}

static void test_lag_grows(void **state)
{
	static const double flat[] = { 2, 2, 3, 2, 2, 3, 2, 2, 3, 2 };
	static const double grows[] = { 0.1, 0.2, 0.4, 0.8, 1, 2, 3, 4, 5, 6 };
	static const double tiny[] = { 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7 };
	static const double spike[] = { 0.2, 0.2, 0.2, 0.2, 500, 300, 100, 0.2, 0.2, 0.2 };
	struct mmr_fidelity f;

	(void)state;
	f = tenths(flat);
	assert_false(mmr_fidelity_lag_grows(&f));
	f = tenths(grows);
	assert_true(mmr_fidelity_lag_grows(&f));
	f = tenths(tiny);		/* growing, but all under 1 ms */
	assert_false(mmr_fidelity_lag_grows(&f));
	f = tenths(spike);		/* a stall it recovered from */
	assert_false(mmr_fidelity_lag_grows(&f));
	f = tenths(grows);
	f.has_tenths = false;		/* closed loop */
	assert_false(mmr_fidelity_lag_grows(&f));
	/* a replay that started late and held its lag is not growing */
	for (unsigned i = 0; i < MMR_LAG_TENTHS; i++)
		f.tenth[i].sum_ns = 100 * 40000000ull;
	f.has_tenths = true;
	assert_false(mmr_fidelity_lag_grows(&f));
}

static struct mmr_hist *find_lock(struct mmr_stats *s, enum mmr_op op)
{
	for (unsigned i = 0; i < s->nlocks; i++)
		if (s->locks[i].key.op == op)
			return s->locks[i].hist;
	return NULL;
}

static void test_merge(void **state)
{
	struct mmr_result *a = build(2), *b = build(1), *other;
	struct mmr_hist *h;

	(void)state;
	assert_int_equal(mmr_result_merge(a, b), 0);
	assert_int_equal(a->nruns, 3);
	assert_int_equal(a->runs[2].run, 3);
	assert_int_equal(a->params.runs, 3);
	/* 40*1 + 40*2 + 40*1 fork waits; the same key merged, not duplicated. */
	assert_int_equal(a->summary.nlocks, 2);
	h = find_lock(&a->summary, MMR_OP_FORK);
	assert_non_null(h);
	assert_int_equal(mmr_hist_count(h), 160);
	assert_int_equal(mmr_hist_max(h), 80000);
	assert_int_equal(a->summary.fidelity.ops_replayed, 3 * 962);
	assert_int_equal(a->summary.paths[0].wait_ns, 3 * 2140000);
	/* A different key stays separate. */
	{
		struct mmr_lockkey k = { MMR_LC_MMAP_LOCK, MMR_SRC_MMAP_LOCK, MMR_MODE_WRITE,
					 MMR_KIND_HOLD, MMR_OP_MPROTECT };

		mmr_hist_add(mmr_stats_lock(&b->runs[0].stats, &k), 5);
		assert_int_equal(mmr_result_summarize(b), 0);
		assert_int_equal(mmr_result_merge(a, b), 0);
		assert_int_equal(a->summary.nlocks, 3);
	}
	/* Merging results read from files keeps the worst lag percentile. */
	assert_int_equal(mmr_result_write(a, tpath("a.json")), 0);
	other = mmr_result_read(tpath("a.json"));
	assert_non_null(other);
	assert_null(other->summary.fidelity.lag);
	assert_int_equal(mmr_result_merge(other, b), 0);
	assert_int_equal(other->summary.fidelity.lag_max_ns, a->summary.fidelity.lag_max_ns);
	assert_null(other->summary.fidelity.lag);
	mmr_result_free(other);

	/* Another trace is refused. */
	b->trace.sha256[0] = b->trace.sha256[0] == 'a' ? 'b' : 'a';
	assert_int_equal(mmr_result_merge(a, b), -1);
	assert_int_equal(mmr_errcode(), MMR_E_USAGE);
	assert_err_contains("different traces");
	mmr_result_free(a);
	mmr_result_free(b);
}

/* Rewrite one field of a written result and read it back. */
static struct mmr_result *read_modified(const char *key, struct json_object *val)
{
	struct mmr_result *r = build(1);
	struct json_object *o = mmr_result_to_json(r);
	const char *path = tpath("mod.json");

	json_object_object_add(o, key, val);
	assert_int_equal(json_object_to_file(path, o), 0);
	json_object_put(o);
	mmr_result_free(r);
	return mmr_result_read(path);
}

static void test_version_rejected(void **state)
{
	(void)state;
	assert_null(read_modified("version", json_object_new_int(2)));
	assert_int_equal(mmr_errcode(), MMR_E_VERSION);
	assert_err_contains("result format version 2 is not supported");
	assert_null(read_modified("schema", json_object_new_string("mmreplay-trace")));
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
	assert_err_contains("not an mmreplay result");
	/* Schema violations are named with their field. */
	assert_null(read_modified("emulated", json_object_new_string("no")));
	assert_err_contains("emulated");
	assert_null(read_modified("surprise", json_object_new_int(1)));
	assert_err_contains("surprise");
}

static void test_example(void **state)
{
	struct mmr_result *r;

	(void)state;
	r = mmr_result_read(MMR_SRCDIR "/schemas/examples/result-zygote-small.json");
	if (!r)
		fail_msg("example: %s", mmr_strerror());
	assert_int_equal(r->nruns, 1);
	assert_true(r->summary.nlocks >= 4);
	assert_int_equal(r->summary.fidelity.ops_recorded, 964);
	assert_string_equal(r->kernel.preempt, "dynamic");
	assert_true(r->summary.fidelity.has_tenths);
	assert_int_equal(r->summary.fidelity.tenth[3].max_ns, 910000);
	assert_int_equal(r->summary.fidelity.tenth[3].sum_ns, 97 * 14000);
	assert_false(mmr_fidelity_lag_grows(&r->summary.fidelity));
	mmr_result_free(r);
}

static void test_garbage(void **state)
{
	const char *path = tpath("garbage.json");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"schema\":", 10), 10);
	close(fd);
	assert_null(mmr_result_read(path));
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
	assert_err_contains("garbage.json");
	assert_null(mmr_result_read(tpath("missing.json")));
}

/*
 * -o /dev/null, -o a FIFO: the result goes into the file as it is. (The
 * atomic temp-file-and-rename once replaced /dev/null with a regular file.)
 * A FIFO stands in for the device: a regression then breaks only the test.
 */
static void test_write_not_regular(void **state)
{
	struct mmr_result *r = build(1);
	const char *path = tpath("fifo");
	struct stat st;
	char c = 0;
	int rfd;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	fcntl(rfd, F_SETPIPE_SZ, 1 << 20);	/* room for the whole document */
	assert_int_equal(mmr_result_write(r, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(read(rfd, &c, 1), 1);
	assert_int_equal(c, '{');
	close(rfd);
	mmr_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_not_regular),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_lag_grows),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_version_rejected),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, setup, test_tmpdir_teardown);
}
