/* The commands. Each parses its own options (argv[0] is the command name),
 * prints results on stdout and one "muletto: ..." line per error on stderr,
 * and returns the process exit code: 0 ok, 1 failed, 2 bad usage. */
#ifndef MULETTO_CMD_H
#define MULETTO_CMD_H

#define EXIT_USAGE 2

int cmd_disks(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

/* Prints "muletto: <msg>" on stderr (one line) and returns 1. */
int cmd_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like cmd_fail, for a bad option value: returns EXIT_USAGE. */
int cmd_bad_option(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "muletto: <usage>" and returns EXIT_USAGE. */
int cmd_usage(const char *usage);

#endif
