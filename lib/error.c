// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmr-error.h"

#define MMR_ERRLEN 1024

static _Thread_local char errmsg[MMR_ERRLEN];
static _Thread_local enum mmr_err errcode;

static void vset(enum mmr_err code, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void vset(enum mmr_err code, int err, const char *fmt, va_list ap)
{
	int n = vsnprintf(errmsg, sizeof(errmsg), fmt, ap);

	if (n < 0)
		n = 0;
	if (err && (size_t)n < sizeof(errmsg))
		snprintf(errmsg + n, sizeof(errmsg) - n, ": %s", strerror(err));
	errcode = code;
}

int mmr_seterr(enum mmr_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int mmr_seterr_errno(enum mmr_err code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(code, err, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

void mmr_adderr_context(const char *fmt, ...)
{
	char old[MMR_ERRLEN];
	va_list ap;
	int n;

	memcpy(old, errmsg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(errmsg))
		snprintf(errmsg + n, sizeof(errmsg) - n, ": %s", old);
}

const char *mmr_strerror(void)
{
	return errmsg[0] ? errmsg : "no error";
}

enum mmr_err mmr_errcode(void)
{
	return errcode;
}

void mmr_clearerr(void)
{
	errmsg[0] = '\0';
	errcode = MMR_E_OK;
}
