// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: mmreplayd's configuration parser. */
#include <stddef.h>
#include <stdint.h>

#include "../../daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmrd_config c;

	mmrd_config_defaults(&c);
	(void)mmrd_config_parse(&c, (const char *)data, size);
	mmrd_config_release(&c);
	return 0;
}
