// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * classify-stacks: the lock class mmreplay gives a kernel stack, for
 * checks that classify another tool's stacks (perf) by exactly the same
 * rules (mmr_classify_stack in lib/event.c).
 *
 * Reads one stack per line from stdin: kernel symbols, innermost first,
 * separated by blanks ("sym" or "sym+0x1a/0x80"). Prints one class name
 * per line ("anon_vma", "mmap_lock", ...). Leading tracing frames are
 * dropped first, as the recorder drops them from the stacktrace trigger's
 * stacks (tracing_frame() in lib/decode.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmr-event.h"

#define MAXF 256

static int tracing_frame(const char *n)
{
	return !strncmp(n, "trace_", 6) || !strncmp(n, "__trace", 7) ||
	       !strncmp(n, "perf_trace_", 11) || !strncmp(n, "event_trigger", 13) ||
	       !strncmp(n, "stacktrace_", 11) || !strncmp(n, "__ftrace_trace_stack", 20) ||
	       !strncmp(n, "ftrace_", 7);
}

int main(void)
{
	static char line[1 << 16];
	const char *frames[MAXF];

	while (fgets(line, sizeof(line), stdin)) {
		unsigned n = 0;
		char *save = NULL;

		for (char *tok = strtok_r(line, " \t\n", &save); tok && n < MAXF;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			if (!n && tracing_frame(tok))
				continue;
			frames[n++] = tok;
		}
		printf("%s\n", mmr_lockclass_name(mmr_classify_stack(frames, n)));
	}
	return ferror(stdin) ? 1 : 0;
}
