/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What tests/integration/workload-known.c does, exactly: the recorder test
 * asserts these counts (and the workload prints them on its "W" line).
 */
#ifndef MMR_WORKLOAD_KNOWN_H
#define MMR_WORKLOAD_KNOWN_H

#define WL_A_PAGES 37
#define WL_B_PAGES 53
#define WL_C_PAGES 61
#define WL_D_PAGES 29
#define WL_E_PAGES 31
#define WL_THREADS 2
#define WL_CHILDREN 3
#define WL_MPROTECTS 6

#endif
