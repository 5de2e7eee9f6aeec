/* muletto mount: a partition of an image, read-only at a folder, to copy a
 * few files out without restoring anything; muletto umount ends it.
 *
 * How: the image's disk is served read-only (serve/served.h, with neither a
 * target nor a layer: nothing is written anywhere) to the kernel's own NBD
 * client on a free /dev/nbdX (serve/nbd_kernel.h). The kernel reads the
 * partition table itself (the nbd driver's max_part, 16 by default; BLKRRPART
 * makes it look at once), libblkid names the file systems, and mount(2)
 * mounts one partition read-only, nodev, nosuid, noexec, with the type
 * libblkid found. Every read the kernel makes is a chunk fetched, verified
 * and kept in a small cache.
 *
 * The process that mounted it serves the kernel until it is told to stop, and
 * for as long as it serves it holds a record, IMAGE_MOUNT_DIR/nbdX, locked
 * (a POSIX record lock): the folder, the device, the partition, the image.
 * image_mount_stop() (muletto umount DIR) finds the record naming DIR,
 * unmounts DIR, and sends the process holding the lock SIGTERM; that process
 * disconnects the kernel (NBD_DISCONNECT, NBD_CLEAR_SOCK), removes its record
 * and ends, which releases the lock: umount waits for that. A record whose
 * lock nobody holds was left by a server that died: umount then releases the
 * device itself. */
#ifndef MULETTO_SERVE_IMAGE_MOUNT_H
#define MULETTO_SERVE_IMAGE_MOUNT_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "muletto/serve/served.h"

#define IMAGE_MOUNT_DIR "/run/muletto/mounts"

struct image_mount_request {
	const char *repo, *name;
	const char *dir;     /* an existing folder */
	int partition;	     /* 0: the largest partition holding a file system this
				kernel can mount (the whole disk when it has no table) */
	struct serve_opts o; /* disk, trust, threads (to, cow and state must be NULL) */
};

/* What is mounted where, by whom. */
struct image_mount_info {
	char dir[PATH_MAX];	/* the folder, as realpath() gives it */
	char device[32];	/* "/dev/nbd0" */
	char part_dev[64];	/* "/dev/nbd0p2", or the device: a disk without a table */
	int partition;		/* 2; 0 for the whole disk */
	char fs[32];		/* "ext4" */
	char label[256];	/* the file system's label, "" when none */
	uint64_t size;		/* the partition's bytes */
	char image[300];	/* "web01 disk0" */
	int journal_skipped;	/* mounted without replaying its journal (noload, ...) */
	pid_t pid;		/* the process that serves it */
};

typedef void (*image_mount_ready_fn)(void *ctx, const struct image_mount_info *m);

/* Mounts, calls ready(ctx, m) once DIR shows the files, then serves the
 * kernel until *stop is set (a signal: muletto umount sends SIGTERM) or the
 * kernel lets go of the device (somebody else disconnected it). Then unmounts
 * DIR when it is still mounted (lazily when it is busy: files still open in
 * it read errors from then on), releases the device and removes the record.
 * Errors before ready are the mount's; after, the serving's. */
int image_mount_run(const struct image_mount_request *q, image_mount_ready_fn ready, void *ctx,
		    volatile sig_atomic_t *stop);

/* muletto umount DIR: finds the record naming DIR, unmounts it, stops the
 * process that serves it and waits until it ended; *ret tells what was
 * mounted. -ENOENT when muletto did not mount DIR, -EBUSY when something uses
 * it (nothing is stopped then). */
int image_mount_stop(const char *dir, struct image_mount_info *ret);

#endif
