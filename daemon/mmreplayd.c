// SPDX-License-Identifier: GPL-2.0-or-later
/* mmreplayd: placeholder until the recorder lands (issue "Recorder"). */
#include <stdio.h>
#include <string.h>

#include "mmr-config.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("mmreplayd %s\n", MMR_VERSION);
		return 0;
	}
	fprintf(stderr, "mmreplayd: not implemented yet\n");
	return 1;
}
