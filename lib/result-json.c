// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Result v1 as JSON. Writing builds the document with json-c (not a hot
 * path) and replaces the target atomically; reading checks schema and
 * version, validates the whole document against the compiled-in
 * result.v1 schema and only then trusts the fields.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-hist.h"
#include "mmr-lines.h"
#include "mmr-result.h"
#include "mmr-schema.h"
#include "mmr-validate.h"
#include "result-internal.h"

/* ---- JSON writing ---- */

/* json_object_object_add that takes ownership even on failure. */
static int add(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v || json_object_object_add(o, k, v)) {
		json_object_put(v);
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	}
	return 0;
}

static int append(struct json_object *a, struct json_object *v)
{
	if (!v || json_object_array_add(a, v)) {
		json_object_put(v);
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	}
	return 0;
}

/* A new empty array or object added under k, or appended to a: NULL with an error. */
static struct json_object *add_array(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_new_array();

	return add(o, k, v) ? NULL : v;
}

static struct json_object *add_object(struct json_object *o, const char *k)
{
	struct json_object *v = json_object_new_object();

	return add(o, k, v) ? NULL : v;
}

static struct json_object *append_object(struct json_object *a)
{
	struct json_object *v = json_object_new_object();

	return append(a, v) ? NULL : v;
}

static int add_u64(struct json_object *o, const char *k, uint64_t v)
{
	return add(o, k, json_object_new_uint64(v));
}

static int add_str(struct json_object *o, const char *k, const char *v)
{
	return add(o, k, json_object_new_string(v));
}

static int add_hist(struct json_object *o, const char *k, const struct mmr_hist *h)
{
	struct json_object *j = mmr_hist_to_json(h);

	return j ? add(o, k, j) : -1;
}

static struct json_object *fidelity_json(const struct mmr_fidelity *f)
{
	struct json_object *o = json_object_new_object(), *arr, *e;

	if (!o)
		goto nomem;
	if (add_u64(o, "ops_recorded", f->ops_recorded) ||
	    add_u64(o, "ops_replayed", f->ops_replayed) ||
	    add_u64(o, "ops_failed", f->ops_failed))
		goto fail;
	arr = add_array(o, "failures");
	if (!arr)
		goto fail;
	for (unsigned i = 0; i < f->nfailures; i++) {
		e = append_object(arr);
		if (!e || add_str(e, "op", mmr_op_name(f->failures[i].op)) ||
		    add_str(e, "error", f->failures[i].error) ||
		    add_u64(e, "count", f->failures[i].count))
			goto fail;
	}
	if (add_u64(o, "lag_p50_ns", f->lag_p50_ns) ||
	    add_u64(o, "lag_p99_ns", f->lag_p99_ns) ||
	    add_u64(o, "lag_max_ns", f->lag_max_ns) ||
	    add_u64(o, "recorded_ns", f->recorded_ns) ||
	    add_u64(o, "replayed_ns", f->replayed_ns) ||
	    (f->has_steal && add_u64(o, "steal_ns", f->steal_ns)))
		goto fail;
	if (f->has_tenths) {
		arr = add_array(o, "lag_tenths");
		if (!arr)
			goto fail;
		for (unsigned i = 0; i < MMR_LAG_TENTHS; i++) {
			const struct mmr_lag_tenth *t = &f->tenth[i];

			e = append_object(arr);
			if (!e || add_u64(e, "ops", t->n) ||
			    add_u64(e, "mean_ns", t->n ? t->sum_ns / t->n : 0) ||
			    add_u64(e, "max_ns", t->max_ns))
				goto fail;
		}
	}
	return o;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	json_object_put(o);
	return NULL;
}

static struct json_object *stats_json(const struct mmr_stats *s)
{
	struct json_object *o = json_object_new_object(), *arr, *e, *fr;

	if (!o)
		goto nomem;
	arr = add_array(o, "locks");
	if (!arr)
		goto fail;
	for (unsigned i = 0; i < s->nlocks; i++) {
		const struct mmr_lockkey *k = &s->locks[i].key;

		e = append_object(arr);
		if (!e || add_str(e, "lock", mmr_lockclass_name(k->lock)) ||
		    add_str(e, "source", mmr_lock_source_name(k->source)) ||
		    add_str(e, "mode", mmr_lock_mode_name(k->mode)) ||
		    add_str(e, "kind", mmr_lock_kind_name(k->kind)) ||
		    add_str(e, "op", mmr_op_name(k->op)) ||
		    add_hist(e, "hist", s->locks[i].hist))
			goto fail;
	}
	arr = add_array(o, "ops");
	if (!arr)
		goto fail;
	for (unsigned i = 0; i < s->nops; i++) {
		e = append_object(arr);
		if (!e || add_str(e, "op", mmr_op_name(s->ops[i].op)) ||
		    add_str(e, "unit", s->ops[i].per_page ? "page" : "op") ||
		    add_hist(e, "hist", s->ops[i].hist))
			goto fail;
	}
	arr = add_array(o, "paths");
	if (!arr)
		goto fail;
	for (unsigned i = 0; i < s->npaths; i++) {
		const struct mmr_path *p = &s->paths[i];

		e = append_object(arr);
		if (!e || add_str(e, "class", mmr_lockclass_name(p->cls)) ||
		    add_str(e, "op", mmr_op_name(p->op)) || !(fr = add_array(e, "frames")))
			goto fail;
		for (unsigned j = 0; j < p->nframes; j++)
			if (append(fr, json_object_new_string(p->frames[j])))
				goto fail;
		if (add_u64(e, "count", p->count) || add_u64(e, "wait_ns", p->wait_ns))
			goto fail;
	}
	if (add(o, "fidelity", fidelity_json(&s->fidelity)))
		goto fail;
	if (s->has_lost && add_u64(o, "lost_events", s->lost_events))
		goto fail;
	if (s->has_reclaim) {
		e = add_object(o, "reclaim");
		if (!e || add_u64(e, "episodes", s->reclaim.episodes) ||
		    add_u64(e, "scanned", s->reclaim.scanned) ||
		    add_u64(e, "reclaimed", s->reclaim.reclaimed) ||
		    add_u64(e, "swapouts", s->reclaim.swapouts))
			goto fail;
	}
	return o;
nomem:
	mmr_seterr(MMR_E_NOMEM, "out of memory");
fail:
	json_object_put(o);
	return NULL;
}

struct json_object *mmr_result_to_json(const struct mmr_result *r)
{
	struct json_object *o = json_object_new_object(), *e, *arr;

	if (!o) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		return NULL;
	}
	if (add_str(o, "schema", MMR_RESULT_SCHEMA) ||
	    add(o, "version", json_object_new_int(MMR_RESULT_VERSION)) ||
	    add_str(o, "mmreplay_version", r->mmreplay_version) ||
	    add_str(o, "created", r->created))
		goto fail;
	if (r->label && add_str(o, "label", r->label))
		goto fail;
	e = add_object(o, "host");
	if (!e || add_str(e, "name", r->host.name) ||
	    add_str(e, "arch", r->host.arch) ||
	    add(e, "cpus", json_object_new_int64(r->host.cpus ? r->host.cpus : 1)) ||
	    add_u64(e, "mem_total", r->host.mem_total))
		goto fail;
	e = add_object(o, "kernel");
	if (!e || add_str(e, "release", r->kernel.release) ||
	    add_str(e, "version", r->kernel.version))
		goto fail;
	if (r->kernel.preempt[0] && add_str(e, "preempt", r->kernel.preempt))
		goto fail;
	if (add(o, "emulated", json_object_new_boolean(r->emulated)))
		goto fail;
	if (r->has_vm) {
		e = add_object(o, "vm");
		if (!e)
			goto fail;
		if (r->vm.accel[0] && add_str(e, "accel", r->vm.accel))
			goto fail;
		if (r->vm.kernel_image && add_str(e, "kernel_image", r->vm.kernel_image))
			goto fail;
		if (r->vm.cpus && add(e, "cpus", json_object_new_int(r->vm.cpus)))
			goto fail;
		if (r->vm.mem_mb && add(e, "mem_mb", json_object_new_int(r->vm.mem_mb)))
			goto fail;
	} else if (json_object_object_add(o, "vm", NULL)) {
		goto fail;
	}
	e = add_object(o, "trace");
	if (!e || add_str(e, "sha256", r->trace.sha256) ||
	    add_str(e, "name", r->trace.name ? r->trace.name : "") ||
	    add_u64(e, "duration_ns", r->trace.duration_ns) ||
	    add_u64(e, "events", r->trace.events) ||
	    add_str(e, "recorded_kernel", r->trace.recorded_kernel) ||
	    add_str(e, "recorded_host", r->trace.recorded_host) ||
	    add(e, "truncated", json_object_new_boolean(r->trace.truncated)))
		goto fail;
	e = add_object(o, "params");
	if (!e || add(e, "runs", json_object_new_int64(r->params.runs ? r->params.runs : 1)) ||
	    add_str(e, "mode", mmr_replay_mode_name(r->params.mode)) ||
	    add(e, "speed", json_object_new_double(r->params.speed)) ||
	    add_str(e, "reclaim", mmr_reclaim_mode_name(r->params.reclaim)))
		goto fail;
	if (r->params.memcg_limit && add_u64(e, "memcg_limit", r->params.memcg_limit))
		goto fail;
	if (add(e, "force", json_object_new_boolean(r->params.force)))
		goto fail;
	arr = add_array(o, "runs");
	if (!arr)
		goto fail;
	for (unsigned i = 0; i < r->nruns; i++) {
		const struct mmr_run *run = &r->runs[i];

		e = append_object(arr);
		if (!e || add(e, "run", json_object_new_int64(run->run)) ||
		    add_str(e, "start_time", run->start_time) ||
		    add_u64(e, "wall_ns", run->wall_ns) ||
		    add(e, "stats", stats_json(&run->stats)))
			goto fail;
	}
	if (add(o, "summary", stats_json(&r->summary)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

int mmr_result_write(const struct mmr_result *r, const char *path)
{
	struct json_object *o = mmr_result_to_json(r);
	const char *s;
	char *tmp = NULL;
	struct stat st;
	size_t len;
	int fd = -1, rc = -1;

	if (!o)
		return -1;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	if (!strcmp(path, "-")) {
		fd = STDOUT_FILENO;
	} else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/*
		 * A device or FIFO (-o /dev/null, a pipe): written in place. A
		 * temp file renamed over it would replace /dev/null itself with
		 * a regular file.
		 */
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			mmr_seterr_errno(MMR_E_IO, "cannot open %s", path);
			goto out;
		}
	} else {
		/* Temp file beside the target, renamed over it: no half-written result. */
		if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
			tmp = NULL;
			mmr_seterr(MMR_E_NOMEM, "out of memory");
			goto out;
		}
		fd = mkstemp(tmp);
		if (fd < 0) {
			mmr_seterr_errno(MMR_E_IO, "cannot create %s", tmp);
			free(tmp);
			tmp = NULL;
			goto out;
		}
		fchmod(fd, 0644);
	}
	for (size_t off = 0; off < len + 1;) {
		const char *p = off < len ? s + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			mmr_seterr_errno(MMR_E_IO, "writing %s", path);
			goto out;
		}
		off += w;
	}
	if (tmp) {
		if (fsync(fd) < 0 || close(fd) < 0) {
			fd = -1;
			mmr_seterr_errno(MMR_E_IO, "writing %s", path);
			goto out;
		}
		fd = -1;
		if (rename(tmp, path) < 0) {
			mmr_seterr_errno(MMR_E_IO, "cannot rename %s to %s", tmp, path);
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	rc = 0;
out:
	if (fd >= 0 && fd != STDOUT_FILENO)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	json_object_put(o);
	return rc;
}

/* ---- JSON reading (after schema validation) ---- */

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v ? json_object_get_uint64(v) : 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static void copy_str(char *dst, size_t len, struct json_object *o, const char *k)
{
	snprintf(dst, len, "%s", get_str(o, k));
}

static int name_of(const char *s, const char *(*fn)(int), int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(fn(i), s))
			return i;
	return -1;
}

static const char *op_name_i(int i) { return mmr_op_name((enum mmr_op)i); }
static const char *lc_name_i(int i) { return mmr_lockclass_name((enum mmr_lockclass)i); }

/* The histogram of an entry of a locks or ops array; NULL with an error naming it. */
static struct mmr_hist *hist_of(struct json_object *e, const char *array, size_t i)
{
	struct mmr_hist *h = mmr_hist_from_json(get(e, "hist"));

	if (!h)
		mmr_adderr_context("%s[%zu]", array, i);
	return h;
}

/* dst += h (dst NULL: the stats could not make room, -1); h is freed. */
static int merge_hist(struct mmr_hist *dst, struct mmr_hist *h)
{
	if (dst)
		mmr_hist_merge(dst, h);
	mmr_hist_free(h);
	return dst ? 0 : -1;
}

static int stats_from_json(struct json_object *o, struct mmr_stats *s)
{
	struct json_object *arr, *e, *fr, *f;
	struct mmr_hist *h;

	arr = get(o, "locks");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct mmr_lockkey k;

		e = json_object_array_get_idx(arr, i);
		k.lock = (enum mmr_lockclass)name_of(get_str(e, "lock"), lc_name_i, MMR_LC__COUNT);
		k.source = (enum mmr_lock_source)mmr_lock_source_from_name(get_str(e, "source"));
		k.mode = (enum mmr_lock_mode)mmr_lock_mode_from_name(get_str(e, "mode"));
		k.kind = (enum mmr_lock_kind)mmr_lock_kind_from_name(get_str(e, "kind"));
		k.op = (enum mmr_op)name_of(get_str(e, "op"), op_name_i, MMR_OP__COUNT);
		if ((int)k.lock < 0 || (int)k.source < 0 || (int)k.mode < 0 || (int)k.kind < 0 ||
		    (int)k.op < 0)
			return mmr_seterr(MMR_E_FORMAT, "locks[%zu]: unknown key value", i);
		h = hist_of(e, "locks", i);
		/* A repeated key merges, as it would have in memory. */
		if (!h || merge_hist(mmr_stats_lock(s, &k), h) < 0)
			return -1;
	}
	arr = get(o, "ops");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		int op;

		e = json_object_array_get_idx(arr, i);
		op = name_of(get_str(e, "op"), op_name_i, MMR_OP__COUNT);
		if (op < 0)
			return mmr_seterr(MMR_E_FORMAT, "ops[%zu]: unknown op", i);
		h = hist_of(e, "ops", i);
		if (!h || merge_hist(mmr_stats_op(s, (enum mmr_op)op,
						  !strcmp(get_str(e, "unit"), "page")), h) < 0)
			return -1;
	}
	arr = get(o, "paths");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char **frames;
		size_t n;
		int cls, op, rc;

		e = json_object_array_get_idx(arr, i);
		cls = name_of(get_str(e, "class"), lc_name_i, MMR_LC__COUNT);
		op = name_of(get_str(e, "op"), op_name_i, MMR_OP__COUNT);
		if (cls < 0 || op < 0)
			return mmr_seterr(MMR_E_FORMAT, "paths[%zu]: unknown class or op", i);
		fr = get(e, "frames");
		n = fr ? json_object_array_length(fr) : 0;
		frames = calloc(n ? n : 1, sizeof(*frames));
		if (!frames)
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		for (size_t j = 0; j < n; j++)
			frames[j] = json_object_get_string(json_object_array_get_idx(fr, j));
		rc = mmr_stats_add_path(s, (enum mmr_lockclass)cls, (enum mmr_op)op, frames,
					(unsigned)n, get_u64(e, "count"), get_u64(e, "wait_ns"));
		free(frames);
		if (rc < 0)
			return -1;
	}
	f = get(o, "fidelity");
	s->fidelity.ops_recorded = get_u64(f, "ops_recorded");
	s->fidelity.ops_replayed = get_u64(f, "ops_replayed");
	s->fidelity.ops_failed = get_u64(f, "ops_failed");
	s->fidelity.lag_p50_ns = get_u64(f, "lag_p50_ns");
	s->fidelity.lag_p99_ns = get_u64(f, "lag_p99_ns");
	s->fidelity.lag_max_ns = get_u64(f, "lag_max_ns");
	s->fidelity.recorded_ns = get_u64(f, "recorded_ns");
	s->fidelity.replayed_ns = get_u64(f, "replayed_ns");
	s->fidelity.has_steal = get(f, "steal_ns") != NULL;
	s->fidelity.steal_ns = get_u64(f, "steal_ns");
	arr = get(f, "lag_tenths");
	s->fidelity.has_tenths = arr != NULL;
	for (size_t i = 0; arr && i < MMR_LAG_TENTHS; i++) {	/* the schema says 10 */
		struct mmr_lag_tenth *t = &s->fidelity.tenth[i];

		e = json_object_array_get_idx(arr, i);
		t->n = get_u64(e, "ops");
		t->sum_ns = get_u64(e, "mean_ns") * t->n;
		t->max_ns = get_u64(e, "max_ns");
	}
	arr = get(f, "failures");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		int op;

		e = json_object_array_get_idx(arr, i);
		op = name_of(get_str(e, "op"), op_name_i, MMR_OP__COUNT);
		if (op < 0)
			return mmr_seterr(MMR_E_FORMAT, "failures[%zu]: unknown op", i);
		if (mmr_stats_add_failure(s, (enum mmr_op)op, get_str(e, "error"),
					  get_u64(e, "count")) < 0)
			return -1;
	}
	if ((e = get(o, "lost_events"))) {
		s->has_lost = true;
		s->lost_events = json_object_get_uint64(e);
	}
	if ((e = get(o, "reclaim"))) {
		s->has_reclaim = true;
		s->reclaim.episodes = get_u64(e, "episodes");
		s->reclaim.scanned = get_u64(e, "scanned");
		s->reclaim.reclaimed = get_u64(e, "reclaimed");
		s->reclaim.swapouts = get_u64(e, "swapouts");
	}
	return 0;
}

/* Schema and version, with messages that say what to do. */
static int check_version(struct json_object *doc)
{
	struct json_object *v;

	if (!json_object_is_type(doc, json_type_object))
		return mmr_seterr(MMR_E_FORMAT, "not an mmreplay result: expected a JSON object");
	v = get(doc, "schema");
	if (!v || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), MMR_RESULT_SCHEMA))
		return mmr_seterr(MMR_E_FORMAT,
				  "not an mmreplay result: field 'schema' must be \"%s\"",
				  MMR_RESULT_SCHEMA);
	v = get(doc, "version");
	if (!v || !json_object_is_type(v, json_type_int))
		return mmr_seterr(MMR_E_FORMAT, "field 'version': missing or not an integer");
	if (json_object_get_int64(v) != MMR_RESULT_VERSION)
		return mmr_seterr(MMR_E_VERSION,
				  "result format version %lld is not supported (this mmreplay reads version %d); use a matching mmreplay",
				  (long long)json_object_get_int64(v), MMR_RESULT_VERSION);
	return 0;
}

struct mmr_result *mmr_result_from_json(struct json_object *doc)
{
	const struct mmr_schema *schema;
	struct mmr_result *r = NULL;
	struct json_object *o, *e;
	int m;

	if (check_version(doc) < 0)
		return NULL;
	schema = mmr_schema_get("result.v1");
	if (!schema || mmr_schema_validate(schema, doc) < 0)
		return NULL;
	r = mmr_result_new();
	if (!r)
		return NULL;
	copy_str(r->mmreplay_version, sizeof(r->mmreplay_version), doc, "mmreplay_version");
	copy_str(r->created, sizeof(r->created), doc, "created");
	if (get(doc, "label") && mmr_result_set_label(r, get_str(doc, "label")) < 0)
		goto fail;
	o = get(doc, "host");
	copy_str(r->host.name, sizeof(r->host.name), o, "name");
	copy_str(r->host.arch, sizeof(r->host.arch), o, "arch");
	r->host.cpus = (uint32_t)get_u64(o, "cpus");
	r->host.mem_total = get_u64(o, "mem_total");
	o = get(doc, "kernel");
	copy_str(r->kernel.release, sizeof(r->kernel.release), o, "release");
	copy_str(r->kernel.version, sizeof(r->kernel.version), o, "version");
	copy_str(r->kernel.preempt, sizeof(r->kernel.preempt), o, "preempt");
	r->emulated = json_object_get_boolean(get(doc, "emulated"));
	o = get(doc, "vm");
	if (o && json_object_is_type(o, json_type_object)) {
		r->has_vm = true;
		copy_str(r->vm.accel, sizeof(r->vm.accel), o, "accel");
		if (get(o, "kernel_image") &&
		    mmr_result_set_str(&r->vm.kernel_image, get_str(o, "kernel_image")) < 0)
			goto fail;
		r->vm.cpus = (int)json_object_get_int(get(o, "cpus"));
		r->vm.mem_mb = (int)json_object_get_int(get(o, "mem_mb"));
	}
	o = get(doc, "trace");
	copy_str(r->trace.sha256, sizeof(r->trace.sha256), o, "sha256");
	if (mmr_result_set_str(&r->trace.name, get_str(o, "name")) < 0)
		goto fail;
	r->trace.duration_ns = get_u64(o, "duration_ns");
	r->trace.events = get_u64(o, "events");
	copy_str(r->trace.recorded_kernel, sizeof(r->trace.recorded_kernel), o,
		 "recorded_kernel");
	copy_str(r->trace.recorded_host, sizeof(r->trace.recorded_host), o, "recorded_host");
	r->trace.truncated = json_object_get_boolean(get(o, "truncated"));
	o = get(doc, "params");
	r->params.runs = (unsigned)get_u64(o, "runs");
	m = mmr_replay_mode_from_name(get_str(o, "mode"));
	r->params.mode = m < 0 ? MMR_REPLAY_AS_RECORDED : (enum mmr_replay_mode)m;
	r->params.speed = json_object_get_double(get(o, "speed"));
	m = mmr_reclaim_mode_from_name(get_str(o, "reclaim"));
	r->params.reclaim = m < 0 ? MMR_RECLAIM_MODE_NONE : (enum mmr_reclaim_mode)m;
	r->params.memcg_limit = get_u64(o, "memcg_limit");
	r->params.force = json_object_get_boolean(get(o, "force"));
	o = get(doc, "runs");
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		struct mmr_run *run = mmr_result_add_run(r);

		if (!run)
			goto fail;
		e = json_object_array_get_idx(o, i);
		run->run = (unsigned)get_u64(e, "run");
		copy_str(run->start_time, sizeof(run->start_time), e, "start_time");
		run->wall_ns = get_u64(e, "wall_ns");
		if (stats_from_json(get(e, "stats"), &run->stats) < 0) {
			mmr_adderr_context("runs[%zu].stats", i);
			goto fail;
		}
	}
	if (stats_from_json(get(doc, "summary"), &r->summary) < 0) {
		mmr_adderr_context("summary");
		goto fail;
	}
	return r;
fail:
	mmr_result_free(r);
	return NULL;
}

struct mmr_result *mmr_result_read(const char *path)
{
	struct mmr_lines *l = mmr_lines_open(path, MMR_RESULT_MAX);
	struct json_tokener *tok = NULL;
	struct json_object *doc = NULL;
	struct mmr_result *r = NULL;
	char *buf = NULL;
	size_t len;

	if (!l)
		return NULL;	/* the message names the path already */
	if (mmr_lines_slurp(l, &buf, &len, MMR_RESULT_MAX) < 0)
		goto out;
	tok = json_tokener_new();
	if (!tok) {
		mmr_seterr(MMR_E_NOMEM, "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success) {
		mmr_seterr(MMR_E_FORMAT, "not valid JSON: %s",
			   json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t' && buf[i] != '\r') {
			mmr_seterr(MMR_E_FORMAT, "extra characters after the JSON document");
			goto out;
		}
	r = mmr_result_from_json(doc);
out:
	if (!r)
		mmr_adderr_context("%s", path);
	json_object_put(doc);
	if (tok)
		json_tokener_free(tok);
	free(buf);
	mmr_lines_free(l);
	return r;
}
