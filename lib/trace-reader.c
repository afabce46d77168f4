// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Streaming trace reader: one line at a time through mmr_lines (bounded
 * memory, zstd detected by magic), each line parsed strictly by json-c
 * with UTF-8 validation. The header and footer are checked against the
 * published schema; event lines are checked field by field as they are
 * converted (a full schema pass per event would triple the cost).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-lines.h"
#include "mmr-schema.h"
#include "mmr-trace.h"
#include "trace-internal.h"

struct stack_def {
	uint32_t id;
	unsigned nframes;
	char **frames;
};

struct mmr_trace_reader {
	struct mmr_lines *lines;
	struct json_tokener *tok;
	const struct mmr_schema *schema;
	struct mmr_trace_header header;
	struct mmr_trace_footer footer;
	bool have_footer, done;
	struct stack_def *stacks;
	unsigned nstacks, cap_stacks;
};

/* Parse one line as a single strict JSON value; NULL with an error. */
static struct json_object *parse_line(struct mmr_trace_reader *r, const char *line, size_t len)
{
	struct json_object *o;
	enum json_tokener_error jerr;
	uint64_t no = mmr_lines_lineno(r->lines);

	json_tokener_reset(r->tok);
	o = json_tokener_parse_ex(r->tok, line, (int)len);
	jerr = json_tokener_get_error(r->tok);
	if (!o || jerr != json_tokener_success) {
		if (jerr == json_tokener_continue)
			mmr_seterr(MMR_E_FORMAT, "line %llu: truncated JSON (line ends early)",
				   (unsigned long long)no);
		else
			mmr_seterr(MMR_E_FORMAT, "line %llu: not valid JSON: %s at byte %zu",
				   (unsigned long long)no, json_tokener_error_desc(jerr),
				   json_tokener_get_parse_end(r->tok));
		json_object_put(o);
		return NULL;
	}
	if (json_tokener_get_parse_end(r->tok) < len) {
		mmr_seterr(MMR_E_FORMAT, "line %llu: extra characters after the JSON object",
			   (unsigned long long)no);
		json_object_put(o);
		return NULL;
	}
	return o;
}

int mmr_trace_check_header_version(struct json_object *o)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object))
		return mmr_seterr(MMR_E_FORMAT, "not a trace header: expected a JSON object");
	if (!json_object_object_get_ex(o, "ev", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "header"))
		return mmr_seterr(MMR_E_FORMAT,
				  "not an mmreplay trace: the first line must be the header ({\"ev\":\"header\",...})");
	if (!json_object_object_get_ex(o, "schema", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), MMR_TRACE_SCHEMA))
		return mmr_seterr(MMR_E_FORMAT, "not an mmreplay trace: field 'schema' must be \"%s\"",
				  MMR_TRACE_SCHEMA);
	if (!json_object_object_get_ex(o, "version", &v) || !json_object_is_type(v, json_type_int))
		return mmr_seterr(MMR_E_FORMAT, "field 'version': missing or not an integer");
	if (json_object_get_int64(v) != MMR_TRACE_VERSION)
		return mmr_seterr(MMR_E_VERSION,
				  "trace format version %lld is not supported (this mmreplay reads version %d); use a matching mmreplay",
				  (long long)json_object_get_int64(v), MMR_TRACE_VERSION);
	return 0;
}

static struct mmr_trace_reader *reader_new(struct mmr_lines *lines)
{
	struct mmr_trace_reader *r = calloc(1, sizeof(*r));
	struct json_object *o = NULL;
	char *line;
	size_t len;
	int n;

	if (!r) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		mmr_lines_free(lines);
		return NULL;
	}
	r->lines = lines;
	r->tok = json_tokener_new_ex(64);
	r->schema = mmr_schema_get("trace.v1");
	if (!r->tok || !r->schema)
		goto fail;
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	n = mmr_lines_next(lines, &line, &len);
	if (n < 0)
		goto fail;
	if (n == 0) {
		mmr_seterr(MMR_E_FORMAT, "empty file: not an mmreplay trace");
		goto fail;
	}
	o = parse_line(r, line, len);
	if (!o)
		goto fail;
	if (mmr_trace_check_header_version(o) < 0 || mmr_schema_validate(r->schema, o) < 0) {
		mmr_adderr_context("line 1 (header)");
		goto fail;
	}
	if (mmr_trace_header_from_json(o, &r->header) < 0)
		goto fail;
	json_object_put(o);
	return r;
fail:
	json_object_put(o);
	mmr_trace_reader_free(r);
	return NULL;
}

struct mmr_trace_reader *mmr_trace_reader_new(const char *path)
{
	struct mmr_lines *l = mmr_lines_open(path, MMR_TRACE_MAX_LINE);
	struct mmr_trace_reader *r;

	if (!l)
		return NULL;
	r = reader_new(l);
	if (!r && strcmp(path, "-"))
		mmr_adderr_context("%s", path);
	return r;
}

struct mmr_trace_reader *mmr_trace_reader_fdopen(int fd)
{
	struct mmr_lines *l = mmr_lines_fdopen(fd, MMR_TRACE_MAX_LINE);

	return l ? reader_new(l) : NULL;
}

struct mmr_trace_reader *mmr_trace_reader_mem(const void *buf, size_t len)
{
	struct mmr_lines *l = mmr_lines_mem(buf, len, MMR_TRACE_MAX_LINE);

	return l ? reader_new(l) : NULL;
}

const struct mmr_trace_header *mmr_trace_reader_header(const struct mmr_trace_reader *r)
{
	return &r->header;
}

static int remember_stack(struct mmr_trace_reader *r, struct mmr_event *ev)
{
	struct stack_def *s;

	for (unsigned i = 0; i < r->nstacks; i++)
		if (r->stacks[i].id == ev->stack.id)
			return mmr_seterr(MMR_E_FORMAT, "stack id %u defined twice", ev->stack.id);
	if (r->nstacks == r->cap_stacks) {
		unsigned ncap = r->cap_stacks ? r->cap_stacks * 2 : 64;

		s = realloc(r->stacks, ncap * sizeof(*s));
		if (!s)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		r->stacks = s;
		r->cap_stacks = ncap;
	}
	s = &r->stacks[r->nstacks++];
	s->id = ev->stack.id;
	s->nframes = ev->stack.nframes;
	s->frames = ev->stack.frames;	/* ownership moves to the reader */
	return 0;
}

int mmr_trace_reader_next(struct mmr_trace_reader *r, struct mmr_event *ev)
{
	struct json_object *o, *v;
	char *line;
	size_t len;
	int n;

	if (r->done)
		return 0;
	for (;;) {
		n = mmr_lines_next(r->lines, &line, &len);
		if (n <= 0) {
			r->done = true;
			return n;
		}
		if (len)
			break;
		/* blank lines are tolerated (a hand-edited trace) */
	}
	if (r->have_footer)
		return mmr_seterr(MMR_E_FORMAT, "line %llu: data after the footer",
				  (unsigned long long)mmr_lines_lineno(r->lines));
	o = parse_line(r, line, len);
	if (!o)
		return -1;
	if (json_object_object_get_ex(o, "ev", &v) && json_object_is_type(v, json_type_string) &&
	    !strcmp(json_object_get_string(v), "footer")) {
		if (mmr_schema_validate(r->schema, o) < 0 ||
		    mmr_trace_footer_from_json(o, &r->footer) < 0) {
			mmr_adderr_context("line %llu (footer)",
					   (unsigned long long)mmr_lines_lineno(r->lines));
			json_object_put(o);
			return -1;
		}
		json_object_put(o);
		r->have_footer = true;
		/* Keep reading: anything after the footer is an error. */
		return mmr_trace_reader_next(r, ev);
	}
	if (mmr_event_from_json(o, ev) < 0) {
		mmr_adderr_context("line %llu", (unsigned long long)mmr_lines_lineno(r->lines));
		json_object_put(o);
		return -1;
	}
	json_object_put(o);
	if (ev->type == MMR_EV_STACK && remember_stack(r, ev) < 0) {
		mmr_event_release(ev);
		mmr_adderr_context("line %llu", (unsigned long long)mmr_lines_lineno(r->lines));
		return -1;
	}
	return 1;
}

const struct mmr_trace_footer *mmr_trace_reader_footer(const struct mmr_trace_reader *r)
{
	return r->have_footer ? &r->footer : NULL;
}

uint64_t mmr_trace_reader_line(const struct mmr_trace_reader *r)
{
	return mmr_lines_lineno(r->lines);
}

const char *const *mmr_trace_reader_stack(const struct mmr_trace_reader *r, uint32_t id,
					  unsigned *nframes)
{
	for (unsigned i = 0; i < r->nstacks; i++)
		if (r->stacks[i].id == id) {
			*nframes = r->stacks[i].nframes;
			return (const char *const *)r->stacks[i].frames;
		}
	*nframes = 0;
	return NULL;
}

void mmr_trace_reader_free(struct mmr_trace_reader *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->nstacks; i++) {
		for (unsigned j = 0; j < r->stacks[i].nframes; j++)
			free(r->stacks[i].frames[j]);
		free(r->stacks[i].frames);
	}
	free(r->stacks);
	mmr_trace_header_release(&r->header);
	mmr_trace_footer_release(&r->footer);
	if (r->tok)
		json_tokener_free(r->tok);
	mmr_lines_free(r->lines);
	free(r);
}
