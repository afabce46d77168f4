// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-sha256.h"

/* FIPS 180-4 / NIST example vectors. */
static void test_vectors(void **state)
{
	char hex[65];

	(void)state;
	mmr_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	mmr_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	mmr_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_incremental(void **state)
{
	struct mmr_sha256 s;
	unsigned char d[32];
	char chunk[1001];

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	mmr_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		mmr_sha256_update(&s, chunk, i % 2 ? 999 : 1001);	/* odd split */
	mmr_sha256_final(&s, d);
	assert_int_equal(d[0], 0xcd);
	assert_int_equal(d[1], 0xc7);
	assert_int_equal(d[31], 0xd0);	/* cdc76e5c...c7112cd0 */
}

static void test_file(void **state)
{
	char path[] = "/tmp/mmr-sha-XXXXXX", hex[65];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(mmr_sha256_file(path, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(mmr_sha256_file(path, hex), -1);
	assert_err_contains(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a_incremental),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
