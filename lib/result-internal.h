/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the result model, its statistics and its JSON; not installed. */
#ifndef MMR_RESULT_INTERNAL_H
#define MMR_RESULT_INTERNAL_H

#include <stddef.h>

/* Grow an array of n elements by one; the new element is zeroed. NULL on ENOMEM (arr kept). */
void *mmr_result_grow(void *arr, unsigned n, size_t size);
/* Replace the owned string *dst with a copy of s (NULL: none); -1 on ENOMEM (*dst kept). */
int mmr_result_set_str(char **dst, const char *s);

#endif
