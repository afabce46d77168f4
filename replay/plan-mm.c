// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recorded address spaces for the planner: a sorted array of segments.
 * Address spaces have hundreds of mappings, not millions, so arrays with
 * binary search and memmove beat a tree in code size and speed here.
 */
#include <stdlib.h>
#include <string.h>

#include "mmr-error.h"
#include "mmr-plan.h"
#include "plan-mm.h"

void mmr_mm_init(struct mmr_mm *mm)
{
	memset(mm, 0, sizeof(*mm));
	mm->heap = MMR_PLAN_NONE;
}

void mmr_mm_release(struct mmr_mm *mm)
{
	free(mm->segs);
	mmr_mm_init(mm);
}

static int reserve(struct mmr_mm *mm, unsigned extra)
{
	struct mmr_seg *s;
	unsigned cap;

	if (mm->n + extra <= mm->cap)
		return 0;
	cap = mm->cap ? mm->cap * 2 : 16;
	while (cap < mm->n + extra)
		cap *= 2;
	s = realloc(mm->segs, cap * sizeof(*s));
	if (!s)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	mm->segs = s;
	mm->cap = cap;
	return 0;
}

int mmr_mm_copy(struct mmr_mm *dst, const struct mmr_mm *src)
{
	mmr_mm_init(dst);
	if (reserve(dst, src->n) < 0)
		return -1;
	if (src->n)
		memcpy(dst->segs, src->segs, src->n * sizeof(*src->segs));
	dst->n = src->n;
	dst->heap = src->heap;
	dst->heap_start = src->heap_start;
	dst->brk = src->brk;
	return 0;
}

/* Index of the first segment with end > addr (n when none). */
static unsigned first_ending_after(const struct mmr_mm *mm, uint64_t addr)
{
	unsigned lo = 0, hi = mm->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (mm->segs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mmr_seg *mmr_mm_find(const struct mmr_mm *mm, uint64_t addr)
{
	unsigned i = first_ending_after(mm, addr);

	return i < mm->n && mm->segs[i].start <= addr ? &mm->segs[i] : NULL;
}

const struct mmr_seg *mmr_mm_next(const struct mmr_mm *mm, uint64_t addr)
{
	unsigned i = first_ending_after(mm, addr);

	if (i < mm->n && mm->segs[i].start <= addr)
		i++;
	return i < mm->n ? &mm->segs[i] : NULL;
}

const struct mmr_seg *mmr_mm_prev(const struct mmr_mm *mm, uint64_t addr)
{
	unsigned i = first_ending_after(mm, addr);

	/* segs[i - 1] is the last with end <= addr */
	return i > 0 ? &mm->segs[i - 1] : NULL;
}

int mmr_mm_remove(struct mmr_mm *mm, uint64_t start, uint64_t end)
{
	unsigned i, j;

	if (start >= end)
		return 0;
	i = first_ending_after(mm, start);
	if (i < mm->n && mm->segs[i].start < start && mm->segs[i].end > end) {
		/* A hole inside one segment: split it in two. */
		if (reserve(mm, 1) < 0)
			return -1;
		memmove(&mm->segs[i + 1], &mm->segs[i], (mm->n - i) * sizeof(*mm->segs));
		mm->n++;
		mm->segs[i].end = start;
		mm->segs[i + 1].start = end;
		return 0;
	}
	if (i < mm->n && mm->segs[i].start < start) {
		mm->segs[i].end = start;	/* keep the head */
		i++;
	}
	for (j = i; j < mm->n && mm->segs[j].end <= end; j++)
		;	/* wholly covered */
	if (j < mm->n && mm->segs[j].start < end)
		mm->segs[j].start = end;	/* keep the tail */
	if (j > i) {
		memmove(&mm->segs[i], &mm->segs[j], (mm->n - j) * sizeof(*mm->segs));
		mm->n -= j - i;
	}
	return 0;
}

int mmr_mm_insert(struct mmr_mm *mm, uint64_t start, uint64_t end, uint32_t region,
		  uint64_t rec_start)
{
	unsigned i;

	if (start >= end)
		return 0;
	if (mmr_mm_remove(mm, start, end) < 0 || reserve(mm, 1) < 0)
		return -1;
	i = first_ending_after(mm, start);
	memmove(&mm->segs[i + 1], &mm->segs[i], (mm->n - i) * sizeof(*mm->segs));
	mm->segs[i] = (struct mmr_seg){ start, end, region, rec_start };
	mm->n++;
	return 0;
}
