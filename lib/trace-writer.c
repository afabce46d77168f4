// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Streaming trace writer. Events are formatted straight into a large
 * buffer (no json-c on this path) and written in big chunks, compressed
 * with zstd when asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "mmr-error.h"
#include "mmr-trace.h"
#include "trace-internal.h"

#define WBUF_SIZE (1u << 20)
#define LINE_MAX_EV 8192	/* longest event line (a stack of 64 long frames) */

struct mmr_trace_writer {
	int fd, own_fd;
	ZSTD_CCtx *zc;
	char *buf;		/* uncompressed lines */
	size_t fill;
	char *zbuf;		/* compressed output */
	size_t zcap;
	uint64_t bytes;		/* written to the fd */
	uint64_t counts[MMR_EV__COUNT];
	uint64_t faults;
	bool finished, failed;
};

static int write_all(struct mmr_trace_writer *w, const char *p, size_t n)
{
	while (n) {
		ssize_t r = write(w->fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			w->failed = true;
			if (errno == ENOSPC || errno == EDQUOT)
				return mmr_seterr_errno(MMR_E_IO,
					"writing the trace: disk full; free space or write elsewhere with -o");
			return mmr_seterr_errno(MMR_E_IO, "writing the trace");
		}
		p += r;
		n -= r;
		w->bytes += r;
	}
	return 0;
}

/* Push buffered lines out; end=true finishes the zstd frame. */
static int flush_buf(struct mmr_trace_writer *w, bool end)
{
	if (w->failed)
		return mmr_seterr(MMR_E_IO, "writing the trace failed earlier");
	if (!w->zc) {
		int r = write_all(w, w->buf, w->fill);

		w->fill = 0;
		return r;
	}
	ZSTD_inBuffer in = { w->buf, w->fill, 0 };
	for (;;) {
		ZSTD_outBuffer out = { w->zbuf, w->zcap, 0 };
		size_t left = ZSTD_compressStream2(w->zc, &out, &in,
						   end ? ZSTD_e_end : ZSTD_e_continue);

		if (ZSTD_isError(left))
			return mmr_seterr(MMR_E_FAIL, "zstd: %s", ZSTD_getErrorName(left));
		if (write_all(w, w->zbuf, out.pos) < 0)
			return -1;
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	w->fill = 0;
	return 0;
}

static int put_line(struct mmr_trace_writer *w, const char *s, size_t n)
{
	if (w->fill + n > WBUF_SIZE && flush_buf(w, false) < 0)
		return -1;
	if (n > WBUF_SIZE) {
		/* A huge header (many maps): write it through in pieces. */
		while (n) {
			size_t k = n < WBUF_SIZE ? n : WBUF_SIZE;

			memcpy(w->buf, s, k);
			w->fill = k;
			if (flush_buf(w, false) < 0)
				return -1;
			s += k;
			n -= k;
		}
		return 0;
	}
	memcpy(w->buf + w->fill, s, n);
	w->fill += n;
	return 0;
}

struct mmr_trace_writer *mmr_trace_writer_fdopen(int fd, enum mmr_compress c,
						 const struct mmr_trace_header *h)
{
	struct mmr_trace_writer *w = calloc(1, sizeof(*w));
	char *hdr = NULL;

	if (!w)
		goto nomem;
	w->fd = fd;
	w->buf = malloc(WBUF_SIZE);
	if (!w->buf)
		goto nomem;
	if (c == MMR_COMPRESS_ZSTD) {
		w->zc = ZSTD_createCCtx();
		w->zcap = ZSTD_CStreamOutSize();
		w->zbuf = malloc(w->zcap);
		if (!w->zc || !w->zbuf)
			goto nomem;
		/* Level 3: fast enough for the recorder, 10x+ on JSON lines. */
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3);
	}
	hdr = mmr_trace_header_json(h);
	if (!hdr)
		goto fail;
	if (put_line(w, hdr, strlen(hdr)) < 0 || put_line(w, "\n", 1) < 0)
		goto fail;
	free(hdr);
	return w;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	free(hdr);
	if (w)
		w->fd = -1;
	mmr_trace_writer_free(w);
	return NULL;
}

struct mmr_trace_writer *mmr_trace_writer_new(const char *path, enum mmr_compress c,
					      const struct mmr_trace_header *h)
{
	struct mmr_trace_writer *w;
	int fd;

	if (!strcmp(path, "-"))
		return mmr_trace_writer_fdopen(STDOUT_FILENO, c, h);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		mmr_seterr_errno(MMR_E_IO, "cannot create %s", path);
		return NULL;
	}
	w = mmr_trace_writer_fdopen(fd, c, h);
	if (!w) {
		close(fd);
		return NULL;
	}
	w->own_fd = 1;
	return w;
}

int mmr_trace_writer_event(struct mmr_trace_writer *w, const struct mmr_event *ev)
{
	size_t n;

	if (w->fill + LINE_MAX_EV > WBUF_SIZE && flush_buf(w, false) < 0)
		return -1;
	n = mmr_event_format(ev, w->buf + w->fill, WBUF_SIZE - w->fill);
	if (n >= WBUF_SIZE - w->fill)
		return mmr_seterr(MMR_E_FAIL, "event line longer than %u bytes", WBUF_SIZE);
	w->fill += n;
	if ((unsigned)ev->type < MMR_EV__COUNT)
		w->counts[ev->type]++;
	if (ev->type == MMR_EV_FAULT)
		w->faults += ev->fault.count;
	return 0;
}

int mmr_trace_writer_finish(struct mmr_trace_writer *w, const struct mmr_trace_footer *f)
{
	char *ftr = mmr_trace_footer_json(w->counts, w->faults, f);
	int r;

	if (!ftr)
		return -1;
	r = put_line(w, ftr, strlen(ftr));
	free(ftr);
	if (r < 0 || put_line(w, "\n", 1) < 0 || flush_buf(w, true) < 0)
		return -1;
	w->finished = true;
	return 0;
}

int mmr_trace_writer_sync(struct mmr_trace_writer *w)
{
	/* A zstd frame that is not ended is still decodable up to the last flush. */
	if (w->zc && !w->finished) {
		ZSTD_inBuffer in = { w->buf, w->fill, 0 };

		for (;;) {
			ZSTD_outBuffer out = { w->zbuf, w->zcap, 0 };
			size_t left = ZSTD_compressStream2(w->zc, &out, &in, ZSTD_e_flush);

			if (ZSTD_isError(left))
				return mmr_seterr(MMR_E_FAIL, "zstd: %s", ZSTD_getErrorName(left));
			if (write_all(w, w->zbuf, out.pos) < 0)
				return -1;
			if (left == 0)
				break;
		}
		w->fill = 0;
	} else if (w->fill && flush_buf(w, false) < 0) {
		return -1;
	}
	if (fsync(w->fd) < 0 && errno != EINVAL && errno != EROFS)
		return mmr_seterr_errno(MMR_E_IO, "fsync");
	return 0;
}

uint64_t mmr_trace_writer_bytes(const struct mmr_trace_writer *w)
{
	return w->bytes + (w->zc ? 0 : w->fill);
}

const uint64_t *mmr_trace_writer_counts(const struct mmr_trace_writer *w)
{
	return w->counts;
}

uint64_t mmr_trace_writer_faults(const struct mmr_trace_writer *w)
{
	return w->faults;
}

int mmr_trace_writer_free(struct mmr_trace_writer *w)
{
	int r = 0;

	if (!w)
		return 0;
	if (w->fd >= 0 && !w->finished && !w->failed)
		r = flush_buf(w, w->zc != NULL);
	if (w->own_fd && w->fd >= 0 && close(w->fd) < 0 && !r)
		r = mmr_seterr_errno(MMR_E_IO, "closing the trace");
	ZSTD_freeCCtx(w->zc);
	free(w->zbuf);
	free(w->buf);
	free(w);
	return r;
}
