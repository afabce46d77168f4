// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small JSON Schema (draft 2020-12 subset) validator over json-c.
 *
 * The schemas in schemas/ are the single source of truth for the file
 * formats: they are compiled into the library and this code interprets
 * them, so the validator cannot drift from the published schema. Keywords
 * outside the subset make validation fail loudly rather than be skipped.
 */
#include <pthread.h>
#include <stdarg.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-schema.h"

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

static void load_one(struct mmr_schema *s)
{
	enum json_tokener_error jerr;

	s->root = json_tokener_parse_verbose(s->text, &jerr);
	if (!s->root) {
		s->load_err = 1;
		snprintf(s->load_msg, sizeof(s->load_msg), "built-in schema %s: %s", s->name,
			 json_tokener_error_desc(jerr));
	}
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

struct vctx {
	struct json_object *root;	/* for $ref */
	char path[512];			/* JSON path of the value being checked */
	int depth;
};

static int fail(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct vctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->path[0])
		return mmr_seterr(MMR_E_FORMAT, "field '%s': %s", c->path, msg);
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

static int type_is(struct json_object *v, const char *t)
{
	enum json_type jt = json_object_get_type(v);

	if (!strcmp(t, "integer"))
		return jt == json_type_int;
	if (!strcmp(t, "number"))
		return jt == json_type_int || jt == json_type_double;
	if (!strcmp(t, "string"))
		return jt == json_type_string;
	if (!strcmp(t, "object"))
		return jt == json_type_object;
	if (!strcmp(t, "array"))
		return jt == json_type_array;
	if (!strcmp(t, "boolean"))
		return jt == json_type_boolean;
	if (!strcmp(t, "null"))
		return jt == json_type_null;
	return 0;
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

static size_t push(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(struct vctx *c, const char *fmt, ...)
{
	size_t old = strlen(c->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
	va_end(ap);
	return old;
}

static int json_equal(struct json_object *a, struct json_object *b)
{
	return json_object_equal(a, b);
}

static struct json_object *resolve_ref(struct vctx *c, const char *ref)
{
	static const char prefix[] = "#/$defs/";
	struct json_object *defs, *target;

	if (strncmp(ref, prefix, sizeof(prefix) - 1))
		return NULL;
	if (!json_object_object_get_ex(c->root, "$defs", &defs) ||
	    !json_object_object_get_ex(defs, ref + sizeof(prefix) - 1, &target))
		return NULL;
	return target;
}

/* Keywords that only document, never constrain. */
static const char *const annotations[] = {
	"$schema", "$id", "$comment", "title", "description", "examples", "default",
	"$defs", "format", "deprecated", "readOnly", "writeOnly", NULL,
};

static int is_annotation(const char *k)
{
	for (int i = 0; annotations[i]; i++)
		if (!strcmp(annotations[i], k))
			return 1;
	return 0;
}

static int check_type(struct vctx *c, struct json_object *t, struct json_object *v)
{
	if (json_object_is_type(t, json_type_string)) {
		if (type_is(v, json_object_get_string(t)))
			return 0;
		return fail(c, "expected %s, got %s", json_object_get_string(t), type_name(v));
	}
	for (size_t i = 0; i < json_object_array_length(t); i++)
		if (type_is(v, json_object_get_string(json_object_array_get_idx(t, i))))
			return 0;
	return fail(c, "expected %s, got %s", json_object_to_json_string(t), type_name(v));
}

static int check_object(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	struct json_object *props = NULL, *req, *addl = NULL;

	json_object_object_get_ex(schema, "properties", &props);
	json_object_object_get_ex(schema, "additionalProperties", &addl);
	if (json_object_object_get_ex(schema, "required", &req)) {
		for (size_t i = 0; i < json_object_array_length(req); i++) {
			const char *k = json_object_get_string(json_object_array_get_idx(req, i));

			if (!json_object_object_get_ex(v, k, NULL)) {
				size_t old = push(c, "%s%s", c->path[0] ? "." : "", k);
				int r = fail(c, "missing");

				c->path[old] = '\0';
				return r;
			}
		}
	}
	json_object_object_foreach(v, key, val) {
		struct json_object *ps = NULL;
		size_t old;
		int r = 0;

		if (props && json_object_object_get_ex(props, key, &ps)) {
			old = push(c, "%s%s", c->path[0] ? "." : "", key);
			r = validate(c, ps, val);
			c->path[old] = '\0';
		} else if (addl && json_object_is_type(addl, json_type_boolean)) {
			if (!json_object_get_boolean(addl)) {
				old = push(c, "%s%s", c->path[0] ? "." : "", key);
				r = fail(c, "unknown field");
				c->path[old] = '\0';
			}
		} else if (addl) {
			old = push(c, "%s%s", c->path[0] ? "." : "", key);
			r = validate(c, addl, val);
			c->path[old] = '\0';
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_array(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	struct json_object *items, *k;
	size_t n = json_object_array_length(v);

	if (json_object_object_get_ex(schema, "minItems", &k) &&
	    n < (size_t)json_object_get_int64(k))
		return fail(c, "needs at least %lld items", (long long)json_object_get_int64(k));
	if (json_object_object_get_ex(schema, "maxItems", &k) &&
	    n > (size_t)json_object_get_int64(k))
		return fail(c, "at most %lld items allowed", (long long)json_object_get_int64(k));
	if (!json_object_object_get_ex(schema, "items", &items))
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t old = push(c, "[%zu]", i);
		int r = validate(c, items, json_object_array_get_idx(v, i));

		c->path[old] = '\0';
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_string(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	struct json_object *k;
	size_t len = (size_t)json_object_get_string_len(v);

	if (json_object_object_get_ex(schema, "minLength", &k) &&
	    len < (size_t)json_object_get_int64(k))
		return fail(c, "shorter than %lld characters", (long long)json_object_get_int64(k));
	if (json_object_object_get_ex(schema, "maxLength", &k) &&
	    len > (size_t)json_object_get_int64(k))
		return fail(c, "longer than %lld characters", (long long)json_object_get_int64(k));
	if (json_object_object_get_ex(schema, "pattern", &k)) {
		regex_t re;
		int m;

		if (regcomp(&re, json_object_get_string(k), REG_EXTENDED | REG_NOSUB))
			return fail(c, "schema pattern %s does not compile", json_object_get_string(k));
		m = regexec(&re, json_object_get_string(v), 0, NULL, 0);
		regfree(&re);
		if (m)
			return fail(c, "\"%.60s\" does not match %s", json_object_get_string(v),
				    json_object_get_string(k));
	}
	return 0;
}

static int check_number(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	struct json_object *k;
	struct num n = num_of(v);

	if (check_range(c, v) < 0)
		return -1;
	if (json_object_object_get_ex(schema, "minimum", &k) && num_cmp(n, num_of(k)) < 0)
		return fail(c, "%s is below the minimum %s", json_object_to_json_string(v),
			    json_object_to_json_string(k));
	if (json_object_object_get_ex(schema, "maximum", &k) && num_cmp(n, num_of(k)) > 0)
		return fail(c, "%s is above the maximum %s", json_object_to_json_string(v),
			    json_object_to_json_string(k));
	return 0;
}

static int validate(struct vctx *c, struct json_object *schema, struct json_object *v)
{
	struct json_object *k, *ifs;
	int r = 0;

	if (json_object_is_type(schema, json_type_boolean))
		return json_object_get_boolean(schema) ? 0 : fail(c, "not allowed");
	if (++c->depth > 64) {
		c->depth--;
		return fail(c, "schema nesting too deep");
	}
	/* Unknown keywords: refuse rather than silently accept. */
	json_object_object_foreach(schema, kw, kv) {
		static const char *const known[] = {
			"type", "properties", "required", "additionalProperties", "enum",
			"const", "minimum", "maximum", "minLength", "maxLength", "pattern",
			"items", "minItems", "maxItems", "$ref", "allOf", "anyOf", "if",
			"then", "else", NULL,
		};
		int ok = is_annotation(kw);

		(void)kv;
		for (int i = 0; !ok && known[i]; i++)
			ok = !strcmp(known[i], kw);
		if (!ok) {
			r = fail(c, "schema keyword '%s' is not supported by this validator", kw);
			goto out;
		}
	}
	if (json_object_object_get_ex(schema, "$ref", &k)) {
		struct json_object *t = resolve_ref(c, json_object_get_string(k));

		if (!t) {
			r = fail(c, "schema $ref %s not found", json_object_get_string(k));
			goto out;
		}
		if ((r = validate(c, t, v)) < 0)
			goto out;
	}
	if (json_object_object_get_ex(schema, "type", &k) && (r = check_type(c, k, v)) < 0)
		goto out;
	if (json_object_object_get_ex(schema, "const", &k) && !json_equal(k, v)) {
		r = fail(c, "must be %s", json_object_to_json_string(k));
		goto out;
	}
	if (json_object_object_get_ex(schema, "enum", &k)) {
		size_t i, n = json_object_array_length(k);

		for (i = 0; i < n; i++)
			if (json_equal(json_object_array_get_idx(k, i), v))
				break;
		if (i == n) {
			r = fail(c, "%.80s is not one of %.200s", json_object_to_json_string(v),
				 json_object_to_json_string(k));
			goto out;
		}
	}
	switch (json_object_get_type(v)) {
	case json_type_object: r = check_object(c, schema, v); break;
	case json_type_array: r = check_array(c, schema, v); break;
	case json_type_string: r = check_string(c, schema, v); break;
	case json_type_int:
	case json_type_double: r = check_number(c, schema, v); break;
	default: break;
	}
	if (r < 0)
		goto out;
	if (json_object_object_get_ex(schema, "allOf", &k))
		for (size_t i = 0; i < json_object_array_length(k); i++)
			if ((r = validate(c, json_object_array_get_idx(k, i), v)) < 0)
				goto out;
	if (json_object_object_get_ex(schema, "anyOf", &k)) {
		size_t n = json_object_array_length(k);

		for (size_t i = 0; i < n; i++) {
			r = validate(c, json_object_array_get_idx(k, i), v);
			if (r == 0)
				break;
		}
		if (r < 0)	/* report the last branch's reason: the most specific one */
			goto out;
	}
	if (json_object_object_get_ex(schema, "if", &ifs)) {
		char saved[sizeof(c->path)];
		int cond;

		/* The condition's failure message is not an error: keep the path. */
		memcpy(saved, c->path, sizeof(saved));
		cond = validate(c, ifs, v) == 0;
		memcpy(c->path, saved, sizeof(saved));
		mmr_clearerr();
		if (cond && json_object_object_get_ex(schema, "then", &k))
			r = validate(c, k, v);
		else if (!cond && json_object_object_get_ex(schema, "else", &k))
			r = validate(c, k, v);
	}
out:
	c->depth--;
	return r;
}

int mmr_schema_validate(const struct mmr_schema *s, struct json_object *doc)
{
	struct vctx c = { .root = s->root };

	return validate(&c, s->root, doc);
}
