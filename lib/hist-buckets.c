// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bucket arithmetic of the log-linear histogram (see hist.c). Apart from
 * the rest so that mmreplay-task, which fills histograms in shared memory,
 * links it without json-c.
 */
#include "hist-geometry.h"

/* Bucket of ns without clamping; valid for every uint64_t. */
static unsigned bucket_raw(uint64_t ns)
{
	unsigned m;

	if (ns < EXACT_COUNT)
		return (unsigned)ns;
	m = 63 - (unsigned)__builtin_clzll(ns);
	return EXACT_COUNT + (m - EXACT_BITS) * SUB_COUNT +
	       (unsigned)(ns >> (m - SUB_BITS)) - SUB_COUNT;
}

unsigned mmr_hist_bucket_of(uint64_t ns)
{
	if (ns > MMR_HIST_MAX_NS)
		ns = MMR_HIST_MAX_NS;
	return bucket_raw(ns);
}

unsigned mmr_hist_nbuckets(void)
{
	return NBUCKETS;
}

/* Indices past the end are treated as the last (clamping) bucket. */
uint64_t mmr_hist_bucket_low(unsigned idx)
{
	unsigned m, sub;

	if (idx >= NBUCKETS)
		idx = NBUCKETS - 1;
	if (idx < EXACT_COUNT)
		return idx;
	m = EXACT_BITS + (idx - EXACT_COUNT) / SUB_COUNT;
	sub = (idx - EXACT_COUNT) % SUB_COUNT;
	return (uint64_t)(SUB_COUNT + sub) << (m - SUB_BITS);
}

uint64_t mmr_hist_bucket_high(unsigned idx)
{
	unsigned m;

	if (idx >= NBUCKETS)
		idx = NBUCKETS - 1;
	if (idx < EXACT_COUNT)
		return idx;
	m = EXACT_BITS + (idx - EXACT_COUNT) / SUB_COUNT;
	return mmr_hist_bucket_low(idx) + (1ULL << (m - SUB_BITS)) - 1;
}
