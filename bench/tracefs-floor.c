// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Benchmark anchor (b): the recorder's events enabled in a private tracefs
 * instance that nobody reads, around a command. The cost of the
 * tracepoints themselves; no reader can do better.
 *
 * tracefs-floor CMD [ARGS]
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmr-error.h"
#include "mmr-recorder.h"

int main(int argc, char **argv)
{
	struct mmr_recorder_opts o = { .hash_paths = true };
	struct mmr_recorder *r;
	int status = 1;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: tracefs-floor CMD [ARGS]\n");
		return 2;
	}
	pid = fork();
	if (pid == 0) {
		/* wait until the instance follows us */
		raise(SIGSTOP);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	waitpid(pid, &status, WUNTRACED);
	o.pids = &pid;
	o.npids = 1;
	r = mmr_recorder_new(&o);
	if (!r || mmr_recorder_start(r) < 0) {
		fprintf(stderr, "tracefs-floor: %s\n", mmr_strerror());
		kill(pid, SIGKILL);
		mmr_recorder_free(r);
		return 1;
	}
	/*
	 * Overwrite mode: every event is still written, old ones are
	 * overwritten instead of new ones dropped once the unread buffer is
	 * full (dropping is cheaper than recording and would flatter the floor).
	 */
	{
		char path[256];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/kernel/tracing/instances/%s/options/overwrite",
			 mmr_recorder_instance(r));
		f = fopen(path, "w");
		if (!f || fputs("1", f) < 0 || fclose(f) != 0) {
			fprintf(stderr, "tracefs-floor: cannot set overwrite mode in %s\n", path);
			kill(pid, SIGKILL);
			mmr_recorder_free(r);
			return 1;
		}
	}
	kill(pid, SIGCONT);
	waitpid(pid, &status, 0);
	mmr_recorder_stop(r);
	mmr_recorder_free(r);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
