/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Human-readable numbers for replay and report output. */
#ifndef MMR_REPORT_UTIL_H
#define MMR_REPORT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "812 ns", "12.3 µs", "1.54 ms", "2.10 s": three significant digits. Returns buf. */
char *fmt_duration(uint64_t ns, char *buf, size_t len);
/* "512 B", "33.5 MiB". Returns buf. */
char *fmt_bytes(uint64_t b, char *buf, size_t len);

#endif
