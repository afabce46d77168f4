// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scenario framework without root: the registry is complete,
 * parameters are validated, and a run's tree (processes it forks) reports
 * counters, notes and failures back through the shared area.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

#include "mmr-error.h"
#include "mmr-scenario.h"

static void test_registry(void **state)
{
	unsigned n = 0;

	(void)state;
	for (unsigned i = 0; mmr_scenarios[i]; i++, n++) {
		const struct mmr_scenario *s = mmr_scenarios[i];
		unsigned np = 0, nc = 0;

		assert_non_null(s->name);
		assert_non_null(s->summary);
		assert_non_null(s->demonstrates);
		assert_non_null(s->stresses);
		assert_non_null(s->run);
		assert_ptr_equal(mmr_scenario_find(s->name), s);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(mmr_scenarios[j]->name, s->name);
		for (const struct mmr_scn_param *p = s->params; p && p->name; p++, np++) {
			assert_non_null(p->def);
			assert_non_null(p->help);
			if (p->type == MMR_SCN_CHOICE)
				assert_non_null(p->choices);
		}
		for (; s->counters && s->counters[nc]; nc++)
			;
		assert_true(np <= MMR_SCN_MAX_PARAMS);
		assert_true(nc <= MMR_SCN_MAX_COUNTERS);
	}
	assert_int_equal(n, 6);
	assert_null(mmr_scenario_find("no-such"));
}

/* Every scenario's defaults are valid (checks that need the kernel may say NOTSUP). */
static void test_defaults(void **state)
{
	(void)state;
	for (unsigned i = 0; mmr_scenarios[i]; i++) {
		struct mmr_scn_run *r = mmr_scn_run_new(mmr_scenarios[i], NULL, 0, 1.0);

		if (!r) {
			assert_int_equal(mmr_errcode(), MMR_E_NOTSUP);
			continue;
		}
		assert_non_null(mmr_scn_run_params(r));
		mmr_scn_run_free(r);
	}
}

static void expect_usage(const char *kv, const char *msg)
{
	char *args[1] = { (char *)kv };
	struct mmr_scn_run *r = mmr_scn_run_new(mmr_scenario_find("zygote"), args, 1, 1.0);

	assert_null(r);
	assert_int_equal(mmr_errcode(), MMR_E_USAGE);
	assert_err_contains(msg);
}

static void test_bad_params(void **state)
{
	(void)state;
	expect_usage("bogus=1", "no parameter 'bogus'");
	expect_usage("children", "NAME=VALUE");
	expect_usage("children=-3", "bad value '-3' for children");
	expect_usage("children=two", "bad value 'two'");
	expect_usage("heap=12X", "bad value '12X' for heap");
	expect_usage("reclaim=sometimes", "one of memcg|pageout|none");
	assert_null(mmr_scn_run_new(mmr_scenario_find("zygote"), NULL, 0, 0));
}

static void test_values(void **state)
{
	char *args[] = { "heap=2M", "children=3", "reclaim=none", "children=5" };
	struct mmr_scn_run *r = mmr_scn_run_new(mmr_scenario_find("zygote"), args, 4, 1.0);
	struct mmr_scn_ctx *c;
	uint64_t v;

	(void)state;
	assert_non_null(r);
	c = mmr_scn_run_ctx(r);
	assert_int_equal(mmr_scn_u64(c, "heap"), 2 << 20);
	assert_int_equal(mmr_scn_u64(c, "children"), 5);	/* the last one wins */
	assert_string_equal(mmr_scn_str(c, "reclaim"), "none");
	assert_int_equal(mmr_scn_u64(c, "cow"), 98);		/* default */
	assert_non_null(strstr(mmr_scn_run_params(r), "heap=2M children=5"));
	mmr_scn_run_free(r);

	assert_int_equal(mmr_scn_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(mmr_scn_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(mmr_scn_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(mmr_scn_parse_size("-1", &v), -1);
	assert_int_equal(mmr_scn_parse_size("M", &v), -1);
}

/* ---- a scenario of the test's own, run through the framework ---- */

static const char *const t_counters[] = { "forks", "ticks", NULL };
static const struct mmr_scn_param t_params[] = {
	{ "children", "3", "children", MMR_SCN_INT, NULL },
	{ "fail", "none", "how to fail", MMR_SCN_CHOICE, "none|child|notsup" },
	{ NULL, NULL, NULL, 0, NULL },
};

static int t_child(struct mmr_scn_ctx *c, void *arg)
{
	(void)arg;
	mmr_scn_add(c, 0, 1);
	while (!mmr_scn_should_stop(c)) {
		mmr_scn_add(c, 1, 1);
		mmr_scn_sleep_us(1000);
	}
	if (!strcmp(mmr_scn_str(c, "fail"), "child"))
		return mmr_seterr(MMR_E_FAIL, "child %d failed on purpose", (int)getpid());
	return 0;
}

static int t_run(struct mmr_scn_ctx *c)
{
	unsigned n = (unsigned)mmr_scn_u64(c, "children");

	if (!strcmp(mmr_scn_str(c, "fail"), "notsup"))
		return mmr_seterr(MMR_E_NOTSUP, "not here");
	for (unsigned i = 0; i < n; i++)
		if (mmr_scn_spawn(c, 0, t_child, NULL) < 0)
			return -1;
	mmr_scn_note(c, "%u children", n);
	while (!mmr_scn_should_stop(c))
		mmr_scn_sleep_us(1000);
	return 0;	/* the framework stops and reaps the tree */
}

static const struct mmr_scenario t_scn = {
	.name = "test", .summary = "s", .demonstrates = "d", .stresses = "x",
	.params = t_params, .counters = t_counters, .run = t_run,
};

static int t_main(void *arg)
{
	return mmr_scn_child_main(arg);
}

/* What the CLI does, minus the gate: fork the root, attach, wait, finish. */
static const struct mmr_scn_stats *t_go(struct mmr_scn_run *r, int *status)
{
	pid_t root = fork();

	assert_true(root >= 0);
	if (root == 0)
		_exit(t_main(r));
	assert_int_equal(mmr_scn_attach(r, root), 0);
	assert_int_equal(waitpid(root, status, 0), root);
	assert_int_equal(mmr_scn_finish(r, root), 0);
	return mmr_scn_run_stats(r);
}

static void test_run_tree(void **state)
{
	char *args[] = { "children=4" };
	struct mmr_scn_run *r = mmr_scn_run_new(&t_scn, args, 1, 0.2);
	const struct mmr_scn_stats *st;
	int status;

	(void)state;
	assert_non_null(r);
	st = t_go(r, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(st->counters[0], 4);
	assert_true(st->counters[1] > 4);
	assert_true(st->end_ns - st->start_ns >= 200000000ull);
	assert_non_null(strstr(st->notes, "4 children"));
	mmr_scn_run_free(r);
}

static void test_run_failures(void **state)
{
	char *child[] = { "fail=child" }, *notsup[] = { "fail=notsup" };
	struct mmr_scn_run *r;
	const struct mmr_scn_stats *st;
	int status;

	(void)state;
	r = mmr_scn_run_new(&t_scn, child, 1, 0.05);
	st = t_go(r, &status);
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(st->msg, "failed on purpose"));
	mmr_scn_run_free(r);

	r = mmr_scn_run_new(&t_scn, notsup, 1, 0.05);
	st = t_go(r, &status);
	assert_int_equal(WEXITSTATUS(status), 4);
	assert_string_equal(st->msg, "not here");
	mmr_scn_run_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_run_tree),
		cmocka_unit_test(test_run_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
