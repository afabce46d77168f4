/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole-file validation of traces and results: the schema for every line
 * or document plus the rules between lines (order, footer totals).
 */
#ifndef MMR_VALIDATE_H
#define MMR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mmr_file_kind { MMR_FILE_UNKNOWN = 0, MMR_FILE_TRACE, MMR_FILE_RESULT };

struct mmr_validation {
	enum mmr_file_kind kind;
	int version;
	bool compressed;
	bool truncated;		/* trace without a footer */
	uint64_t lines, events, faults, lost;
	uint64_t runs;		/* results */
};

/* Results are single JSON documents; larger ones are refused. */
#define MMR_RESULT_MAX (256u << 20)

/*
 * 0 when the file is a valid trace or result (a truncated trace is valid
 * and flagged), -1 with "line N: field 'x': why" for the first problem.
 */
int mmr_validate_file(const char *path, struct mmr_validation *v);
int mmr_validate_mem(const void *buf, size_t len, struct mmr_validation *v);

#endif
