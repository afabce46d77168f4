// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for lib/hist.c: bucket mapping, percentiles against an exact
 * computation, merge, JSON round trip and validation, clamping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-hist.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Deterministic PRNG (splitmix64) so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Roughly log-uniform in [0, 2^bits): what latencies look like. */
static uint64_t rng_latency(unsigned bits)
{
	unsigned s = (unsigned)(rng() % (bits + 1));

	return s ? rng() >> (64 - s) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Exact percentile of a sorted array, p given in thousandths of a percent
 * so the rank is computed in integers, independently of lib/hist.c.
 */
static uint64_t exact_pct(const uint64_t *sorted, uint64_t n, uint64_t pm)
{
	uint64_t rank = (pm * n + 99999) / 100000;

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static struct mmr_hist *new_hist(void)
{
	struct mmr_hist *h = mmr_hist_new();

	assert_non_null(h);
	return h;
}

static void assert_same_hist(const struct mmr_hist *a, const struct mmr_hist *b)
{
	struct json_object *ja = mmr_hist_to_json(a), *jb = mmr_hist_to_json(b);
	double p;

	assert_int_equal(mmr_hist_count(a), mmr_hist_count(b));
	assert_int_equal(mmr_hist_sum(a), mmr_hist_sum(b));
	assert_int_equal(mmr_hist_min(a), mmr_hist_min(b));
	assert_int_equal(mmr_hist_max(a), mmr_hist_max(b));
	for (p = 0.1; p <= 100.0; p += 0.1)
		assert_int_equal(mmr_hist_percentile(a, p),
				 mmr_hist_percentile(b, p));
	assert_int_equal(mmr_hist_percentile(a, 99.9),
			 mmr_hist_percentile(b, 99.9));
	/* Same JSON means the same bucket contents too. */
	assert_non_null(ja);
	assert_non_null(jb);
	if (!json_object_equal(ja, jb))
		fail_msg("histograms differ:\n%s\n%s",
			 json_object_to_json_string(ja),
			 json_object_to_json_string(jb));
	json_object_put(ja);
	json_object_put(jb);
}

/* ---- buckets ------------------------------------------------------- */

static void test_bucket_layout(void **state)
{
	unsigned nb = mmr_hist_nbuckets(), i;

	(void)state;
	/* 256 exact + 28 octaves of 128 + part of the 2^36 octave. */
	assert_int_equal(nb, 3899);
	assert_int_equal(mmr_hist_bucket_of(MMR_HIST_MAX_NS), nb - 1);
	assert_true(mmr_hist_bucket_low(nb - 1) <= MMR_HIST_MAX_NS);
	assert_true(mmr_hist_bucket_high(nb - 1) >= MMR_HIST_MAX_NS);

	/* Spot checks worked out by hand from the design formula. */
	for (i = 0; i < 256; i++) {
		assert_int_equal(mmr_hist_bucket_of(i), i);
		assert_int_equal(mmr_hist_bucket_low(i), i);
		assert_int_equal(mmr_hist_bucket_high(i), i);
	}
	assert_int_equal(mmr_hist_bucket_of(256), 256);
	assert_int_equal(mmr_hist_bucket_of(257), 256);
	assert_int_equal(mmr_hist_bucket_of(258), 257);
	assert_int_equal(mmr_hist_bucket_of(511), 383);
	assert_int_equal(mmr_hist_bucket_of(512), 384);
	assert_int_equal(mmr_hist_bucket_of(515), 384);
	assert_int_equal(mmr_hist_bucket_of(516), 385);
	assert_int_equal(mmr_hist_bucket_high(256), 257);
	assert_int_equal(mmr_hist_bucket_low(384), 512);
	assert_int_equal(mmr_hist_bucket_high(384), 515);

	/* Buckets tile the value range without gaps or overlaps. */
	for (i = 0; i < nb; i++) {
		uint64_t lo = mmr_hist_bucket_low(i), hi = mmr_hist_bucket_high(i);

		assert_true(lo <= hi);
		if (i)
			assert_int_equal(lo, mmr_hist_bucket_high(i - 1) + 1);
		assert_int_equal(mmr_hist_bucket_of(lo), i);
		if (hi <= MMR_HIST_MAX_NS)
			assert_int_equal(mmr_hist_bucket_of(hi), i);
		/* Relative width at most 1%. */
		if ((hi - lo) * 100 > lo)
			fail_msg("bucket %u [%llu, %llu] wider than 1%%", i,
				 (unsigned long long)lo, (unsigned long long)hi);
	}
}

static void check_contains(uint64_t v)
{
	unsigned idx = mmr_hist_bucket_of(v);
	uint64_t lo = mmr_hist_bucket_low(idx), hi = mmr_hist_bucket_high(idx);

	if (idx >= mmr_hist_nbuckets() || v < lo || v > hi ||
	    (hi - lo) * 100 > v)
		fail_msg("value %llu -> bucket %u [%llu, %llu]",
			 (unsigned long long)v, idx,
			 (unsigned long long)lo, (unsigned long long)hi);
}

static void test_bucket_contains_small(void **state)
{
	unsigned prev = 0, idx;
	uint64_t v;

	(void)state;
	for (v = 0; v <= (1u << 20); v++) {
		check_contains(v);
		/* Monotone and dense: consecutive values never skip a bucket. */
		idx = mmr_hist_bucket_of(v);
		if (idx != prev && idx != prev + 1)
			fail_msg("bucket jumps %u -> %u at %llu", prev, idx,
				 (unsigned long long)v);
		prev = idx;
	}
}

static void test_bucket_contains_large(void **state)
{
	unsigned k, i;

	(void)state;
	for (k = 8; k <= 36; k++) {
		check_contains((1ULL << k) - 1);
		check_contains(1ULL << k);
		check_contains((1ULL << k) + 1);
	}
	check_contains(MMR_HIST_MAX_NS - 1);
	check_contains(MMR_HIST_MAX_NS);

	rng_state = 1;
	for (i = 0; i < 200000; i++) {
		uint64_t v = rng_latency(37);

		if (v > MMR_HIST_MAX_NS)
			v %= MMR_HIST_MAX_NS;
		check_contains(v);
	}
}

/* ---- statistics and percentiles ------------------------------------ */

static void test_empty(void **state)
{
	struct mmr_hist *h = new_hist(), *g = new_hist();
	struct json_object *j, *b;

	(void)state;
	assert_int_equal(mmr_hist_count(h), 0);
	assert_int_equal(mmr_hist_sum(h), 0);
	assert_int_equal(mmr_hist_min(h), 0);
	assert_int_equal(mmr_hist_max(h), 0);
	assert_true(mmr_hist_mean(h) == 0.0);
	assert_int_equal(mmr_hist_percentile(h, 50), 0);
	assert_int_equal(mmr_hist_percentile(h, 100), 0);

	/* Merging empties keeps them empty; n == 0 adds nothing. */
	mmr_hist_merge(h, g);
	mmr_hist_add_n(h, 12345, 0);
	assert_int_equal(mmr_hist_count(h), 0);
	assert_int_equal(mmr_hist_min(h), 0);

	j = mmr_hist_to_json(h);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "buckets", &b));
	assert_int_equal(json_object_array_length(b), 0);
	assert_true(json_object_object_get_ex(j, "count", &b));
	assert_int_equal(json_object_get_int64(b), 0);
	mmr_hist_free(g);
	g = mmr_hist_from_json(j);
	assert_non_null(g);
	assert_same_hist(h, g);
	json_object_put(j);

	mmr_hist_free(g);
	mmr_hist_free(h);
	mmr_hist_free(NULL);
}

static void test_basic_stats(void **state)
{
	struct mmr_hist *h = new_hist();
	uint64_t v;

	(void)state;
	for (v = 1; v <= 100; v++)
		mmr_hist_add(h, v);
	assert_int_equal(mmr_hist_count(h), 100);
	assert_int_equal(mmr_hist_sum(h), 5050);
	assert_int_equal(mmr_hist_min(h), 1);
	assert_int_equal(mmr_hist_max(h), 100);
	assert_float_equal(mmr_hist_mean(h), 50.5, 1e-9);
	/* Exact buckets below 256: percentiles are exact ranks. */
	assert_int_equal(mmr_hist_percentile(h, 50), 50);
	assert_int_equal(mmr_hist_percentile(h, 90), 90);
	assert_int_equal(mmr_hist_percentile(h, 99), 99);
	assert_int_equal(mmr_hist_percentile(h, 99.9), 100);
	assert_int_equal(mmr_hist_percentile(h, 100), 100);
	assert_int_equal(mmr_hist_percentile(h, 0.1), 1);	/* rank >= 1 */
	assert_int_equal(mmr_hist_percentile(h, 1.5), 2);	/* ceil */
	/* Out-of-range p degrades to the extremes instead of misbehaving. */
	assert_int_equal(mmr_hist_percentile(h, 0), 1);
	assert_int_equal(mmr_hist_percentile(h, -5), 1);
	assert_int_equal(mmr_hist_percentile(h, 250), 100);

	mmr_hist_reset(h);
	assert_int_equal(mmr_hist_count(h), 0);
	assert_int_equal(mmr_hist_max(h), 0);
	assert_int_equal(mmr_hist_percentile(h, 50), 0);
	/* min after reset must come from new data, not a stale 1 or a 0. */
	mmr_hist_add(h, 7000);
	assert_int_equal(mmr_hist_min(h), 7000);
	assert_int_equal(mmr_hist_max(h), 7000);
	/* A single sample: every percentile is that sample, not the bucket edge. */
	assert_int_equal(mmr_hist_percentile(h, 1), 7000);
	assert_int_equal(mmr_hist_percentile(h, 100), 7000);
	mmr_hist_free(h);
}

static void test_percentile_capped(void **state)
{
	struct mmr_hist *h = new_hist();
	unsigned idx = mmr_hist_bucket_of(1001);

	(void)state;
	/* 1001 is not a bucket edge, so capping at max/min is visible. */
	assert_true(mmr_hist_bucket_high(idx) > 1001);
	assert_true(mmr_hist_bucket_low(idx) < 1001);
	mmr_hist_add(h, 1001);
	mmr_hist_add(h, mmr_hist_bucket_low(idx));
	assert_int_equal(mmr_hist_percentile(h, 50), 1001);
	assert_int_equal(mmr_hist_percentile(h, 100), 1001);

	mmr_hist_reset(h);
	mmr_hist_add(h, 1001);
	mmr_hist_add(h, 5000);
	/* Upper edge of the bucket holding 1001, below max. */
	assert_int_equal(mmr_hist_percentile(h, 50), mmr_hist_bucket_high(idx));
	mmr_hist_free(h);
}

static void check_random_percentiles(uint64_t n, unsigned bits, uint64_t seed)
{
	static const uint64_t pms[] = {
		1, 100, 1000, 10000, 25000, 50000, 75000, 90000,
		99000, 99900, 99990, 100000,
	};
	struct mmr_hist *h = new_hist();
	uint64_t *v = malloc(n * sizeof(*v));
	uint64_t i, sum = 0;
	size_t k;

	assert_non_null(v);
	rng_state = seed;
	for (i = 0; i < n; i++) {
		v[i] = rng_latency(bits);
		sum += v[i];
		mmr_hist_add(h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);

	assert_int_equal(mmr_hist_count(h), n);
	assert_int_equal(mmr_hist_sum(h), sum);
	assert_int_equal(mmr_hist_min(h), v[0]);
	assert_int_equal(mmr_hist_max(h), v[n - 1]);
	for (k = 0; k < ARRAY_SIZE(pms); k++) {
		uint64_t want = exact_pct(v, n, pms[k]);
		uint64_t got = mmr_hist_percentile(h, pms[k] / 1000.0);

		/* Upper bucket edge: never below the exact value, < 1% above. */
		if (got < want || (got - want) * 100 > want)
			fail_msg("n=%llu p=%g: got %llu, exact %llu",
				 (unsigned long long)n, pms[k] / 1000.0,
				 (unsigned long long)got,
				 (unsigned long long)want);
	}
	free(v);
	mmr_hist_free(h);
}

static void test_percentile_random(void **state)
{
	static const uint64_t sizes[] = { 1, 2, 3, 7, 10, 999, 1000, 12345, 200000 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		check_random_percentiles(sizes[i], 34, 100 + i);
		/* Narrow range: many duplicates, exact-bucket region. */
		check_random_percentiles(sizes[i], 9, 200 + i);
	}
}

static void test_add_n(void **state)
{
	struct mmr_hist *a = new_hist(), *b = new_hist();
	unsigned i;

	(void)state;
	mmr_hist_add_n(a, 300, 5);
	mmr_hist_add_n(a, 70000, 2);
	for (i = 0; i < 5; i++)
		mmr_hist_add(b, 300);
	mmr_hist_add(b, 70000);
	mmr_hist_add(b, 70000);
	assert_same_hist(a, b);
	assert_int_equal(mmr_hist_sum(a), 5 * 300 + 2 * 70000);
	mmr_hist_free(a);
	mmr_hist_free(b);
}

static void test_sum_saturates(void **state)
{
	struct mmr_hist *h = new_hist();

	(void)state;
	mmr_hist_add(h, UINT64_MAX / 2);
	mmr_hist_add(h, UINT64_MAX / 2);
	assert_int_equal(mmr_hist_sum(h), UINT64_MAX - 1);
	mmr_hist_add(h, UINT64_MAX / 2);
	assert_int_equal(mmr_hist_sum(h), UINT64_MAX);
	assert_int_equal(mmr_hist_count(h), 3);

	/* ns * n overflowing must saturate too, not wrap. */
	mmr_hist_reset(h);
	mmr_hist_add_n(h, 1ULL << 40, 1ULL << 30);
	assert_int_equal(mmr_hist_sum(h), UINT64_MAX);
	assert_int_equal(mmr_hist_count(h), 1ULL << 30);
	mmr_hist_free(h);
}

static void test_clamp(void **state)
{
	struct mmr_hist *h = new_hist();
	unsigned last = mmr_hist_nbuckets() - 1;
	uint64_t s200 = 200000000000ULL, s1000 = 1000000000000ULL;
	uint64_t p;

	(void)state;
	assert_int_equal(mmr_hist_bucket_of(MMR_HIST_MAX_NS + 1), last);
	assert_int_equal(mmr_hist_bucket_of(s200), last);
	assert_int_equal(mmr_hist_bucket_of(UINT64_MAX), last);
	/* The clamp really is at 100 s: just below lands lower. */
	assert_true(mmr_hist_bucket_of(mmr_hist_bucket_low(last) - 1) < last);

	mmr_hist_add(h, s200);
	mmr_hist_add(h, s1000);
	assert_int_equal(mmr_hist_count(h), 2);
	assert_int_equal(mmr_hist_sum(h), s200 + s1000);
	assert_int_equal(mmr_hist_min(h), s200);
	assert_int_equal(mmr_hist_max(h), s1000);
	/* Percentiles of clamped samples stay within [100 s, max]. */
	p = mmr_hist_percentile(h, 100);
	assert_true(p >= MMR_HIST_MAX_NS && p <= s1000);
	p = mmr_hist_percentile(h, 50);
	assert_true(p >= s200 && p <= s1000);

	/* Clamped histograms survive a JSON round trip (min/max disagree
	 * with the bucket edges, but lie in the clamping bucket). */
	{
		struct json_object *j = mmr_hist_to_json(h);
		struct mmr_hist *g;

		assert_non_null(j);
		g = mmr_hist_from_json(j);
		assert_non_null(g);
		assert_same_hist(h, g);
		mmr_hist_free(g);
		json_object_put(j);
	}

	mmr_hist_add(h, UINT64_MAX);
	assert_int_equal(mmr_hist_max(h), UINT64_MAX);
	assert_int_equal(mmr_hist_sum(h), UINT64_MAX);
	mmr_hist_free(h);
}

/* ---- merge --------------------------------------------------------- */

static void test_merge(void **state)
{
	struct mmr_hist *all = new_hist(), *a = new_hist(), *b = new_hist();
	struct mmr_hist *e = new_hist();
	unsigned i;

	(void)state;
	rng_state = 42;
	for (i = 0; i < 50000; i++) {
		/* Different ranges so min comes from b and max from a. */
		uint64_t v = i & 1 ? rng_latency(12) + 1 : rng_latency(36) + 5000;

		mmr_hist_add(all, v);
		mmr_hist_add(i & 1 ? b : a, v);
	}
	assert_true(mmr_hist_min(b) < mmr_hist_min(a));
	/* Nonzero min, so folding an empty src's zeroes in would show. */
	assert_true(mmr_hist_min(b) > 0);
	mmr_hist_merge(a, b);
	assert_same_hist(a, all);

	/* Into an empty one: min must come from src, not stay 0. */
	mmr_hist_merge(e, all);
	assert_same_hist(e, all);
	assert_true(mmr_hist_min(e) == mmr_hist_min(all));

	/* Empty src changes nothing. */
	mmr_hist_reset(b);
	mmr_hist_merge(a, b);
	assert_same_hist(a, all);

	mmr_hist_free(all);
	mmr_hist_free(a);
	mmr_hist_free(b);
	mmr_hist_free(e);
}

/* ---- JSON ---------------------------------------------------------- */

static struct mmr_hist *round_trip(const struct mmr_hist *h)
{
	struct json_object *j = mmr_hist_to_json(h), *parsed;
	struct mmr_hist *g;

	assert_non_null(j);
	/* Through text, as a result file would. */
	parsed = json_tokener_parse(json_object_to_json_string_ext(j,
						JSON_C_TO_STRING_PLAIN));
	assert_non_null(parsed);
	json_object_put(j);
	g = mmr_hist_from_json(parsed);
	if (!g)
		fail_msg("from_json: %s", mmr_strerror());
	json_object_put(parsed);
	return g;
}

static uint64_t get_u64(struct json_object *j, const char *key)
{
	struct json_object *o;

	assert_true(json_object_object_get_ex(j, key, &o));
	assert_true(json_object_is_type(o, json_type_int));
	return json_object_get_uint64(o);
}

static void test_json_fields(void **state)
{
	struct mmr_hist *h = new_hist();
	struct json_object *j, *b, *pair, *o;
	uint64_t prev = 0, total = 0;
	size_t i;

	(void)state;
	/* Ranks 1-899, 900-989, 990-998, 999, 1000: distinct percentiles. */
	mmr_hist_add_n(h, 5, 899);
	mmr_hist_add_n(h, 100, 90);
	mmr_hist_add_n(h, 300, 9);
	mmr_hist_add(h, 7000);
	mmr_hist_add(h, 1000000);
	assert_int_equal(mmr_hist_bucket_high(mmr_hist_bucket_of(300)), 301);
	assert_int_equal(mmr_hist_bucket_high(mmr_hist_bucket_of(7000)), 7007);
	j = mmr_hist_to_json(h);
	assert_non_null(j);
	assert_int_equal(get_u64(j, "count"), 1000);
	assert_int_equal(get_u64(j, "sum"), 1023195);
	assert_int_equal(get_u64(j, "min"), 5);
	assert_int_equal(get_u64(j, "max"), 1000000);
	assert_int_equal(get_u64(j, "p50"), 5);
	assert_int_equal(get_u64(j, "p90"), 100);
	assert_int_equal(get_u64(j, "p99"), 301);
	assert_int_equal(get_u64(j, "p999"), 7007);
	assert_true(json_object_object_get_ex(j, "mean", &o));
	assert_true(json_object_is_type(o, json_type_double));
	assert_float_equal(json_object_get_double(o), 1023.195, 1e-9);

	/* Only non-empty buckets, ascending, counts adding up. */
	assert_true(json_object_object_get_ex(j, "buckets", &b));
	assert_int_equal(json_object_array_length(b), 5);
	for (i = 0; i < 5; i++) {
		uint64_t idx, n;

		pair = json_object_array_get_idx(b, i);
		assert_int_equal(json_object_array_length(pair), 2);
		idx = json_object_get_uint64(json_object_array_get_idx(pair, 0));
		n = json_object_get_uint64(json_object_array_get_idx(pair, 1));
		assert_true(n > 0);
		assert_true(i == 0 || idx > prev);
		prev = idx;
		total += n;
	}
	assert_int_equal(total, 1000);
	pair = json_object_array_get_idx(b, 0);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(pair, 0)), 5);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(pair, 1)), 899);
	json_object_put(j);
	mmr_hist_free(h);
}

static void test_json_round_trip(void **state)
{
	struct mmr_hist *h = new_hist(), *g, *c;
	unsigned i;

	(void)state;
	rng_state = 7;
	for (i = 0; i < 100000; i++)
		mmr_hist_add(h, rng_latency(36));
	g = round_trip(h);
	assert_same_hist(h, g);
	/* The rebuilt histogram must also merge like the original. */
	c = new_hist();
	mmr_hist_merge(c, h);
	mmr_hist_merge(c, h);
	mmr_hist_merge(g, h);
	assert_same_hist(c, g);
	mmr_hist_free(c);
	mmr_hist_free(g);

	/* Values above INT64_MAX (saturated sum, huge max) survive the text. */
	mmr_hist_reset(h);
	mmr_hist_add(h, UINT64_MAX);
	mmr_hist_add(h, UINT64_MAX - 1);
	assert_int_equal(mmr_hist_sum(h), UINT64_MAX);
	g = round_trip(h);
	assert_same_hist(h, g);
	assert_int_equal(mmr_hist_sum(g), UINT64_MAX);
	assert_int_equal(mmr_hist_max(g), UINT64_MAX);
	assert_int_equal(mmr_hist_min(g), UINT64_MAX - 1);
	mmr_hist_free(g);
	mmr_hist_free(h);
}

static void expect_reject(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	struct mmr_hist *h;

	/* "null" parses to NULL, which from_json must reject as well. */
	if (!j && strcmp(text, "null"))
		fail_msg("test input is not JSON: %s", text);
	mmr_clearerr();
	h = mmr_hist_from_json(j);
	json_object_put(j);
	if (h) {
		mmr_hist_free(h);
		fail_msg("accepted: %s", text);
	}
	assert_int_equal(mmr_errcode(), MMR_E_FORMAT);
	if (strncmp(mmr_strerror(), "histogram: ", 11))
		fail_msg("bad message for %s: %s", text, mmr_strerror());
}

static void expect_accept(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	struct mmr_hist *h;

	assert_non_null(j);
	h = mmr_hist_from_json(j);
	if (!h)
		fail_msg("rejected %s: %s", text, mmr_strerror());
	mmr_hist_free(h);
	json_object_put(j);
}

#define HDR "\"count\":3,\"sum\":310,\"min\":5,\"max\":300"

static void test_json_reject(void **state)
{
	static const char *const bad[] = {
		/* wrong top-level type */
		"null", "[]", "3", "\"hist\"", "[" "{" HDR ",\"buckets\":[]}" "]",
		/* missing or mistyped scalar fields */
		"{\"sum\":310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":5,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":\"3\",\"sum\":310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3.0,\"sum\":310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":null,\"sum\":310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":true,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":[5],\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":5,\"max\":{},\"buckets\":[[5,2],[278,1]]}",
		/* negative numbers */
		"{\"count\":-3,\"sum\":310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":-310,\"min\":5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":-5,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":5,\"max\":-300,\"buckets\":[[5,2],[278,1]]}",
		"{" HDR ",\"buckets\":[[-5,2],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,-2],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,4],[278,-1]]}",
		/* buckets missing or malformed */
		"{" HDR "}",
		"{" HDR ",\"buckets\":null}",
		"{" HDR ",\"buckets\":{\"5\":2,\"278\":1}}",
		"{" HDR ",\"buckets\":[5,2,278,1]}",
		"{" HDR ",\"buckets\":[[5,2],278]}",
		"{" HDR ",\"buckets\":[[5],[5],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,2,0],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,2],[]]}",
		"{" HDR ",\"buckets\":[[\"5\",2],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,\"2\"],[278,1]]}",
		"{" HDR ",\"buckets\":[[5.0,2],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,2.0],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,2],[278,null]]}",
		/* index out of range, zero or duplicate counts */
		"{" HDR ",\"buckets\":[[5,2],[18446744073709551615,1]]}",
		"{" HDR ",\"buckets\":[[5,2],[4294967552,1]]}",	/* 2^32+256 */
		"{" HDR ",\"buckets\":[[5,2],[7,0],[278,1]]}",
		"{" HDR ",\"buckets\":[[5,1],[5,1],[278,1]]}",
		/* counts not summing to "count" */
		"{" HDR ",\"buckets\":[[5,2],[278,2]]}",
		"{" HDR ",\"buckets\":[[5,1],[278,1]]}",
		"{" HDR ",\"buckets\":[]}",
		"{" HDR ",\"buckets\":[[5,18446744073709551615],[278,4]]}",
		/* min/max inconsistent with each other or the buckets */
		"{\"count\":3,\"sum\":310,\"min\":300,\"max\":5,\"buckets\":[[5,2],[278,1]]}",
		/* same bucket (300 and 301 share 278), still min > max */
		"{\"count\":2,\"sum\":601,\"min\":301,\"max\":300,\"buckets\":[[278,2]]}",
		"{\"count\":3,\"sum\":310,\"min\":4,\"max\":300,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":3,\"sum\":310,\"min\":5,\"max\":299,\"buckets\":[[5,2],[278,1]]}",
		"{\"count\":0,\"sum\":1,\"min\":0,\"max\":0,\"buckets\":[]}",
		"{\"count\":0,\"sum\":0,\"min\":0,\"max\":7,\"buckets\":[]}",
	};
	char buf[256];
	unsigned nb = mmr_hist_nbuckets();
	size_t i;

	(void)state;
	/* The base document is valid, so each rejection is due to its change. */
	assert_int_equal(mmr_hist_bucket_of(300), 278);
	expect_accept("{" HDR ",\"buckets\":[[5,2],[278,1]]}");
	expect_accept("{" HDR ",\"buckets\":[[278,1],[5,2]],\"p50\":\"ignored\"}");
	expect_accept("{\"count\":2,\"sum\":601,\"min\":300,\"max\":301,\"buckets\":[[278,2]]}");
	expect_accept("{\"count\":0,\"sum\":0,\"min\":0,\"max\":0,\"buckets\":[]}");

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		expect_reject(bad[i]);

	/* Last index is fine, one past it is not. */
	snprintf(buf, sizeof(buf),
		 "{\"count\":1,\"sum\":%llu,\"min\":%llu,\"max\":%llu,"
		 "\"buckets\":[[%u,1]]}",
		 MMR_HIST_MAX_NS, MMR_HIST_MAX_NS, MMR_HIST_MAX_NS, nb - 1);
	expect_accept(buf);
	snprintf(buf, sizeof(buf),
		 "{\"count\":1,\"sum\":%llu,\"min\":%llu,\"max\":%llu,"
		 "\"buckets\":[[%u,1]]}",
		 MMR_HIST_MAX_NS, MMR_HIST_MAX_NS, MMR_HIST_MAX_NS, nb);
	expect_reject(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_layout),
		cmocka_unit_test(test_bucket_contains_small),
		cmocka_unit_test(test_bucket_contains_large),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_basic_stats),
		cmocka_unit_test(test_percentile_capped),
		cmocka_unit_test(test_percentile_random),
		cmocka_unit_test(test_add_n),
		cmocka_unit_test(test_sum_saturates),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
