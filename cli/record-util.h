/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `record` prints and small helpers around the recorder. */
#ifndef MMR_RECORD_UTIL_H
#define MMR_RECORD_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mmr-record-out.h"

struct mmr_recorder;
struct mmr_recorder_opts;

/* "a b c" from argv, quoting nothing; malloc'd or NULL. */
char *mmr_join_argv(char **argv, int argc);
/* Once, the events this kernel lacks and what the trace loses. */
void mmr_record_report_missing(struct mmr_recorder *rec, FILE *f);
/* The one-screen summary at the end of a recording. */
void mmr_record_summary(const struct mmr_record_out *out, struct mmr_recorder *rec,
			const char *path, uint64_t elapsed_ns, FILE *f);

/*
 * Fork a child held at a pipe so that the recorder follows it from its
 * first instruction: it runs fn(arg) and _exits with the result only after
 * the parent wrote a byte to *gate (mmr_record_job_run does), and _exits
 * 126 when *gate is closed without one. SIGINT and SIGTERM are back to
 * their defaults in the child. -1 with errno.
 */
pid_t mmr_spawn_held(int (*fn)(void *arg), void *arg, int *gate);

/*
 * One recording into one file: `record` and `scenario run --record`.
 * The recorder starts, the header is written, the held child is released,
 * then events are read until the child exits, the given pids are all gone
 * (until_pids_gone), the duration passed, or *stop is set. Then the
 * footer, and the summary unless quiet.
 */
struct mmr_record_job {
	const struct mmr_recorder_opts *ro;	/* pids/npids filled in */
	const char *output;
	bool zstd, quiet;
	const char *cmdline;		/* for the header, may be NULL */
	const char *what;		/* the held program, for messages */
	pid_t child;			/* held child, -1 when none */
	int *gate;			/* its gate; set to -1 once released */
	bool until_pids_gone;
	double duration;		/* seconds, 0: no limit */
	volatile sig_atomic_t *stop;	/* set by signal handlers */
	/* results */
	bool child_done;		/* the child was reaped: child_status is valid */
	int child_status;
	uint64_t elapsed_ns;
};

/* Runs the job; prints what went wrong and returns the exit code (mmreplay.h). */
int mmr_record_job_run(struct mmr_record_job *j);

#endif
