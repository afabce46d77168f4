// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "report-util.h"

/* Three significant digits without trailing noise: 1.23, 12.3, 123. */
static void sig3(double v, const char *unit, char *buf, size_t len)
{
	if (v >= 99.95)
		snprintf(buf, len, "%.0f %s", v, unit);
	else if (v >= 9.995)
		snprintf(buf, len, "%.1f %s", v, unit);
	else
		snprintf(buf, len, "%.2f %s", v, unit);
}

char *fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%u ns", (unsigned)ns);
	else if (ns < 999500)
		sig3(ns / 1e3, "\xc2\xb5s", buf, len);
	else if (ns < 999500000)
		sig3(ns / 1e6, "ms", buf, len);
	else
		sig3(ns / 1e9, "s", buf, len);
	return buf;
}

char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b < 1024)
		snprintf(buf, len, "%u B", (unsigned)b);
	else if (b < (1ull << 20))
		sig3(b / 1024.0, "KiB", buf, len);
	else if (b < (1ull << 30))
		sig3(b / 1048576.0, "MiB", buf, len);
	else
		sig3(b / 1073741824.0, "GiB", buf, len);
	return buf;
}
