// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "mmr-error.h"
#include "mmr-lines.h"

#define RAW_CHUNK (256u << 10)

struct mmr_lines {
	int fd;				/* -1 for memory input */
	const unsigned char *mem;	/* memory input */
	size_t mem_len, mem_off;
	size_t max_line;

	ZSTD_DStream *zs;		/* NULL when not compressed */
	unsigned char *raw;		/* compressed input chunk */
	size_t raw_len, raw_off;

	char *buf;			/* decoded bytes; a line is assembled here */
	size_t cap, start, end;
	int eof, unterminated;
	uint64_t lineno;
};

/* Read raw bytes from the source. */
static ssize_t src_read(struct mmr_lines *l, void *dst, size_t n)
{
	if (!l->mem) {
		ssize_t r;

		do
			r = read(l->fd, dst, n);
		while (r < 0 && errno == EINTR);
		return r;
	}
	if (n > l->mem_len - l->mem_off)
		n = l->mem_len - l->mem_off;
	memcpy(dst, l->mem + l->mem_off, n);
	l->mem_off += n;
	return n;
}

static int setup(struct mmr_lines *l)
{
	static const unsigned char zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	ssize_t n;

	l->raw = malloc(RAW_CHUNK);
	l->cap = 1u << 16;
	l->buf = malloc(l->cap);
	if (!l->raw || !l->buf)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	/* Sniff the first bytes for the zstd magic; keep them as input either way. */
	while (l->raw_len < 4) {
		n = src_read(l, l->raw + l->raw_len, 4 - l->raw_len);
		if (n < 0)
			return mmr_seterr_errno(MMR_E_IO, "read");
		if (n == 0)
			break;
		l->raw_len += n;
	}
	if (l->raw_len == 4 && !memcmp(l->raw, zmagic, 4)) {
		l->zs = ZSTD_createDStream();
		if (!l->zs)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		ZSTD_initDStream(l->zs);
	} else {
		memcpy(l->buf, l->raw, l->raw_len);
		l->end = l->raw_len;
		l->raw_len = 0;
	}
	return 0;
}

static struct mmr_lines *lines_new(int fd, const void *mem, size_t len, size_t max_line)
{
	struct mmr_lines *l = calloc(1, sizeof(*l));

	if (!l) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	l->fd = fd;
	l->mem = mem;
	l->mem_len = len;
	l->max_line = max_line;
	if (mem && !len)
		l->mem = (const unsigned char *)"";	/* empty input, still memory */
	if (setup(l) < 0) {
		l->fd = -1;	/* the caller keeps its fd on failure */
		mmr_lines_free(l);
		return NULL;
	}
	return l;
}

struct mmr_lines *mmr_lines_fdopen(int fd, size_t max_line)
{
	return lines_new(fd, NULL, 0, max_line);
}

struct mmr_lines *mmr_lines_mem(const void *buf, size_t len, size_t max_line)
{
	return lines_new(-1, buf ? buf : "", len, max_line);
}

struct mmr_lines *mmr_lines_open(const char *path, size_t max_line)
{
	struct mmr_lines *l;
	int fd;

	if (!strcmp(path, "-"))
		return mmr_lines_fdopen(dup(STDIN_FILENO), max_line);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		mmr_seterr_errno(MMR_E_IO, "%s", path);
		return NULL;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	l = mmr_lines_fdopen(fd, max_line);
	if (!l)
		close(fd);
	return l;
}

/* Append more decoded bytes after buf[end]; 0 at EOF, -1 on error. */
static int fill(struct mmr_lines *l)
{
	ssize_t n;

	if (l->eof)
		return 0;
	/* Make room: drop consumed bytes, grow up to max_line + one chunk. */
	if (l->start) {
		memmove(l->buf, l->buf + l->start, l->end - l->start);
		l->end -= l->start;
		l->start = 0;
	}
	if (l->cap - l->end < RAW_CHUNK) {
		size_t ncap = l->cap * 2;
		char *nb;

		if (ncap < l->end + RAW_CHUNK)
			ncap = l->end + RAW_CHUNK;
		nb = realloc(l->buf, ncap);
		if (!nb)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		l->buf = nb;
		l->cap = ncap;
	}
	if (!l->zs) {
		n = src_read(l, l->buf + l->end, l->cap - l->end - 1);
		if (n < 0)
			return mmr_seterr_errno(MMR_E_IO, "read");
		if (n == 0)
			l->eof = 1;
		l->end += n;
		return n > 0;
	}
	for (;;) {
		ZSTD_outBuffer out = { l->buf + l->end, l->cap - l->end - 1, 0 };
		ZSTD_inBuffer in;
		size_t r;

		if (l->raw_off == l->raw_len) {
			n = src_read(l, l->raw, RAW_CHUNK);
			if (n < 0)
				return mmr_seterr_errno(MMR_E_IO, "read");
			if (n == 0) {
				l->eof = 1;
				return 0;
			}
			l->raw_len = n;
			l->raw_off = 0;
		}
		in = (ZSTD_inBuffer){ l->raw, l->raw_len, l->raw_off };
		r = ZSTD_decompressStream(l->zs, &out, &in);
		l->raw_off = in.pos;
		if (ZSTD_isError(r))
			return mmr_seterr(MMR_E_FORMAT, "line %llu: corrupt zstd data: %s",
					  (unsigned long long)l->lineno + 1, ZSTD_getErrorName(r));
		l->end += out.pos;
		if (out.pos)
			return 1;
	}
}

int mmr_lines_next(struct mmr_lines *l, char **line, size_t *len)
{
	size_t scan = l->start;

	for (;;) {
		char *nl = memchr(l->buf + scan, '\n', l->end - scan);
		size_t n;
		int r;

		if (nl || (l->eof && l->end > l->start)) {
			n = nl ? (size_t)(nl - (l->buf + l->start)) : l->end - l->start;
			l->lineno++;
			if (n > l->max_line)
				return mmr_seterr(MMR_E_FORMAT, "line %llu: longer than %zu bytes",
						  (unsigned long long)l->lineno, l->max_line);
			if (memchr(l->buf + l->start, '\0', n))
				return mmr_seterr(MMR_E_FORMAT, "line %llu: contains a NUL byte",
						  (unsigned long long)l->lineno);
			*line = l->buf + l->start;
			*len = n;
			l->unterminated = !nl;
			if (nl) {
				*nl = '\0';
				l->start += n + 1;
			} else {
				/* room for the terminator was reserved by fill() */
				l->buf[l->end] = '\0';
				l->start = l->end;
			}
			return 1;
		}
		if (l->eof)
			return 0;
		/* A line longer than the limit is rejected without buffering it all. */
		if (l->end - l->start > l->max_line)
			return mmr_seterr(MMR_E_FORMAT, "line %llu: longer than %zu bytes",
					  (unsigned long long)l->lineno + 1, l->max_line);
		scan = l->end - l->start;
		r = fill(l);
		if (r < 0)
			return -1;
		scan += l->start;	/* start is 0 after fill() compacted */
		if (r == 0 && l->eof && l->zs && l->end == l->start)
			return 0;
	}
}

int mmr_lines_slurp(struct mmr_lines *l, char **out, size_t *len, size_t max)
{
	int r;

	do {
		if (l->end - l->start > max)
			return mmr_seterr(MMR_E_FORMAT, "input larger than %zu bytes", max);
		r = fill(l);
	} while (r > 0);
	if (r < 0)
		return -1;
	if (l->end - l->start > max)
		return mmr_seterr(MMR_E_FORMAT, "input larger than %zu bytes", max);
	*len = l->end - l->start;
	*out = malloc(*len + 1);
	if (!*out)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	memcpy(*out, l->buf + l->start, *len);
	(*out)[*len] = '\0';
	l->start = l->end;
	return 0;
}

uint64_t mmr_lines_lineno(const struct mmr_lines *l)
{
	return l->lineno;
}

int mmr_lines_unterminated(const struct mmr_lines *l)
{
	return l->unterminated;
}

int mmr_lines_compressed(const struct mmr_lines *l)
{
	return l->zs != NULL;
}

void mmr_lines_free(struct mmr_lines *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	ZSTD_freeDStream(l->zs);
	free(l->raw);
	free(l->buf);
	free(l);
}
