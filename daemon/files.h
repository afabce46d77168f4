/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mmreplayd's output directory: names, disk budget, free space. */
#ifndef MMRD_FILES_H
#define MMRD_FILES_H

#include <stdbool.h>
#include <stdint.h>

/* "DIR/mmreplay-HOST-YYYYmmdd-HHMMSS-SEQ.jsonl[.zst]", malloc'd. */
char *mmrd_file_name(const char *dir, const char *host, unsigned seq, bool zstd);
/* True for names this daemon writes (final or .tmp). */
bool mmrd_is_trace_name(const char *name);
/*
 * Delete the oldest closed traces until all of them (plus the open file's
 * current size) fit the budget. Never deletes keep (the open file).
 * Returns files deleted, -1 on error.
 */
int mmrd_enforce_budget(const char *dir, uint64_t budget, uint64_t open_size,
			const char *keep, void (*log_deleted)(const char *path));
/* Free bytes for unprivileged writers in dir, or -1. */
int64_t mmrd_free_bytes(const char *dir);
/* Count .tmp files left by a crash. */
int mmrd_count_tmp(const char *dir);

#endif
