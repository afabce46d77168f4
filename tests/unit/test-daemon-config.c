// SPDX-License-Identifier: GPL-2.0-or-later
/* mmreplayd's configuration parser. */
#include "test-util.h"
#include "../../daemon/config.h"
#include "mmr-error.h"

static void test_defaults_and_file(void **state)
{
	struct mmrd_config c;
	const char *text =
		"# comment\n"
		"output_dir = /tmp/x y\n"
		"rotate_size=16M\n"
		"  rotate_age =  60  \n"
		"disk_budget = 2G\n"
		"zstd = no\n"
		"comm = \"^(zygote|app)\"\n"
		"events = faults,locks\n"
		"; another comment\n\n";

	(void)state;
	mmrd_config_defaults(&c);
	assert_int_equal(c.rotate_size, 64ull << 20);
	assert_true(c.zstd);
	assert_int_equal(mmrd_config_parse(&c, text, strlen(text)), 0);
	assert_string_equal(c.output_dir, "/tmp/x y");
	assert_int_equal(c.rotate_size, 16ull << 20);
	assert_int_equal(c.rotate_age, 60);
	assert_int_equal(c.disk_budget, 2ull << 30);
	assert_false(c.zstd);
	assert_string_equal(c.comm, "^(zygote|app)");
	assert_string_equal(c.events, "faults,locks");
	/* command-line spelling of the same key overrides */
	assert_int_equal(mmrd_config_set(&c, "rotate-size", "1K"), 0);
	assert_int_equal(c.rotate_size, 1024);
	mmrd_config_release(&c);
}

static void expect_bad(const char *text, const char *needle)
{
	struct mmrd_config c;

	mmrd_config_defaults(&c);
	if (mmrd_config_parse(&c, text, strlen(text)) == 0)
		fail_msg("accepted: %s", text);
	assert_err_contains(needle);
	mmrd_config_release(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_bad("rotate_size = lots\n", "line 1: rotate_size: expected a size like 64M");
	expect_bad("\n\nfrobnicate = 1\n", "line 3: unknown key 'frobnicate'");
	expect_bad("zstd = maybe\n", "zstd: expected yes or no");
	expect_bad("just words\n", "line 1: expected key = value");
	expect_bad("events = faults,bogus\n", "unknown event group 'bogus'");
	expect_bad("rotate_age = -5\n", "rotate_age: expected a number");
	expect_bad("buffer_kb = 1\n", "buffer_kb: between 64");
	expect_bad("output_dir =\n", "output_dir: must not be empty");
	expect_bad("rotate_size = 99999999999999999999999\n", "rotate_size");
}

static void test_missing_file(void **state)
{
	struct mmrd_config c;

	(void)state;
	mmrd_config_defaults(&c);
	assert_int_equal(mmrd_config_load(&c, "/nonexistent/mmreplayd.conf", false), 0);
	assert_int_equal(mmrd_config_load(&c, "/nonexistent/mmreplayd.conf", true), -1);
	assert_err_contains("No such file");
	mmrd_config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
