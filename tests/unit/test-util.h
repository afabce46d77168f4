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

#endif
