/* The commands. Each parses its own options (argv[0] is the command name),
 * asks the engine to do the work, shows its events (show.h) and its result on
 * stdout, one "muletto: ..." line per error on stderr, and returns the
 * process exit code: 0 ok, 1 failed, 2 wrong arguments. */
#ifndef MULETTO_CLI_CMD_H
#define MULETTO_CLI_CMD_H

#include <stdint.h>

#define EXIT_FAILED 1
#define EXIT_USAGE 2

int cmd_disks(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_verify_boot(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_mount(int argc, char **argv);
int cmd_umount(int argc, char **argv);
int cmd_fixup(int argc, char **argv);
int cmd_tui(int argc, char **argv);

/* Prints "muletto: <msg>" on stderr (one line, control characters escaped)
 * and returns code. */
int cmd_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message cmd_error printed, NULL when none. */
const char *cmd_last_error(void);
/* A failure (exit status 1), a bad option value (2). */
#define cmd_fail(...) cmd_error(EXIT_FAILED, __VA_ARGS__)
#define cmd_bad_option(...) cmd_error(EXIT_USAGE, __VA_ARGS__)
/* Prints "muletto: <usage>" and returns EXIT_USAGE. */
int cmd_usage(const char *usage);
/* A whole number from min to max for option opt ("--threads"): 0, or the
 * usual one-line error and EXIT_USAGE. */
int cmd_int_option(const char *opt, const char *arg, int min, int max, int *ret);
/* Settings from the environment that take numbers: 0, or EXIT_USAGE. */
int cmd_check_environment(void);
/* Shows what is on target and asks for "yes" on the terminal (ctx: an int,
 * nonzero for --yes). 0 to go on; -EPERM without a terminal, -ECANCELED
 * when not confirmed. As restore's and serve's confirm callback. */
int cmd_confirm_target(void *ctx, const char *target, uint64_t need);
/* The command's job (ui/job.h: its record and notifications): begun once the
 * command's arguments are good, ended with its exit code (returned). Counts
 * of the result go into the record before the end, through cmd_job_current. */
void cmd_job_begin(const char *op, const char *repo, const char *image, const char *target);
struct job *cmd_job_current(void); /* NULL before the beginning */
int cmd_job_end(int code);
/* Asks for a password on the terminal, not echoed (cred_set_asker). */
int cmd_ask_password(const char *prompt, char **ret, void *ctx);

#endif
