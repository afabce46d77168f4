// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small JSON Schema (draft 2020-12 subset) validator over json-c.
 *
 * The schemas in schemas/ are the single source of truth for the file
 * formats: they are compiled into the library and this code interprets
 * them, so the validator cannot drift from the published schema. Keywords
 * outside the subset make loading the schema fail loudly rather than be
 * skipped. Each schema object is compiled once (struct node), which took
 * `validate` of a 44 MB fork trace from 16.4 s to 3.1 s.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-schema.h"

/*
 * A schema object compiled at load: its keywords looked up once, $ref
 * resolved, the pattern compiled. It hangs off the schema object as json-c
 * user data, so validating a trace line costs no keyword lookups.
 */
struct node {
	struct json_object *ref;	/* the $ref's target */
	struct json_object *type;	/* as written, for messages */
	unsigned types;			/* bit per json_type allowed; 0: any */
	struct json_object *konst, *enm;
	bool has_const;			/* konst is NULL for "const": null */
	struct json_object *props, *addl, *req;
	struct json_object *items;
	struct json_object *all, *any, *ifs, *then, *els;
	struct json_object *min, *max;	/* minimum, maximum */
	int64_t min_items, max_items, min_len, max_len;	/* -1: none */
	struct json_object *pattern;
	regex_t re;
};

struct mmr_schema {
	const char *name;
	const char *text;		/* embedded JSON text */
	struct json_object *root;	/* parsed once */
	pthread_once_t once;
	int load_err;
	char load_msg[256];
};

/* Generated from the schemas/ JSON files at build time (schemas/meson.build). */
extern const char mmr_schema_trace_v1[];
extern const char mmr_schema_result_v1[];

static struct mmr_schema schemas[] = {
	{ .name = "trace.v1", .text = mmr_schema_trace_v1, .once = PTHREAD_ONCE_INIT },
	{ .name = "result.v1", .text = mmr_schema_result_v1, .once = PTHREAD_ONCE_INIT },
};

#define NSCHEMAS (sizeof(schemas) / sizeof(schemas[0]))
#define MAX_DEPTH 64

/* Keywords that only document, never constrain. */
static const char *const annotations[] = {
	"$schema", "$id", "$comment", "title", "description", "examples", "default",
	"$defs", "format", "deprecated", "readOnly", "writeOnly", NULL,
};

static int in_list(const char *const *list, const char *k)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], k))
			return 1;
	return 0;
}

/* JSON Schema type name -> bits of json_type; 0: unknown name. */
static unsigned type_bits(const char *t)
{
	static const struct { const char *name; unsigned bits; } tab[] = {
		{ "integer", 1u << json_type_int },
		{ "number", 1u << json_type_int | 1u << json_type_double },
		{ "string", 1u << json_type_string },
		{ "object", 1u << json_type_object },
		{ "array", 1u << json_type_array },
		{ "boolean", 1u << json_type_boolean },
		{ "null", 1u << json_type_null },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(tab[i].name, t))
			return tab[i].bits;
	return 0;
}

static void node_free(struct json_object *o, void *ud)
{
	struct node *n = ud;

	(void)o;
	if (n->pattern)
		regfree(&n->re);
	free(n);
}

static int compile(struct mmr_schema *s, struct json_object *o, int depth);

static int compile_each(struct mmr_schema *s, struct json_object *o, int depth)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (compile(s, v, depth) < 0)
				return -1;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (compile(s, json_object_array_get_idx(o, i), depth) < 0)
				return -1;
	}
	return 0;
}

static int bad_schema(struct mmr_schema *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad_schema(struct mmr_schema *s, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(s->load_msg, sizeof(s->load_msg), "built-in schema %s: %s", s->name, msg);
	return -1;
}

/*
 * Compile a schema object and everything under it, once. Keywords outside
 * the subset make loading fail loudly rather than be skipped.
 */
static int compile(struct mmr_schema *s, struct json_object *o, int depth)
{
	static const char prefix[] = "#/$defs/";
	struct node *n;
	struct json_object *defs;

	if (!json_object_is_type(o, json_type_object) || json_object_get_userdata(o))
		return 0;
	if (depth > MAX_DEPTH)
		return bad_schema(s, "nested too deep");
	n = calloc(1, sizeof(*n));
	if (!n)
		return bad_schema(s, "out of memory");
	json_object_set_userdata(o, n, node_free);
	n->min_items = n->max_items = n->min_len = n->max_len = -1;
	json_object_object_foreach(o, kw, v) {
		struct json_object **slot = NULL;
		bool sub = false, subs = false;

		if (!strcmp(kw, "$ref")) {
			const char *ref = json_object_get_string(v);

			if (strncmp(ref, prefix, sizeof(prefix) - 1) ||
			    !json_object_object_get_ex(s->root, "$defs", &defs) ||
			    !json_object_object_get_ex(defs, ref + sizeof(prefix) - 1, &n->ref))
				return bad_schema(s, "$ref %s not found", ref);
			if (compile(s, n->ref, depth + 1) < 0)
				return -1;
		} else if (!strcmp(kw, "type")) {
			n->type = v;
			if (json_object_is_type(v, json_type_string))
				n->types = type_bits(json_object_get_string(v));
			else
				for (size_t i = 0; i < json_object_array_length(v); i++)
					n->types |= type_bits(json_object_get_string(
						json_object_array_get_idx(v, i)));
			if (!n->types)
				return bad_schema(s, "type %s unknown", json_object_to_json_string(v));
		} else if (!strcmp(kw, "pattern")) {
			if (regcomp(&n->re, json_object_get_string(v), REG_EXTENDED | REG_NOSUB))
				return bad_schema(s, "pattern %.100s does not compile",
						  json_object_get_string(v));
			n->pattern = v;
		} else if (!strcmp(kw, "const")) slot = &n->konst, n->has_const = true;
		else if (!strcmp(kw, "enum")) slot = &n->enm;
		else if (!strcmp(kw, "required")) slot = &n->req;
		else if (!strcmp(kw, "minimum")) slot = &n->min;
		else if (!strcmp(kw, "maximum")) slot = &n->max;
		else if (!strcmp(kw, "properties")) slot = &n->props, subs = true;
		else if (!strcmp(kw, "allOf")) slot = &n->all, subs = true;
		else if (!strcmp(kw, "anyOf")) slot = &n->any, subs = true;
		else if (!strcmp(kw, "additionalProperties")) slot = &n->addl, sub = true;
		else if (!strcmp(kw, "items")) slot = &n->items, sub = true;
		else if (!strcmp(kw, "if")) slot = &n->ifs, sub = true;
		else if (!strcmp(kw, "then")) slot = &n->then, sub = true;
		else if (!strcmp(kw, "else")) slot = &n->els, sub = true;
		else if (!strcmp(kw, "minItems")) n->min_items = json_object_get_int64(v);
		else if (!strcmp(kw, "maxItems")) n->max_items = json_object_get_int64(v);
		else if (!strcmp(kw, "minLength")) n->min_len = json_object_get_int64(v);
		else if (!strcmp(kw, "maxLength")) n->max_len = json_object_get_int64(v);
		else if (!strcmp(kw, "$defs")) subs = true;
		else if (!in_list(annotations, kw))
			return bad_schema(s, "keyword '%s' is not supported by this validator", kw);
		if (slot)
			*slot = v;
		if ((sub && compile(s, v, depth + 1) < 0) || (subs && compile_each(s, v, depth + 1) < 0))
			return -1;
	}
	return 0;
}

static void load_one(struct mmr_schema *s)
{
	enum json_tokener_error jerr;

	s->root = json_tokener_parse_verbose(s->text, &jerr);
	if (!s->root) {
		s->load_err = 1;
		snprintf(s->load_msg, sizeof(s->load_msg), "built-in schema %s: %s", s->name,
			 json_tokener_error_desc(jerr));
		return;
	}
	if (compile(s, s->root, 0) < 0)
		s->load_err = 1;
}

/* pthread_once takes no argument: one trampoline per table slot. */
static void load0(void) { load_one(&schemas[0]); }
static void load1(void) { load_one(&schemas[1]); }
static void (*const loaders[NSCHEMAS])(void) = { load0, load1 };

const struct mmr_schema *mmr_schema_get(const char *name)
{
	for (size_t i = 0; i < NSCHEMAS; i++) {
		if (strcmp(schemas[i].name, name))
			continue;
		pthread_once(&schemas[i].once, loaders[i]);
		if (schemas[i].load_err) {
			mmr_seterr(MMR_E_FAIL, "%s", schemas[i].load_msg);
			return NULL;
		}
		return &schemas[i];
	}
	mmr_seterr(MMR_E_USAGE, "no built-in schema named %s", name);
	return NULL;
}

const char *mmr_schema_text(const struct mmr_schema *s)
{
	return s->text;
}

/* ---- validation ---- */

/* One step of the JSON path to the value being checked. */
struct seg {
	const char *key;		/* NULL: an array index */
	size_t idx;
};

struct vctx {
	struct seg path[MAX_DEPTH + 2];	/* formatted only when a check fails */
	int npath;
	int depth;
	int quiet;			/* in an "if": a failure is an answer, not an error */
};

#define NSEGS ((int)(sizeof(((struct vctx *)0)->path) / sizeof(struct seg)))

static void push_key(struct vctx *c, const char *key)
{
	if (c->npath < NSEGS)
		c->path[c->npath] = (struct seg){ .key = key };
	c->npath++;
}

static void push_idx(struct vctx *c, size_t i)
{
	if (c->npath < NSEGS)
		c->path[c->npath] = (struct seg){ .idx = i };
	c->npath++;
}

static void pop(struct vctx *c)
{
	c->npath--;
}

static int fail(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct vctx *c, const char *fmt, ...)
{
	char msg[512], path[512];
	size_t off = 0;
	va_list ap;

	if (c->quiet)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	path[0] = '\0';
	for (int i = 0; i < c->npath && i < NSEGS && off < sizeof(path); i++)
		off += (size_t)(c->path[i].key
			? snprintf(path + off, sizeof(path) - off, "%s%s", i ? "." : "", c->path[i].key)
			: snprintf(path + off, sizeof(path) - off, "[%zu]", c->path[i].idx));
	if (path[0])
		return mmr_seterr(MMR_E_FORMAT, "field '%s': %s", path, msg);
	return mmr_seterr(MMR_E_FORMAT, "%s", msg);
}

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

/*
 * Numbers compared exactly where they are integers: addresses use the full
 * uint64 range, which a double cannot hold. Returns <0, 0, >0.
 */
struct num {
	int kind;	/* 0 int64, 1 uint64 (> INT64_MAX), 2 double */
	int64_t i;
	uint64_t u;
	double d;
};

static struct num num_of(struct json_object *v)
{
	struct num n = { 0 };

	if (json_object_is_type(v, json_type_double)) {
		n.kind = 2;
		n.d = json_object_get_double(v);
		return n;
	}
	n.i = json_object_get_int64(v);
	n.u = json_object_get_uint64(v);
	if (n.i == INT64_MAX && n.u > INT64_MAX)
		n.kind = 1;
	return n;
}

static double num_d(struct num n)
{
	return n.kind == 0 ? (double)n.i : n.kind == 1 ? (double)n.u : n.d;
}

static int num_cmp(struct num a, struct num b)
{
	if (a.kind != 2 && b.kind != 2) {
		if (a.kind == 1 && b.kind == 1)
			return a.u < b.u ? -1 : a.u > b.u;
		if (a.kind == 1)
			return 1;	/* a > INT64_MAX >= b */
		if (b.kind == 1)
			return -1;
		return a.i < b.i ? -1 : a.i > b.i;
	}
	return num_d(a) < num_d(b) ? -1 : num_d(a) > num_d(b);
}

/*
 * json-c clamps integers outside int64/uint64 to the extremes without
 * telling; the extremes are therefore refused as "too large".
 */
static int check_range(struct vctx *c, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_int))
		return 0;
	if (json_object_get_uint64(v) == UINT64_MAX)
		return fail(c, "number too large (2^64-1 or more)");
	if (json_object_get_int64(v) == INT64_MIN)
		return fail(c, "number too small (-2^63 or less)");
	return 0;
}

static int validate(struct vctx *c, struct json_object *schema, struct json_object *v);

static int check_object(struct vctx *c, const struct node *n, struct json_object *v)
{
	if (n->req) {
		for (size_t i = 0; i < json_object_array_length(n->req); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(n->req, i));

			if (!json_object_object_get_ex(v, k, NULL)) {
				int r;

				push_key(c, k);
				r = fail(c, "missing");
				pop(c);
				return r;
			}
		}
	}
	if (!n->addl) {
		/*
		 * Only the listed properties constrain: look them up rather than
		 * every field of the value (an "if" over one field of a trace
		 * line is then one lookup).
		 */
		if (!n->props)
			return 0;
		json_object_object_foreach(n->props, key, ps) {
			struct json_object *val;
			int r;

			if (!json_object_object_get_ex(v, key, &val))
				continue;
			push_key(c, key);
			r = validate(c, ps, val);
			pop(c);
			if (r < 0)
				return -1;
		}
		return 0;
	}
	json_object_object_foreach(v, key, val) {
		struct json_object *ps = NULL;
		int r;

		push_key(c, key);
		if (n->props && json_object_object_get_ex(n->props, key, &ps))
			r = validate(c, ps, val);
		else if (json_object_is_type(n->addl, json_type_boolean))
			r = json_object_get_boolean(n->addl) ? 0 : fail(c, "unknown field");
		else
			r = validate(c, n->addl, val);
		pop(c);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_array(struct vctx *c, const struct node *n, struct json_object *v)
{
	size_t len = json_object_array_length(v);

	if (n->min_items >= 0 && len < (size_t)n->min_items)
		return fail(c, "needs at least %lld items", (long long)n->min_items);
	if (n->max_items >= 0 && len > (size_t)n->max_items)
		return fail(c, "at most %lld items allowed", (long long)n->max_items);
	if (!n->items)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int r;

		push_idx(c, i);
		r = validate(c, n->items, json_object_array_get_idx(v, i));
		pop(c);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_string(struct vctx *c, const struct node *n, struct json_object *v)
{
	size_t len = (size_t)json_object_get_string_len(v);

	if (n->min_len >= 0 && len < (size_t)n->min_len)
		return fail(c, "shorter than %lld characters", (long long)n->min_len);
	if (n->max_len >= 0 && len > (size_t)n->max_len)
		return fail(c, "longer than %lld characters", (long long)n->max_len);
	if (n->pattern && regexec(&n->re, json_object_get_string(v), 0, NULL, 0))
		return fail(c, "\"%.60s\" does not match %s", json_object_get_string(v),
			    json_object_get_string(n->pattern));
	return 0;
}

static int check_number(struct vctx *c, const struct node *n, struct json_object *v)
{
	struct num x = num_of(v);

	if (check_range(c, v) < 0)
		return -1;
	if (n->min && num_cmp(x, num_of(n->min)) < 0)
		return fail(c, "%s is below the minimum %s", json_object_to_json_string(v),
			    json_object_to_json_string(n->min));
	if (n->max && num_cmp(x, num_of(n->max)) > 0)
		return fail(c, "%s is above the maximum %s", json_object_to_json_string(v),
			    json_object_to_json_string(n->max));
	return 0;
}

static int validate_node(struct vctx *c, const struct node *n, struct json_object *v)
{
	int r = 0;

	if (n->ref && validate(c, n->ref, v) < 0)
		return -1;
	if (n->types && !(n->types & 1u << json_object_get_type(v)))
		return fail(c, "expected %s, got %s",
			    json_object_is_type(n->type, json_type_string)
				? json_object_get_string(n->type) : json_object_to_json_string(n->type),
			    type_name(v));
	if (n->has_const && !json_object_equal(n->konst, v))
		return fail(c, "must be %s", json_object_to_json_string(n->konst));
	if (n->enm) {
		size_t i, len = json_object_array_length(n->enm);

		for (i = 0; i < len; i++)
			if (json_object_equal(json_object_array_get_idx(n->enm, i), v))
				break;
		if (i == len)
			return fail(c, "%.80s is not one of %.200s", json_object_to_json_string(v),
				    json_object_to_json_string(n->enm));
	}
	switch (json_object_get_type(v)) {
	case json_type_object: r = check_object(c, n, v); break;
	case json_type_array: r = check_array(c, n, v); break;
	case json_type_string: r = check_string(c, n, v); break;
	case json_type_int:
	case json_type_double: r = check_number(c, n, v); break;
	default: break;
	}
	if (r < 0)
		return -1;
	if (n->all)
		for (size_t i = 0; i < json_object_array_length(n->all); i++)
			if (validate(c, json_object_array_get_idx(n->all, i), v) < 0)
				return -1;
	if (n->any) {
		size_t len = json_object_array_length(n->any);

		for (size_t i = 0; i < len; i++) {
			r = validate(c, json_object_array_get_idx(n->any, i), v);
			if (r == 0)
				break;
		}
		if (r < 0)	/* report the last branch's reason: the most specific one */
			return -1;
	}
	if (n->ifs) {
		int cond;

		c->quiet++;
		cond = validate(c, n->ifs, v) == 0;
		c->quiet--;
		if (cond && n->then)
			return validate(c, n->then, v);
		if (!cond && n->els)
			return validate(c, n->els, v);
	}
	return 0;
}

static int validate(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	const struct node *n;
	int r;

	if (json_object_is_type(schema, json_type_boolean))
		return json_object_get_boolean(schema) ? 0 : fail(c, "not allowed");
	n = json_object_get_userdata(schema);
	if (!n)
		return fail(c, "schema value is not a compiled schema object");
	if (++c->depth > MAX_DEPTH) {
		c->depth--;
		return fail(c, "schema nesting too deep");
	}
	r = validate_node(c, n, v);
	c->depth--;
	return r;
}

int mmr_schema_validate(const struct mmr_schema *s, struct json_object *doc)
{
	struct vctx c = { .npath = 0 };

	return validate(&c, s->root, doc);
}
