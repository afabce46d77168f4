/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the unit tests share: cmocka includes and small helpers. */
#ifndef MMR_TEST_UTIL_H
#define MMR_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Assert that the library's last error message contains s. */
#define assert_err_contains(s) do {						\
	const char *_m = mmr_strerror();					\
	if (!strstr(_m, (s)))							\
		fail_msg("error \"%s\" does not contain \"%s\"", _m, (s));	\
} while (0)

/*
 * A temporary directory for the files of a test program, made by its group
 * setup (/tmp/mmr-test-<name>-XXXXXX) and removed with its contents by the
 * group teardown; tpath() names a file in it (a static buffer).
 */
#define TEST_TMPDIR_LEN 64

static inline char *test_tmpdir(void)
{
	static char dir[TEST_TMPDIR_LEN];

	return dir;
}

static inline int test_tmpdir_setup(const char *name)
{
	snprintf(test_tmpdir(), TEST_TMPDIR_LEN, "/tmp/mmr-test-%s-XXXXXX", name);
	return mkdtemp(test_tmpdir()) ? 0 : -1;
}

static inline int test_tmpdir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_tmpdir());
	return system(cmd);
}

static inline const char *tpath(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", test_tmpdir(), name);
	return p;
}

#endif
