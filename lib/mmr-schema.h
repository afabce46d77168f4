/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON Schema validation of trace lines and result files against the
 * schemas in schemas/, which are compiled in (see lib/schema.c).
 */
#ifndef MMR_SCHEMA_H
#define MMR_SCHEMA_H

struct json_object;
struct mmr_schema;

/* "trace.v1" or "result.v1"; owned by the library. NULL with an error. */
const struct mmr_schema *mmr_schema_get(const char *name);
const char *mmr_schema_text(const struct mmr_schema *s);
/* 0 when doc conforms; -1 with "field 'a.b[2]': why" otherwise. */
int mmr_schema_validate(const struct mmr_schema *s, struct json_object *doc);

#endif
