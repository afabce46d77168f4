// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replay planner: the process tree, per-task op lists, relocation of
 * recorded addresses into (region, offset), splitting ranges per region,
 * the machine checks, and malformed traces refused before anything runs.
 * The fixtures come from tests/fixtures/gen-replay-fixtures.py.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-plan.h"

#define FIX(name) MMR_SRCDIR "/tests/fixtures/" name
#define PAGE 4096ull
#define A 0x7F1000000000ull
#define HEAP 0x555500000000ull

static const struct mmr_plan_op *op_at(const struct mmr_plan *p, uint32_t task, uint32_t i)
{
	assert_true(task < p->ntasks);
	assert_true(i < p->tasks[task].nops);
	return &p->ops[p->tasks[task].op + i];
}

static const struct mmr_plan_piece *piece(const struct mmr_plan *p, const struct mmr_plan_op *op,
					  uint32_t k)
{
	assert_true(k < op->npieces);
	return &p->pieces[op->piece + k];
}

/* The kinds of a task's ops, as "mmap fault fork". */
static void kinds(const struct mmr_plan *p, uint32_t task, const char *want)
{
	char got[512] = "";

	for (uint32_t i = 0; i < p->tasks[task].nops; i++) {
		if (i)
			strcat(got, " ");
		strcat(got, mmr_pop_name(op_at(p, task, i)->kind));
	}
	assert_string_equal(got, want);
}

static void assert_piece(const struct mmr_plan *p, const struct mmr_plan_op *op, uint32_t k,
			 uint32_t region, uint64_t off, uint64_t len)
{
	const struct mmr_plan_piece *pc = piece(p, op, k);

	if (pc->region != region || pc->off != off || pc->len != len)
		fail_msg("piece %u: region %d off %#" PRIx64 " len %" PRIu64
			 ", want region %d off %#" PRIx64 " len %" PRIu64,
			 k, (int)pc->region, pc->off, pc->len, (int)region, off, len);
}

static void test_tree(void **state)
{
	struct mmr_plan *p = mmr_plan_from_file(FIX("replay-tree.jsonl"), NULL);
	const struct mmr_plan_op *op;
	uint32_t rA, rB, rC, heap, stack;

	(void)state;
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	/* process tree: 100 (initial, with pre-existing thread 101), child 102, thread 103 */
	assert_int_equal(p->ntasks, 4);
	assert_int_equal(p->tasks[0].rec_tid, 100);
	assert_true(p->tasks[0].initial && !p->tasks[0].thread);
	assert_int_equal(p->tasks[1].rec_tid, 101);
	assert_true(p->tasks[1].initial && p->tasks[1].thread);
	assert_int_equal(p->tasks[1].leader, 0);
	assert_int_equal(p->tasks[2].rec_tid, 102);
	assert_true(!p->tasks[2].initial && !p->tasks[2].thread);
	assert_int_equal(p->tasks[2].parent, 0);
	assert_int_equal(p->tasks[2].leader, 2);
	assert_int_equal(p->tasks[3].rec_tid, 103);
	assert_true(!p->tasks[3].initial && p->tasks[3].thread);
	assert_int_equal(p->tasks[3].leader, 0);
	assert_int_equal(p->tasks[3].parent, 0);
	assert_int_equal(p->initial_tasks, 2);
	assert_int_equal(p->peak_tasks, 4);

	/* op lists in recorded order; the failed mmap is not replayed */
	assert_int_equal(p->nops, 24);
	assert_int_equal(mmr_plan_ops(p), 24);
	assert_int_equal(p->skipped_failed, 1);
	assert_int_equal(p->unresolved, 0);
	kinds(p, 0, "mmap fault fork thread brk brk fault fault munmap exit");
	kinds(p, 1, "fault exit");
	kinds(p, 2, "fault mprotect madvise mremap fault munmap fault exit");
	kinds(p, 3, "mmap fault munmap exit");
	assert_int_equal(p->opcount[MMR_POP_FAULT], 8);
	assert_int_equal(p->fault_pages, 278);
	/* recorded times relative to the first event, kept per op */
	assert_int_equal(op_at(p, 0, 0)->ts, 0);
	assert_int_equal(op_at(p, 0, 1)->ts, 1000000);
	assert_int_equal(op_at(p, 0, 1)->last, 3000000);
	assert_int_equal(op_at(p, 2, 7)->ts, 12000000);
	assert_int_equal(op_at(p, 0, 2)->arg.fork.child, 2);
	assert_int_equal(op_at(p, 0, 3)->arg.fork.child, 3);
	assert_true(op_at(p, 2, 7)->arg.exit.group);
	assert_false(op_at(p, 3, 3)->arg.exit.group);

	/* initial maps: heap, a file, the stack, created by task 0 at its start */
	assert_int_equal(p->tasks[0].nsetup, 3);
	heap = p->setup_regions[p->tasks[0].setup];
	stack = p->setup_regions[p->tasks[0].setup + 2];
	assert_int_equal(p->regions[heap].origin, MMR_REGION_HEAP);
	assert_int_equal(p->regions[heap].init_len, 0x21000);
	assert_int_equal(p->regions[heap].len, 0x31000);	/* grown by brk */
	assert_int_equal(p->regions[p->setup_regions[p->tasks[0].setup + 1]].file, 0);
	assert_int_equal(p->nfiles, 2);
	assert_int_equal(p->files[0].size, 0x4000);
	assert_int_equal(p->files[1].size, 65536);

	/* relocation: every address becomes (region of its mapping, offset inside it) */
	op = op_at(p, 0, 0);
	rA = op->arg.mmap.region;
	assert_int_equal(p->regions[rA].rec_start, A);
	assert_int_equal(p->regions[rA].len, 0x100000);
	assert_false(op->arg.mmap.fixed);
	assert_piece(p, op_at(p, 0, 1), 0, rA, 0, 256);		/* fault run, pages */
	assert_true(op_at(p, 0, 1)->arg.fault.write);
	assert_piece(p, op_at(p, 1, 0), 0, rA, 0x5000, 1);	/* the other thread */
	assert_false(op_at(p, 1, 0)->arg.fault.write);
	/* the child inherits the region at the same offsets (fork copies the mm) */
	assert_piece(p, op_at(p, 2, 0), 0, rA, 0x10000, 16);
	assert_piece(p, op_at(p, 2, 1), 0, rA, 0x20000, 0x2000);
	assert_int_equal(op_at(p, 2, 1)->arg.range.arg, PROT_READ);
	assert_piece(p, op_at(p, 2, 2), 0, rA, 0x40000, 0x10000);
	/* mremap: source in A, the result is a new region the next fault lands in */
	op = op_at(p, 2, 3);
	assert_piece(p, op, 0, rA, 0x80000, 0x10000);
	rC = op->arg.mremap.region;
	assert_int_equal(op->arg.mremap.new_len, 0x20000);
	assert_int_equal(p->regions[rC].rec_start, 0x7F3000000000ull);
	assert_piece(p, op_at(p, 2, 4), 0, rC, 0x18000, 1);
	assert_piece(p, op_at(p, 2, 5), 0, rA, 0, 0x40000);
	assert_piece(p, op_at(p, 2, 6), 0, rA, 0x50000, 1);	/* what the munmap left */
	/* the thread's file mapping */
	op = op_at(p, 3, 0);
	rB = op->arg.mmap.region;
	assert_int_equal(op->arg.mmap.file, 1);
	assert_piece(p, op_at(p, 3, 1), 0, rB, 0x3000, 1);
	assert_piece(p, op_at(p, 3, 2), 0, rB, 0, 65536);
	/* brk: a query, then growth by 16 pages inside the heap reserve */
	op = op_at(p, 0, 4);
	assert_int_equal(op->arg.brk.region, heap);
	assert_int_equal(op->arg.brk.old_off, 0x21000);
	assert_int_equal(op->arg.brk.new_off, 0x21000);
	op = op_at(p, 0, 5);
	assert_int_equal(op->arg.brk.new_off, 0x31000);
	assert_piece(p, op_at(p, 0, 6), 0, heap, 0x25000, 1);
	assert_piece(p, op_at(p, 0, 7), 0, stack, 0x20000, 1);
	/* the parent still has all of A: the child's munmap/mremap were in its own mm */
	assert_piece(p, op_at(p, 0, 8), 0, rA, 0x80000, 0x80000);

	/* the reclaim episode of 102 targets its private anonymous memory */
	assert_int_equal(p->nreclaims, 1);
	assert_int_equal(p->reclaims[0].task, 2);
	assert_int_equal(p->reclaims[0].after_ops, 3);
	assert_int_equal(p->reclaims[0].bytes, 8 * PAGE);
	assert_true(p->reclaims[0].npieces >= 1);
	mmr_plan_free(p);
}

static void test_example(void **state)
{
	struct mmr_plan *p = mmr_plan_from_file(MMR_SRCDIR "/schemas/examples/trace-zygote-small.jsonl", NULL);
	uint32_t r;

	(void)state;
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	assert_int_equal(p->ntasks, 2);
	assert_int_equal(p->nops, 8);
	kinds(p, 0, "mmap fault fork");
	kinds(p, 1, "fault mprotect fault munmap exit");
	r = op_at(p, 0, 0)->arg.mmap.region;
	assert_piece(p, op_at(p, 1, 0), 0, r, 0, 16056);
	assert_piece(p, op_at(p, 1, 1), 0, r, 0x2000, 0x2000);
	assert_piece(p, op_at(p, 1, 2), 0, r, 0xa000, 1);
	assert_piece(p, op_at(p, 1, 3), 0, r, 0, 64 << 20);
	assert_int_equal(p->fault_pages, 32441);
	assert_int_equal(p->duration_ns, 24100000);
	mmr_plan_free(p);
}

/* ---- in-memory traces ---- */

/* A trace header up to its maps (which follow: a JSON array, then "}\n"). */
#define HDR_HEAD \
	"{\"ev\":\"header\",\"schema\":\"mmreplay-trace\",\"version\":1,\"mmreplay_version\":\"0.1.0\"," \
	"\"host\":\"t\",\"kernel\":\"6.18\",\"arch\":\"x86_64\",\"page_size\":4096,\"cpus\":2," \
	"\"clock\":\"mono\",\"start_ns\":1000,\"start_time\":\"2026-01-01T00:00:00Z\"," \
	"\"paths\":\"hashed\",\"events\":[],\"filters\":{\"system_wide\":false},\"maps\":"

static const char hdr[] =
	HDR_HEAD "[]}\n";

static struct mmr_plan *plan_str(const char *events)
{
	static char buf[16384];

	snprintf(buf, sizeof(buf), "%s%s", hdr, events);
	return mmr_plan_from_mem(buf, strlen(buf), NULL);
}

#define MMAP(ts, addr, len, flags, ret) \
	"{\"ev\":\"mmap\",\"ts\":" #ts ",\"pid\":1,\"tid\":1,\"addr\":" #addr ",\"len\":" #len \
	",\"prot\":3,\"flags\":" #flags ",\"ret\":" #ret "}\n"

static void test_split(void **state)
{
	struct mmr_plan *p;
	const struct mmr_plan_op *op;
	uint32_t r1, r2, r3;

	(void)state;
	/* 0x10000000: two adjacent mappings of 2 pages each */
	p = plan_str(MMAP(2000, 0, 8192, 34, 268435456)
		     MMAP(2001, 0, 8192, 34, 268443648)
		     /* a run crossing from the first into the second mapping */
		     "{\"ev\":\"fault\",\"ts\":2002,\"pid\":1,\"tid\":1,\"addr\":268435456,\"err\":6,\"n\":4,\"stride\":4096,\"last\":2003}\n"
		     /* a descending run that leaves the mappings: partly unresolved */
		     "{\"ev\":\"fault\",\"ts\":2004,\"pid\":1,\"tid\":1,\"addr\":268439552,\"err\":4,\"n\":3,\"stride\":-4096,\"last\":2005}\n"
		     /* MAP_FIXED inside the second mapping, and MAP_FIXED elsewhere */
		     MMAP(2006, 268443648, 4096, 50, 268443648)
		     MMAP(2007, 4096, 4096, 50, 4096)
		     /* one munmap over both (now three) mappings */
		     "{\"ev\":\"munmap\",\"ts\":2008,\"pid\":1,\"tid\":1,\"addr\":268435456,\"len\":16384,\"ret\":0}\n"
		     /* nothing is mapped there any more: stand-in memory for mprotect */
		     "{\"ev\":\"mprotect\",\"ts\":2009,\"pid\":1,\"tid\":1,\"addr\":268435456,\"len\":4096,\"prot\":1,\"ret\":0}\n"
		     /* a munmap of memory never seen mapped unmaps stand-in memory too */
		     "{\"ev\":\"munmap\",\"ts\":2010,\"pid\":1,\"tid\":1,\"addr\":536870912,\"len\":4096,\"ret\":0}\n"
		     /* but an mremap has no source to move */
		     "{\"ev\":\"mremap\",\"ts\":2011,\"pid\":1,\"tid\":1,\"addr\":805306368,\"old_len\":4096,\"new_len\":8192,\"flags\":1,\"ret\":805306368}\n");
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	assert_int_equal(p->nops, 10);
	r1 = op_at(p, 0, 0)->arg.mmap.region;
	r2 = op_at(p, 0, 1)->arg.mmap.region;
	op = op_at(p, 0, 2);
	assert_int_equal(op->npieces, 2);
	assert_piece(p, op, 0, r1, 0, 2);
	assert_piece(p, op, 1, r2, 0, 2);
	assert_false(op->unresolved);
	/* a descending run leaving the mappings: the page below is stand-in memory */
	op = op_at(p, 0, 3);
	assert_int_equal(op->arg.fault.stride, -4096);
	assert_piece(p, op, 0, r1, 0x1000, 2);
	r3 = piece(p, op, 1)->region;
	assert_int_equal(p->regions[r3].origin, MMR_REGION_IMPLICIT);
	/* it spans the 2 MiB window below the mapping, ending where the mapping starts */
	assert_int_equal(p->regions[r3].rec_start, 268435456 - (2 << 20));
	assert_int_equal(p->regions[r3].len, 2 << 20);
	assert_piece(p, op, 1, r3, (2 << 20) - 4096, 1);
	assert_false(op->unresolved);
	op = op_at(p, 0, 4);
	assert_true(op->arg.mmap.fixed);
	assert_piece(p, op, 0, r2, 0, 4096);
	op = op_at(p, 0, 5);
	assert_false(op->arg.mmap.fixed);	/* never MAP_FIXED over memory the replay does not own */
	assert_int_equal(op->npieces, 0);
	op = op_at(p, 0, 6);
	assert_int_equal(op->npieces, 3);
	assert_piece(p, op, 0, r1, 0, 8192);
	assert_piece(p, op, 1, op_at(p, 0, 4)->arg.mmap.region, 0, 4096);
	assert_piece(p, op, 2, r2, 4096, 4096);
	op = op_at(p, 0, 7);
	assert_false(op->unresolved);
	assert_int_equal(p->regions[piece(p, op, 0)->region].origin, MMR_REGION_IMPLICIT);
	assert_int_equal(piece(p, op, 0)->off, 0);
	/* from the stand-in below up to the next 2 MiB boundary */
	assert_int_equal(p->regions[piece(p, op, 0)->region].rec_start, 268435456);
	assert_int_equal(p->regions[piece(p, op, 0)->region].len, 2 << 20);
	op = op_at(p, 0, 8);
	assert_false(op->unresolved);
	assert_int_equal(p->regions[piece(p, op, 0)->region].origin, MMR_REGION_IMPLICIT);
	op = op_at(p, 0, 9);
	assert_int_equal(op->kind, MMR_POP_MREMAP);
	assert_true(op->unresolved);
	assert_int_equal(op->npieces, 0);
	assert_int_equal(p->unresolved, 1);
	assert_int_equal(p->implicit, 3);
	mmr_plan_free(p);
}

static void expect_bad(const char *events, const char *msg)
{
	struct mmr_plan *p = plan_str(events);

	if (p)
		fail_msg("accepted a trace that should fail with \"%s\"", msg);
	assert_err_contains(msg);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("{\"ev\":\"fault\",\"ts\":5000,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":4}\n"
		   "{\"ev\":\"fault\",\"ts\":4000,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":4}\n",
		   "line 3: time goes backwards");
	expect_bad(MMAP(2000, 0, 8192, 34, 268435457), "not page aligned");
	expect_bad(MMAP(2000, 0, 0, 34, 268435456), "length 0");
	expect_bad("{\"ev\":\"fork\",\"ts\":2000,\"pid\":1,\"tid\":1,\"child\":1,\"thread\":false}\n",
		   "not a new task");
	expect_bad("{\"ev\":\"fault\",\"ts\":2000,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":4}\n"
		   "{\"ev\":\"fault\",\"ts\":2001,\"pid\":7,\"tid\":1,\"addr\":4096,\"err\":4}\n",
		   "belongs to process 1");
	expect_bad("{\"ev\":\"fault\",\"ts\":2000,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":4,"
		   "\"n\":1000000000000000,\"stride\":4096000,\"last\":2001}\n",
		   "leaves the address space");
	expect_bad("{\"ev\":\"fault\",\"ts\":2000,\"pid\":1,\"tid\":1,\"addr\":8192,\"err\":4,"
		   "\"n\":4,\"stride\":-4096,\"last\":2001}\n",
		   "below address 0");
	expect_bad("{\"ev\":\"munmap\",\"ts\":2000,\"pid\":1,\"tid\":1,\"addr\":100,\"len\":4096,\"ret\":0}\n",
		   "not page aligned");
	expect_bad("{\"ev\":\"fault\",\"ts\":2000,\"pid\":0,\"tid\":0,\"addr\":4096,\"err\":4}\n",
		   "must be positive");
	/* the reader's own checks come with the line number */
	expect_bad("{\"ev\":\"fault\",\"ts\":2000,\"pid\":1}\n", "line 2");
	expect_bad("{\"ev\":\"nope\",\"ts\":2000,\"pid\":1,\"tid\":1}\n", "unknown event type");
	expect_bad("not json\n", "line 2");
}

static void test_limits(void **state)
{
	struct mmr_plan *p = mmr_plan_from_file(FIX("replay-tree.jsonl"), NULL);
	struct mmr_plan_limits l = { .pid_max = 4194304, .tasks_now = 100,
				     .nproc_limit = UINT64_MAX, .mem_available = 1ull << 34 };

	(void)state;
	assert_non_null(p);
	assert_int_equal(mmr_plan_check(p, &l), 0);
	l.pid_max = 103;	/* 100 running + 4 needed */
	assert_int_equal(mmr_plan_check(p, &l), -1);
	assert_err_contains("pid_max");
	assert_err_contains("--force");
	l.pid_max = 4194304;
	l.nproc_limit = 3;
	assert_int_equal(mmr_plan_check(p, &l), -1);
	assert_err_contains("RLIMIT_NPROC");
	l.nproc_limit = UINT64_MAX;
	l.mem_available = p->mem_bytes - 1;
	assert_int_equal(mmr_plan_check(p, &l), -1);
	assert_err_contains("available");
	/* under a memcg limit only the limit has to fit */
	l.mem_cap = p->mem_bytes / 2;
	assert_int_equal(mmr_plan_check(p, &l), 0);
	mmr_plan_free(p);

	/* the real machine can take the small fixture */
	p = mmr_plan_from_file(FIX("replay-tree.jsonl"), NULL);
	assert_int_equal(mmr_plan_limits_probe(&l), 0);
	assert_true(l.pid_max > 0);
	assert_int_equal(mmr_plan_check(p, &l), 0);
	mmr_plan_free(p);
}

/*
 * A process whose first op is exec (a `record -- CMD` trace: the header
 * holds the recorder's child before exec) sets up none of its header maps
 * and makes none of their files; one that did something first keeps them.
 */
static const char hdr_maps[] =
	HDR_HEAD "["
	"{\"pid\":1,\"comm\":\"mmreplay\",\"maps\":["
	"{\"start\":4194304,\"end\":4210688,\"perms\":\"r-xp\",\"off\":0,\"file\":\"sha256:aa\"},"
	"{\"start\":8388608,\"end\":8396800,\"perms\":\"r--p\",\"off\":0,\"file\":\"sha256:cc\"},"
	"{\"start\":16777216,\"end\":16908288,\"perms\":\"rw-p\",\"off\":0,\"file\":\"[heap]\"}]}]}\n";

#define EXEC(ts) \
	"{\"ev\":\"exec\",\"ts\":" #ts ",\"pid\":1,\"tid\":1,\"comm\":\"prog\",\"file\":\"sha256:dd\"}\n"
#define MMAP_FILE(ts, ret) \
	"{\"ev\":\"mmap\",\"ts\":" #ts ",\"pid\":1,\"tid\":1,\"addr\":0,\"len\":8192,\"prot\":1," \
	"\"flags\":2,\"fd\":3,\"off\":0,\"file\":\"sha256:bb\",\"fsize\":8192,\"ret\":" #ret "}\n"
#define TOUCH(ts, addr) \
	"{\"ev\":\"fault\",\"ts\":" #ts ",\"pid\":1,\"tid\":1,\"addr\":" #addr ",\"err\":4}\n"

static struct mmr_plan *plan_maps(const char *events)
{
	static char buf[16384];

	snprintf(buf, sizeof(buf), "%s%s", hdr_maps, events);
	return mmr_plan_from_mem(buf, strlen(buf), NULL);
}

static void test_exec_first(void **state)
{
	struct mmr_plan *p;

	(void)state;
	p = plan_maps(EXEC(2000) MMAP_FILE(2001, 268435456) TOUCH(2002, 268435456));
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	kinds(p, 0, "exec mmap fault");
	assert_int_equal(p->tasks[0].nsetup, 0);
	assert_int_equal(op_at(p, 0, 0)->npieces, 0);	/* nothing to take down */
	/* only the file mapped after exec is made, renumbered */
	assert_int_equal(p->nfiles, 1);
	assert_string_equal(p->files[0].id, "sha256:bb");
	assert_int_equal(op_at(p, 0, 1)->arg.mmap.file, 0);
	assert_int_equal(p->regions[op_at(p, 0, 1)->arg.mmap.region].file, 0);
	mmr_plan_free(p);

	/* a touch of the initial maps before exec: they are needed */
	p = plan_maps(TOUCH(1500, 8388608) EXEC(2000) MMAP_FILE(2001, 268435456));
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	kinds(p, 0, "fault exec mmap");
	assert_int_equal(p->tasks[0].nsetup, 3);
	assert_int_equal(op_at(p, 0, 1)->npieces, 3);	/* exec takes all three down */
	assert_int_equal(p->nfiles, 3);
	assert_string_equal(p->files[0].id, "sha256:aa");
	assert_string_equal(p->files[1].id, "sha256:cc");
	assert_string_equal(p->files[2].id, "sha256:bb");
	assert_int_equal(op_at(p, 0, 2)->arg.mmap.file, 2);
	mmr_plan_free(p);
}

/*
 * Faults on the kernel's own pages ([vdso], [vvar]) are not replayed on
 * stand-in memory: the replay process has its own. Ops on them stay ops.
 */
static void test_kernel_maps(void **state)
{
	static const char hdr_v[] =
		HDR_HEAD "["
		"{\"pid\":1,\"comm\":\"prog\",\"maps\":["
		"{\"start\":4194304,\"end\":4210688,\"perms\":\"rw-p\",\"off\":0,\"file\":\"sha256:aa\"},"
		"{\"start\":8388608,\"end\":8404992,\"perms\":\"r--p\",\"off\":0,\"file\":\"[vvar]\"},"
		"{\"start\":8404992,\"end\":8413184,\"perms\":\"r-xp\",\"off\":0,\"file\":\"[vdso]\"}]}]}\n";
	static char buf[4096];
	struct mmr_plan *p;
	const struct mmr_plan_op *op;

	(void)state;
	snprintf(buf, sizeof(buf), "%s%s", hdr_v,
		 /* a run from the vvar into the vdso, a touch of the program's data, a fork */
		 "{\"ev\":\"fault\",\"ts\":2000,\"pid\":1,\"tid\":1,\"addr\":8400896,\"err\":4,\"n\":2,\"stride\":4096,\"last\":2001}\n"
		 TOUCH(2002, 4194304)
		 "{\"ev\":\"fork\",\"ts\":2003,\"pid\":1,\"tid\":1,\"child\":2,\"thread\":false,\"flags\":17}\n"
		 /* the child inherits the parent's vdso */
		 "{\"ev\":\"fault\",\"ts\":2004,\"pid\":2,\"tid\":2,\"addr\":8404992,\"err\":20}\n"
		 "{\"ev\":\"munmap\",\"ts\":2005,\"pid\":2,\"tid\":2,\"addr\":8388608,\"len\":24576,\"ret\":0}\n");
	p = mmr_plan_from_mem(buf, strlen(buf), NULL);
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	kinds(p, 0, "fault fault fork");
	op = op_at(p, 0, 0);
	assert_int_equal(op->npieces, 0);
	assert_false(op->unresolved);
	assert_int_equal(op_at(p, 0, 1)->npieces, 1);
	kinds(p, 1, "fault munmap");
	assert_int_equal(op_at(p, 1, 0)->npieces, 0);
	assert_false(op_at(p, 1, 0)->unresolved);
	/* an munmap of the kernel's pages: nothing of the replay's to take down */
	op = op_at(p, 1, 1);
	assert_int_equal(op->npieces, 0);
	assert_false(op->unresolved);
	assert_int_equal(p->implicit, 0);
	assert_int_equal(p->unresolved, 0);
	for (uint32_t r = 0; r < p->nregions; r++)
		assert_int_not_equal(p->regions[r].rec_start, 8388608);
	/* where the process had the block, for the helper to move its own there */
	assert_int_equal(p->tasks[0].vdso_at, 8388608);
	assert_int_equal(p->tasks[0].vdso_len, 8413184 - 8388608);
	assert_int_equal(p->tasks[1].vdso_len, 0);	/* forked: it has its parent's */
	mmr_plan_free(p);
}

/* The header's [stack] of a task is marked: a static helper runs the task next to it. */
static void test_main_stack(void **state)
{
	static const char hdr_s[] =
		HDR_HEAD "["
		"{\"pid\":1,\"comm\":\"prog\",\"maps\":["
		"{\"start\":4194304,\"end\":4210688,\"perms\":\"rw-p\",\"off\":0,\"file\":\"sha256:aa\"},"
		"{\"start\":8388608,\"end\":8404992,\"perms\":\"rw-p\",\"off\":0,\"file\":\"[heap]\"},"
		"{\"start\":16777216,\"end\":16912384,\"perms\":\"rw-p\",\"off\":0,\"file\":\"[stack]\"}]}]}\n";
	static char buf[4096];
	struct mmr_plan *p;
	const struct mmr_plan_task *t;
	unsigned stacks = 0;

	(void)state;
	snprintf(buf, sizeof(buf), "%s%s", hdr_s, TOUCH(2000, 16908288));
	p = mmr_plan_from_mem(buf, strlen(buf), NULL);
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	t = &p->tasks[0];
	for (uint32_t i = 0; i < t->nsetup; i++) {
		const struct mmr_plan_region *r = &p->regions[p->setup_regions[t->setup + i]];

		if (r->main_stack) {
			assert_int_equal(r->rec_start, 16777216);
			stacks++;
		}
	}
	assert_int_equal(stacks, 1);
	for (uint32_t r = 0; r < p->nregions; r++)
		if (p->regions[r].rec_start != 16777216)
			assert_false(p->regions[r].main_stack);
	mmr_plan_free(p);
}

/*
 * How many children a task waits for at once (the executor's table on its
 * stack): those recorded to exit before their parent ends, pending until
 * the first op of the parent's recorded after their exit.
 */
/* Append to ev: pid forks child (a process) at ts. */
static void add_fork(char *ev, int ts, int pid, int child)
{
	char e[256];

	snprintf(e, sizeof(e), "{\"ev\":\"fork\",\"ts\":%d,\"pid\":%d,\"tid\":%d,\"child\":%d,"
		 "\"thread\":false,\"flags\":17}\n", ts, pid, pid, child);
	strcat(ev, e);
}

/* Append to ev: a write fault of pid at addr at ts. */
static void child_fault(char *ev, int pid, int ts, long addr)
{
	char e[256];

	snprintf(e, sizeof(e), "{\"ev\":\"fault\",\"ts\":%d,\"pid\":%d,\"tid\":%d,\"addr\":%ld,\"err\":6}\n",
		 ts, pid, pid, addr);
	strcat(ev, e);
}

static void test_reaps(void **state)
{
	char ev[4096] = "";
	struct mmr_plan *p;

	(void)state;
	/* 1 forks 2, 3 and 4; 2 and 3 exit, then 1 touches, forks 5 (outlives it) and exits */
	strcat(ev, TOUCH(1000, 8388608));
	for (int c = 2; c <= 4; c++)
		add_fork(ev, 1000 + 1000 * c, 1, c);
	strcat(ev, "{\"ev\":\"exit\",\"ts\":6000,\"pid\":2,\"tid\":2,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":7000,\"pid\":3,\"tid\":3,\"group\":true}\n");
	strcat(ev, TOUCH(8000, 8388608));
	strcat(ev, "{\"ev\":\"fork\",\"ts\":9000,\"pid\":1,\"tid\":1,\"child\":5,\"thread\":false,\"flags\":17}\n"
		   "{\"ev\":\"exit\",\"ts\":10000,\"pid\":4,\"tid\":4,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":11000,\"pid\":1,\"tid\":1,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":12000,\"pid\":5,\"tid\":5,\"group\":true}\n");
	p = plan_str(ev);
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	assert_int_equal(p->ntasks, 5);
	kinds(p, 0, "fault fork fork fork fault fork exit");
	/* 2, 3 and 4 pending at once; 5 outlives its parent, so it is not waited for */
	assert_int_equal(p->tasks[0].reaps, 3);
	for (uint32_t t = 1; t < p->ntasks; t++)
		assert_int_equal(p->tasks[t].reaps, 0);
	mmr_plan_free(p);
}


/* A forking task's buffer for its children's copies is sized by the plan. */
static void test_copies(void **state)
{
	static char ev[65536];
	size_t len2, len3, len4;
	unsigned nb2, nb3, nb4;
	struct mmr_plan *p;

	(void)state;
	ev[0] = '\0';
	/* 1 forks 2 (exits at once), 3 (two touches) and 4 (40: too many to hand over) */
	strcat(ev, TOUCH(1000, 8388608));
	for (int c = 2; c <= 4; c++)
		add_fork(ev, 1000 * c, 1, c);
	child_fault(ev, 3, 5000, 8388608);
	child_fault(ev, 3, 5000000, 8388608 + 65536);
	for (int k = 0; k < 40; k++)
		child_fault(ev, 4, 6000000 + 2000000 * k, 8388608 + 4096 * (k % 16));
	strcat(ev, "{\"ev\":\"exit\",\"ts\":90000000,\"pid\":2,\"tid\":2,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":91000000,\"pid\":3,\"tid\":3,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":92000000,\"pid\":4,\"tid\":4,\"group\":true}\n"
		   "{\"ev\":\"exit\",\"ts\":93000000,\"pid\":1,\"tid\":1,\"group\":true}\n");
	p = plan_str(ev);
	if (!p)
		fail_msg("plan: %s", mmr_strerror());
	assert_int_equal(p->ntasks, 4);
	len2 = mmr_plan_copy_len(p, 1, &nb2);
	len3 = mmr_plan_copy_len(p, 2, &nb3);
	len4 = mmr_plan_copy_len(p, 3, &nb4);
	/* 2: its exit; 3: two touches of two pages and its exit; 4: over the limit */
	assert_int_equal(len2, sizeof(struct mmr_plan_op));
	assert_int_equal(nb2, 0);
	assert_int_equal(len3, 3 * sizeof(struct mmr_plan_op) + 2 * sizeof(struct mmr_plan_piece));
	assert_int_equal(nb3, 2);
	assert_true(len4 > MMR_PLAN_COPY_MAX);
	/* the largest copy that is handed over: 3's */
	assert_int_equal(p->tasks[0].copy_max, len3 + nb3 * sizeof(struct mmr_plan_base));
	for (uint32_t t = 1; t < p->ntasks; t++)
		assert_int_equal(p->tasks[t].copy_max, 0);
	mmr_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_exec_first),
		cmocka_unit_test(test_kernel_maps),
		cmocka_unit_test(test_main_stack),
		cmocka_unit_test(test_reaps),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
