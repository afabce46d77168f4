/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Upload of closed trace files to the results server: a worker thread
 * POSTs each file through libcurl, retries with exponential backoff, and
 * deletes the local copy only after a 2xx answer.
 */
#ifndef MMRD_UPLOAD_H
#define MMRD_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

struct mmrd_uploader;

struct mmrd_uploader *mmrd_uploader_new(const char *url, uint64_t timeout_s,
					uint64_t retry_max_s, bool keep);
/* Queue a closed file (copied). */
int mmrd_uploader_add(struct mmrd_uploader *u, const char *path);
/* Stop the worker: pending files stay on disk for the next start. */
void mmrd_uploader_free(struct mmrd_uploader *u);

#endif
