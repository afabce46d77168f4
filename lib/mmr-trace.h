/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trace files, format v1 (mmreplay-trace(5)): JSON Lines, a header line,
 * event lines, a footer line; optionally zstd-compressed (detected by the
 * magic number, never by the file name).
 *
 * The writer streams; the reader streams with a bounded line length so a
 * 10 GB trace, or a 1 GB line, never needs more than a few MiB of memory.
 */
#ifndef MMR_TRACE_H
#define MMR_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmr-event.h"

#define MMR_TRACE_SCHEMA "mmreplay-trace"
#define MMR_TRACE_VERSION 1
/* Longest line the reader accepts; the header with many maps is the big one. */
#define MMR_TRACE_MAX_LINE (64u << 20)

struct mmr_map {
	uint64_t start, end, off;
	char perms[8];			/* "rw-p" */
	char file[MMR_FILE_LEN];	/* hashed or kept path, "[heap]", "" */
};

struct mmr_proc_maps {
	int32_t pid;
	char comm[MMR_COMM_LEN];
	unsigned nmaps;
	struct mmr_map *maps;
};

struct mmr_trace_header {
	char mmreplay_version[32];
	char host[256];
	char kernel[128];
	char arch[32];
	uint32_t page_size;
	uint32_t cpus;
	char clock[16];
	uint64_t start_ns;		/* trace clock at start */
	int64_t start_realtime;		/* unix seconds at start */
	bool paths_hashed;
	unsigned nevents;
	char **events;			/* "group:event" enabled */
	unsigned nmissing;
	char **missing;			/* wanted but absent on this kernel */
	/* recording filters */
	char *command;			/* traced command line, or NULL */
	unsigned npids;
	int32_t *pids;			/* attached pids, or NULL */
	char *comm_re;			/* --comm regex, or NULL */
	char *cgroup;			/* --cgroup path, or NULL */
	bool system_wide;
	unsigned nprocs;
	struct mmr_proc_maps *procs;	/* initial maps */
};

struct mmr_trace_footer {
	uint64_t counts[MMR_EV__COUNT];	/* lines per event type */
	uint64_t faults;		/* pages faulted (sum of run counts) */
	unsigned ncpus;
	uint64_t *lost;			/* lost events per CPU */
	uint64_t end_ns;
	uint64_t duration_ns;
};

/* Fill what the running system can tell (host, kernel, arch, cpus, ...). */
int mmr_trace_header_init(struct mmr_trace_header *h);
/* Release what the header owns; the struct is zeroed. */
void mmr_trace_header_release(struct mmr_trace_header *h);
void mmr_trace_footer_release(struct mmr_trace_footer *f);
/* Helpers that duplicate into the header's owned arrays; -1 on ENOMEM. */
int mmr_trace_header_add_event(struct mmr_trace_header *h, const char *ev, bool missing);
int mmr_trace_header_add_maps(struct mmr_trace_header *h, int32_t pid, bool hash_paths);

/*
 * File identity of a path for the trace: "sha256:<hex>" when hashing, the
 * path itself otherwise. Pseudo paths ("[heap]", "[stack]", "") stay as
 * they are. out must hold MMR_FILE_LEN bytes.
 */
void mmr_file_identity(const char *path, bool hash, char *out);

/* ---- writer ---- */

struct mmr_trace_writer;

enum mmr_compress { MMR_COMPRESS_NONE = 0, MMR_COMPRESS_ZSTD };

/*
 * Open path for writing ("-" is stdout) and write the header line. The
 * caller keeps ownership of h. Returns NULL with an error set.
 */
struct mmr_trace_writer *mmr_trace_writer_new(const char *path, enum mmr_compress c,
					      const struct mmr_trace_header *h);
/* Same over an already open fd (not closed by _free). */
struct mmr_trace_writer *mmr_trace_writer_fdopen(int fd, enum mmr_compress c,
						 const struct mmr_trace_header *h);
int mmr_trace_writer_event(struct mmr_trace_writer *w, const struct mmr_event *ev);
/* Write the footer (counts are the writer's own; lost/times from f). */
int mmr_trace_writer_finish(struct mmr_trace_writer *w, const struct mmr_trace_footer *f);
/* Flush buffered data to the kernel and fsync. */
int mmr_trace_writer_sync(struct mmr_trace_writer *w);
uint64_t mmr_trace_writer_bytes(const struct mmr_trace_writer *w);	/* bytes written to the file */
const uint64_t *mmr_trace_writer_counts(const struct mmr_trace_writer *w);
uint64_t mmr_trace_writer_faults(const struct mmr_trace_writer *w);
/* Closes the file (without a footer if finish was not called). */
int mmr_trace_writer_free(struct mmr_trace_writer *w);

/* ---- reader ---- */

struct mmr_trace_reader;

/* Open and read the header; NULL with an error (line 1: ...) on failure. */
struct mmr_trace_reader *mmr_trace_reader_new(const char *path);
struct mmr_trace_reader *mmr_trace_reader_fdopen(int fd);	/* fd owned after success */
/* Open over a memory buffer (fuzzing, tests); buf must outlive the reader. */
struct mmr_trace_reader *mmr_trace_reader_mem(const void *buf, size_t len);
const struct mmr_trace_header *mmr_trace_reader_header(const struct mmr_trace_reader *r);
/*
 * Next event: 1 with ev filled, 0 at the end (footer or EOF), -1 on error
 * (the message carries the line number). An MMR_EV_STACK event's frames are
 * owned by the reader until the next call.
 */
int mmr_trace_reader_next(struct mmr_trace_reader *r, struct mmr_event *ev);
/* After next() returned 0: the footer, or NULL when the trace is truncated. */
const struct mmr_trace_footer *mmr_trace_reader_footer(const struct mmr_trace_reader *r);
uint64_t mmr_trace_reader_line(const struct mmr_trace_reader *r);
/* Frames of a stack id seen so far (NULL if unknown); owned by the reader. */
const char *const *mmr_trace_reader_stack(const struct mmr_trace_reader *r, uint32_t id,
					  unsigned *nframes);
void mmr_trace_reader_free(struct mmr_trace_reader *r);

#endif
