// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the trace reader and the whole-file validator over
 * arbitrary bytes (plain or zstd). Any crash, leak or sanitizer report is a
 * bug; errors are the expected outcome for most inputs.
 */
#include <stddef.h>
#include <stdint.h>

#include "mmr-event.h"
#include "mmr-trace.h"
#include "mmr-validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mmr_trace_reader *r = mmr_trace_reader_mem(data, size);
	struct mmr_validation v;

	if (r) {
		struct mmr_event e;

		while (mmr_trace_reader_next(r, &e) == 1)
			;
		(void)mmr_trace_reader_footer(r);
		mmr_trace_reader_free(r);
	}
	(void)mmr_validate_mem(data, size, &v);
	return 0;
}
