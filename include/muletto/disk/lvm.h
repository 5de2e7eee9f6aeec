/* lvm2's tools (lvcreate, lvremove, lvs), run through core/spawn: the one
 * place muletto starts a process for a snapshot; and the last logical volume
 * of a grown physical volume extended (restore --grow-lv). */
#ifndef MULETTO_LVM_H
#define MULETTO_LVM_H

#include <stddef.h>
#include <stdint.h>

/* 0 when lvcreate, lvremove and lvs can be run (in PATH, /usr/sbin or
 * /sbin); -EOPNOTSUPP with a message naming the one missing otherwise. */
int lvm_tools_check(void);

/* Whether the kernel has device-mapper, or can load it (dm-mod). */
int lvm_have_device_mapper(void);

/* spawn_run(), with -EOPNOTSUPP naming lvm2 when the tool is missing. */
int lvm_run(const char *const argv[], char *out, size_t out_size);

/* The physical volume at [off, off+size) of path, already grown to its
 * partition: its volume group's last logical volume (the one holding its
 * last allocated extent) given all the group's free extents (lvextend -l
 * +100%FREE), activated, its file system grown to fill it (disk/fs.h), and
 * deactivated; lvm2 looks at this device only. Needs device-mapper. What
 * was done ("vg/root grown to 400 MiB, clean (e2fsck -f -n)") in verdict. */
int lvm_grow_last(const char *path, uint64_t off, uint64_t size, char *verdict, size_t n);

#endif
