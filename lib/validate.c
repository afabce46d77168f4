// SPDX-License-Identifier: GPL-2.0-or-later
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-event.h"
#include "mmr-lines.h"
#include "mmr-schema.h"
#include "mmr-trace.h"
#include "mmr-validate.h"
#include "trace-internal.h"

struct vstate {
	struct json_tokener *tok;
	const struct mmr_schema *trace, *result;
	struct mmr_validation *v;
};

static struct json_object *parse(struct vstate *s, const char *buf, size_t len, uint64_t line)
{
	enum json_tokener_error jerr;
	struct json_object *o;

	json_tokener_reset(s->tok);
	o = json_tokener_parse_ex(s->tok, buf, (int)len);
	jerr = json_tokener_get_error(s->tok);
	if (!o || jerr != json_tokener_success) {
		/* Byte offset into a line number for multi-line documents. */
		size_t end = json_tokener_get_parse_end(s->tok);
		uint64_t l = line;

		for (size_t i = 0; i < end && i < len; i++)
			l += buf[i] == '\n';
		json_object_put(o);
		if (jerr == json_tokener_continue)
			mmr_seterr(MMR_E_FORMAT, "line %" PRIu64 ": truncated JSON", l);
		else
			mmr_seterr(MMR_E_FORMAT, "line %" PRIu64 ": not valid JSON: %s", l,
				   json_tokener_error_desc(jerr));
		return NULL;
	}
	if (json_tokener_get_parse_end(s->tok) < len) {
		size_t i = json_tokener_get_parse_end(s->tok);

		while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r'))
			i++;
		if (i < len) {
			json_object_put(o);
			mmr_seterr(MMR_E_FORMAT, "line %" PRIu64 ": extra characters after the JSON value",
				   line);
			return NULL;
		}
	}
	return o;
}

static const char *ev_of(struct json_object *o)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, "ev", &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
}

/* Rules between lines, checked after each line passed the schema. */
struct order {
	uint64_t last_ts;
	uint64_t counts[MMR_EV__COUNT];
	uint64_t faults;
	uint32_t *stacks;
	size_t nstacks, cap;
};

static int stack_known(struct order *ord, uint32_t id)
{
	for (size_t i = 0; i < ord->nstacks; i++)
		if (ord->stacks[i] == id)
			return 1;
	return 0;
}

static int check_event(struct order *ord, struct json_object *o, const char *ev)
{
	enum mmr_ev_type t = mmr_ev_from_name(ev);

	ord->counts[t]++;
	if (t == MMR_EV_STACK) {
		uint32_t id = (uint32_t)get_u64(o, "id");

		if (stack_known(ord, id))
			return mmr_seterr(MMR_E_FORMAT, "field 'id': stack %u defined twice", id);
		if (ord->nstacks == ord->cap) {
			size_t ncap = ord->cap ? ord->cap * 2 : 64;
			uint32_t *n = realloc(ord->stacks, ncap * sizeof(*n));

			if (!n)
				return mmr_seterr(MMR_E_NOMEM, "out of memory");
			ord->stacks = n;
			ord->cap = ncap;
		}
		ord->stacks[ord->nstacks++] = id;
		return 0;
	}
	uint64_t ts = get_u64(o, "ts");
	if (ts < ord->last_ts)
		return mmr_seterr(MMR_E_FORMAT, "field 'ts': %" PRIu64
				  " goes back in time (previous line %" PRIu64 ")", ts, ord->last_ts);
	ord->last_ts = ts;
	if (t == MMR_EV_FAULT) {
		struct json_object *n;
		uint64_t cnt = json_object_object_get_ex(o, "n", &n) ? get_u64(o, "n") : 1;

		if (json_object_object_get_ex(o, "n", NULL) && get_u64(o, "last") < ts)
			return mmr_seterr(MMR_E_FORMAT, "field 'last': earlier than 'ts'");
		ord->faults += cnt;
	}
	if (t == MMR_EV_CONTENTION) {
		uint32_t id = (uint32_t)get_u64(o, "stack");

		if (id && !stack_known(ord, id))
			return mmr_seterr(MMR_E_FORMAT, "field 'stack': id %u used before its stack line",
					  id);
	}
	return 0;
}

static int check_footer(struct order *ord, struct json_object *o, struct mmr_validation *v)
{
	struct json_object *c;

	json_object_object_get_ex(o, "counts", &c);
	for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++) {
		uint64_t want = get_u64(c, mmr_ev_name(t));

		if (json_object_object_get_ex(c, mmr_ev_name(t), NULL) && want != ord->counts[t])
			return mmr_seterr(MMR_E_FORMAT, "field 'counts.%s': footer says %" PRIu64
					  " but the trace has %" PRIu64 " such lines",
					  mmr_ev_name(t), want, ord->counts[t]);
	}
	if (get_u64(o, "faults") != ord->faults)
		return mmr_seterr(MMR_E_FORMAT, "field 'faults': footer says %" PRIu64
				  " but the fault lines add up to %" PRIu64,
				  get_u64(o, "faults"), ord->faults);
	v->lost = get_u64(o, "lost_total");
	return 0;
}

static int validate_trace(struct vstate *s, struct mmr_lines *l, struct json_object *hdr)
{
	struct mmr_validation *v = s->v;
	struct order ord = { 0 };
	bool footer = false;
	char *line;
	size_t len;
	int n, r = -1;

	if (mmr_trace_check_header_version(hdr) < 0 || mmr_schema_validate(s->trace, hdr) < 0) {
		mmr_adderr_context("line 1 (header)");
		return -1;
	}
	v->kind = MMR_FILE_TRACE;
	v->version = MMR_TRACE_VERSION;
	v->lines = 1;
	while ((n = mmr_lines_next(l, &line, &len)) > 0) {
		uint64_t no = mmr_lines_lineno(l);
		struct json_object *o;
		const char *ev;
		int bad;

		v->lines = no;
		if (!len)
			continue;
		if (footer) {
			mmr_seterr(MMR_E_FORMAT, "line %" PRIu64 ": data after the footer", no);
			goto out;
		}
		o = parse(s, line, len, no);
		if (!o)
			goto out;
		bad = mmr_schema_validate(s->trace, o) < 0;
		ev = ev_of(o);
		if (!bad && !strcmp(ev, "header"))
			bad = mmr_seterr(MMR_E_FORMAT, "a second header");
		else if (!bad && !strcmp(ev, "footer"))
			bad = check_footer(&ord, o, v) < 0, footer = true;
		else if (!bad)
			bad = check_event(&ord, o, ev) < 0;
		json_object_put(o);
		if (bad) {
			mmr_adderr_context("line %" PRIu64, no);
			goto out;
		}
		if (!footer)
			v->events++;
	}
	if (n < 0)
		goto out;
	v->faults = ord.faults;
	v->truncated = !footer;
	r = 0;
out:
	free(ord.stacks);
	return r;
}

static int validate_result(struct vstate *s, struct mmr_lines *l, const char *first,
			   size_t flen)
{
	struct mmr_validation *v = s->v;
	struct json_object *o = NULL, *k;
	char *rest = NULL, *doc = NULL;
	size_t rlen;
	int r = -1;

	/* The first line is already consumed: glue it back to the rest. */
	if (mmr_lines_slurp(l, &rest, &rlen, MMR_RESULT_MAX) < 0)
		return -1;
	doc = malloc(flen + 1 + rlen + 1);
	if (!doc) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(doc, first, flen);
	doc[flen] = '\n';
	memcpy(doc + flen + 1, rest, rlen);
	doc[flen + 1 + rlen] = '\0';
	o = parse(s, doc, flen + 1 + rlen, 1);
	if (!o)
		goto out;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "schema", &k) ||
	    !json_object_is_type(k, json_type_string) ||
	    strcmp(json_object_get_string(k), "mmreplay-result")) {
		mmr_seterr(MMR_E_FORMAT,
			   "neither an mmreplay trace (first line is not a trace header) nor a result (no \"schema\":\"mmreplay-result\")");
		goto out;
	}
	if (!json_object_object_get_ex(o, "version", &k) || !json_object_is_type(k, json_type_int)) {
		mmr_seterr(MMR_E_FORMAT, "field 'version': missing or not an integer");
		goto out;
	}
	if (json_object_get_int64(k) != 1) {
		mmr_seterr(MMR_E_VERSION,
			   "result format version %lld is not supported (this mmreplay reads version 1)",
			   (long long)json_object_get_int64(k));
		goto out;
	}
	if (mmr_schema_validate(s->result, o) < 0)
		goto out;
	v->kind = MMR_FILE_RESULT;
	v->version = 1;
	if (json_object_object_get_ex(o, "runs", &k))
		v->runs = json_object_array_length(k);
	r = 0;
out:
	json_object_put(o);
	free(doc);
	free(rest);
	return r;
}

static int validate_lines(struct mmr_lines *l, struct mmr_validation *v)
{
	struct vstate s = { .v = v };
	struct json_object *o = NULL;
	char *line, *first = NULL;
	size_t len;
	int n, r = -1;

	memset(v, 0, sizeof(*v));
	s.tok = json_tokener_new_ex(64);
	s.trace = mmr_schema_get("trace.v1");
	s.result = mmr_schema_get("result.v1");
	if (!s.tok || !s.trace || !s.result)
		goto out;
	json_tokener_set_flags(s.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	v->compressed = mmr_lines_compressed(l);
	n = mmr_lines_next(l, &line, &len);
	if (n < 0)
		goto out;
	if (n == 0) {
		mmr_seterr(MMR_E_FORMAT, "empty file");
		goto out;
	}
	/* A trace's first line is a complete header object; a result is not. */
	json_tokener_reset(s.tok);
	o = json_tokener_parse_ex(s.tok, line, (int)len);
	if (o && json_tokener_get_error(s.tok) == json_tokener_success &&
	    json_object_is_type(o, json_type_object) && ev_of(o)) {
		r = validate_trace(&s, l, o);
		goto out;
	}
	first = strndup(line, len);
	if (!first) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		goto out;
	}
	r = validate_result(&s, l, first, len);
out:
	free(first);
	json_object_put(o);
	if (s.tok)
		json_tokener_free(s.tok);
	return r;
}

/* validate_lines, then free l; l NULL: its opener's error (-1). */
static int validate_and_free(struct mmr_lines *l, struct mmr_validation *v)
{
	int r;

	if (!l)
		return -1;
	r = validate_lines(l, v);
	mmr_lines_free(l);
	return r;
}

int mmr_validate_file(const char *path, struct mmr_validation *v)
{
	return validate_and_free(mmr_lines_open(path, MMR_TRACE_MAX_LINE), v);
}

int mmr_validate_mem(const void *buf, size_t len, struct mmr_validation *v)
{
	return validate_and_free(mmr_lines_mem(buf, len, MMR_TRACE_MAX_LINE), v);
}
