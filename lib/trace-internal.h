/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the trace writer, reader and header code; not installed. */
#ifndef MMR_TRACE_INTERNAL_H
#define MMR_TRACE_INTERNAL_H

#include "mmr-trace.h"

struct json_object;

/* One line of JSON (no newline), malloc'd; NULL with an error set. */
char *mmr_trace_header_json(const struct mmr_trace_header *h);
char *mmr_trace_footer_json(const uint64_t *counts, uint64_t faults,
			    const struct mmr_trace_footer *f);
/* Fill from an already schema-checked line; -1 on ENOMEM. */
int mmr_trace_header_from_json(struct json_object *o, struct mmr_trace_header *h);
int mmr_trace_footer_from_json(struct json_object *o, struct mmr_trace_footer *f);

/* 0 when o is a v1 trace header; -1 (MMR_E_FORMAT / MMR_E_VERSION) otherwise. */
int mmr_trace_check_header_version(struct json_object *o);

#endif
