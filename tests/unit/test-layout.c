// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where a replay process puts the recorded binary and heap
 * (replay/exec-layout.c): next to the helper's data, in its 2 MiB block
 * where they fit around it, every mapping at its recorded offset from the
 * others and from its 2 MiB boundary (so fork copies the page tables the
 * recorded fork did), never over the helper, and nothing else moved.
 */
#include "test-util.h"
#include "exec-internal.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define SELF_LO 0x400000ull		/* a static helper's code */
#define SELF_HI (0x600000ull + 0x2f000)	/* its data and heap, from a 2 MiB boundary */

static struct mmr_plan_region regs[8];
static struct mmr_plan plan;

static uint32_t add(uint64_t start, uint64_t len, uint8_t origin)
{
	regs[plan.nregions] = (struct mmr_plan_region){ .rec_start = start, .len = len, .origin = origin };
	return plan.nregions++;
}

static void reset(void)
{
	memset(&plan, 0, sizeof(plan));
	plan.page_size = 4096;
	plan.regions = regs;
}

static bool moves(const struct mmr_xshift *s, uint64_t a)
{
	return a - s->lo < s->hi - s->lo;
}

/* Every moved region: same offset in its 2 MiB block, clear of the helper, below 512 GiB. */
static void check_moved(const struct mmr_xshift *s)
{
	assert_true(s->hi > s->lo);
	assert_int_equal(s->delta % (2 * MIB), 0);
	for (uint32_t i = 0; i < plan.nregions; i++) {
		uint64_t a = regs[i].rec_start, e = a + regs[i].len;

		if (!moves(s, a))
			continue;
		assert_true(a + s->delta >= MIB);
		assert_true(e + s->delta <= 1ull << 39);
		assert_true(e + s->delta <= SELF_LO || a + s->delta >= SELF_HI);
	}
}

/* A PIE binary whose data lies past the helper's in its 2 MiB block: that block holds both. */
static void test_shares_block(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	add(0x556ec93aa000ull, 0x4000, MMR_REGION_INITIAL);	/* binary, 0x1aa000 into its block */
	add(0x556ec93ae000ull, 0x1000, MMR_REGION_INITIAL);
	heap = add(0x556ee0e8e000ull, 0x21000, MMR_REGION_HEAP);
	add(0x7f4ef9118000ull, 0x40000, MMR_REGION_MMAP);	/* libraries: stay */
	add(0x7ffe9fdce000ull, 0x21000, MMR_REGION_INITIAL);	/* stack: stays */
	mmr_xshift_choose(&plan, heap, SELF_LO, SELF_HI, &s);
	check_moved(&s);
	assert_int_equal(regs[0].rec_start + s.delta, 0x7aa000);
	assert_true(moves(&s, regs[2].rec_start));
	assert_false(moves(&s, regs[3].rec_start));
	assert_false(moves(&s, regs[4].rec_start));
	/* the binary and heap are in one GiB, as recorded */
	assert_int_equal((regs[2].rec_start + s.delta) >> 30, (regs[0].rec_start + s.delta) >> 30);
}

/*
 * A binary at the very start of its block cannot share the helper's: then
 * by whole GiB into the helper's GiB, every boundary kept.
 */
static void test_after_helper(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	add(0x5560c2402000ull, 0x5000, MMR_REGION_INITIAL);	/* 0x2000 into its block */
	heap = add(0x5560d2e8e000ull, 0x21000, MMR_REGION_HEAP);
	mmr_xshift_choose(&plan, heap, SELF_LO, SELF_HI, &s);
	check_moved(&s);
	assert_int_equal(regs[0].rec_start + s.delta, 0x2402000);
	assert_int_equal(regs[1].rec_start + s.delta, 0x12e8e000);
}

/* The heap's block when the binary's is taken and the binary fits below the helper. */
static void test_heap_block(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	/* the helper higher up: 64 MiB of room below its data */
	add(0x5560c2402000ull, 0x5000, MMR_REGION_INITIAL);
	heap = add(0x5560c3e8e000ull, 0x21000, MMR_REGION_HEAP);	/* 26.5 MiB on */
	mmr_xshift_choose(&plan, heap, 0x4000000ull, 0x4000000ull + 0x2f000, &s);
	assert_int_equal(s.delta % (2 * MIB), 0);
	assert_int_equal((regs[1].rec_start + s.delta) & ~(2 * MIB - 1), 0x4000000ull);
	assert_true(regs[0].rec_start + s.delta + 0x5000 <= 0x4000000ull);
}

/* A block spanning a GiB boundary keeps spanning one: no extra page of PMDs. */
static void test_keeps_gib_blocks(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	add(0x5560ffff0000ull, 0x4000, MMR_REGION_INITIAL);	/* 64 KiB below a GiB boundary */
	heap = add(0x556100100000ull, 0x21000, MMR_REGION_HEAP);
	mmr_xshift_choose(&plan, heap, SELF_LO, SELF_HI, &s);
	check_moved(&s);
	assert_int_equal(s.delta % GIB, 0);
	assert_int_equal(((regs[1].rec_start + s.delta) >> 30) - ((regs[0].rec_start + s.delta) >> 30), 1);
}

/* A non-PIE program recorded at 0x400000, where the helper is: moved clear of it. */
static void test_non_pie(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	add(0x400000ull, 0x1000, MMR_REGION_INITIAL);
	add(0x401000ull, 0x2000, MMR_REGION_INITIAL);
	add(0x403000ull, 0x1000, MMR_REGION_INITIAL);
	heap = add(0x1a0d000ull, 0x21000, MMR_REGION_HEAP);
	mmr_xshift_choose(&plan, heap, SELF_LO, SELF_HI, &s);
	check_moved(&s);
	for (uint32_t i = 0; i < plan.nregions; i++)
		assert_true(moves(&s, regs[i].rec_start));
}

/* No recorded heap, or no known helper image: nothing moves. */
static void test_nothing_moves(void **state)
{
	struct mmr_xshift s;
	uint32_t heap;

	(void)state;
	reset();
	add(0x556ec93aa000ull, 0x4000, MMR_REGION_INITIAL);
	heap = add(0x556ee0e8e000ull, 0x21000, MMR_REGION_HEAP);
	mmr_xshift_choose(&plan, MMR_PLAN_NONE, SELF_LO, SELF_HI, &s);
	assert_true(s.lo == s.hi && !moves(&s, regs[0].rec_start));
	mmr_xshift_choose(&plan, heap, 0, 0, &s);
	assert_true(s.lo == s.hi && !moves(&s, regs[0].rec_start));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_block),
		cmocka_unit_test(test_after_helper),
		cmocka_unit_test(test_heap_block),
		cmocka_unit_test(test_keeps_gib_blocks),
		cmocka_unit_test(test_non_pie),
		cmocka_unit_test(test_nothing_moves),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
