/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The planner's model of one recorded address space: which recorded
 * address ranges belong to which replay region. Private to replay/.
 */
#ifndef MMR_PLAN_MM_H
#define MMR_PLAN_MM_H

#include <stdbool.h>
#include <stdint.h>

/* [start, end) of recorded addresses inside region; offset = addr - rec_start. */
struct mmr_seg {
	uint64_t start, end;
	uint32_t region;
	uint64_t rec_start;	/* the region's recorded address of offset 0 */
};

struct mmr_mm {
	struct mmr_seg *segs;	/* sorted by start, never overlapping */
	unsigned n, cap;
	uint32_t heap;		/* heap region, MMR_PLAN_NONE when unknown */
	uint64_t heap_start, brk;	/* recorded */
};

void mmr_mm_init(struct mmr_mm *mm);
void mmr_mm_release(struct mmr_mm *mm);
/* dst becomes a copy of src (fork). -1 on ENOMEM. */
int mmr_mm_copy(struct mmr_mm *dst, const struct mmr_mm *src);
/* Remove [start, end) from every segment (splitting them). -1 on ENOMEM. */
int mmr_mm_remove(struct mmr_mm *mm, uint64_t start, uint64_t end);
/* Map [start, end) to region (after removing what was there). */
int mmr_mm_insert(struct mmr_mm *mm, uint64_t start, uint64_t end, uint32_t region,
		  uint64_t rec_start);
/* Segment holding addr, or NULL. */
const struct mmr_seg *mmr_mm_find(const struct mmr_mm *mm, uint64_t addr);
/* First segment starting after addr, or NULL. */
const struct mmr_seg *mmr_mm_next(const struct mmr_mm *mm, uint64_t addr);
/* Last segment ending at or before addr (end <= addr), or NULL. */
const struct mmr_seg *mmr_mm_prev(const struct mmr_mm *mm, uint64_t addr);

#endif
