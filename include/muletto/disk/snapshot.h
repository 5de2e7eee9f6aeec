/* Snapshots of an LVM logical volume, so that a capture reads one moment of a
 * volume that stays mounted and written to (capture --snapshot).
 *
 * A device-mapper snapshot holds still only what is written through
 * device-mapper: the origin's writes must pass through its snapshot-origin
 * target, which copies each block aside before it changes. An LVM logical
 * volume is a device-mapper device already, and lvcreate --snapshot puts that
 * target under it (freezing the mounted file system while it suspends the
 * volume): consistent. A plain partition or disk mounted read-write is written
 * by its file system directly; a snapshot over a copy-on-write file would not
 * see those writes and be as torn as a live capture. So only LVM logical
 * volumes are offered, and everything else is refused with the reason.
 *
 * lvcreate, lvs and lvremove do the work (disk/lvm.h). */
#ifndef MULETTO_SNAPSHOT_H
#define MULETTO_SNAPSHOT_H

#include <stdint.h>

#include "muletto/disk/disk.h"

#define SNAPSHOT_SIZE_MIN (64ULL << 20) /* the default's floor */
#define SNAPSHOT_NAME_MAX 128		/* LVM's names are shorter */

struct snapshot {
	char origin[DISK_STR];		 /* the source as given: "/dev/vg/root" */
	char vg[SNAPSHOT_NAME_MAX];	 /* its volume group: "vg" */
	char lv[SNAPSHOT_NAME_MAX];	 /* its volume: "root" */
	char name[SNAPSHOT_NAME_MAX];	 /* the snapshot: "muletto-snap-4242" */
	char dev[DISK_STR];		 /* what to read: "/dev/vg/muletto-snap-4242" */
	uint64_t size;			 /* bytes asked of lvcreate */
	int taken;			 /* it exists: snapshot_remove has work */
};

/* Whether path can be captured with --snapshot: the kernel has device-mapper,
 * path is an LVM logical volume (by device-mapper's uuid, "LVM-..."), and
 * lvm2's tools are installed. 0, or -EOPNOTSUPP with one line saying why not
 * (for a partition or disk: its writes do not pass through device-mapper) and
 * what to do instead (unmount, remount read-only, LVM, --live). */
int snapshot_check_source(const char *path);

/* 1 when path is an LVM logical volume (not a layer inside one), 0 when it is
 * anything else or cannot be told; no message. For advice: whether to offer
 * --snapshot. */
int snapshot_is_lvm_volume(const char *path);

/* Takes a snapshot named name of the logical volume at path, of size bytes,
 * or percent of the volume, or (both 0) a tenth of it and at least
 * SNAPSHOT_SIZE_MIN. A volume group without that much free space is refused,
 * naming what it has and what to do. On failure nothing is left behind and
 * *ret says taken = 0; on success *ret is filled and taken. */
int snapshot_create(const char *path, const char *name, uint64_t size, int percent,
		    struct snapshot *ret);

/* 0 while the snapshot is valid; -ENOSPC with a message naming
 * --snapshot-size when more was written to the volume than it could hold (the
 * kernel then drops it: its reads fail). */
int snapshot_check(const struct snapshot *s);

/* Removes a snapshot that was taken (lvremove); taken becomes 0. 0, or -EIO
 * with a message giving the command to run by hand. */
int snapshot_remove(struct snapshot *s);

#endif
