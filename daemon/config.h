/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mmreplayd configuration: a key = value file, every key also a
 * command-line option (--key value, dashes or underscores alike).
 */
#ifndef MMRD_CONFIG_H
#define MMRD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define MMRD_DEFAULT_CONFIG "/etc/mmreplay/mmreplayd.conf"

struct mmrd_config {
	char *output_dir;	/* where traces go */
	char *events;		/* event groups, "all" */
	char *comm;		/* process-name regex filter */
	char *cgroup;		/* cgroup path filter */
	char *pids;		/* "1,2": follow these instead of system-wide */
	uint64_t rotate_size;	/* bytes; close a file at this size */
	uint64_t rotate_age;	/* seconds; close a file this old */
	uint64_t disk_budget;	/* bytes for all files; oldest closed deleted first */
	uint64_t min_free;	/* bytes; pause recording under this much free space */
	bool zstd;
	bool keep_paths;
	unsigned buffer_kb;
	char *upload_url;	/* POST closed files here; "" = no upload */
	uint64_t upload_timeout;	/* seconds per attempt */
	uint64_t upload_retry_max;	/* seconds, cap of the backoff */
	bool keep_uploaded;	/* keep the local copy after a 2xx */
	bool foreground;	/* unused: the daemon never forks (systemd) */
};

void mmrd_config_defaults(struct mmrd_config *c);
void mmrd_config_release(struct mmrd_config *c);
/*
 * Set one key from text ("rotate_size", "64M"). -1 with an error that names
 * the key and what it expects.
 */
int mmrd_config_set(struct mmrd_config *c, const char *key, const char *value);
/* Parse a whole file's text; errors carry "line N: ...". */
int mmrd_config_parse(struct mmrd_config *c, const char *text, size_t len);
int mmrd_config_load(struct mmrd_config *c, const char *path, bool must_exist);
/* Every key, for --help and the man page. NULL-terminated. */
struct mmrd_key {
	const char *name, *arg, *help;
};
extern const struct mmrd_key mmrd_keys[];

#endif
