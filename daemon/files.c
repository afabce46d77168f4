// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "mmr-error.h"

char *mmrd_file_name(const char *dir, const char *host, unsigned seq, bool zstd)
{
	char when[32], *p;
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	if (asprintf(&p, "%s/mmreplay-%s-%s-%04u.jsonl%s", dir, host, when, seq,
		     zstd ? ".zst" : "") < 0)
		return NULL;
	return p;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

bool mmrd_is_trace_name(const char *name)
{
	if (strncmp(name, "mmreplay-", 9))
		return false;
	return ends_with(name, ".jsonl") || ends_with(name, ".jsonl.zst") ||
	       ends_with(name, ".jsonl.tmp") || ends_with(name, ".jsonl.zst.tmp");
}

struct entry {
	char *path;
	uint64_t size;
	struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);	/* names sort by time too */
}

int mmrd_enforce_budget(const char *dir, uint64_t budget, uint64_t open_size,
			const char *keep, void (*log_deleted)(const char *path))
{
	struct entry *ents = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = open_size;
	struct dirent *de;
	int deleted = 0;
	DIR *d = opendir(dir);

	if (!d)
		return mmr_seterr_errno(MMR_E_IO, "%s", dir);
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (!mmrd_is_trace_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		if ((keep && !strcmp(path, keep)) || stat(path, &st) < 0) {
			free(path);
			continue;
		}
		if (n == cap) {
			struct entry *ne = realloc(ents, (cap = cap ? cap * 2 : 32) * sizeof(*ne));

			if (!ne) {
				free(path);
				break;
			}
			ents = ne;
		}
		ents[n++] = (struct entry){ path, (uint64_t)st.st_size, st.st_mtim };
		total += st.st_size;
	}
	closedir(d);
	qsort(ents, n, sizeof(*ents), by_age);
	for (size_t i = 0; i < n && total > budget; i++) {
		if (unlink(ents[i].path) == 0) {
			total -= ents[i].size;
			deleted++;
			if (log_deleted)
				log_deleted(ents[i].path);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(ents[i].path);
	free(ents);
	return deleted;
}

int64_t mmrd_free_bytes(const char *dir)
{
	struct statvfs sv;

	if (statvfs(dir, &sv) < 0)
		return mmr_seterr_errno(MMR_E_IO, "statvfs %s", dir);
	return (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
}

int mmrd_count_tmp(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (mmrd_is_trace_name(de->d_name) && ends_with(de->d_name, ".tmp"))
			n++;
	closedir(d);
	return n;
}
