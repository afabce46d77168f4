// SPDX-License-Identifier: GPL-2.0-or-later
/* Trace writer and reader: round trips, compression, truncation, bad input. */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-lines.h"
#include "mmr-trace.h"


static int setup(void **state)
{
	(void)state;
	return test_tmpdir_setup("trace");
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A header filled as the recorder would, plus a map snapshot of ourselves. */
static void make_header(struct mmr_trace_header *h)
{
	assert_int_equal(mmr_trace_header_init(h), 0);
	assert_int_equal(mmr_trace_header_add_event(h, "exceptions:page_fault_user", false), 0);
	assert_int_equal(mmr_trace_header_add_event(h, "lock:contention_begin", true), 0);
	h->command = strdup("./prog arg");
	assert_int_equal(mmr_trace_header_add_maps(h, getpid(), true), 0);
}

/* Write n events of mixed types, then read them back and compare. */
static void round_trip(enum mmr_compress c, int n)
{
	const char *path = tpath(c ? "rt.jsonl.zst" : "rt.jsonl");
	struct mmr_trace_header h;
	struct mmr_trace_footer f = { 0 };
	struct mmr_trace_writer *w;
	struct mmr_trace_reader *r;
	const struct mmr_trace_footer *rf;
	struct mmr_event e, o;
	char *frames[] = { "down_write+0x5b/0x60", "anon_vma_fork+0x60/0x180" };
	uint64_t lost[2] = { 0, 3 };
	int got = 0, rc;

	make_header(&h);
	w = mmr_trace_writer_new(path, c, &h);
	assert_non_null(w);
	memset(&e, 0, sizeof(e));
	e.type = MMR_EV_STACK;
	e.stack.id = 1;
	e.stack.nframes = 2;
	e.stack.frames = frames;
	assert_int_equal(mmr_trace_writer_event(w, &e), 0);
	for (int i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.ts = 1000 + i;
		e.pid = 10;
		e.tid = 10 + i % 3;
		switch (i % 3) {
		case 0:
			e.type = MMR_EV_FAULT;
			e.fault.addr = 0x7f0000000000ull + (uint64_t)i * 4096;
			e.fault.err = 6;
			e.fault.count = 1 + i % 100;
			e.fault.stride = 4096;
			e.fault.last = e.ts + 5;
			break;
		case 1:
			e.type = MMR_EV_CONTENTION;
			e.contention.flags = 4;
			e.contention.cls = MMR_LC_ANON_VMA;
			e.contention.op = MMR_OP_FORK;
			e.contention.stack = 1;
			e.contention.dur = i;
			break;
		default:
			e.type = MMR_EV_MPROTECT;
			e.range.addr = 0x1000;
			e.range.len = 4096;
			e.range.arg = 1;
			break;
		}
		assert_int_equal(mmr_trace_writer_event(w, &e), 0);
	}
	f.ncpus = 2;
	f.lost = lost;
	f.end_ns = 1000 + n;
	f.duration_ns = n;
	assert_int_equal(mmr_trace_writer_finish(w, &f), 0);
	assert_int_equal(mmr_trace_writer_free(w), 0);

	r = mmr_trace_reader_new(path);
	if (!r)
		fail_msg("reader: %s", mmr_strerror());
	assert_string_equal(mmr_trace_reader_header(r)->kernel, h.kernel);
	assert_string_equal(mmr_trace_reader_header(r)->command, "./prog arg");
	assert_int_equal(mmr_trace_reader_header(r)->nmissing, 1);
	assert_int_equal(mmr_trace_reader_header(r)->nprocs, 1);
	assert_true(mmr_trace_reader_header(r)->procs[0].nmaps > 3);
	/* addresses above INT64_MAX (the [vsyscall] map) come back unsigned */
	{
		const struct mmr_proc_maps *pm = &mmr_trace_reader_header(r)->procs[0];

		assert_int_equal(pm->maps[pm->nmaps - 1].start, h.procs[0].maps[h.procs[0].nmaps - 1].start);
		assert_int_equal(pm->maps[pm->nmaps - 1].end, h.procs[0].maps[h.procs[0].nmaps - 1].end);
	}
	assert_int_equal(mmr_trace_reader_next(r, &o), 1);
	assert_int_equal(o.type, MMR_EV_STACK);
	while ((rc = mmr_trace_reader_next(r, &o)) == 1) {
		assert_int_equal(o.ts, 1000 + got);
		assert_int_equal(o.tid, 10 + got % 3);
		if (got % 3 == 0)
			assert_int_equal(o.fault.count, 1 + got % 100);
		got++;
	}
	if (rc < 0)
		fail_msg("reader: %s", mmr_strerror());
	assert_int_equal(got, n);
	rf = mmr_trace_reader_footer(r);
	assert_non_null(rf);
	assert_int_equal(rf->counts[MMR_EV_CONTENTION], (n + 1) / 3);
	assert_int_equal(rf->lost[1], 3);
	{
		unsigned nf;
		const char *const *fr = mmr_trace_reader_stack(r, 1, &nf);

		assert_int_equal(nf, 2);
		assert_string_equal(fr[1], "anon_vma_fork+0x60/0x180");
	}
	mmr_trace_reader_free(r);
	mmr_trace_header_release(&h);
}

static void test_round_trip_plain(void **state)
{
	(void)state;
	round_trip(MMR_COMPRESS_NONE, 30000);
}

static void test_round_trip_zstd(void **state)
{
	struct stat a, b;

	(void)state;
	round_trip(MMR_COMPRESS_ZSTD, 30000);
	round_trip(MMR_COMPRESS_NONE, 30000);
	assert_int_equal(stat(tpath("rt.jsonl.zst"), &a), 0);
	assert_int_equal(stat(tpath("rt.jsonl"), &b), 0);
	assert_true(a.st_size * 4 < b.st_size);	/* it really compressed */
	/* detection is by magic: a compressed file under a plain name reads */
	char from[256];

	snprintf(from, sizeof(from), "%s", tpath("rt.jsonl.zst"));
	assert_int_equal(rename(from, tpath("renamed.jsonl")), 0);
	struct mmr_trace_reader *r = mmr_trace_reader_new(tpath("renamed.jsonl"));
	if (!r)
		fail_msg("renamed: %s", mmr_strerror());
	mmr_trace_reader_free(r);
}

static const char *HDR =
	"{\"ev\":\"header\",\"schema\":\"mmreplay-trace\",\"version\":1,\"mmreplay_version\":\"0.1.0\","
	"\"host\":\"h\",\"kernel\":\"6.18\",\"arch\":\"x86_64\",\"page_size\":4096,\"cpus\":2,"
	"\"clock\":\"mono\",\"start_ns\":1,\"start_time\":\"2026-01-01T00:00:00Z\",\"paths\":\"hashed\","
	"\"events\":[],\"filters\":{\"system_wide\":false},\"maps\":[]}\n";

/* Read a file made of HDR + body; return the error (or NULL if all read). */
static const char *read_all(const char *body, bool *truncated)
{
	char buf[8192];
	struct mmr_trace_reader *r;
	struct mmr_event e;
	int rc;

	snprintf(buf, sizeof(buf), "%s%s", HDR, body);
	write_file(tpath("t.jsonl"), buf, strlen(buf));
	r = mmr_trace_reader_new(tpath("t.jsonl"));
	if (!r)
		return mmr_strerror();
	while ((rc = mmr_trace_reader_next(r, &e)) == 1)
		mmr_event_release(&e);
	if (truncated)
		*truncated = mmr_trace_reader_footer(r) == NULL;
	mmr_trace_reader_free(r);
	return rc < 0 ? mmr_strerror() : NULL;
}

static void expect_error(const char *body, const char *needle)
{
	const char *err = read_all(body, NULL);

	if (!err)
		fail_msg("accepted: %s", body);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_truncated_is_readable(void **state)
{
	bool trunc = false;

	(void)state;
	assert_null(read_all("{\"ev\":\"exit\",\"ts\":5,\"pid\":1,\"tid\":1,\"group\":true}\n", &trunc));
	assert_true(trunc);
	/* a cut in the middle of the last line is an error that names the line */
	expect_error("{\"ev\":\"exit\",\"ts\":5,\"pid\":1,\"tid\":1,\"group\":true}\n{\"ev\":\"exit\",\"ts\"",
		     "line 3: truncated JSON");
}

static void test_bad_lines(void **state)
{
	(void)state;
	expect_error("{\"ev\":\"exit\",\"ts\":\"5\",\"pid\":1,\"tid\":1,\"group\":true}\n",
		     "line 2: field 'ts': expected int");
	expect_error("\n\n{\"ev\":\"fork\",\"ts\":5,\"pid\":1,\"tid\":1,\"thread\":true}\n",
		     "line 4: field 'child': missing");
	expect_error("{\"ev\":\"exit\",\"ts\":99999999999999999999999,\"pid\":1,\"tid\":1,\"group\":true}\n",
		     "line 2: field 'ts': number out of range");
	expect_error("{\"ev\":\"exec\",\"ts\":1,\"pid\":1,\"tid\":1,\"comm\":\"\xff\xfe\"}\n",
		     "line 2: not valid JSON");
	expect_error("{\"ev\":\"exit\",\"ts\":5,\"pid\":1,\"tid\":1,\"group\":true} x\n", "line 2");
	expect_error("[]\n", "line 2: expected a JSON object");
	expect_error("{\"ev\":\"footer\",\"counts\":{},\"faults\":0,\"lost\":[],\"lost_total\":0,"
		     "\"end_ns\":1,\"duration_ns\":1}\n{\"ev\":\"exit\",\"ts\":5,\"pid\":1,\"tid\":1,\"group\":true}\n",
		     "line 3: data after the footer");
	expect_error("{\"ev\":\"footer\",\"counts\":{},\"faults\":\"x\",\"lost\":[],\"lost_total\":0,"
		     "\"end_ns\":1,\"duration_ns\":1}\n", "line 2 (footer): field 'faults'");
}

static void test_header_errors(void **state)
{
	const char *v2 = "{\"ev\":\"header\",\"schema\":\"mmreplay-trace\",\"version\":2}\n";
	struct mmr_trace_reader *r;

	(void)state;
	write_file(tpath("v2.jsonl"), v2, strlen(v2));
	assert_null(mmr_trace_reader_new(tpath("v2.jsonl")));
	assert_int_equal(mmr_errcode(), MMR_E_VERSION);
	assert_err_contains("version 2 is not supported");

	write_file(tpath("empty.jsonl"), "", 0);
	assert_null(mmr_trace_reader_new(tpath("empty.jsonl")));
	assert_err_contains("empty file");

	write_file(tpath("other.json"), "{\"hello\":1}\n", 12);
	assert_null(mmr_trace_reader_new(tpath("other.json")));
	assert_err_contains("not an mmreplay trace");

	assert_null(mmr_trace_reader_new(tpath("does-not-exist")));
	assert_err_contains("No such file");

	/* header that passes the version check but not the schema */
	r = mmr_trace_reader_mem("{\"ev\":\"header\",\"schema\":\"mmreplay-trace\",\"version\":1}\n", 55);
	assert_null(r);
	assert_err_contains("line 1 (header): field");
}

/* A 1 GB line must fail with a line number and bounded memory. */
static void test_huge_line_bounded(void **state)
{
	const char *path = tpath("huge.jsonl");
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	struct rusage ru0, ru1;
	int fd;

	(void)state;
	memset(buf, 'a', chunk);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, HDR, strlen(HDR)), (ssize_t)strlen(HDR));
	/* sparse would not exercise the reader: write 200 MiB of real bytes,
	 * beyond the 64 MiB line limit, which is the case that matters */
	for (int i = 0; i < 200; i++)
		assert_int_equal(write(fd, buf, chunk), (ssize_t)chunk);
	close(fd);
	free(buf);
	getrusage(RUSAGE_SELF, &ru0);
	{
		struct mmr_trace_reader *r = mmr_trace_reader_new(path);
		struct mmr_event e;

		assert_non_null(r);
		assert_int_equal(mmr_trace_reader_next(r, &e), -1);
		assert_err_contains("line 2: longer than");
		mmr_trace_reader_free(r);
	}
	getrusage(RUSAGE_SELF, &ru1);
	/* peak RSS grows by at most ~3x the line limit, never the file size */
	assert_true(ru1.ru_maxrss - ru0.ru_maxrss < 3 * (MMR_TRACE_MAX_LINE >> 10));
	unlink(path);
}

static void test_lines_reader(void **state)
{
	const char *data = "a\nbb\n\nccc";
	struct mmr_lines *l = mmr_lines_mem(data, strlen(data), 16);
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(mmr_lines_next(l, &line, &len), 1);
	assert_string_equal(line, "a");
	assert_int_equal(mmr_lines_next(l, &line, &len), 1);
	assert_string_equal(line, "bb");
	assert_int_equal(mmr_lines_next(l, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(mmr_lines_next(l, &line, &len), 1);
	assert_string_equal(line, "ccc");
	assert_true(mmr_lines_unterminated(l));
	assert_int_equal(mmr_lines_lineno(l), 4);
	assert_int_equal(mmr_lines_next(l, &line, &len), 0);
	mmr_lines_free(l);

	l = mmr_lines_mem("ok\n0123456789abcdefXYZ\n", 23, 16);
	assert_int_equal(mmr_lines_next(l, &line, &len), 1);
	assert_int_equal(mmr_lines_next(l, &line, &len), -1);
	assert_err_contains("line 2: longer than 16 bytes");
	mmr_lines_free(l);

	l = mmr_lines_mem("a\0b\n", 4, 16);
	assert_int_equal(mmr_lines_next(l, &line, &len), -1);
	assert_err_contains("NUL byte");
	mmr_lines_free(l);
}

static void test_corrupt_zstd(void **state)
{
	/* zstd magic followed by garbage */
	const char bad[] = "\x28\xb5\x2f\xfd\x00\x58\xff\xff\xff\xff\xff\xff\xff\xff";

	(void)state;
	assert_null(mmr_trace_reader_mem(bad, sizeof(bad) - 1));
	assert_err_contains("zstd");
}

static void test_disk_full(void **state)
{
	struct mmr_trace_header h;
	struct mmr_trace_writer *w;
	struct mmr_event e = { .type = MMR_EV_EXIT, .ts = 1, .pid = 1, .tid = 1 };
	int rc = 0;

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	assert_int_equal(mmr_trace_header_init(&h), 0);
	w = mmr_trace_writer_new("/dev/full", MMR_COMPRESS_NONE, &h);
	assert_non_null(w);
	for (int i = 0; i < 100000 && rc == 0; i++)
		rc = mmr_trace_writer_event(w, &e);
	if (rc == 0)
		rc = mmr_trace_writer_finish(w, NULL);
	assert_int_equal(rc, -1);
	assert_err_contains("disk full");
	mmr_trace_writer_free(w);
	mmr_trace_header_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_plain),
		cmocka_unit_test(test_round_trip_zstd),
		cmocka_unit_test(test_truncated_is_readable),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_huge_line_bounded),
		cmocka_unit_test(test_lines_reader),
		cmocka_unit_test(test_corrupt_zstd),
		cmocka_unit_test(test_disk_full),
	};
	return cmocka_run_group_tests(tests, setup, test_tmpdir_teardown);
}
