// SPDX-License-Identifier: GPL-2.0-or-later
#include <json-c/json.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-event.h"
#include "mmr-schema.h"

static void test_names_round_trip(void **state)
{
	(void)state;
	for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++)
		assert_int_equal(mmr_ev_from_name(mmr_ev_name(t)), t);
	for (int o = 0; o < MMR_OP__COUNT; o++)
		assert_int_equal(mmr_op_from_name(mmr_op_name(o)), o);
	for (int c = 0; c < MMR_LC__COUNT; c++)
		assert_int_equal(mmr_lockclass_from_name(mmr_lockclass_name(c)), c);
	assert_int_equal(mmr_ev_from_name("bogus"), MMR_EV_NONE);
	assert_int_equal(mmr_op_from_name("bogus"), MMR_OP__COUNT);
}

static void test_classify(void **state)
{
	const char *reclaim[] = { "rwsem_down_read_slowpath+0x1e0/0x4a0", "down_read+0x46/0xb0",
				  "folio_lock_anon_vma_read+0x99/0x1f0", "rmap_walk_anon+0x1a8/0x220",
				  "try_to_unmap+0x5f/0x90", "shrink_folio_list+0x3a0/0xc10" };
	const char *fork[] = { "rwsem_down_write_slowpath+0x2c0/0x7a0", "down_write+0x5b/0x60",
			       "anon_vma_fork+0x60/0x180", "dup_mmap+0x4c3/0x850" };
	const char *mmapl[] = { "rwsem_down_write_slowpath", "down_write_killable",
				"mmap_write_lock_killable", "vm_mmap_pgoff" };
	const char *other[] = { "mutex_lock", "do_sys_open" };
	const char *prefix[] = { "rmap_walk_anon_something_else+0x10/0x20" };
	/* mmap_write_lock_killable() inlined into do_mprotect_pkey */
	const char *inl[] = { "rwsem_down_write_slowpath", "down_write_killable",
			      "do_mprotect_pkey", "__x64_sys_mprotect" };
	/* a spinlock deep under do_mprotect_pkey is not mmap_lock */
	const char *deep[] = { "_raw_spin_lock", "change_pte_range", "change_protection",
			       "mprotect_fixup", "do_mprotect_pkey" };
	const char *imm[] = { "rwsem_down_write_slowpath", "down_write",
			      "unlink_file_vma_batch_process", "free_pgtables", "exit_mmap" };
	const char *uffd[] = { "rwsem_down_write_slowpath", "down_write", "move_pages_ptes",
			       "move_pages", "userfaultfd_ioctl" };

	(void)state;
	assert_int_equal(mmr_classify_stack(reclaim, 6), MMR_LC_ANON_VMA);
	assert_int_equal(mmr_classify_stack(fork, 4), MMR_LC_ANON_VMA);
	assert_int_equal(mmr_classify_stack(mmapl, 4), MMR_LC_MMAP_LOCK);
	assert_int_equal(mmr_classify_stack(other, 2), MMR_LC_OTHER);
	/* a symbol that merely starts with a rule's name is not that symbol */
	assert_int_equal(mmr_classify_stack(prefix, 1), MMR_LC_OTHER);
	assert_int_equal(mmr_classify_stack(NULL, 0), MMR_LC_OTHER);
	assert_int_equal(mmr_classify_stack(inl, 4), MMR_LC_MMAP_LOCK);
	assert_int_equal(mmr_classify_stack(deep, 5), MMR_LC_OTHER);
	assert_int_equal(mmr_classify_stack(imm, 5), MMR_LC_I_MMAP);
	assert_int_equal(mmr_classify_stack(uffd, 5), MMR_LC_ANON_VMA);
}

static void test_flags_str(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(mmr_lcb_flags_str(MMR_LCB_READ | MMR_LCB_SPIN, buf, sizeof(buf)),
			    "SPIN|READ");
	assert_string_equal(mmr_lcb_flags_str(0, buf, sizeof(buf)), "");
	assert_string_equal(mmr_lcb_flags_str(MMR_LCB_WRITE | MMR_LCB_MUTEX, buf, 8), "WRITE");
}

/* Format an event, parse it back, and compare what matters. */
static void round_trip(const struct mmr_event *in, struct mmr_event *out)
{
	char buf[4096];
	size_t n = mmr_event_format(in, buf, sizeof(buf));
	struct json_object *o;

	assert_true(n < sizeof(buf));
	assert_int_equal(buf[n - 1], '\n');
	o = json_tokener_parse(buf);
	assert_non_null(o);
	/* what the writer produces must satisfy the published schema */
	if (mmr_schema_validate(mmr_schema_get("trace.v1"), o) < 0)
		fail_msg("schema rejects %s: %s", buf, mmr_strerror());
	if (mmr_event_from_json(o, out) < 0)
		fail_msg("parse back of %s failed: %s", buf, mmr_strerror());
	json_object_put(o);
	assert_int_equal(out->type, in->type);
	if (in->type != MMR_EV_STACK) {
		assert_int_equal(out->ts, in->ts);
		assert_int_equal(out->pid, in->pid);
		assert_int_equal(out->tid, in->tid);
	}
}

static void test_round_trip_all_types(void **state)
{
	struct mmr_event e, o;
	char *frames[] = { "down_write+0x5b/0x60", "anon_vma_fork+0x60/0x180", "quote\"back\\slash" };

	(void)state;
	memset(&e, 0, sizeof(e));
	e.ts = 18446744073709551000ull;	/* near UINT64_MAX: must not go through double */
	e.pid = 100;
	e.tid = 101;

	e.type = MMR_EV_FORK; e.fork.child = 102; e.fork.thread = true; e.fork.flags = 0x3d0f00;
	round_trip(&e, &o);
	assert_int_equal(o.fork.child, 102); assert_true(o.fork.thread);
	assert_int_equal(o.fork.flags, 0x3d0f00);

	memset(&e.fork, 0, sizeof(e.mmap));
	e.type = MMR_EV_MMAP; e.mmap.addr = 0; e.mmap.len = 1 << 20; e.mmap.prot = 3;
	e.mmap.flags = 0x22; e.mmap.fd = -1; e.mmap.ret = 0x7f0000000000; e.mmap.dur = 1234;
	round_trip(&e, &o);
	assert_int_equal(o.mmap.len, 1 << 20); assert_int_equal(o.mmap.fd, -1);
	assert_int_equal(o.mmap.ret, 0x7f0000000000); assert_string_equal(o.mmap.file, "");
	strcpy(e.mmap.file, "sha256:abcd"); e.mmap.fd = 5; e.mmap.fsize = 4096; e.mmap.ret = -12;
	round_trip(&e, &o);
	assert_string_equal(o.mmap.file, "sha256:abcd"); assert_int_equal(o.mmap.fsize, 4096);
	assert_int_equal(o.mmap.ret, -12);

	memset(&e.mmap, 0, sizeof(e.mmap));
	e.type = MMR_EV_MPROTECT; e.range.addr = 0x1000; e.range.len = 8192; e.range.arg = 1;
	round_trip(&e, &o);
	assert_int_equal(o.range.arg, 1); assert_int_equal(o.range.len, 8192);
	e.type = MMR_EV_MADVISE; e.range.arg = 21;
	round_trip(&e, &o);
	assert_int_equal(o.range.arg, 21);
	e.type = MMR_EV_MUNMAP;
	round_trip(&e, &o);
	assert_int_equal(o.range.addr, 0x1000);

	e.type = MMR_EV_MREMAP; memset(&e.mremap, 0, sizeof(e.mremap));
	e.mremap.addr = 0x1000; e.mremap.old_len = 4096; e.mremap.new_len = 8192;
	e.mremap.flags = 1; e.mremap.ret = 0x5000;
	round_trip(&e, &o);
	assert_int_equal(o.mremap.new_len, 8192); assert_int_equal(o.mremap.ret, 0x5000);

	e.type = MMR_EV_BRK; e.brk.addr = 0x560000; e.brk.ret = 0x561000;
	round_trip(&e, &o);
	assert_int_equal(o.brk.ret, 0x561000);

	e.ts = 1000;
	e.type = MMR_EV_FAULT; memset(&e.fault, 0, sizeof(e.fault));
	e.fault.addr = 0x7f0000001000; e.fault.err = 6; e.fault.count = 1; e.fault.last = 1000;
	round_trip(&e, &o);
	assert_int_equal(o.fault.count, 1); assert_int_equal(o.fault.last, 1000);
	e.fault.count = 512; e.fault.stride = -4096; e.fault.last = 99999;
	round_trip(&e, &o);
	assert_int_equal(o.fault.count, 512); assert_int_equal(o.fault.stride, -4096);
	assert_int_equal(o.fault.last, 99999); assert_int_equal(o.fault.err, 6);

	e.type = MMR_EV_RECLAIM; e.reclaim.kind = MMR_RECLAIM_MEMCG; e.reclaim.dur = 5;
	e.reclaim.scanned = 32; e.reclaim.reclaimed = 31;
	round_trip(&e, &o);
	assert_int_equal(o.reclaim.kind, MMR_RECLAIM_MEMCG); assert_int_equal(o.reclaim.reclaimed, 31);

	e.type = MMR_EV_LOCK; memset(&e.lock, 0, sizeof(e.lock));
	e.lock.write = true; e.lock.hold = false; e.lock.success = false; e.lock.trylock = true;
	e.lock.op = MMR_OP_MPROTECT; e.lock.dur = 777;
	round_trip(&e, &o);
	assert_true(o.lock.write); assert_false(o.lock.hold); assert_false(o.lock.success);
	assert_true(o.lock.trylock); assert_int_equal(o.lock.op, MMR_OP_MPROTECT);
	e.lock.hold = true; e.lock.trylock = false;
	round_trip(&e, &o);
	assert_true(o.lock.hold); assert_true(o.lock.success); assert_false(o.lock.trylock);

	e.type = MMR_EV_CONTENTION; e.contention.flags = MMR_LCB_WRITE; e.contention.cls = MMR_LC_ANON_VMA;
	e.contention.op = MMR_OP_FORK; e.contention.stack = 7; e.contention.dur = 123456;
	round_trip(&e, &o);
	assert_int_equal(o.contention.cls, MMR_LC_ANON_VMA); assert_int_equal(o.contention.stack, 7);
	assert_int_equal(o.contention.op, MMR_OP_FORK);

	e.type = MMR_EV_EXEC; strcpy(e.exec.comm, "zy\"gote"); strcpy(e.exec.file, "sha256:00");
	round_trip(&e, &o);
	assert_string_equal(o.exec.comm, "zy\"gote");

	e.type = MMR_EV_EXIT; e.exit.group = true;
	round_trip(&e, &o);
	assert_true(o.exit.group);

	e.type = MMR_EV_STACK; e.stack.id = 9; e.stack.nframes = 3; e.stack.frames = frames;
	round_trip(&e, &o);
	assert_int_equal(o.stack.id, 9); assert_int_equal(o.stack.nframes, 3);
	assert_string_equal(o.stack.frames[1], "anon_vma_fork+0x60/0x180");
	assert_string_equal(o.stack.frames[2], "quote\"back\\slash");
	mmr_event_release(&o);
	assert_null(o.stack.frames);
}

static void test_format_reports_needed_size(void **state)
{
	struct mmr_event e = { .type = MMR_EV_FAULT, .ts = 1, .pid = 1, .tid = 1 };
	char buf[16], full[256];
	size_t need = mmr_event_format(&e, full, sizeof(full));

	(void)state;
	e.fault.count = 1;
	need = mmr_event_format(&e, full, sizeof(full));
	assert_int_equal(mmr_event_format(&e, buf, sizeof(buf)), need);
	assert_int_equal(strlen(full), need);
}

static void expect_bad(const char *line, const char *msg)
{
	struct json_object *o = json_tokener_parse(line);
	struct mmr_event e;

	assert_non_null(o);
	if (mmr_event_from_json(o, &e) == 0)
		fail_msg("accepted bad line %s", line);
	json_object_put(o);
	assert_err_contains(msg);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_bad("[1,2]", "expected a JSON object");
	expect_bad("{\"ts\":1}", "field 'ev': missing");
	expect_bad("{\"ev\":\"teleport\",\"ts\":1,\"pid\":1,\"tid\":1}", "unknown event type");
	expect_bad("{\"ev\":\"fork\",\"ts\":\"1\",\"pid\":1,\"tid\":1,\"child\":2,\"thread\":false}",
		   "field 'ts': expected int");
	expect_bad("{\"ev\":\"fork\",\"ts\":-5,\"pid\":1,\"tid\":1,\"child\":2,\"thread\":false}",
		   "field 'ts': must not be negative");
	expect_bad("{\"ev\":\"fork\",\"ts\":1,\"pid\":1,\"tid\":1,\"thread\":false}",
		   "field 'child': missing");
	expect_bad("{\"ev\":\"fork\",\"ts\":1,\"pid\":99999999999,\"tid\":1,\"child\":2,\"thread\":false}",
		   "field 'pid': number out of range");
	expect_bad("{\"ev\":\"fault\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":6,\"n\":0,\"stride\":4096,\"last\":1}",
		   "field 'n'");
	expect_bad("{\"ev\":\"fault\",\"ts\":10,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":6,\"n\":2,\"stride\":4096,\"last\":1}",
		   "field 'last'");
	expect_bad("{\"ev\":\"lock\",\"ts\":1,\"pid\":1,\"tid\":1,\"lock\":\"mmap_lock\",\"mode\":\"sideways\",\"kind\":\"hold\",\"op\":\"fault\",\"dur\":1}",
		   "field 'mode': unknown value");
	expect_bad("{\"ev\":\"stack\",\"id\":1,\"frames\":[\"a\",2]}", "frames[1]");
	expect_bad("{\"ev\":\"exec\",\"ts\":1,\"pid\":1,\"tid\":1,\"comm\":\"aaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		   "field 'comm': longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_flags_str),
		cmocka_unit_test(test_round_trip_all_types),
		cmocka_unit_test(test_format_reports_needed_size),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
