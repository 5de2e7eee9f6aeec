/* lvm2's tools (lvcreate, lvremove, lvs), run through core/spawn: the one
 * place muletto starts a process for a snapshot. */
#ifndef MULETTO_LVM_H
#define MULETTO_LVM_H

#include <stddef.h>

/* 0 when lvcreate, lvremove and lvs can be run (in PATH, /usr/sbin or
 * /sbin); -EOPNOTSUPP with a message naming the one missing otherwise. */
int lvm_tools_check(void);

/* spawn_run(), with -EOPNOTSUPP naming lvm2 when the tool is missing. */
int lvm_run(const char *const argv[], char *out, size_t out_size);

#endif
