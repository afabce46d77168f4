/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded line reader over a file, fd or memory buffer, transparently
 * decompressing zstd (detected by its magic number). Memory use is the
 * longest line seen plus fixed buffers, and a line longer than the limit is
 * an error, not an allocation: a 1 GB line in a trace cannot exhaust memory.
 */
#ifndef MMR_LINES_H
#define MMR_LINES_H

#include <stddef.h>
#include <stdint.h>

struct mmr_lines;

/* path "-" is stdin. NULL with an error set on failure. */
struct mmr_lines *mmr_lines_open(const char *path, size_t max_line);
struct mmr_lines *mmr_lines_fdopen(int fd, size_t max_line);	/* owns fd on success */
struct mmr_lines *mmr_lines_mem(const void *buf, size_t len, size_t max_line);
/*
 * Next line without its newline, NUL-terminated, owned by the reader until
 * the next call. 1 = line, 0 = end of input, -1 = error (too long, I/O,
 * corrupt compression, NUL byte), message names the line number.
 * A final line without a newline is returned and flagged (see _unterminated).
 */
int mmr_lines_next(struct mmr_lines *l, char **line, size_t *len);
uint64_t mmr_lines_lineno(const struct mmr_lines *l);	/* of the last line returned */
int mmr_lines_unterminated(const struct mmr_lines *l);	/* last line lacked '\n' */
int mmr_lines_compressed(const struct mmr_lines *l);
/* Read everything left as one buffer (for single-document JSON files). */
int mmr_lines_slurp(struct mmr_lines *l, char **buf, size_t *len, size_t max);
void mmr_lines_free(struct mmr_lines *l);

#endif
