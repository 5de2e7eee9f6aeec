/* The kernel's mount table (<sysroot>/proc/self/mountinfo): which block
 * device (major:minor) is mounted where, and whether it can be written. */
#ifndef MULETTO_MOUNTS_H
#define MULETTO_MOUNTS_H

#include <stddef.h>

#include "muletto/disk/disk.h"

struct mount_entry {
	char devno[32];	   /* "8:2" */
	char mp[DISK_STR]; /* "/boot" */
	char source[DISK_STR]; /* what the file system was mounted from: "/dev/sda2" */
	int rw;		   /* mounted read-write, or its superblock is */
};

struct mounts {
	size_t n;
	struct mount_entry *e;
};

/* Never fails: a table that cannot be read is an empty one (a bare
 * environment without /proc mounts nothing). mounts_free releases it. */
void mounts_read(const char *sysroot, struct mounts *ret);
void mounts_free(struct mounts *m);
/* Where devno is mounted (the first mount), or NULL. */
const char *mounts_find(const struct mounts *m, const char *devno);
/* Where devno is mounted read-write (the first such mount), or NULL. */
const char *mounts_find_rw(const struct mounts *m, const char *devno);
/* What is mounted on mp (the mount on top, when there are several), as the
 * mount table names its source ("/dev/nbd0p2"), or NULL when nothing is. */
const char *mounts_source_at(const struct mounts *m, const char *mp);

#endif
