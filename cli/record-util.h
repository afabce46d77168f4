/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `record` prints and small helpers around the recorder. */
#ifndef MMR_RECORD_UTIL_H
#define MMR_RECORD_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmr-record-out.h"

struct mmr_recorder;

/* "a b c" from argv, quoting nothing; malloc'd or NULL. */
char *mmr_join_argv(char **argv, int argc);
/* Once, the events this kernel lacks and what the trace loses. */
void mmr_record_report_missing(struct mmr_recorder *rec, FILE *f);
/* The one-screen summary at the end of a recording. */
void mmr_record_summary(const struct mmr_record_out *out, struct mmr_recorder *rec,
			const char *path, uint64_t elapsed_ns, FILE *f);

#endif
