// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <pthread.h>

#include "test-util.h"
#include "mmr-error.h"

static void test_message_and_code(void **state)
{
	(void)state;
	mmr_clearerr();
	assert_string_equal(mmr_strerror(), "no error");
	assert_int_equal(mmr_seterr(MMR_E_FORMAT, "line %d: bad", 3), -1);
	assert_string_equal(mmr_strerror(), "line 3: bad");
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
}

static void test_errno_suffix(void **state)
{
	(void)state;
	errno = ENOSPC;
	mmr_seterr_errno(MMR_E_IO, "writing %s", "x");
	assert_string_equal(mmr_strerror(), "writing x: No space left on device");
	assert_int_equal(errno, ENOSPC);	/* preserved for the caller */
}

static void test_context(void **state)
{
	(void)state;
	mmr_seterr(MMR_E_FORMAT, "field 'ts': missing");
	mmr_adderr_context("line %d", 12);
	assert_string_equal(mmr_strerror(), "line 12: field 'ts': missing");
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
}

static void test_long_message_truncated(void **state)
{
	char big[4000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mmr_seterr(MMR_E_FAIL, "%s", big);
	assert_true(strlen(mmr_strerror()) < 1024);
	mmr_adderr_context("%s", big);	/* must not overflow */
	assert_true(strlen(mmr_strerror()) < 1024);
}

static void *other_thread(void *arg)
{
	(void)arg;
	mmr_seterr(MMR_E_IO, "from the other thread");
	return NULL;
}

static void test_thread_local(void **state)
{
	pthread_t t;

	(void)state;
	mmr_seterr(MMR_E_FORMAT, "mine");
	pthread_create(&t, NULL, other_thread, NULL);
	pthread_join(t, NULL);
	assert_string_equal(mmr_strerror(), "mine");
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_and_code),
		cmocka_unit_test(test_errno_suffix),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_long_message_truncated),
		cmocka_unit_test(test_thread_local),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
