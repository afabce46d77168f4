/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mmreplay command table and what the subcommands share. */
#ifndef MMREPLAY_H
#define MMREPLAY_H

#include <stdbool.h>

/* Exit codes (mmreplay(1)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_REGRESSION = 3,
	EXIT_NOTSUP = 4,
};

struct mmr_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the command name */
	const char *summary;			/* one line for --help */
	const char *usage;			/* synopsis and options */
};

extern const struct mmr_cmd mmr_commands[];
const struct mmr_cmd *mmr_find_cmd(const char *name);

/* Printing helpers for commands: "mmreplay CMD: msg" on stderr. */
void die_usage(const struct mmr_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/*
 * An option's whole-number value from lo to hi, or die_usage with
 * "OPT wants WHAT from LO to HI, not 'S'" (what: "a number", "seconds").
 */
unsigned long arg_range(const struct mmr_cmd *cmd, const char *opt, const char *s,
			unsigned long lo, unsigned long hi, const char *what);
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the library's last error and return the exit code that fits it. */
int lib_error(const char *what);
/* Handle -h/--help as the only argument check common to all commands. */
bool wants_help(int argc, char **argv);
void print_usage(const struct mmr_cmd *cmd);

#define CMD(x) int cmd_##x(int argc, char **argv)
CMD(demo);
CMD(info);
CMD(push);
CMD(record);
CMD(replay);
CMD(report);
CMD(scenario);
CMD(validate);
#undef CMD

/*
 * Send a trace or result file to a results server (cmd-push.c): validated
 * first, retried on transport errors and 5xx. EXIT_OK, or EXIT_FAIL with
 * a line on stderr; the file stays where it is either way.
 */
int push_file(const char *url, const char *path, unsigned tries, unsigned long timeout_s);

#endif
