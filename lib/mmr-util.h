/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers the library modules share. */
#ifndef MMR_UTIL_H
#define MMR_UTIL_H

/* Append a copy of s to the string vector (*v, *n); -1 on ENOMEM. */
int mmr_strv_add(char ***v, unsigned *n, const char *s);
/* Free the strings and the vector; NULL is fine. */
void mmr_strv_free(char **v, unsigned n);

#include <stdbool.h>
#include <stddef.h>

/* Read a small file (/proc) into buf, NUL-terminated; false if unreadable or empty. */
bool mmr_read_small(const char *path, char *buf, size_t len);

#endif
