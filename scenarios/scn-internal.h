/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the scenario framework's files share; not for scenario code. */
#ifndef MMR_SCN_INTERNAL_H
#define MMR_SCN_INTERNAL_H

#include "mmr-scenario.h"

/* MAP_SHARED between the runner and every process of the tree. */
struct mmr_scn_shared {
	volatile int stop;		/* the runner asked the tree to wind down */
	int failed;			/* a process claimed the failure slot */
	struct mmr_scn_stats st;
};

/* scn-reclaim.c: runner side, called by the framework. */
int mmr_scn_reclaim_attach(struct mmr_scn_ctx *c, pid_t root);
int mmr_scn_reclaim_cleanup(struct mmr_scn_ctx *c);

#endif
