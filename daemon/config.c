// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mmr-error.h"
#include "mmr-lines.h"
#include "mmr-probe.h"

const struct mmrd_key mmrd_keys[] = {
	{ "output_dir", "DIR", "directory for trace files (default /var/lib/mmreplay)" },
	{ "events", "GROUPS", "faults,tasks,vm,reclaim,locks or all (default all)" },
	{ "comm", "REGEX", "only processes whose name matches" },
	{ "cgroup", "PATH", "only processes in this cgroup (v2 path)" },
	{ "pids", "PID,...", "follow these processes instead of the whole system" },
	{ "rotate_size", "SIZE", "close a file at this size (default 64M)" },
	{ "rotate_age", "SECONDS", "close a file this old (default 3600)" },
	{ "disk_budget", "SIZE", "all files together; oldest deleted first (default 1G)" },
	{ "min_free", "SIZE", "pause recording under this free space (default 512M)" },
	{ "zstd", "yes|no", "compress files with zstd (default yes)" },
	{ "keep_paths", "yes|no", "keep file paths instead of their sha256 (default no)" },
	{ "buffer_kb", "KIB", "ring buffer per CPU (default 16384)" },
	{ "upload_url", "URL", "POST each closed file here (default: no upload)" },
	{ "upload_timeout", "SECONDS", "per upload attempt (default 60)" },
	{ "upload_retry_max", "SECONDS", "longest wait between retries (default 600)" },
	{ "keep_uploaded", "yes|no", "keep local files after upload (default no)" },
	{ NULL, NULL, NULL },
};

void mmrd_config_defaults(struct mmrd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->output_dir = strdup("/var/lib/mmreplay");
	c->events = strdup("all");
	c->rotate_size = 64ull << 20;
	c->rotate_age = 3600;
	c->disk_budget = 1ull << 30;
	c->min_free = 512ull << 20;
	c->zstd = true;
	c->upload_timeout = 60;
	c->upload_retry_max = 600;
}

void mmrd_config_release(struct mmrd_config *c)
{
	free(c->output_dir);
	free(c->events);
	free(c->comm);
	free(c->cgroup);
	free(c->pids);
	free(c->upload_url);
	memset(c, 0, sizeof(*c));
}

static int parse_size(const char *key, const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		goto bad;
	n = strtoull(v, &end, 10);
	if (errno)
		goto bad;
	switch (toupper((unsigned char)*end)) {
	case 'K': n <<= 10; end++; break;
	case 'M': n <<= 20; end++; break;
	case 'G': n <<= 30; end++; break;
	case 'T': n <<= 40; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		goto bad;
	*out = n;
	return 0;
bad:
	return mmr_seterr(MMR_E_USAGE, "%s: expected a size like 64M, got \"%s\"", key, v);
}

static int parse_uint(const char *key, const char *v, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		return mmr_seterr(MMR_E_USAGE, "%s: expected a number, got \"%s\"", key, v);
	*out = strtoull(v, &end, 10);
	if (errno || *end)
		return mmr_seterr(MMR_E_USAGE, "%s: expected a number, got \"%s\"", key, v);
	return 0;
}

static int parse_bool(const char *key, const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*out = false;
	else
		return mmr_seterr(MMR_E_USAGE, "%s: expected yes or no, got \"%s\"", key, v);
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

int mmrd_config_set(struct mmrd_config *c, const char *key, const char *v)
{
	char k[64];
	uint64_t u;
	unsigned groups;

	/* --rotate-size and rotate_size are the same key */
	snprintf(k, sizeof(k), "%s", key);
	for (char *p = k; *p; p++)
		if (*p == '-')
			*p = '_';
	if (!strcmp(k, "output_dir")) {
		if (!*v)
			return mmr_seterr(MMR_E_USAGE, "output_dir: must not be empty");
		return set_str(&c->output_dir, v);
	}
	if (!strcmp(k, "events")) {
		if (mmr_evgroups_parse(v, &groups) < 0)
			return -1;
		return set_str(&c->events, v);
	}
	if (!strcmp(k, "comm"))
		return set_str(&c->comm, v);
	if (!strcmp(k, "cgroup"))
		return set_str(&c->cgroup, v);
	if (!strcmp(k, "pids"))
		return set_str(&c->pids, v);
	if (!strcmp(k, "upload_url"))
		return set_str(&c->upload_url, v);
	if (!strcmp(k, "rotate_size"))
		return parse_size(k, v, &c->rotate_size);
	if (!strcmp(k, "disk_budget"))
		return parse_size(k, v, &c->disk_budget);
	if (!strcmp(k, "min_free"))
		return parse_size(k, v, &c->min_free);
	if (!strcmp(k, "rotate_age"))
		return parse_uint(k, v, &c->rotate_age);
	if (!strcmp(k, "upload_timeout"))
		return parse_uint(k, v, &c->upload_timeout);
	if (!strcmp(k, "upload_retry_max"))
		return parse_uint(k, v, &c->upload_retry_max);
	if (!strcmp(k, "buffer_kb")) {
		if (parse_uint(k, v, &u) < 0)
			return -1;
		if (u < 64 || u > (1u << 22))
			return mmr_seterr(MMR_E_USAGE, "buffer_kb: between 64 and 4194304");
		c->buffer_kb = (unsigned)u;
		return 0;
	}
	if (!strcmp(k, "zstd"))
		return parse_bool(k, v, &c->zstd);
	if (!strcmp(k, "keep_paths"))
		return parse_bool(k, v, &c->keep_paths);
	if (!strcmp(k, "keep_uploaded"))
		return parse_bool(k, v, &c->keep_uploaded);
	return mmr_seterr(MMR_E_USAGE, "unknown key '%s' (see mmreplayd --help)", key);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int mmrd_config_parse(struct mmrd_config *c, const char *text, size_t len)
{
	struct mmr_lines *l = mmr_lines_mem(text, len, 4096);
	char *line;
	size_t n;
	int r;

	if (!l)
		return -1;
	while ((r = mmr_lines_next(l, &line, &n)) > 0) {
		char *eq, *key, *val;

		line = trim(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			mmr_seterr(MMR_E_USAGE, "expected key = value");
			r = -1;
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		/* optional quotes around values with spaces */
		n = strlen(val);
		if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
			val[n - 1] = '\0';
			val++;
		}
		if (mmrd_config_set(c, key, val) < 0) {
			r = -1;
			break;
		}
	}
	if (r < 0)
		mmr_adderr_context("line %llu", (unsigned long long)mmr_lines_lineno(l));
	mmr_lines_free(l);
	return r < 0 ? -1 : 0;
}

int mmrd_config_load(struct mmrd_config *c, const char *path, bool must_exist)
{
	struct mmr_lines *l = mmr_lines_open(path, 4096);
	char *buf;
	size_t len;
	int r;

	if (!l) {
		if (!must_exist && errno == ENOENT) {
			mmr_clearerr();
			return 0;
		}
		return -1;
	}
	r = mmr_lines_slurp(l, &buf, &len, 1 << 20);
	mmr_lines_free(l);
	if (r < 0)
		return -1;
	r = mmrd_config_parse(c, buf, len);
	free(buf);
	if (r < 0)
		mmr_adderr_context("%s", path);
	return r;
}
