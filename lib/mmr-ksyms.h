/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel symbols from /proc/kallsyms: address -> function name, for
 * symbolising the kernel stacks of lock contention events.
 */
#ifndef MMR_KSYMS_H
#define MMR_KSYMS_H

#include <stdint.h>

struct mmr_ksyms;

/*
 * Load text symbols from path (NULL: /proc/kallsyms). Fails with
 * MMR_E_NOTSUP when the addresses are hidden (kptr_restrict: all zero).
 */
struct mmr_ksyms *mmr_ksyms_load(const char *path);
void mmr_ksyms_free(struct mmr_ksyms *k);
unsigned mmr_ksyms_count(const struct mmr_ksyms *k);

/*
 * Name of the function containing addr (owned by k), with the offset into
 * it in *off when off is not NULL; NULL when addr is outside every symbol.
 */
const char *mmr_ksyms_lookup(const struct mmr_ksyms *k, uint64_t addr, uint64_t *off);

/*
 * "name" for addr, or "0x<hex>" when unknown, into buf (len >= 24).
 * Returns buf.
 */
char *mmr_ksyms_name(const struct mmr_ksyms *k, uint64_t addr, char *buf, unsigned len);

#endif
