// SPDX-License-Identifier: GPL-2.0-or-later
/* Schema validator and whole-file validation against the shipped examples. */
#include <json-c/json.h>

#include "test-util.h"
#include "mmr-error.h"
#include "mmr-schema.h"
#include "mmr-validate.h"

#define EX MMR_SRCDIR "/schemas/examples/"

static void test_examples_valid(void **state)
{
	struct mmr_validation v;

	(void)state;
	if (mmr_validate_file(EX "trace-zygote-small.jsonl", &v) < 0)
		fail_msg("%s", mmr_strerror());
	assert_int_equal(v.kind, MMR_FILE_TRACE);
	assert_false(v.truncated);
	assert_int_equal(v.events, 13);
	if (mmr_validate_file(EX "result-zygote-small.json", &v) < 0)
		fail_msg("%s", mmr_strerror());
	assert_int_equal(v.kind, MMR_FILE_RESULT);
	assert_int_equal(v.runs, 1);
}

/* Validate one trace line against trace.v1; return the error or NULL. */
static const char *line_err(const char *line)
{
	const struct mmr_schema *s = mmr_schema_get("trace.v1");
	struct json_object *o = json_tokener_parse(line);
	int r;

	assert_non_null(s);
	assert_non_null(o);
	r = mmr_schema_validate(s, o);
	json_object_put(o);
	return r < 0 ? mmr_strerror() : NULL;
}

static void expect_line(const char *line, const char *needle)
{
	const char *e = line_err(line);

	if (!needle) {
		if (e)
			fail_msg("rejected %s: %s", line, e);
		return;
	}
	if (!e)
		fail_msg("accepted %s", line);
	if (!strstr(e, needle))
		fail_msg("error \"%s\" lacks \"%s\"", e, needle);
}

static void test_event_lines(void **state)
{
	(void)state;
	expect_line("{\"ev\":\"fault\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":6}", NULL);
	expect_line("{\"ev\":\"fault\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":4096}", "field 'err': missing");
	expect_line("{\"ev\":\"fault\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":6,\"n\":0}",
		    "field 'n': 0 is below the minimum 1");
	expect_line("{\"ev\":\"fault\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":4096,\"err\":6,\"color\":1}",
		    "field 'color': unknown field");
	expect_line("{\"ev\":\"lock\",\"ts\":1,\"pid\":1,\"tid\":1,\"lock\":\"mmap_lock\",\"mode\":\"up\","
		    "\"kind\":\"hold\",\"op\":\"fault\",\"dur\":1}", "field 'mode': \"up\" is not one of");
	expect_line("{\"ev\":\"warp\",\"ts\":1}", "field 'ev'");
	expect_line("{\"ts\":1}", "field 'ev': missing");
	expect_line("{\"ev\":\"fork\",\"ts\":1.5,\"pid\":1,\"tid\":1,\"child\":2,\"thread\":true}",
		    "field 'ts': expected integer, got number");
	expect_line("{\"ev\":\"fork\",\"ts\":1,\"pid\":4294967296,\"tid\":1,\"child\":2,\"thread\":true}",
		    "field 'pid': 4294967296 is above the maximum");
	/* huge numbers: json-c clamps silently, the validator must not */
	expect_line("{\"ev\":\"fork\",\"ts\":123456789012345678901234567890,\"pid\":1,\"tid\":1,"
		    "\"child\":2,\"thread\":true}", "field 'ts': number too large");
	expect_line("{\"ev\":\"mmap\",\"ts\":1,\"pid\":1,\"tid\":1,\"addr\":18446744073709551000,"
		    "\"len\":4096,\"prot\":3,\"flags\":34,\"ret\":-12}", NULL);
	expect_line("{\"ev\":\"stack\",\"id\":0,\"frames\":[]}", "field 'id': 0 is below the minimum 1");
	expect_line("{\"ev\":\"stack\",\"id\":3,\"frames\":[\"a\",7]}",
		    "field 'frames[1]': expected string, got integer");
}

/* Validate text as a whole file; return the error or NULL. */
static const char *file_err(const char *text)
{
	struct mmr_validation v;

	return mmr_validate_mem(text, strlen(text), &v) < 0 ? mmr_strerror() : NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Replace the first occurrence of from with to (fits: buffer grows). */
static char *mutate(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	char *out;

	if (!p)
		fail_msg("mutation anchor \"%s\" not found", from);
	out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
	memcpy(out, text, p - text);
	strcpy(out + (p - text), to);
	strcat(out, p + strlen(from));
	return out;
}

static void expect_file(const char *text, const char *from, const char *to, const char *needle)
{
	char *m = mutate(text, from, to);
	const char *e = file_err(m);

	if (!e)
		fail_msg("accepted mutation %s -> %s", from, to);
	if (!strstr(e, needle))
		fail_msg("mutation %s -> %s: error \"%s\" lacks \"%s\"", from, to, e, needle);
	free(m);
}

static void test_broken_trace_copies(void **state)
{
	char *t = slurp(EX "trace-zygote-small.jsonl");

	(void)state;
	assert_null(file_err(t));
	expect_file(t, "\"version\":1", "\"version\":7", "version 7 is not supported");
	expect_file(t, "\"page_size\":4096", "\"page_size\":\"4096\"", "line 1 (header): field 'page_size'");
	expect_file(t, "\"child\":4243", "\"child\":\"x\"", "line 5: field 'child': expected integer");
	expect_file(t, "\"class\":\"anon_vma\"", "\"class\":\"anon-vma\"", "line 8: field 'class'");
	expect_file(t, "\"stack\":1,", "\"stack\":5,", "line 8: field 'stack': id 5 used before");
	expect_file(t, "\"ts\":1000100050", "\"ts\":100", "line 3: field 'ts': 100 goes back in time");
	expect_file(t, "\"contention\":1", "\"contention\":2", "field 'counts.contention': footer says 2");
	expect_file(t, "\"faults\":32441", "\"faults\":3", "field 'faults': footer says 3");
	expect_file(t, "\"group\":true}\n", "\"group\":true}\n{\"ev\":\"header\"}\n", "line 15");
	expect_file(t, "{\"ev\":\"footer\"", "{\"ev\":\"footer\"\n", "line 15: truncated JSON");
	expect_file(t, "\"comm\":\"zygote\"", "\"comm\":\"zyg\xc3\x28te\"", "line 1: not valid JSON");
	free(t);
}

static void test_truncated_trace_is_flagged(void **state)
{
	char *t = slurp(EX "trace-zygote-small.jsonl");
	char *footer = strstr(t, "{\"ev\":\"footer\"");
	struct mmr_validation v;

	(void)state;
	*footer = '\0';
	assert_int_equal(mmr_validate_mem(t, strlen(t), &v), 0);
	assert_true(v.truncated);
	free(t);
}

static void test_broken_result_copies(void **state)
{
	char *r = slurp(EX "result-zygote-small.json");

	(void)state;
	assert_null(file_err(r));
	expect_file(r, "\"version\": 1", "\"version\": 2", "result format version 2 is not supported");
	expect_file(r, "\"emulated\": false", "\"emulated\": \"no\"", "field 'emulated': expected boolean");
	expect_file(r, "\"mode\": \"as-recorded\"", "\"mode\": \"warp\"", "field 'params.mode'");
	expect_file(r, "\"p99\": ", "\"p99\": -", "field 'runs[0].stats.locks[0].hist.p99'");
	expect_file(r, "\"schema\": \"mmreplay-result\"", "\"schema\": \"other\"", "neither an mmreplay trace");
	expect_file(r, "\"lock\": \"anon_vma\"", "\"lock\": \"anon_vma\", \"x\": 1", "unknown field");
	free(r);
}

static void test_unknown_schema(void **state)
{
	(void)state;
	assert_null(mmr_schema_get("trace.v9"));
	assert_err_contains("no built-in schema");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_valid),
		cmocka_unit_test(test_event_lines),
		cmocka_unit_test(test_broken_trace_copies),
		cmocka_unit_test(test_truncated_trace_is_flagged),
		cmocka_unit_test(test_broken_result_copies),
		cmocka_unit_test(test_unknown_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
