// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a replay process puts the recorded program's binary and heap.
 *
 * Fork copies a page-table page for every 2 MiB, 1 GiB and 512 GiB of
 * address space that holds anonymous pages, and a page-table page costs
 * a fork about 5 us on a 2-CPU VM (more than a fault or a mapping). The
 * replay helper's own data (a static program at 0x400000) is such
 * memory, far from anything the recorded program had: three page-table
 * pages in every replayed fork that the recorded fork did not copy.
 *
 * So the recorded binary and heap (everything the recording had in the
 * same 512 GiB as its heap) move as one block, by a multiple of 2 MiB,
 * into the helper's 512 GiB and, where they fit around the helper, into
 * the very 2 MiB block of its data. The block keeps its recorded offsets
 * inside, to its 2 MiB boundaries and its number of GiB boundaries, so
 * the replayed fork copies the page tables the recorded one did, and the
 * helper's data shares them.
 */
#include <stdint.h>
#include <string.h>

#include "exec-internal.h"

#define PTE_SPAN (1ull << 21)	/* what one page of PTEs maps */
#define PMD_SPAN (1ull << 30)
#define PUD_SPAN (1ull << 39)
#define LOW_LIMIT (1ull << 20)	/* nothing moves below: mmap_min_addr and the NULL page */

static uint64_t region_end(const struct mmr_plan *p, const struct mmr_plan_region *r)
{
	return r->rec_start + (r->len ? r->len : p->page_size);
}

/* Shifted by delta, does the block [lo, hi) of regions in [top, top + PUD_SPAN) fit? */
static bool fits(const struct mmr_plan *p, uint64_t top, uint64_t lo, uint64_t hi, uint64_t delta,
		 uint64_t self_lo, uint64_t self_hi)
{
	uint64_t home = self_lo & ~(PUD_SPAN - 1), nlo = lo + delta, nhi = hi + delta;

	if (nlo < home + LOW_LIMIT || nhi > home + PUD_SPAN || nhi <= nlo)
		return false;
	/* as many 1 GiB blocks (pages of PMDs) as recorded */
	if (((nhi - 1) >> 30) - (nlo >> 30) != ((hi - 1) >> 30) - (lo >> 30))
		return false;
	for (uint32_t i = 0; i < p->nregions; i++) {
		const struct mmr_plan_region *r = &p->regions[i];

		if (r->rec_start - top >= PUD_SPAN)
			continue;
		if (r->rec_start + delta < self_hi && region_end(p, r) + delta > self_lo)
			return false;
	}
	return true;
}

void mmr_xshift_choose(const struct mmr_plan *p, uint32_t anchor, uint64_t self_lo, uint64_t self_hi,
		       struct mmr_xshift *s)
{
	const struct mmr_plan_region *first = NULL, *a;
	uint64_t top, lo = UINT64_MAX, hi = 0, slot, cand[6];

	memset(s, 0, sizeof(*s));
	if (anchor >= p->nregions || !self_hi || self_lo >= self_hi || !p->page_size)
		return;
	a = &p->regions[anchor];
	top = a->rec_start & ~(PUD_SPAN - 1);
	for (uint32_t i = 0; i < p->nregions; i++) {
		const struct mmr_plan_region *r = &p->regions[i];

		if (r->rec_start - top >= PUD_SPAN)
			continue;
		if (r->rec_start < lo) {
			lo = r->rec_start;
			first = r;
		}
		if (region_end(p, r) > hi)
			hi = region_end(p, r);
	}
	/*
	 * Onto the 2 MiB block of the helper's last data page (its heap grows
	 * on from there): the binary's or the heap's first or last block.
	 * Else by whole GiB, which keeps every boundary where it was: into
	 * the helper's GiB (its page of PMDs shared) or the next.
	 */
	slot = (self_hi - 1) & ~(PTE_SPAN - 1);
	cand[0] = slot - (first->rec_start & ~(PTE_SPAN - 1));
	cand[1] = slot - ((region_end(p, first) - 1) & ~(PTE_SPAN - 1));
	cand[2] = slot - (a->rec_start & ~(PTE_SPAN - 1));
	cand[3] = slot - ((region_end(p, a) - 1) & ~(PTE_SPAN - 1));
	cand[4] = (self_lo & ~(PMD_SPAN - 1)) - (lo & ~(PMD_SPAN - 1));
	cand[5] = cand[4] + PMD_SPAN;
	for (unsigned i = 0; i < 6; i++) {
		if (!fits(p, top, lo, hi, cand[i], self_lo, self_hi))
			continue;
		s->lo = top;
		s->hi = top + PUD_SPAN;
		s->delta = cand[i];
		return;
	}
}
