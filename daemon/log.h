/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mmreplayd logs one line per event to stderr; journald adds the time. */
#ifndef MMRD_LOG_H
#define MMRD_LOG_H

void mmrd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
