/* lvm2's tools (lvcreate, lvremove, lvs), run as programs: the one place
 * muletto starts a process for a snapshot. fork and exec with an explicit
 * argv, never a shell; standard input from /dev/null, their output and errors
 * into buffers (never on the terminal), in a process group of their own so
 * that a Ctrl-C meant for muletto does not cut an lvremove short; LC_ALL=C so
 * their numbers parse. */
#ifndef MULETTO_LVM_H
#define MULETTO_LVM_H

#include <stddef.h>

/* 0 when lvcreate, lvremove and lvs can be run (in PATH, /usr/sbin or
 * /sbin); -EOPNOTSUPP with a message naming the one missing otherwise. */
int lvm_tools_check(void);

/* Runs argv (argv[0] a tool's name, looked up as above; NULL-terminated) and
 * waits for it. 0 when it exits with 0, its standard output in out (at most
 * out_size - 1 bytes, NUL-terminated; out may be NULL). Otherwise -EIO with a
 * message: the command line and what it wrote on its standard error, on one
 * line, control characters replaced, cut at a few hundred bytes. */
int lvm_run(const char *const argv[], char *out, size_t out_size);

#endif
