/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The histogram's bucket layout, shared by hist.c and hist-buckets.c (the
 * part the task helper links: no json-c, no malloc).
 */
#ifndef MMR_HIST_GEOMETRY_H
#define MMR_HIST_GEOMETRY_H

#include "mmr-hist.h"

#define SUB_BITS	7			/* 128 sub-buckets per octave */
#define SUB_COUNT	(1u << SUB_BITS)
#define EXACT_BITS	(SUB_BITS + 1)		/* first log octave is 2^8 */
#define EXACT_COUNT	(1u << EXACT_BITS)	/* 256 exact buckets */

/*
 * floor(log2(MMR_HIST_MAX_NS)) spelled as a constant so the bucket array
 * can be sized at compile time; the assert keeps it honest if the limit
 * ever changes.
 */
#define MAX_LOG2	36
_Static_assert((1ULL << MAX_LOG2) <= MMR_HIST_MAX_NS &&
	       MMR_HIST_MAX_NS < (1ULL << (MAX_LOG2 + 1)),
	       "MAX_LOG2 does not match MMR_HIST_MAX_NS");

#define NBUCKETS	(EXACT_COUNT + (MAX_LOG2 - EXACT_BITS) * SUB_COUNT + \
			 (unsigned)(MMR_HIST_MAX_NS >> (MAX_LOG2 - SUB_BITS)) - \
			 SUB_COUNT + 1)

#endif
