// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-record-out.h"
#include "mmr-recorder.h"
#include "mmr-sysinfo.h"
#include "mmr-trace.h"

int mmr_record_out_open(struct mmr_record_out *out, struct mmr_recorder *rec,
			const char *path, bool zstd, const char *cmdline, bool hash_paths,
			bool atomic)
{
	struct mmr_trace_header h;
	int r = -1;

	struct mmr_record_stack *stacks = out->stacks;
	uint32_t nstacks = out->nstacks;

	memset(out, 0, sizeof(*out));
	out->stacks = stacks;
	out->nstacks = nstacks;
	for (uint32_t i = 0; i < nstacks; i++)
		stacks[i].written = false;
	if (mmr_trace_header_init(&h) < 0)
		return -1;
	h.paths_hashed = hash_paths;
	if (cmdline && !(h.command = strdup(cmdline))) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		goto out;
	}
	if (mmr_recorder_fill_header(rec, &h) < 0)
		goto out;
	out->path = strdup(path);
	if (!out->path || (atomic && asprintf(&out->tmp, "%s.tmp", path) < 0)) {
		out->tmp = NULL;
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		goto out;
	}
	out->w = mmr_trace_writer_new(out->tmp ? out->tmp : path,
				      zstd ? MMR_COMPRESS_ZSTD : MMR_COMPRESS_NONE, &h);
	if (!out->w)
		goto out;
	out->start_ns = h.start_ns;
	r = 0;
out:
	mmr_trace_header_release(&h);
	if (r < 0)
		mmr_record_out_abort(out);
	return r;
}

static struct mmr_record_stack *stack_slot(struct mmr_record_out *out, uint32_t id)
{
	if (id >= out->nstacks) {
		uint32_t n = id + 64;
		struct mmr_record_stack *ns = realloc(out->stacks, n * sizeof(*ns));

		if (!ns) {
			mmr_seterr(MMR_E_NOMEM, "out of memory");
			return NULL;
		}
		memset(ns + out->nstacks, 0, (n - out->nstacks) * sizeof(*ns));
		out->stacks = ns;
		out->nstacks = n;
	}
	return &out->stacks[id];
}

int mmr_record_out_event(const struct mmr_event *ev, void *arg)
{
	struct mmr_record_out *out = arg;
	struct mmr_record_stack *s;

	if (ev->type == MMR_EV_STACK) {
		s = stack_slot(out, ev->stack.id);
		if (!s)
			return -1;
		s->nframes = ev->stack.nframes;
		s->frames = ev->stack.frames;
		s->written = true;
	} else if (ev->type == MMR_EV_CONTENTION && ev->contention.stack) {
		s = stack_slot(out, ev->contention.stack);
		if (!s)
			return -1;
		if (!s->written && s->frames) {
			struct mmr_event def = { .type = MMR_EV_STACK };

			/* defined in an earlier file of this recording: define it again */
			def.stack.id = ev->contention.stack;
			def.stack.nframes = s->nframes;
			def.stack.frames = s->frames;
			if (mmr_trace_writer_event(out->w, &def) < 0)
				return -1;
			s->written = true;
		}
	}
	return mmr_trace_writer_event(out->w, ev);
}

/* fsync the directory so the rename itself survives a power loss. */
static void sync_dir(const char *path)
{
	char *dup = strdup(path);
	int fd;

	if (!dup)
		return;
	fd = open(dirname(dup), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dup);
}

int mmr_record_out_close(struct mmr_record_out *out, struct mmr_recorder *rec, bool final)
{
	struct mmr_trace_footer f = { 0 };
	int r = -1;

	if (!out->w)
		return mmr_seterr(MMR_E_USAGE, "recording output is not open");
	if (final && (mmr_recorder_stop(rec) < 0 ||
		      mmr_recorder_flush(rec, mmr_record_out_event, out) < 0))
		goto out;
	if (mmr_recorder_fill_footer(rec, &f) < 0)
		goto out;
	/* A rotated file covers its own span, not the whole recording. */
	if (f.end_ns > out->start_ns)
		f.duration_ns = f.end_ns - out->start_ns;
	for (unsigned i = 0; i < f.ncpus; i++)
		out->lost += f.lost[i];
	if (mmr_trace_writer_finish(out->w, &f) < 0 || mmr_trace_writer_sync(out->w) < 0)
		goto out;
	memcpy(out->counts, mmr_trace_writer_counts(out->w), sizeof(out->counts));
	out->faults = mmr_trace_writer_faults(out->w);
	out->bytes = mmr_trace_writer_bytes(out->w);
	if (mmr_trace_writer_free(out->w) < 0) {
		out->w = NULL;
		goto out;
	}
	out->w = NULL;
	if (out->tmp) {
		if (rename(out->tmp, out->path) < 0) {
			mmr_seterr_errno(MMR_E_IO, "rename %s to %s", out->tmp, out->path);
			goto out;
		}
		sync_dir(out->path);
		free(out->tmp);
		out->tmp = NULL;
	}
	r = 0;
out:
	mmr_trace_footer_release(&f);
	return r;
}

void mmr_record_out_abort(struct mmr_record_out *out)
{
	if (out->w) {
		mmr_trace_writer_free(out->w);
		out->w = NULL;
	}
	if (out->tmp) {
		unlink(out->tmp);
		free(out->tmp);
		out->tmp = NULL;
	}
	free(out->path);
	out->path = NULL;
}

void mmr_record_out_release(struct mmr_record_out *out)
{
	mmr_record_out_abort(out);
	free(out->stacks);
	out->stacks = NULL;
	out->nstacks = 0;
}
