/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a recording goes: one trace file fed by the recorder's callback.
 * Shared by `mmreplay record` (one file) and mmreplayd (a file per
 * rotation, written as NAME.tmp, fsynced and renamed on close so a crash
 * never leaves a half file under a final name).
 */
#ifndef MMR_RECORD_OUT_H
#define MMR_RECORD_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmr-event.h"

struct mmr_recorder;
struct mmr_trace_writer;

/* A stack seen in this recording; frames are owned by the recorder. */
struct mmr_record_stack {
	uint32_t nframes;
	char **frames;
	bool written;		/* defined in the current file */
};

struct mmr_record_out {
	struct mmr_trace_writer *w;
	char *path;		/* final name */
	char *tmp;		/* NAME.tmp while open (atomic mode), else NULL */
	uint64_t start_ns;
	/* kept after close for summaries */
	uint64_t counts[MMR_EV__COUNT];
	uint64_t faults, bytes, lost;
	/*
	 * Stacks by id, kept across files: a rotated file must define every
	 * stack it references even when an earlier file defined it first.
	 */
	struct mmr_record_stack *stacks;
	uint32_t nstacks;
};

/*
 * Open path (atomic: write path.tmp, rename on close) and write the header
 * describing rec. cmdline may be NULL. out must be zeroed or closed.
 */
int mmr_record_out_open(struct mmr_record_out *out, struct mmr_recorder *rec,
			const char *path, bool zstd, const char *cmdline, bool hash_paths,
			bool atomic);
/* mmr_event_cb: write one event; arg is the out. */
int mmr_record_out_event(const struct mmr_event *ev, void *arg);
/*
 * Finish the file: with final=true stop the recorder and drain it into
 * this file first. Writes the footer, fsyncs, renames the .tmp.
 */
int mmr_record_out_close(struct mmr_record_out *out, struct mmr_recorder *rec, bool final);
/* Drop an unfinished file (its .tmp is removed); no-op after close. */
void mmr_record_out_abort(struct mmr_record_out *out);
/* At the end of the recording: abort if open, and free the stack table. */
void mmr_record_out_release(struct mmr_record_out *out);

#endif
