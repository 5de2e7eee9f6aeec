/* Programs muletto runs (lvm2's tools, e2fsprogs, ...): fork and exec with an
 * explicit argv, never a shell; standard input from /dev/null, their output
 * and errors into buffers (never on the terminal), in a process group of their
 * own so that a Ctrl-C meant for muletto does not cut them short; LC_ALL=C so
 * their numbers parse. */
#ifndef MULETTO_CORE_SPAWN_H
#define MULETTO_CORE_SPAWN_H

#include <stddef.h>

/* 1 when prog is an executable in PATH, /usr/sbin or /sbin (root's tools are
 * not always in a service's PATH), or an absolute path to one; its path in out. */
int spawn_find(const char *prog, char *out, size_t out_size);

/* Runs argv (argv[0] a program's name, looked up as above; NULL-terminated)
 * and waits for it. 0 when it exits with 0, its standard output in out (at
 * most out_size - 1 bytes, NUL-terminated; out may be NULL). -ENOENT with a
 * message when the program is not installed. Otherwise -EIO with a message:
 * the command line and what it wrote on its standard error, on one line,
 * control characters replaced, cut at a few hundred bytes. */
int spawn_run(const char *const argv[], char *out, size_t out_size);

/* As spawn_run, where exit statuses up to ok_max are not failures (e2fsck's 1:
 * "errors were corrected"): that status, or a negative code. */
int spawn_run_ok(const char *const argv[], int ok_max, char *out, size_t out_size);

/* a | b: a's standard output into b's standard input, both waited for; 0 when
 * both exit with 0, b's standard output in out. A failure is reported for a
 * first (b failing then is its consequence), with what both wrote on their
 * standard error. */
int spawn_pipe(const char *const a[], const char *const b[], char *out, size_t out_size);

#endif
