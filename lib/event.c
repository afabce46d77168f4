// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Event names, stack classification, and the JSON line form of events.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-error.h"
#include "mmr-event.h"

static const char *const ev_names[MMR_EV__COUNT] = {
	[MMR_EV_NONE] = "none",
	[MMR_EV_FORK] = "fork",
	[MMR_EV_EXEC] = "exec",
	[MMR_EV_EXIT] = "exit",
	[MMR_EV_MMAP] = "mmap",
	[MMR_EV_MUNMAP] = "munmap",
	[MMR_EV_MREMAP] = "mremap",
	[MMR_EV_MPROTECT] = "mprotect",
	[MMR_EV_MADVISE] = "madvise",
	[MMR_EV_BRK] = "brk",
	[MMR_EV_FAULT] = "fault",
	[MMR_EV_RECLAIM] = "reclaim",
	[MMR_EV_LOCK] = "lock",
	[MMR_EV_CONTENTION] = "contention",
	[MMR_EV_STACK] = "stack",
};

static const char *const op_names[MMR_OP__COUNT] = {
	[MMR_OP_NONE] = "none",
	[MMR_OP_FAULT] = "fault",
	[MMR_OP_FORK] = "fork",
	[MMR_OP_EXIT] = "exit",
	[MMR_OP_MMAP] = "mmap",
	[MMR_OP_MUNMAP] = "munmap",
	[MMR_OP_MREMAP] = "mremap",
	[MMR_OP_MPROTECT] = "mprotect",
	[MMR_OP_MADVISE] = "madvise",
	[MMR_OP_BRK] = "brk",
	[MMR_OP_RECLAIM] = "reclaim",
	[MMR_OP_OTHER] = "other",
};

static const char *const lc_names[MMR_LC__COUNT] = {
	[MMR_LC_OTHER] = "other",
	[MMR_LC_ANON_VMA] = "anon_vma",
	[MMR_LC_MMAP_LOCK] = "mmap_lock",
	[MMR_LC_I_MMAP] = "i_mmap",
	[MMR_LC_LRU] = "lru",
	[MMR_LC_SWAP] = "swap",
};

static const char *const reclaim_names[MMR_RECLAIM__COUNT] = {
	[MMR_RECLAIM_DIRECT] = "direct",
	[MMR_RECLAIM_KSWAPD] = "kswapd",
	[MMR_RECLAIM_MEMCG] = "memcg",
};

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return -1;
}

const char *mmr_ev_name(enum mmr_ev_type t)
{
	return (unsigned)t < MMR_EV__COUNT ? ev_names[t] : "unknown";
}

enum mmr_ev_type mmr_ev_from_name(const char *name)
{
	int i = name_index(ev_names, MMR_EV__COUNT, name);

	return i < 0 ? MMR_EV_NONE : (enum mmr_ev_type)i;
}

const char *mmr_op_name(enum mmr_op op)
{
	return (unsigned)op < MMR_OP__COUNT ? op_names[op] : "unknown";
}

enum mmr_op mmr_op_from_name(const char *name)
{
	int i = name_index(op_names, MMR_OP__COUNT, name);

	return i < 0 ? MMR_OP__COUNT : (enum mmr_op)i;
}

const char *mmr_lockclass_name(enum mmr_lockclass c)
{
	return (unsigned)c < MMR_LC__COUNT ? lc_names[c] : "unknown";
}

enum mmr_lockclass mmr_lockclass_from_name(const char *name)
{
	int i = name_index(lc_names, MMR_LC__COUNT, name);

	return i < 0 ? MMR_LC__COUNT : (enum mmr_lockclass)i;
}

const char *mmr_reclaim_kind_name(enum mmr_reclaim_kind k)
{
	return (unsigned)k < MMR_RECLAIM__COUNT ? reclaim_names[k] : "unknown";
}

static int reclaim_kind_from_name(const char *name)
{
	return name_index(reclaim_names, MMR_RECLAIM__COUNT, name);
}

char *mmr_lcb_flags_str(uint32_t flags, char *buf, size_t len)
{
	static const char *const bits[] = { "SPIN", "READ", "WRITE", "RT", "PERCPU", "MUTEX" };
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(flags & (1U << i)))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? "|" : "", bits[i]);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';	/* drop a partial name */
			break;
		}
		off += n;
	}
	return buf;
}

enum mmr_op mmr_ev_op(const struct mmr_event *ev)
{
	switch (ev->type) {
	case MMR_EV_FORK: return MMR_OP_FORK;
	case MMR_EV_EXIT: return MMR_OP_EXIT;
	case MMR_EV_MMAP: return MMR_OP_MMAP;
	case MMR_EV_MUNMAP: return MMR_OP_MUNMAP;
	case MMR_EV_MREMAP: return MMR_OP_MREMAP;
	case MMR_EV_MPROTECT: return MMR_OP_MPROTECT;
	case MMR_EV_MADVISE: return MMR_OP_MADVISE;
	case MMR_EV_BRK: return MMR_OP_BRK;
	case MMR_EV_FAULT: return MMR_OP_FAULT;
	case MMR_EV_RECLAIM: return MMR_OP_RECLAIM;
	case MMR_EV_LOCK: return ev->lock.op;
	case MMR_EV_CONTENTION: return ev->contention.op;
	default: return MMR_OP_NONE;
	}
}

/*
 * Which kernel paths mean which lock. Checked innermost frame first, so the
 * function that actually took the lock decides (a fault that waits on the
 * anon_vma lock in rmap code is anon_vma contention, not mmap_lock).
 */
static const struct {
	const char *sym;
	enum mmr_lockclass cls;
} class_rules[] = {
	{ "rmap_walk_anon", MMR_LC_ANON_VMA },
	{ "folio_lock_anon_vma_read", MMR_LC_ANON_VMA },
	{ "anon_vma_fork", MMR_LC_ANON_VMA },
	{ "anon_vma_clone", MMR_LC_ANON_VMA },
	{ "unlink_anon_vmas", MMR_LC_ANON_VMA },
	{ "__anon_vma_prepare", MMR_LC_ANON_VMA },
	{ "anon_vma_prepare", MMR_LC_ANON_VMA },
	{ "rmap_walk_file", MMR_LC_I_MMAP },
	{ "i_mmap_lock_write", MMR_LC_I_MMAP },
	{ "i_mmap_lock_read", MMR_LC_I_MMAP },
	{ "unlink_file_vma", MMR_LC_I_MMAP },
	{ "unlink_file_vma_batch_process", MMR_LC_I_MMAP },
	{ "unlink_file_vma_batch_add", MMR_LC_I_MMAP },
	{ "move_pages", MMR_LC_ANON_VMA },		/* UFFDIO_MOVE: root anon_vma write */
	{ "move_pages_ptes", MMR_LC_ANON_VMA },
	{ "move_pages_pte", MMR_LC_ANON_VMA },
	{ "mmap_read_lock", MMR_LC_MMAP_LOCK },
	{ "mmap_write_lock", MMR_LC_MMAP_LOCK },
	{ "mmap_read_lock_killable", MMR_LC_MMAP_LOCK },
	{ "mmap_write_lock_killable", MMR_LC_MMAP_LOCK },
	{ "__mmap_lock_do_trace", MMR_LC_MMAP_LOCK },
	{ "lock_mm_and_find_vma", MMR_LC_MMAP_LOCK },
	{ "vma_start_write", MMR_LC_MMAP_LOCK },
	{ "__vma_start_write", MMR_LC_MMAP_LOCK },
	{ "folio_lruvec_lock_irq", MMR_LC_LRU },
	{ "folio_lruvec_lock_irqsave", MMR_LC_LRU },
	{ "lru_add_drain", MMR_LC_LRU },
	{ "folio_batch_move_lru", MMR_LC_LRU },
	{ "isolate_lru_folios", MMR_LC_LRU },
	{ "shrink_active_list", MMR_LC_LRU },
	{ "move_folios_to_lru", MMR_LC_LRU },
	{ "swap_cache_get_folio", MMR_LC_SWAP },
	{ "add_to_swap", MMR_LC_SWAP },
	{ "get_swap_pages", MMR_LC_SWAP },
	{ "folio_alloc_swap", MMR_LC_SWAP },
	{ "swapcache_free_entries", MMR_LC_SWAP },
	{ "free_swap_slot", MMR_LC_SWAP },
	{ "swap_range_free", MMR_LC_SWAP },
	{ "do_swap_page", MMR_LC_SWAP },
};

/* Compare a frame ("sym+0x1a/0x80" or "sym") with a bare symbol name. */
static int frame_is(const char *frame, const char *sym)
{
	size_t n = strlen(sym);

	return !strncmp(frame, sym, n) &&
	       (frame[n] == '\0' || frame[n] == '+' || frame[n] == '.' || frame[n] == ' ');
}

/* Lock primitives that stand between the waiter and the code that locked. */
static const char *const lock_prims[] = {
	"rwsem_down_write_slowpath", "rwsem_down_read_slowpath", "down_write",
	"down_write_killable", "down_read", "down_read_killable", "down_write_nested",
	"down_read_trylock", "down_write_trylock", NULL,
};

/*
 * Callers that take mmap_lock themselves (mmap_write_lock() and friends are
 * inlined, so the rwsem primitive is called straight from them). Only
 * checked right above the primitives: deeper in the same stack these
 * functions take many other locks.
 */
static const char *const mmap_lock_callers[] = {
	"do_mprotect_pkey", "dup_mmap", "vm_mmap_pgoff", "__vm_munmap", "do_madvise",
	"__do_sys_brk", "__do_sys_mremap", "do_mremap", "exit_mmap", "do_user_addr_fault",
	"madvise_lock", "__do_sys_process_madvise", "vm_brk_flags", NULL,
};

static bool in_list(const char *frame, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (frame_is(frame, list[i]))
			return true;
	return false;
}

enum mmr_lockclass mmr_classify_stack(const char *const *frames, unsigned n)
{
	unsigned first = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!frames[i])
			continue;
		for (size_t r = 0; r < sizeof(class_rules) / sizeof(class_rules[0]); r++)
			if (frame_is(frames[i], class_rules[r].sym))
				return class_rules[r].cls;
	}
	/* No named path: who called the rwsem primitive directly? */
	while (first < n && frames[first] && in_list(frames[first], lock_prims))
		first++;
	if (first && first < n && frames[first] && in_list(frames[first], mmap_lock_callers))
		return MMR_LC_MMAP_LOCK;
	return MMR_LC_OTHER;
}

void mmr_event_release(struct mmr_event *ev)
{
	if (!ev || ev->type != MMR_EV_STACK || !ev->stack.frames)
		return;
	for (uint32_t i = 0; i < ev->stack.nframes; i++)
		free(ev->stack.frames[i]);
	free(ev->stack.frames);
	ev->stack.frames = NULL;
	ev->stack.nframes = 0;
}

/* ---- serialisation ---- */

struct fmt {
	char *buf;
	size_t len, off;
};

static void put(struct fmt *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct fmt *f, const char *fmt, ...)
{
	va_list ap;
	size_t room = f->off < f->len ? f->len - f->off : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? f->buf + f->off : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		f->off += n;
}

/* A quoted JSON string with escapes; file identities and symbols are short. */
static void put_jstr(struct fmt *f, const char *s)
{
	put(f, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			put(f, "\\%c", c);
		else if (c < 0x20)
			put(f, "\\u%04x", c);
		else
			put(f, "%c", c);
	}
	put(f, "\"");
}

static void put_str(struct fmt *f, const char *key, const char *s)
{
	put(f, ",\"%s\":", key);
	put_jstr(f, s);
}

size_t mmr_event_format(const struct mmr_event *ev, char *buf, size_t len)
{
	struct fmt f = { buf, len, 0 };

	/* A stack is a definition, not something a task did: no ts/pid/tid. */
	if (ev->type == MMR_EV_STACK)
		put(&f, "{\"ev\":\"stack\"");
	else
		put(&f, "{\"ev\":\"%s\",\"ts\":%" PRIu64 ",\"pid\":%" PRId32 ",\"tid\":%" PRId32,
		    mmr_ev_name(ev->type), ev->ts, ev->pid, ev->tid);
	switch (ev->type) {
	case MMR_EV_FORK:
		put(&f, ",\"child\":%" PRId32 ",\"thread\":%s,\"flags\":%" PRIu64,
		    ev->fork.child, ev->fork.thread ? "true" : "false", ev->fork.flags);
		break;
	case MMR_EV_EXEC:
		put_str(&f, "comm", ev->exec.comm);
		put_str(&f, "file", ev->exec.file);
		break;
	case MMR_EV_EXIT:
		put(&f, ",\"group\":%s", ev->exit.group ? "true" : "false");
		break;
	case MMR_EV_MMAP:
		put(&f, ",\"addr\":%" PRIu64 ",\"len\":%" PRIu64 ",\"prot\":%" PRIu64
		    ",\"flags\":%" PRIu64 ",\"fd\":%" PRId64 ",\"off\":%" PRIu64,
		    ev->mmap.addr, ev->mmap.len, ev->mmap.prot, ev->mmap.flags,
		    ev->mmap.fd, ev->mmap.off);
		if (ev->mmap.file[0]) {
			put_str(&f, "file", ev->mmap.file);
			put(&f, ",\"fsize\":%" PRIu64, ev->mmap.fsize);
		}
		put(&f, ",\"ret\":%" PRId64 ",\"dur\":%" PRIu64, ev->mmap.ret, ev->mmap.dur);
		break;
	case MMR_EV_MUNMAP:
		put(&f, ",\"addr\":%" PRIu64 ",\"len\":%" PRIu64 ",\"ret\":%" PRId64
		    ",\"dur\":%" PRIu64, ev->range.addr, ev->range.len, ev->range.ret,
		    ev->range.dur);
		break;
	case MMR_EV_MPROTECT:
	case MMR_EV_MADVISE:
		put(&f, ",\"addr\":%" PRIu64 ",\"len\":%" PRIu64 ",\"%s\":%" PRIu64
		    ",\"ret\":%" PRId64 ",\"dur\":%" PRIu64, ev->range.addr, ev->range.len,
		    ev->type == MMR_EV_MPROTECT ? "prot" : "advice", ev->range.arg,
		    ev->range.ret, ev->range.dur);
		break;
	case MMR_EV_MREMAP:
		put(&f, ",\"addr\":%" PRIu64 ",\"old_len\":%" PRIu64 ",\"new_len\":%" PRIu64
		    ",\"flags\":%" PRIu64 ",\"new_addr\":%" PRIu64 ",\"ret\":%" PRId64
		    ",\"dur\":%" PRIu64, ev->mremap.addr, ev->mremap.old_len,
		    ev->mremap.new_len, ev->mremap.flags, ev->mremap.new_addr,
		    ev->mremap.ret, ev->mremap.dur);
		break;
	case MMR_EV_BRK:
		put(&f, ",\"addr\":%" PRIu64 ",\"ret\":%" PRId64 ",\"dur\":%" PRIu64,
		    ev->brk.addr, ev->brk.ret, ev->brk.dur);
		break;
	case MMR_EV_FAULT:
		put(&f, ",\"addr\":%" PRIu64 ",\"err\":%" PRIu32, ev->fault.addr, ev->fault.err);
		/* A single fault is the common random-access case: keep it short. */
		if (ev->fault.count > 1)
			put(&f, ",\"n\":%" PRIu64 ",\"stride\":%" PRId64 ",\"last\":%" PRIu64,
			    ev->fault.count, ev->fault.stride, ev->fault.last);
		break;
	case MMR_EV_RECLAIM:
		put(&f, ",\"kind\":\"%s\",\"dur\":%" PRIu64 ",\"scanned\":%" PRIu64
		    ",\"reclaimed\":%" PRIu64, mmr_reclaim_kind_name(ev->reclaim.kind),
		    ev->reclaim.dur, ev->reclaim.scanned, ev->reclaim.reclaimed);
		break;
	case MMR_EV_LOCK:
		put(&f, ",\"lock\":\"mmap_lock\",\"mode\":\"%s\",\"kind\":\"%s\",\"op\":\"%s\""
		    ",\"dur\":%" PRIu64, ev->lock.write ? "write" : "read",
		    ev->lock.hold ? "hold" : "wait", mmr_op_name(ev->lock.op), ev->lock.dur);
		if (!ev->lock.hold)
			put(&f, ",\"ok\":%s", ev->lock.success ? "true" : "false");
		if (ev->lock.trylock)
			put(&f, ",\"try\":true");
		break;
	case MMR_EV_CONTENTION:
		put(&f, ",\"flags\":%" PRIu32 ",\"class\":\"%s\",\"op\":\"%s\",\"stack\":%" PRIu32
		    ",\"dur\":%" PRIu64, ev->contention.flags,
		    mmr_lockclass_name(ev->contention.cls), mmr_op_name(ev->contention.op),
		    ev->contention.stack, ev->contention.dur);
		break;
	case MMR_EV_STACK:
		put(&f, ",\"id\":%" PRIu32 ",\"frames\":[", ev->stack.id);
		for (uint32_t i = 0; i < ev->stack.nframes; i++) {
			if (i)
				put(&f, ",");
			put_jstr(&f, ev->stack.frames[i] ? ev->stack.frames[i] : "?");
		}
		put(&f, "]");
		break;
	default:
		break;
	}
	put(&f, "}\n");
	return f.off;
}

/* ---- parsing ---- */

static struct json_object *field(struct json_object *o, const char *key, enum json_type t,
				 bool required, int *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		if (required && !*err) {
			*err = 1;
			mmr_seterr(MMR_E_FORMAT, "field '%s': missing", key);
		}
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		if (!*err) {
			*err = 1;
			mmr_seterr(MMR_E_FORMAT, "field '%s': expected %s, got %s", key,
				   json_type_to_name(t), json_type_to_name(json_object_get_type(v)));
		}
		return NULL;
	}
	return v;
}

/*
 * json-c clamps integers beyond the int64/uint64 range silently (to
 * INT64_MIN, UINT64_MAX) and sets no errno, so the extremes themselves are
 * refused: no field legitimately holds them, and a huge number in a trace
 * must be an error, not a wrapped value.
 */
static int range_err(const char *key, int *err)
{
	if (!*err) {
		*err = 1;
		mmr_seterr(MMR_E_FORMAT, "field '%s': number out of range", key);
	}
	return 0;
}

static uint64_t u64(struct json_object *o, const char *key, bool required, int *err)
{
	struct json_object *v = field(o, key, json_type_int, required, err);
	uint64_t u;

	if (!v)
		return 0;
	if (json_object_get_int64(v) < 0) {
		if (!*err) {
			*err = 1;
			mmr_seterr(MMR_E_FORMAT, "field '%s': must not be negative", key);
		}
		return 0;
	}
	u = json_object_get_uint64(v);
	if (u == UINT64_MAX)
		return range_err(key, err);
	return u;
}

static int64_t s64(struct json_object *o, const char *key, bool required, int *err)
{
	struct json_object *v = field(o, key, json_type_int, required, err);
	int64_t s;

	if (!v)
		return 0;
	s = json_object_get_int64(v);
	if (s == INT64_MIN || (s == INT64_MAX && json_object_get_uint64(v) != INT64_MAX))
		return range_err(key, err);
	return s;
}

static int32_t i32(struct json_object *o, const char *key, bool required, int *err)
{
	int64_t v = s64(o, key, required, err);

	if (v < INT32_MIN || v > INT32_MAX) {
		if (!*err) {
			*err = 1;
			mmr_seterr(MMR_E_FORMAT, "field '%s': number out of range", key);
		}
		return 0;
	}
	return (int32_t)v;
}

static bool boolean(struct json_object *o, const char *key, bool required, int *err)
{
	struct json_object *v = field(o, key, json_type_boolean, required, err);

	return v ? json_object_get_boolean(v) : false;
}

static void str(struct json_object *o, const char *key, char *out, size_t len,
		bool required, int *err)
{
	struct json_object *v = field(o, key, json_type_string, required, err);
	const char *s;

	out[0] = '\0';
	if (!v)
		return;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= len) {
		if (!*err) {
			*err = 1;
			mmr_seterr(MMR_E_FORMAT, "field '%s': longer than %zu bytes", key, len - 1);
		}
		return;
	}
	memcpy(out, s, strlen(s) + 1);
}

static int enum_field(struct json_object *o, const char *key, int (*lookup)(const char *),
		      int *err)
{
	char buf[32];
	int v;

	str(o, key, buf, sizeof(buf), true, err);
	if (*err)
		return 0;
	v = lookup(buf);
	if (v < 0) {
		*err = 1;
		mmr_seterr(MMR_E_FORMAT, "field '%s': unknown value \"%s\"", key, buf);
		return 0;
	}
	return v;
}

static int op_lookup(const char *s)
{
	enum mmr_op op = mmr_op_from_name(s);

	return op == MMR_OP__COUNT ? -1 : (int)op;
}

static int lc_lookup(const char *s)
{
	enum mmr_lockclass c = mmr_lockclass_from_name(s);

	return c == MMR_LC__COUNT ? -1 : (int)c;
}

static int mode_lookup(const char *s)
{
	return !strcmp(s, "write") ? 1 : !strcmp(s, "read") ? 0 : -1;
}

static int kind_lookup(const char *s)
{
	return !strcmp(s, "hold") ? 1 : !strcmp(s, "wait") ? 0 : -1;
}

static int parse_stack(struct json_object *o, struct mmr_event *ev, int *err)
{
	struct json_object *arr = field(o, "frames", json_type_array, true, err);
	size_t n;

	ev->stack.id = (uint32_t)u64(o, "id", true, err);
	if (*err)
		return -1;
	n = json_object_array_length(arr);
	if (n > 1024)
		return mmr_seterr(MMR_E_FORMAT, "field 'frames': more than 1024 frames");
	ev->stack.frames = calloc(n ? n : 1, sizeof(char *));
	if (!ev->stack.frames)
		return mmr_seterr(MMR_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(s, json_type_string)) {
			ev->stack.nframes = i;
			*err = 1;
			return mmr_seterr(MMR_E_FORMAT, "field 'frames[%zu]': expected string", i);
		}
		ev->stack.frames[i] = strdup(json_object_get_string(s));
		if (!ev->stack.frames[i]) {
			ev->stack.nframes = i;
			return mmr_seterr(MMR_E_NOMEM, "out of memory");
		}
	}
	ev->stack.nframes = n;
	return 0;
}

int mmr_event_from_json(struct json_object *o, struct mmr_event *ev)
{
	char name[32];
	int err = 0;

	memset(ev, 0, sizeof(*ev));
	if (!json_object_is_type(o, json_type_object))
		return mmr_seterr(MMR_E_FORMAT, "expected a JSON object");
	str(o, "ev", name, sizeof(name), true, &err);
	if (err)
		return -1;
	ev->type = mmr_ev_from_name(name);
	if (ev->type == MMR_EV_NONE)
		return mmr_seterr(MMR_E_FORMAT, "field 'ev': unknown event type \"%s\"", name);
	if (ev->type == MMR_EV_STACK) {
		if (parse_stack(o, ev, &err) < 0) {
			mmr_event_release(ev);
			return -1;
		}
		return 0;
	}
	ev->ts = u64(o, "ts", true, &err);
	ev->pid = i32(o, "pid", true, &err);
	ev->tid = i32(o, "tid", true, &err);

	switch (ev->type) {
	case MMR_EV_FORK:
		ev->fork.child = i32(o, "child", true, &err);
		ev->fork.thread = boolean(o, "thread", true, &err);
		ev->fork.flags = u64(o, "flags", false, &err);
		break;
	case MMR_EV_EXEC:
		str(o, "comm", ev->exec.comm, sizeof(ev->exec.comm), false, &err);
		str(o, "file", ev->exec.file, sizeof(ev->exec.file), false, &err);
		break;
	case MMR_EV_EXIT:
		ev->exit.group = boolean(o, "group", true, &err);
		break;
	case MMR_EV_MMAP:
		ev->mmap.addr = u64(o, "addr", true, &err);
		ev->mmap.len = u64(o, "len", true, &err);
		ev->mmap.prot = u64(o, "prot", true, &err);
		ev->mmap.flags = u64(o, "flags", true, &err);
		ev->mmap.fd = s64(o, "fd", false, &err);
		ev->mmap.off = u64(o, "off", false, &err);
		str(o, "file", ev->mmap.file, sizeof(ev->mmap.file), false, &err);
		ev->mmap.fsize = u64(o, "fsize", false, &err);
		ev->mmap.ret = s64(o, "ret", true, &err);
		ev->mmap.dur = u64(o, "dur", false, &err);
		if (!json_object_object_get_ex(o, "fd", NULL))
			ev->mmap.fd = -1;
		break;
	case MMR_EV_MUNMAP:
	case MMR_EV_MPROTECT:
	case MMR_EV_MADVISE:
		ev->range.addr = u64(o, "addr", true, &err);
		ev->range.len = u64(o, "len", true, &err);
		if (ev->type == MMR_EV_MPROTECT)
			ev->range.arg = u64(o, "prot", true, &err);
		else if (ev->type == MMR_EV_MADVISE)
			ev->range.arg = u64(o, "advice", true, &err);
		ev->range.ret = s64(o, "ret", true, &err);
		ev->range.dur = u64(o, "dur", false, &err);
		break;
	case MMR_EV_MREMAP:
		ev->mremap.addr = u64(o, "addr", true, &err);
		ev->mremap.old_len = u64(o, "old_len", true, &err);
		ev->mremap.new_len = u64(o, "new_len", true, &err);
		ev->mremap.flags = u64(o, "flags", true, &err);
		ev->mremap.new_addr = u64(o, "new_addr", false, &err);
		ev->mremap.ret = s64(o, "ret", true, &err);
		ev->mremap.dur = u64(o, "dur", false, &err);
		break;
	case MMR_EV_BRK:
		ev->brk.addr = u64(o, "addr", true, &err);
		ev->brk.ret = s64(o, "ret", true, &err);
		ev->brk.dur = u64(o, "dur", false, &err);
		break;
	case MMR_EV_FAULT:
		ev->fault.addr = u64(o, "addr", true, &err);
		ev->fault.err = (uint32_t)u64(o, "err", true, &err);
		ev->fault.count = json_object_object_get_ex(o, "n", NULL) ?
				  u64(o, "n", true, &err) : 1;
		ev->fault.stride = s64(o, "stride", ev->fault.count > 1, &err);
		ev->fault.last = json_object_object_get_ex(o, "last", NULL) ?
				 u64(o, "last", true, &err) : ev->ts;
		if (!err && ev->fault.count == 0)
			return mmr_seterr(MMR_E_FORMAT, "field 'n': must be at least 1");
		if (!err && ev->fault.last < ev->ts)
			return mmr_seterr(MMR_E_FORMAT, "field 'last': earlier than 'ts'");
		break;
	case MMR_EV_RECLAIM:
		ev->reclaim.kind = enum_field(o, "kind", reclaim_kind_from_name, &err);
		ev->reclaim.dur = u64(o, "dur", true, &err);
		ev->reclaim.scanned = u64(o, "scanned", false, &err);
		ev->reclaim.reclaimed = u64(o, "reclaimed", false, &err);
		break;
	case MMR_EV_LOCK: {
		char lock[16];

		str(o, "lock", lock, sizeof(lock), true, &err);
		if (!err && strcmp(lock, "mmap_lock"))
			return mmr_seterr(MMR_E_FORMAT, "field 'lock': unknown lock \"%s\"", lock);
		ev->lock.write = enum_field(o, "mode", mode_lookup, &err);
		ev->lock.hold = enum_field(o, "kind", kind_lookup, &err);
		ev->lock.op = enum_field(o, "op", op_lookup, &err);
		ev->lock.dur = u64(o, "dur", true, &err);
		ev->lock.success = json_object_object_get_ex(o, "ok", NULL) ?
				   boolean(o, "ok", true, &err) : true;
		ev->lock.trylock = boolean(o, "try", false, &err);
		break;
	}
	case MMR_EV_CONTENTION:
		ev->contention.flags = (uint32_t)u64(o, "flags", true, &err);
		ev->contention.cls = enum_field(o, "class", lc_lookup, &err);
		ev->contention.op = enum_field(o, "op", op_lookup, &err);
		ev->contention.stack = (uint32_t)u64(o, "stack", false, &err);
		ev->contention.dur = u64(o, "dur", true, &err);
		break;
	default:
		break;
	}
	return err ? -1 : 0;
}
