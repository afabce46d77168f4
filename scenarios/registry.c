// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scenario table: `mmreplay scenario list` shows them in this order.
 * A new scenario is one file defining `const struct mmr_scenario
 * mmr_scn_<id>` and one line here (plus its name in meson.build).
 */
#include <stddef.h>

#include "mmr-scenario.h"

#define MMR_SCENARIO_LIST(X)		\
	X(zygote)			\
	X(fork_under_fault_io)		\
	X(heap_mprotect)		\
	X(uffd_move)			\
	X(fork_topology)		\
	X(cow_break)

#define DECLARE(id) extern const struct mmr_scenario mmr_scn_##id;
MMR_SCENARIO_LIST(DECLARE)

#define ENTRY(id) &mmr_scn_##id,
const struct mmr_scenario *const mmr_scenarios[] = {
	MMR_SCENARIO_LIST(ENTRY)
	NULL,
};
