/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Error reporting for the core library.
 *
 * lib/ never prints and never exits: a failing function records a one-line
 * message (and an error class) for the calling thread and returns -1 or
 * NULL. The program decides what to show and which exit code to use.
 */
#ifndef MMR_ERROR_H
#define MMR_ERROR_H

enum mmr_err {
	MMR_E_OK = 0,
	MMR_E_FAIL,		/* generic failure, see message */
	MMR_E_IO,		/* read/write/open failed (errno kept) */
	MMR_E_FORMAT,		/* malformed input (trace, result, config) */
	MMR_E_VERSION,		/* unknown format version */
	MMR_E_NOTSUP,		/* not supported here: no tracefs, event, privilege */
	MMR_E_NOMEM,
	MMR_E_USAGE,		/* bad argument from the caller */
};

/* Record an error for this thread; always returns -1 for "return mmr_err(...)". */
int mmr_seterr(enum mmr_err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like mmr_seterr() but appends ": strerror(errno)". */
int mmr_seterr_errno(enum mmr_err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context ("reading x: <old>"). */
void mmr_adderr_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message of this thread; never NULL (owned by the library). */
const char *mmr_strerror(void);
enum mmr_err mmr_errcode(void);
void mmr_clearerr(void);

#endif
