// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplayd: the recorder as a long-running service. One recording runs
 * for the daemon's lifetime; its output rotates into size- and age-bounded
 * files (NAME.tmp while open, fsynced and renamed on close), the oldest
 * closed files go when the disk budget is exceeded, recording pauses when
 * free space runs low, and closed files are optionally uploaded.
 *
 * SIGTERM/SIGINT: finish the file, exit 0. SIGHUP: rotate now.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "files.h"
#include "log.h"
#include "mmr-config.h"
#include "mmr-error.h"
#include "mmr-probe.h"
#include "mmr-record-out.h"
#include "mmr-recorder.h"
#include "mmr-sysinfo.h"
#include "upload.h"

static volatile sig_atomic_t got_term, got_hup;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

void mmrd_log(const char *fmt, ...)
{
	va_list ap;

	fputs("mmreplayd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_deleted(const char *path)
{
	mmrd_log("disk budget: deleted oldest %s", path);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmreplayd [-c FILE] [--KEY VALUE]...\n\n"
		   "Record page faults, forks, address-space calls, reclaim and lock waits\n"
		   "into rotating trace files. Every config key is also an option.\n\n"
		   "  -c, --config FILE   config file (default " MMRD_DEFAULT_CONFIG ")\n"
		   "  -V, --version\n  -h, --help\n\nKeys:\n");
	for (const struct mmrd_key *k = mmrd_keys; k->name; k++) {
		char opt[64];

		snprintf(opt, sizeof(opt), "--%s %s", k->name, k->arg);
		for (char *p = opt + 2; *p && *p != ' '; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "  %-28s %s\n", opt, k->help);
	}
	fprintf(f, "\nSignals: SIGTERM/SIGINT finish and exit 0, SIGHUP rotates. See mmreplayd(8).\n");
}

struct daemon {
	struct mmrd_config cfg;
	struct mmr_recorder *rec;
	struct mmr_record_out out;
	struct mmrd_uploader *up;
	char host[64];
	unsigned seq;
	uint64_t opened_ns;
	bool paused;
	int32_t *pids;
	unsigned npids;
};

static int open_file(struct daemon *d)
{
	char *path = mmrd_file_name(d->cfg.output_dir, d->host, d->seq++, d->cfg.zstd);

	if (!path)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	if (mmr_record_out_open(&d->out, d->rec, path, d->cfg.zstd, NULL, !d->cfg.keep_paths,
				true) < 0) {
		free(path);
		return -1;
	}
	d->opened_ns = mmr_now_ns();
	free(path);
	return 0;
}

static int close_file(struct daemon *d, bool final)
{
	char *path;

	if (!d->out.w)
		return 0;
	path = strdup(d->out.path);
	if (mmr_record_out_close(&d->out, d->rec, final) < 0) {
		free(path);
		mmr_record_out_abort(&d->out);
		return -1;
	}
	mmrd_log("closed %s: %llu bytes, %llu faults, %llu lost", path,
		 (unsigned long long)d->out.bytes, (unsigned long long)d->out.faults,
		 (unsigned long long)d->out.lost);
	if (d->up && path)
		mmrd_uploader_add(d->up, path);
	free(path);
	free(d->out.path);
	d->out.path = NULL;
	return 0;
}

static uint64_t open_size(struct daemon *d)
{
	struct stat st;

	if (d->out.w && d->out.tmp && stat(d->out.tmp, &st) == 0)
		return st.st_size;
	return 0;
}

/* Free space and budget, checked a few times a second. */
static int check_disk(struct daemon *d)
{
	int64_t free_b = mmrd_free_bytes(d->cfg.output_dir);

	if (mmrd_enforce_budget(d->cfg.output_dir, d->cfg.disk_budget, open_size(d),
				d->out.tmp, log_deleted) < 0)
		mmrd_log("disk budget: %s", mmr_strerror());
	if (free_b < 0)
		return 0;
	if (!d->paused && (uint64_t)free_b < d->cfg.min_free) {
		mmrd_log("pausing: %lld bytes free in %s, under min_free %llu",
			 (long long)free_b, d->cfg.output_dir, (unsigned long long)d->cfg.min_free);
		if (close_file(d, false) < 0)
			mmrd_log("closing on pause: %s", mmr_strerror());
		if (mmr_recorder_stop(d->rec) < 0)
			return -1;
		d->paused = true;
	} else if (d->paused && (uint64_t)free_b >= d->cfg.min_free + (d->cfg.min_free >> 3)) {
		/* resume only with some headroom so we do not flap */
		mmrd_log("resuming: %lld bytes free", (long long)free_b);
		if (mmr_recorder_start(d->rec) < 0 || open_file(d) < 0)
			return -1;
		d->paused = false;
	}
	return 0;
}

static int parse_pids(struct daemon *d)
{
	char *dup, *save = NULL;

	if (!d->cfg.pids || !*d->cfg.pids)
		return 0;
	dup = strdup(d->cfg.pids);
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int32_t *n = realloc(d->pids, (d->npids + 1) * sizeof(*n));

		if (!n)
			break;
		d->pids = n;
		d->pids[d->npids++] = atoi(t);
	}
	free(dup);
	return 0;
}

/* Closed files from an earlier run that were never uploaded. */
static void queue_leftovers(struct daemon *d)
{
	struct dirent *de;
	DIR *dir;

	if (!d->up || d->cfg.keep_uploaded)
		return;
	dir = opendir(d->cfg.output_dir);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *p;
		size_t n = strlen(de->d_name);

		if (!mmrd_is_trace_name(de->d_name) || (n > 4 && !strcmp(de->d_name + n - 4, ".tmp")))
			continue;
		if (asprintf(&p, "%s/%s", d->cfg.output_dir, de->d_name) >= 0) {
			mmrd_uploader_add(d->up, p);
			free(p);
		}
	}
	closedir(dir);
}

static int run(struct daemon *d)
{
	struct mmr_recorder_opts ro = { 0 };
	uint64_t last_check = 0;
	unsigned groups;
	int ntmp, ret = 1;

	if (mkdir(d->cfg.output_dir, 0750) < 0 && errno != EEXIST) {
		mmrd_log("cannot create output_dir %s: %s", d->cfg.output_dir, strerror(errno));
		return 1;
	}
	ntmp = mmrd_count_tmp(d->cfg.output_dir);
	if (ntmp)
		mmrd_log("%d unfinished .tmp file(s) from an earlier run left in %s (readable, truncated)",
			 ntmp, d->cfg.output_dir);
	if (mmr_evgroups_parse(d->cfg.events, &groups) < 0)
		goto fail;
	parse_pids(d);
	ro.groups = groups;
	ro.pids = d->pids;
	ro.npids = d->npids;
	ro.system_wide = d->npids == 0;
	ro.comm_re = d->cfg.comm;
	ro.cgroup = d->cfg.cgroup;
	ro.buffer_kb = d->cfg.buffer_kb;
	ro.hash_paths = !d->cfg.keep_paths;
	if (mmr_recorder_cleanup_stale() < 0)
		goto fail;
	d->rec = mmr_recorder_new(&ro);
	if (!d->rec)
		goto fail;
	{
		unsigned n;
		const char *const *m = mmr_recorder_missing(d->rec, &n);

		for (unsigned i = 0; i < n; i++)
			mmrd_log("this kernel has no %s: its data will be absent", m[i]);
	}
	if (d->cfg.upload_url && *d->cfg.upload_url) {
		d->up = mmrd_uploader_new(d->cfg.upload_url, d->cfg.upload_timeout,
					  d->cfg.upload_retry_max, d->cfg.keep_uploaded);
		if (!d->up)
			goto fail;
		queue_leftovers(d);
	}
	if (mmr_recorder_start(d->rec) < 0 || open_file(d) < 0)
		goto fail;
	mmrd_log("recording %s into %s (instance %s)",
		 d->npids ? "the given processes" : "system-wide", d->cfg.output_dir,
		 mmr_recorder_instance(d->rec));

	while (!got_term) {
		uint64_t now;

		if (!d->paused) {
			if (mmr_recorder_read(d->rec, mmr_record_out_event, &d->out, 200) < 0) {
				/* a write error (disk full) pauses, it does not kill us */
				mmrd_log("recording: %s", mmr_strerror());
				mmr_record_out_abort(&d->out);
				if (mmr_recorder_stop(d->rec) < 0)
					goto fail;
				d->paused = true;
			}
		} else {
			usleep(200000);
		}
		now = mmr_now_ns();
		if (got_hup || (d->out.w && (open_size(d) >= d->cfg.rotate_size ||
					    now - d->opened_ns >= d->cfg.rotate_age * 1000000000ull))) {
			if (got_hup)
				mmrd_log("SIGHUP: rotating");
			got_hup = 0;
			if (!d->paused && (close_file(d, false) < 0 || open_file(d) < 0))
				goto fail;
		}
		if (now - last_check > 500000000ull) {
			last_check = now;
			if (check_disk(d) < 0)
				goto fail;
		}
		if (d->npids && mmr_pids_all_gone(d->pids, d->npids)) {
			mmrd_log("all followed processes are gone");
			break;
		}
	}
	if (!d->paused && close_file(d, true) < 0)
		goto fail;
	mmrd_log("stopped");
	ret = 0;
	goto out;
fail:
	mmrd_log("%s", mmr_strerror());
	ret = mmr_errcode() == MMR_E_NOTSUP ? 4 : 1;
out:
	mmr_record_out_release(&d->out);
	mmrd_uploader_free(d->up);
	mmr_recorder_free(d->rec);
	return ret;
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	const char *config = MMRD_DEFAULT_CONFIG;
	bool config_given = false;
	struct sigaction sa = { 0 };
	int ret;

	/* First pass: --config, --help, --version; keys are applied after the file. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("mmreplayd %s\n", MMR_VERSION);
			return 0;
		}
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc) {
			config = argv[++i];
			config_given = true;
		}
	}
	mmrd_config_defaults(&d.cfg);
	if (mmrd_config_load(&d.cfg, config, config_given) < 0) {
		mmrd_log("config: %s", mmr_strerror());
		mmrd_config_release(&d.cfg);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (strncmp(a, "--", 2) || i + 1 >= argc) {
			mmrd_log("unexpected argument '%s' (see mmreplayd --help)", a);
			mmrd_config_release(&d.cfg);
			return 2;
		}
		if (mmrd_config_set(&d.cfg, a + 2, argv[++i]) < 0) {
			mmrd_log("%s (see mmreplayd --help)", mmr_strerror());
			mmrd_config_release(&d.cfg);
			return 2;
		}
	}
	if (gethostname(d.host, sizeof(d.host) - 1) < 0)
		snprintf(d.host, sizeof(d.host), "host");
	for (char *p = d.host; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';

	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = run(&d);
	curl_global_cleanup();
	free(d.pids);
	mmrd_config_release(&d.cfg);
	return ret;
}
