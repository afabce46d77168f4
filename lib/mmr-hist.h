/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log-linear latency histogram (HDR style): values in ns from 1 ns to
 * 100 s, relative bucket width under 1% (128 sub-buckets per power of two,
 * exact below 256 ns). Histograms merge by adding buckets, so per-run
 * histograms combine into a summary without keeping samples.
 */
#ifndef MMR_HIST_H
#define MMR_HIST_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;
struct mmr_hist;

#define MMR_HIST_MAX_NS 100000000000ULL	/* 100 s; larger values clamp */

/* New empty histogram; NULL on ENOMEM. Free with mmr_hist_free (NULL ok). */
struct mmr_hist *mmr_hist_new(void);
void mmr_hist_free(struct mmr_hist *h);
void mmr_hist_reset(struct mmr_hist *h);

void mmr_hist_add(struct mmr_hist *h, uint64_t ns);
void mmr_hist_add_n(struct mmr_hist *h, uint64_t ns, uint64_t n);
/* dst += src */
void mmr_hist_merge(struct mmr_hist *dst, const struct mmr_hist *src);

uint64_t mmr_hist_count(const struct mmr_hist *h);
uint64_t mmr_hist_sum(const struct mmr_hist *h);	/* exact sum of added values */
uint64_t mmr_hist_min(const struct mmr_hist *h);	/* exact; 0 when empty */
uint64_t mmr_hist_max(const struct mmr_hist *h);	/* exact; 0 when empty */
double mmr_hist_mean(const struct mmr_hist *h);
/*
 * Value at percentile p (0 < p <= 100): the upper edge of the bucket holding
 * the sample of that rank, capped at max. 0 when empty.
 */
uint64_t mmr_hist_percentile(const struct mmr_hist *h, double p);

/*
 * JSON form: {"count","sum","min","max","mean","p50","p90","p99","p999",
 * "buckets":[[index,count],...]} (non-empty buckets only, so a sparse
 * histogram stays small). to_json returns a new object the caller owns.
 * from_json rebuilds a histogram that merges and reports exactly like the
 * original; it returns NULL with an error for malformed input.
 */
struct json_object *mmr_hist_to_json(const struct mmr_hist *h);
struct mmr_hist *mmr_hist_from_json(struct json_object *obj);

/* Bucket index <-> value range, exposed for tests and the dashboard. */
unsigned mmr_hist_bucket_of(uint64_t ns);
uint64_t mmr_hist_bucket_low(unsigned idx);
uint64_t mmr_hist_bucket_high(unsigned idx);	/* inclusive */
unsigned mmr_hist_nbuckets(void);

#endif
