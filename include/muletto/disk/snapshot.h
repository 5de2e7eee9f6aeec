/* Snapshots of a disk that is being written, so that a capture reads one
 * moment of it (device-mapper's snapshot target, or LVM's). For now only the
 * check of what the system offers: taking the snapshot is still to come, and
 * goes here (snapshot_create / snapshot_remove). */
#ifndef MULETTO_SNAPSHOT_H
#define MULETTO_SNAPSHOT_H

/* 0 when this system has what a snapshot needs (dmsetup and the kernel's
 * device-mapper); -EOPNOTSUPP with a message naming what is missing. */
int snapshot_available(void);

#endif
