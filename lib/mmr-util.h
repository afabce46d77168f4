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

/*
 * A shared read-write mapping of len bytes backed by a memfd named name,
 * so that it can be handed to another program (see mmreplay-task) as well
 * as inherited by fork. *fd gets the memfd (close-on-exec); the caller
 * owns both (munmap, close). MAP_FAILED with an error on failure.
 */
void *mmr_shared_map(const char *name, size_t len, int *fd);

#endif
