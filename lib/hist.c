// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Log-linear latency histogram.
 *
 * Values 0..255 ns have one bucket each. Above that, each power of two
 * [2^m, 2^(m+1)) with m >= 8 is split into 128 equal sub-buckets of width
 * 2^(m-7), so a bucket is never wider than 1/128 (< 1%) of its low edge.
 * Values above MMR_HIST_MAX_NS share the bucket of MMR_HIST_MAX_NS; count,
 * sum, min and max are kept exactly beside the buckets.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-hist.h"

#include "hist-geometry.h"

struct mmr_hist {
	uint64_t count;
	uint64_t sum;		/* saturates at UINT64_MAX */
	uint64_t min;		/* meaningful only when count > 0 */
	uint64_t max;
	uint64_t buckets[NBUCKETS];
};

struct mmr_hist *mmr_hist_new(void)
{
	struct mmr_hist *h = calloc(1, sizeof(*h));

	if (!h) {
		mmr_seterr(MMR_E_NOMEM, "histogram: out of memory");
		return NULL;
	}
	return h;
}

void mmr_hist_free(struct mmr_hist *h)
{
	free(h);
}

void mmr_hist_reset(struct mmr_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/*
 * Fold a batch of n samples with the given bounds into h. Shared by add
 * and merge so min/max/sum follow the same rules in both.
 */
static void account(struct mmr_hist *h, uint64_t n, uint64_t sum,
		    uint64_t lo, uint64_t hi)
{
	if (!h->count || lo < h->min)
		h->min = lo;
	if (!h->count || hi > h->max)
		h->max = hi;
	/* 2^64 samples are out of reach; the count is not saturated. */
	h->count += n;
	h->sum = sat_add(h->sum, sum);
}

void mmr_hist_add_n(struct mmr_hist *h, uint64_t ns, uint64_t n)
{
	uint64_t sum;

	if (!n)
		return;
	if (__builtin_mul_overflow(ns, n, &sum))
		sum = UINT64_MAX;
	h->buckets[mmr_hist_bucket_of(ns)] += n;
	account(h, n, sum, ns, ns);
}

void mmr_hist_add(struct mmr_hist *h, uint64_t ns)
{
	mmr_hist_add_n(h, ns, 1);
}

void mmr_hist_merge(struct mmr_hist *dst, const struct mmr_hist *src)
{
	unsigned i;

	/* An empty src has no meaningful min/max to fold in. */
	if (!src->count)
		return;
	for (i = 0; i < NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	account(dst, src->count, src->sum, src->min, src->max);
}

uint64_t mmr_hist_count(const struct mmr_hist *h)
{
	return h->count;
}

uint64_t mmr_hist_sum(const struct mmr_hist *h)
{
	return h->sum;
}

uint64_t mmr_hist_min(const struct mmr_hist *h)
{
	return h->count ? h->min : 0;
}

uint64_t mmr_hist_max(const struct mmr_hist *h)
{
	return h->count ? h->max : 0;
}

double mmr_hist_mean(const struct mmr_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t mmr_hist_percentile(const struct mmr_hist *h, double p)
{
	uint64_t rank, cum = 0, v;
	double r;
	unsigned i;

	if (!h->count)
		return 0;
	/* Out-of-range p (and NaN) degrade to the nearest meaningful rank. */
	if (!(p > 0.0))
		p = 0.0;
	if (p > 100.0)
		p = 100.0;
	/* p * count first: exact for integral p, so p50 of 10 is rank 5. */
	r = ceil(p * (double)h->count / 100.0);
	rank = r < 1.0 ? 1 : r >= (double)h->count ? h->count : (uint64_t)r;

	for (i = 0; i < NBUCKETS; i++) {
		cum += h->buckets[i];
		if (cum >= rank)
			break;
	}
	if (i == NBUCKETS)	/* only if buckets and count disagree */
		return h->max;
	v = mmr_hist_bucket_high(i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

/* ---- JSON ---------------------------------------------------------- */

static int add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	struct json_object *o = json_object_new_uint64(v);

	if (!o)
		return -1;
	if (json_object_object_add(obj, key, o)) {
		json_object_put(o);
		return -1;
	}
	return 0;
}

struct json_object *mmr_hist_to_json(const struct mmr_hist *h)
{
	struct json_object *obj, *arr, *pair = NULL, *o;
	unsigned i;

	obj = json_object_new_object();
	if (!obj)
		goto err_nomem;
	if (add_u64(obj, "count", h->count) ||
	    add_u64(obj, "sum", h->sum) ||
	    add_u64(obj, "min", mmr_hist_min(h)) ||
	    add_u64(obj, "max", mmr_hist_max(h)))
		goto err_obj;
	o = json_object_new_double(mmr_hist_mean(h));
	if (!o || json_object_object_add(obj, "mean", o)) {
		json_object_put(o);
		goto err_obj;
	}
	if (add_u64(obj, "p50", mmr_hist_percentile(h, 50.0)) ||
	    add_u64(obj, "p90", mmr_hist_percentile(h, 90.0)) ||
	    add_u64(obj, "p99", mmr_hist_percentile(h, 99.0)) ||
	    add_u64(obj, "p999", mmr_hist_percentile(h, 99.9)))
		goto err_obj;

	arr = json_object_new_array();
	if (!arr)
		goto err_obj;
	if (json_object_object_add(obj, "buckets", arr)) {
		json_object_put(arr);
		goto err_obj;
	}
	/* arr is owned by obj from here on; pair until it joins arr. */
	for (i = 0; i < NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		pair = json_object_new_array_ext(2);
		if (!pair)
			goto err_obj;
		o = json_object_new_uint64(i);
		if (!o || json_object_array_add(pair, o)) {
			json_object_put(o);
			goto err_pair;
		}
		o = json_object_new_uint64(h->buckets[i]);
		if (!o || json_object_array_add(pair, o)) {
			json_object_put(o);
			goto err_pair;
		}
		if (json_object_array_add(arr, pair))
			goto err_pair;
		pair = NULL;
	}
	return obj;

err_pair:
	json_object_put(pair);
err_obj:
	json_object_put(obj);
err_nomem:
	mmr_seterr(MMR_E_NOMEM, "histogram: out of memory building JSON");
	return NULL;
}

/*
 * A non-negative JSON integer. json-c keeps values above INT64_MAX as
 * uint64, for which get_int64 reports INT64_MAX, so the sign test is safe.
 */
static int get_u64(struct json_object *o, uint64_t *v)
{
	if (!json_object_is_type(o, json_type_int))
		return -1;
	if (json_object_get_int64(o) < 0)
		return -1;
	*v = json_object_get_uint64(o);
	return 0;
}

static int get_field(struct json_object *obj, const char *key, uint64_t *v)
{
	struct json_object *o;

	if (!json_object_object_get_ex(obj, key, &o))
		return mmr_seterr(MMR_E_FORMAT, "histogram: missing \"%s\"", key);
	if (get_u64(o, v))
		return mmr_seterr(MMR_E_FORMAT,
				  "histogram: \"%s\" is not a non-negative integer",
				  key);
	return 0;
}

struct mmr_hist *mmr_hist_from_json(struct json_object *obj)
{
	struct json_object *arr, *pair;
	uint64_t idx, n, total = 0;
	unsigned first = NBUCKETS, last = 0;
	struct mmr_hist *h;
	size_t i, len;

	if (!json_object_is_type(obj, json_type_object)) {
		mmr_seterr(MMR_E_FORMAT, "histogram: not a JSON object");
		return NULL;
	}
	h = mmr_hist_new();
	if (!h)
		return NULL;
	if (get_field(obj, "count", &h->count) ||
	    get_field(obj, "sum", &h->sum) ||
	    get_field(obj, "min", &h->min) ||
	    get_field(obj, "max", &h->max))
		goto err;

	if (!json_object_object_get_ex(obj, "buckets", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		mmr_seterr(MMR_E_FORMAT, "histogram: \"buckets\" is not an array");
		goto err;
	}
	len = json_object_array_length(arr);
	for (i = 0; i < len; i++) {
		pair = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2 ||
		    get_u64(json_object_array_get_idx(pair, 0), &idx) ||
		    get_u64(json_object_array_get_idx(pair, 1), &n)) {
			mmr_seterr(MMR_E_FORMAT,
				   "histogram: bucket %zu is not [index, count]", i);
			goto err;
		}
		if (idx >= NBUCKETS) {
			mmr_seterr(MMR_E_FORMAT,
				   "histogram: bucket index %llu out of range (max %u)",
				   (unsigned long long)idx, NBUCKETS - 1);
			goto err;
		}
		if (!n) {
			mmr_seterr(MMR_E_FORMAT,
				   "histogram: bucket %llu has count 0",
				   (unsigned long long)idx);
			goto err;
		}
		/* A repeated index would be ambiguous; to_json never writes one. */
		if (h->buckets[idx]) {
			mmr_seterr(MMR_E_FORMAT,
				   "histogram: bucket %llu listed twice",
				   (unsigned long long)idx);
			goto err;
		}
		if (__builtin_add_overflow(total, n, &total)) {
			mmr_seterr(MMR_E_FORMAT, "histogram: bucket counts overflow");
			goto err;
		}
		h->buckets[idx] = n;
		if (idx < first)
			first = (unsigned)idx;
		if (idx > last)
			last = (unsigned)idx;
	}

	if (total != h->count) {
		mmr_seterr(MMR_E_FORMAT,
			   "histogram: bucket counts sum to %llu, \"count\" is %llu",
			   (unsigned long long)total, (unsigned long long)h->count);
		goto err;
	}
	if (!h->count) {
		/* Reject junk that would leak into a later merge. */
		if (h->sum || h->min || h->max) {
			mmr_seterr(MMR_E_FORMAT,
				   "histogram: empty but sum/min/max not 0");
			goto err;
		}
		return h;
	}
	/*
	 * min and max must lie in the outermost non-empty buckets, or
	 * percentiles (clamped to [min, max]) would report nonsense.
	 */
	if (h->min > h->max || mmr_hist_bucket_of(h->min) != first ||
	    mmr_hist_bucket_of(h->max) != last) {
		mmr_seterr(MMR_E_FORMAT,
			   "histogram: min/max disagree with the buckets");
		goto err;
	}
	return h;

err:
	mmr_hist_free(h);
	return NULL;
}
