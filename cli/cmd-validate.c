// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay validate: check trace and result files against their schema
 * version and the rules a schema cannot express (header first, footer
 * last and matching, timestamps in order, stack ids defined before use).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-event.h"
#include "mmr-lines.h"
#include "mmr-schema.h"
#include "mmr-trace.h"
#include "mmr-validate.h"
#include "mmreplay.h"

static int quiet;

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("validate");
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		default:
			die_usage(cmd, "unknown option");
		}
	}
	if (optind >= argc)
		die_usage(cmd, "no file given");
	for (int i = optind; i < argc; i++) {
		struct mmr_validation v;

		if (mmr_validate_file(argv[i], &v) < 0) {
			fprintf(stderr, "%s: invalid: %s\n", argv[i], mmr_strerror());
			bad = 1;
			continue;
		}
		if (v.kind == MMR_FILE_TRACE && v.truncated)
			fprintf(stderr, "%s: warning: truncated trace (no footer after line %" PRIu64
				"); the recording was cut short\n", argv[i], v.lines);
		if (!quiet) {
			if (v.kind == MMR_FILE_TRACE)
				printf("%s: valid trace v%d%s, %" PRIu64 " lines, %" PRIu64
				       " events, %" PRIu64 " faults, %" PRIu64 " lost%s\n",
				       argv[i], v.version, v.compressed ? " (zstd)" : "", v.lines,
				       v.events, v.faults, v.lost, v.truncated ? ", truncated" : "");
			else
				printf("%s: valid result v%d, %" PRIu64 " runs\n", argv[i], v.version,
				       v.runs);
		}
	}
	return bad ? EXIT_FAIL : EXIT_OK;
}
