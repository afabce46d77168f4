// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay push: send result (and trace) files to a results server by
 * HTTP POST. Every file is validated first, so nothing malformed leaves
 * the machine; transport errors and 5xx answers are retried with
 * backoff, a 4xx answer is not (sending it again would not help). The
 * local file is never touched.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmr-error.h"
#include "mmr-http.h"
#include "mmr-validate.h"
#include "mmreplay.h"

#define PUSH_TRIES 3

int push_file(const char *url, const char *path, unsigned tries, unsigned long timeout_s)
{
	struct mmr_http_post o = { .user_agent = "mmreplay", .timeout_s = timeout_s };
	struct mmr_validation v;
	unsigned delay = 1;
	long code = 0;

	if (mmr_validate_file(path, &v) < 0) {
		errorf("push: %s is not a valid trace or result, not sent: %s", path, mmr_strerror());
		return EXIT_FAIL;
	}
	o.content_type = v.kind == MMR_FILE_RESULT ? "application/json" :
			 v.compressed ? "application/zstd" : "application/x-ndjson";
	for (unsigned i = 1;; i++) {
		struct timespec ts = { delay, 0 };

		if (mmr_http_post_file(url, path, &o, &code) == 0)
			break;
		if ((code >= 400 && code < 500) || i >= tries) {
			errorf("push: %s (after %u attempt%s; %s is kept, send it again with 'mmreplay push %s %s')",
			       mmr_strerror(), i, i == 1 ? "" : "s", path, url, path);
			return EXIT_FAIL;
		}
		nanosleep(&ts, NULL);
		delay *= 2;
	}
	printf("pushed %s to %s (HTTP %ld)\n", path, url, code);
	return EXIT_OK;
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tries", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("push");
	unsigned long tries = PUSH_TRIES, timeout = 60;
	int c, ret = EXIT_OK;

	while ((c = getopt_long(argc, argv, "n:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': tries = arg_range(cmd, "--tries", optarg, 1, 100, "a number"); break;
		case 't': timeout = arg_range(cmd, "--timeout", optarg, 1, 3600, "seconds"); break;
		default:
			die_usage(cmd, "unknown option");
		}
	}
	if (argc - optind < 2)
		die_usage(cmd, argc - optind < 1 ? "no URL given" : "no file given");
	if (strncmp(argv[optind], "http://", 7) && strncmp(argv[optind], "https://", 8))
		die_usage(cmd, "the URL must start with http:// or https://, not '%s'", argv[optind]);
	for (int i = optind + 1; i < argc; i++)
		if (push_file(argv[optind], argv[i], (unsigned)tries, timeout) != EXIT_OK)
			ret = EXIT_FAIL;
	return ret;
}
