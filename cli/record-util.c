// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmr-probe.h"
#include "mmr-recorder.h"
#include "mmr-sysinfo.h"
#include "mmreplay.h"
#include "record-util.h"

char *mmr_join_argv(char **argv, int argc)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

void mmr_record_report_missing(struct mmr_recorder *rec, FILE *f)
{
	unsigned n;
	const char *const *missing = mmr_recorder_missing(rec, &n);

	for (unsigned i = 0; i < n; i++) {
		const char *what = "its data";

		for (const struct mmr_wanted_event *e = mmr_wanted_events; e->system; e++) {
			size_t l = strlen(e->system);

			if (!strncmp(missing[i], e->system, l) && missing[i][l] == ':' &&
			    !strcmp(missing[i] + l + 1, e->name))
				what = e->lost;
		}
		fprintf(f, "mmreplay record: this kernel has no %s: the trace will lack %s\n",
			missing[i], what);
	}
}

static void human_bytes(uint64_t b, char *buf, size_t len)
{
	if (b >= 10ull << 20)
		snprintf(buf, len, "%.1f MiB", b / 1048576.0);
	else if (b >= 10ull << 10)
		snprintf(buf, len, "%.1f KiB", b / 1024.0);
	else
		snprintf(buf, len, "%" PRIu64 " B", b);
}

void mmr_record_summary(const struct mmr_record_out *out, struct mmr_recorder *rec,
			const char *path, uint64_t elapsed_ns, FILE *f)
{
	struct mmr_recorder_stats st;
	uint64_t events = 0;
	char size[32];

	mmr_recorder_get_stats(rec, &st);
	for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++)
		events += out->counts[t];
	human_bytes(out->bytes, size, sizeof(size));
	fprintf(f, "\nrecorded %.2f s into %s: %s, %" PRIu64 " lines, %.1f bytes/line\n",
		elapsed_ns / 1e9, path, size, events,
		events ? (double)out->bytes / events : 0.0);
	fprintf(f, "  %-12s %12s\n", "event", "lines");
	for (int t = MMR_EV_NONE + 1; t < MMR_EV__COUNT; t++)
		if (out->counts[t])
			fprintf(f, "  %-12s %12" PRIu64 "\n", mmr_ev_name(t), out->counts[t]);
	fprintf(f, "  faults: %" PRIu64 " pages in %" PRIu64 " lines (%.2f bytes/fault)\n",
		out->faults, out->counts[MMR_EV_FAULT],
		out->faults ? (double)out->bytes / out->faults : 0.0);
	fprintf(f, "  forks: %" PRIu64 ", raw events read: %" PRIu64 ", distinct stacks: %" PRIu64 "\n",
		out->counts[MMR_EV_FORK], st.raw_events, st.stacks);
	if (st.unmatched_lock || st.unmatched_contention || st.unmatched_syscall)
		fprintf(f, "  unmatched: %" PRIu64 " syscall, %" PRIu64 " mmap_lock, %" PRIu64
			" contention events (their partner event was not seen: recording started or stopped mid-way, or the partner is missing on this kernel)\n",
			st.unmatched_syscall, st.unmatched_lock, st.unmatched_contention);
	{
		struct rusage ru;

		/* the recorder's own CPU, not the traced command's */
		getrusage(RUSAGE_SELF, &ru);
		double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			     ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		fprintf(f, "  recorder CPU: %.3f s (%.1f%% of one core)\n", cpu,
			elapsed_ns ? 100.0 * cpu / (elapsed_ns / 1e9) : 0.0);
	}
	if (out->lost)
		fprintf(f, "  LOST EVENTS: %" PRIu64 " (ring buffer overruns; raise --buffer-kb)\n",
			out->lost);
	else
		fprintf(f, "  lost events: 0\n");
}

pid_t mmr_spawn_held(int (*fn)(void *arg), void *arg, int *gate)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		char c;

		close(p[1]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(p[0], &c, 1) != 1)
			_exit(126);	/* the recorder failed to start */
		close(p[0]);
		_exit(fn(arg));
	}
	close(p[0]);
	*gate = p[1];
	return pid;
}

/*
 * The held child of `record -- CMD` (ro->exec_pid), traced since before its
 * release: wait until it has exec'd and stands still at the exec, so that
 * its maps, read into the header, are the program's own image. Returns 1
 * when it is stopped there (the caller detaches it), 0 when it is not
 * (exec failed and it exited: child_done; or it stopped for a signal
 * first: then it is detached with the signal, and the recording goes on
 * without its image).
 */
static int await_exec(struct mmr_record_job *j)
{
	for (;;) {
		int st;

		if (waitpid(j->child, &st, 0) < 0) {
			if (errno == EINTR)
				continue;	/* a signal for us is one for it too: it stops */
			return 0;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			j->child_done = true;
			j->child_status = st;
			return 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
			return 1;
		/* a group stop (event stop) or a signal on its way: let it be */
		ptrace(PTRACE_DETACH, j->child, NULL, (void *)(long)((st >> 16) ? 0 : WSTOPSIG(st)));
		return 0;
	}
}

/* Release the held child; for `record -- CMD`, see it through its exec. */
static int release_child(struct mmr_record_job *j, bool *at_exec)
{
	/* EXITKILL: should the recorder die before detaching, the child dies too */
	bool traced = j->ro->exec_pid == j->child &&
		      ptrace(PTRACE_SEIZE, j->child, NULL,
			     (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) == 0;

	if (write(*j->gate, "g", 1) != 1) {
		errorf("record: cannot start %s", j->what ? j->what : "the command");
		return -1;
	}
	close(*j->gate);
	*j->gate = -1;
	*at_exec = traced && await_exec(j) == 1;
	return 0;
}

int mmr_record_job_run(struct mmr_record_job *j)
{
	struct mmr_record_out out = { 0 };
	struct mmr_recorder *rec = NULL;
	uint64_t t0, deadline = 0;
	int ret = EXIT_FAIL, opened;
	bool at_exec = false;

	rec = mmr_recorder_new(j->ro);
	if (!rec) {
		ret = lib_error("record");
		goto out;
	}
	if (mmr_recorder_start(rec) < 0) {
		ret = lib_error("record");
		goto out;
	}
	/* Release the child now that every event is armed. */
	if (j->gate && *j->gate >= 0 && release_child(j, &at_exec) < 0)
		goto out;
	if (at_exec)
		mmr_recorder_exec_stopped(rec);
	opened = mmr_record_out_open(&out, rec, j->output, j->zstd, j->cmdline,
				     j->ro->hash_paths, false);
	if (at_exec) {
		if (opened < 0)
			kill(j->child, SIGKILL);	/* no trace: it never runs */
		ptrace(PTRACE_DETACH, j->child, NULL, NULL);
	}
	if (opened < 0) {
		ret = lib_error("record");
		goto out;
	}
	mmr_record_report_missing(rec, stderr);
	t0 = mmr_now_ns();
	if (j->duration)
		deadline = t0 + (uint64_t)(j->duration * 1e9);
	while (!*j->stop) {
		if (mmr_recorder_read(rec, mmr_record_out_event, &out, 100) < 0) {
			ret = lib_error("record");
			goto out;
		}
		if (j->child > 0 && !j->child_done &&
		    waitpid(j->child, &j->child_status, WNOHANG) == j->child)
			j->child_done = true;
		if (j->child_done)
			break;
		if (j->until_pids_gone && mmr_pids_all_gone(j->ro->pids, j->ro->npids))
			break;
		if (deadline && mmr_now_ns() >= deadline)
			break;
	}
	if (mmr_record_out_close(&out, rec, true) < 0) {
		ret = lib_error("record");
		goto out;
	}
	j->elapsed_ns = mmr_now_ns() - t0;
	if (!j->quiet)
		mmr_record_summary(&out, rec, j->output, j->elapsed_ns, stderr);
	ret = EXIT_OK;
out:
	mmr_record_out_release(&out);
	mmr_recorder_free(rec);
	return ret;
}
