/* The disk or file a restore writes to, and the rules that protect it.
 *
 * target_inspect() only looks (for the confirmation screen); target_open()
 * applies the safety rules (never the boot disk, never a disk in use, never a
 * read-only or too small one, never a file behind a loop device, never a
 * target another process writes) before anything is written, and holds the
 * target's lock (disk/lock.h) until target_close(). */
#ifndef MULETTO_TARGET_H
#define MULETTO_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/disk/dio.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/lock.h"

struct target {
	char *path;
	int fd;
	struct dio io;	/* fd, and O_DIRECT for aligned I/O on devices */
	int is_block;
	int fresh;	/* every byte is known to be zero (a file created by us) */
	int created;	/* the file did not exist: removed again if opening fails */
	struct lock *lock; /* held from before the open for writing until target_close */
	int zeroes_cheap; /* the device zeroes ranges itself (Write Zeroes offload) */
	uint64_t size;	/* bytes the target holds after opening */
	uint64_t written;
	struct disk_info info; /* block devices: what disk_probe found */
};

/* What the target is now, without changing it: *ret_exists is 0 for a path that
 * does not exist yet; info is filled for block devices and image files. */
int target_inspect(const char *path, struct disk_info *info, int *ret_is_block,
		   int *ret_exists);

/* "auto": the one disk that is not the boot or configuration medium, not in
 * use, not read-only, and holds at least need bytes. Refuses (naming the
 * candidates) unless there is exactly one. *ret is a new "/dev/..." string. */
int target_pick_auto(uint64_t need, char **ret);

/* Opens for writing after the safety checks. need: the image's size in bytes;
 * data: bytes that are not zero (what a file target must find room for).
 * A regular file is created or resized to exactly need bytes. */
int target_open(const char *path, uint64_t need, uint64_t data, struct target **ret);
/* Aligned buffers (buf_alloc_aligned) at aligned offsets go around the page cache. */
int target_write(struct target *t, const void *buf, size_t len, uint64_t off);
int target_read(struct target *t, void *buf, size_t len, uint64_t off, size_t *ret_got);
/* Makes [off, off+len) read as zeros: nothing for a fresh file, a punched hole
 * for a file, BLKZEROOUT for a device (the kernel writes zeros itself when the
 * device cannot: see zeroes_cheap), written zeros as the last resort. */
int target_zero(struct target *t, uint64_t off, uint64_t len);
/* Gives up the exclusive claim on a block device (muletto's lock stays), so
 * that a file system's own tools, which claim it for themselves, can work on
 * it after the data is written. */
int target_share(struct target *t);
/* Flushes to stable storage (sync=1), closes and releases the lock. Returns
 * the first error. */
int target_close(struct target *t, int sync);

#endif
