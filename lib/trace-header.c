// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Trace header and footer: what the running system is, what was recorded,
 * and their JSON form. Not on the hot path, so json-c builds them.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mmr-config.h"
#include "mmr-error.h"
#include "mmr-util.h"
#include "mmr-sha256.h"
#include "mmr-sysinfo.h"
#include "mmr-trace.h"
#include "trace-internal.h"

int mmr_trace_header_init(struct mmr_trace_header *h)
{
	struct mmr_sysinfo si;

	memset(h, 0, sizeof(*h));
	if (mmr_sysinfo_get(&si) < 0)
		return -1;
	snprintf(h->mmreplay_version, sizeof(h->mmreplay_version), "%s", MMR_VERSION);
	snprintf(h->host, sizeof(h->host), "%s", si.host);
	snprintf(h->kernel, sizeof(h->kernel), "%s", si.kernel);
	snprintf(h->arch, sizeof(h->arch), "%s", si.arch);
	h->page_size = si.page_size;
	h->cpus = si.cpus;
	snprintf(h->clock, sizeof(h->clock), "mono");
	h->start_ns = mmr_now_ns();
	h->start_realtime = time(NULL);
	h->paths_hashed = true;
	return 0;
}

void mmr_trace_header_release(struct mmr_trace_header *h)
{
	if (!h)
		return;
	mmr_strv_free(h->events, h->nevents);
	mmr_strv_free(h->missing, h->nmissing);
	free(h->command);
	free(h->pids);
	free(h->comm_re);
	free(h->cgroup);
	for (unsigned i = 0; i < h->nprocs; i++)
		free(h->procs[i].maps);
	free(h->procs);
	memset(h, 0, sizeof(*h));
}

void mmr_trace_footer_release(struct mmr_trace_footer *f)
{
	if (!f)
		return;
	free(f->lost);
	memset(f, 0, sizeof(*f));
}

int mmr_trace_header_add_event(struct mmr_trace_header *h, const char *ev, bool missing)
{
	return missing ? mmr_strv_add(&h->missing, &h->nmissing, ev)
		       : mmr_strv_add(&h->events, &h->nevents, ev);
}

void mmr_file_identity(const char *path, bool hash, char *out)
{
	char hex[65];

	/* Anonymous and pseudo mappings carry no private information. */
	if (!hash || !path[0] || path[0] == '[') {
		snprintf(out, MMR_FILE_LEN, "%s", path);
		return;
	}
	mmr_sha256_hex(path, strlen(path), hex);
	snprintf(out, MMR_FILE_LEN, "sha256:%s", hex);
}

int mmr_trace_header_add_maps(struct mmr_trace_header *h, int32_t pid, bool hash_paths)
{
	char path[64], line[4096 + 256];
	struct mmr_proc_maps *pm, *np;
	FILE *f;

	np = realloc(h->procs, (h->nprocs + 1) * sizeof(*np));
	if (!np)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	h->procs = np;
	pm = &h->procs[h->nprocs];
	memset(pm, 0, sizeof(*pm));
	pm->pid = pid;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(pm->comm, sizeof(pm->comm), f))
			pm->comm[strcspn(pm->comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return mmr_seterr_errno(MMR_E_IO, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char perms[8], file[4096] = "";
		struct mmr_map *nm;

		/* start-end perms offset dev inode [path] */
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &start, &end, perms,
			   &off, file) < 4)
			continue;
		nm = realloc(pm->maps, (pm->nmaps + 1) * sizeof(*nm));
		if (!nm) {
			fclose(f);
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		}
		pm->maps = nm;
		nm = &pm->maps[pm->nmaps++];
		nm->start = start;
		nm->end = end;
		nm->off = off;
		snprintf(nm->perms, sizeof(nm->perms), "%s", perms);
		/* sscanf leaves leading blanks out already; trailing " (deleted)" kept */
		mmr_file_identity(file, hash_paths, nm->file);
	}
	fclose(f);
	h->nprocs++;
	return 0;
}

/* ---- JSON form ---- */

static struct json_object *strv_json(char **v, unsigned n)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *u64_json(uint64_t v)
{
	return v > INT64_MAX ? json_object_new_uint64(v) : json_object_new_int64((int64_t)v);
}

char *mmr_trace_header_json(const struct mmr_trace_header *h)
{
	struct json_object *o = json_object_new_object(), *filt, *procs;
	char when[32];
	struct tm tm;
	time_t t = h->start_realtime;
	char *out;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "ev", json_object_new_string("header"));
	json_object_object_add(o, "schema", json_object_new_string(MMR_TRACE_SCHEMA));
	json_object_object_add(o, "version", json_object_new_int(MMR_TRACE_VERSION));
	json_object_object_add(o, "mmreplay_version", json_object_new_string(h->mmreplay_version));
	json_object_object_add(o, "host", json_object_new_string(h->host));
	json_object_object_add(o, "kernel", json_object_new_string(h->kernel));
	json_object_object_add(o, "arch", json_object_new_string(h->arch));
	json_object_object_add(o, "page_size", json_object_new_int64(h->page_size));
	json_object_object_add(o, "cpus", json_object_new_int64(h->cpus));
	json_object_object_add(o, "clock", json_object_new_string(h->clock));
	json_object_object_add(o, "start_ns", u64_json(h->start_ns));
	json_object_object_add(o, "start_time", json_object_new_string(when));
	json_object_object_add(o, "paths", json_object_new_string(h->paths_hashed ? "hashed" : "kept"));
	json_object_object_add(o, "events", strv_json(h->events, h->nevents));
	json_object_object_add(o, "missing_events", strv_json(h->missing, h->nmissing));

	filt = json_object_new_object();
	json_object_object_add(filt, "system_wide", json_object_new_boolean(h->system_wide));
	if (h->command)
		json_object_object_add(filt, "command", json_object_new_string(h->command));
	if (h->npids) {
		struct json_object *a = json_object_new_array();

		for (unsigned i = 0; i < h->npids; i++)
			json_object_array_add(a, json_object_new_int(h->pids[i]));
		json_object_object_add(filt, "pids", a);
	}
	if (h->comm_re)
		json_object_object_add(filt, "comm", json_object_new_string(h->comm_re));
	if (h->cgroup)
		json_object_object_add(filt, "cgroup", json_object_new_string(h->cgroup));
	json_object_object_add(o, "filters", filt);

	procs = json_object_new_array();
	for (unsigned i = 0; i < h->nprocs; i++) {
		const struct mmr_proc_maps *pm = &h->procs[i];
		struct json_object *p = json_object_new_object(), *maps = json_object_new_array();

		json_object_object_add(p, "pid", json_object_new_int(pm->pid));
		json_object_object_add(p, "comm", json_object_new_string(pm->comm));
		for (unsigned j = 0; j < pm->nmaps; j++) {
			const struct mmr_map *m = &pm->maps[j];
			struct json_object *jm = json_object_new_object();

			json_object_object_add(jm, "start", u64_json(m->start));
			json_object_object_add(jm, "end", u64_json(m->end));
			json_object_object_add(jm, "perms", json_object_new_string(m->perms));
			json_object_object_add(jm, "off", u64_json(m->off));
			json_object_object_add(jm, "file", json_object_new_string(m->file));
			json_object_array_add(maps, jm);
		}
		json_object_object_add(p, "maps", maps);
		json_object_array_add(procs, p);
	}
	json_object_object_add(o, "maps", procs);

	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!out)
		mmr_seterr(MMR_E_NOMEM, "out of memory");
	return out;
}

char *mmr_trace_footer_json(const uint64_t *counts, uint64_t faults,
			    const struct mmr_trace_footer *f)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	struct json_object *lost = json_object_new_array();
	uint64_t total_lost = 0;
	char *out;

	json_object_object_add(o, "ev", json_object_new_string("footer"));
	for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++)
		json_object_object_add(c, mmr_ev_name(t), u64_json(counts[t]));
	json_object_object_add(o, "counts", c);
	json_object_object_add(o, "faults", u64_json(faults));
	for (unsigned i = 0; f && i < f->ncpus; i++) {
		json_object_array_add(lost, u64_json(f->lost[i]));
		total_lost += f->lost[i];
	}
	json_object_object_add(o, "lost", lost);
	json_object_object_add(o, "lost_total", u64_json(total_lost));
	json_object_object_add(o, "end_ns", u64_json(f ? f->end_ns : 0));
	json_object_object_add(o, "duration_ns", u64_json(f ? f->duration_ns : 0));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!out)
		mmr_seterr(MMR_E_NOMEM, "out of memory");
	return out;
}

/* ---- parsing (the schema validator has checked the shape already) ---- */

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	/* json-c keeps values above INT64_MAX as uint64: ask for that form */
	return json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
}

static int strv_from_json(struct json_object *o, const char *k, char ***v, unsigned *n)
{
	struct json_object *a;

	if (!json_object_object_get_ex(o, k, &a) || !json_object_is_type(a, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);

		if (json_object_is_type(s, json_type_string) &&
		    mmr_strv_add(v, n, json_object_get_string(s)) < 0)
			return -1;
	}
	return 0;
}

#define COPY_STR(dst, o, k) snprintf(dst, sizeof(dst), "%s", get_str(o, k) ? get_str(o, k) : "")

int mmr_trace_header_from_json(struct json_object *o, struct mmr_trace_header *h)
{
	struct json_object *filt, *procs;
	const char *s;

	memset(h, 0, sizeof(*h));
	COPY_STR(h->mmreplay_version, o, "mmreplay_version");
	COPY_STR(h->host, o, "host");
	COPY_STR(h->kernel, o, "kernel");
	COPY_STR(h->arch, o, "arch");
	COPY_STR(h->clock, o, "clock");
	h->page_size = (uint32_t)get_u64(o, "page_size");
	h->cpus = (uint32_t)get_u64(o, "cpus");
	h->start_ns = get_u64(o, "start_ns");
	s = get_str(o, "paths");
	h->paths_hashed = !s || strcmp(s, "kept");
	if (strv_from_json(o, "events", &h->events, &h->nevents) < 0 ||
	    strv_from_json(o, "missing_events", &h->missing, &h->nmissing) < 0)
		goto fail;
	if (json_object_object_get_ex(o, "filters", &filt)) {
		struct json_object *v, *pids;

		if (json_object_object_get_ex(filt, "system_wide", &v))
			h->system_wide = json_object_get_boolean(v);
		if ((s = get_str(filt, "command")) && !(h->command = strdup(s)))
			goto nomem;
		if ((s = get_str(filt, "comm")) && !(h->comm_re = strdup(s)))
			goto nomem;
		if ((s = get_str(filt, "cgroup")) && !(h->cgroup = strdup(s)))
			goto nomem;
		if (json_object_object_get_ex(filt, "pids", &pids) &&
		    json_object_is_type(pids, json_type_array)) {
			size_t n = json_object_array_length(pids);

			h->pids = calloc(n ? n : 1, sizeof(*h->pids));
			if (!h->pids)
				goto nomem;
			for (size_t i = 0; i < n; i++)
				h->pids[i] = json_object_get_int(json_object_array_get_idx(pids, i));
			h->npids = n;
		}
	}
	if (json_object_object_get_ex(o, "maps", &procs) &&
	    json_object_is_type(procs, json_type_array)) {
		size_t n = json_object_array_length(procs);

		h->procs = calloc(n ? n : 1, sizeof(*h->procs));
		if (!h->procs)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(procs, i), *maps, *v;
			struct mmr_proc_maps *pm = &h->procs[i];
			size_t nm;

			h->nprocs = i + 1;
			if (json_object_object_get_ex(p, "pid", &v))
				pm->pid = json_object_get_int(v);
			COPY_STR(pm->comm, p, "comm");
			if (!json_object_object_get_ex(p, "maps", &maps) ||
			    !json_object_is_type(maps, json_type_array))
				continue;
			nm = json_object_array_length(maps);
			pm->maps = calloc(nm ? nm : 1, sizeof(*pm->maps));
			if (!pm->maps)
				goto nomem;
			pm->nmaps = nm;
			for (size_t j = 0; j < nm; j++) {
				struct json_object *jm = json_object_array_get_idx(maps, j);
				struct mmr_map *m = &pm->maps[j];

				m->start = get_u64(jm, "start");
				m->end = get_u64(jm, "end");
				m->off = get_u64(jm, "off");
				COPY_STR(m->perms, jm, "perms");
				COPY_STR(m->file, jm, "file");
			}
		}
	}
	return 0;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	mmr_trace_header_release(h);
	return -1;
}

int mmr_trace_footer_from_json(struct json_object *o, struct mmr_trace_footer *f)
{
	struct json_object *c, *lost;

	memset(f, 0, sizeof(*f));
	if (json_object_object_get_ex(o, "counts", &c))
		for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++)
			f->counts[t] = get_u64(c, mmr_ev_name(t));
	f->faults = get_u64(o, "faults");
	f->end_ns = get_u64(o, "end_ns");
	f->duration_ns = get_u64(o, "duration_ns");
	if (json_object_object_get_ex(o, "lost", &lost) &&
	    json_object_is_type(lost, json_type_array)) {
		size_t n = json_object_array_length(lost);

		f->lost = calloc(n ? n : 1, sizeof(*f->lost));
		if (!f->lost)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			struct json_object *v = json_object_array_get_idx(lost, i);

			f->lost[i] = json_object_get_int64(v) < 0 ? 0 : (uint64_t)json_object_get_int64(v);
		}
		f->ncpus = n;
	}
	return 0;
}
