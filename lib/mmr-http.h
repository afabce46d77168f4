/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sending files to a results server: one HTTP POST of a file's bytes
 * through libcurl. Used by mmreplayd (traces) and mmreplay push / replay
 * --push (results); retry policies are the callers'.
 */
#ifndef MMR_HTTP_H
#define MMR_HTTP_H

#include <stdint.h>

struct mmr_http_post {
	const char *content_type;	/* e.g. "application/json" */
	const char *user_agent;		/* "mmreplay", "mmreplayd" */
	uint64_t timeout_s;		/* whole request; 0: 60 s */
};

/*
 * POST the file at path to url, with X-Mmreplay-Filename set to its base
 * name. 0 on a 2xx answer; -1 with MMR_E_IO and a message naming the file,
 * the URL and the HTTP status or the transport error otherwise.
 * *http_code: the status (0 when no answer came).
 */
int mmr_http_post_file(const char *url, const char *path, const struct mmr_http_post *o,
		       long *http_code);

#endif
