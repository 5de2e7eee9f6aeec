/* Direct I/O on block devices: next to the ordinary descriptor, a second one
 * opened with O_DIRECT carries every access whose offset, length and buffer
 * are aligned, so large reads and writes bypass the page cache (no second
 * copy, no cache filling up on a 2 TB disk, and many reads in flight through
 * loop and virtual disks). Anything unaligned, and every regular file, goes
 * through the ordinary descriptor. The kernel keeps the two coherent. */
#ifndef MULETTO_DIO_H
#define MULETTO_DIO_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/core/util.h"


struct dio_map;

struct dio {
	int fd;		/* the caller's, buffered; never closed here */
	int dfd;	/* O_DIRECT, or -1 */
	unsigned align; /* the device's logical sector size */
	const struct dio_map *map; /* NULL: offsets are the device's own */
};

/* An image's byte ranges placed elsewhere (layout/map.h builds one): a
 * partition that moved, or was cut short. Offsets given to dio_pread and
 * dio_pwrite are then the image's: each sorted, non-overlapping range goes
 * to its own place on io (a dio without a map); bytes in no range, or in a
 * range with io NULL, are dropped: writes to them vanish, reads give zeros. */
struct dio_seg {
	uint64_t start, len; /* in the image */
	uint64_t to;	     /* where start lands on io */
	const struct dio *io;
};

struct dio_map {
	size_t n;
	const struct dio_seg *s;
};

/* Sets up d for fd (opened on path with flags O_RDONLY or O_RDWR). Block
 * devices get a direct descriptor; when that fails (a file system or driver
 * without O_DIRECT) everything goes through fd. Never fails. */
void dio_init(struct dio *d, int fd, const char *path, int flags);
/* Opens a disk or an image file read-only: its descriptor and its size in
 * bytes. role names it in messages ("seed", "source"). */
int dio_open_read(const char *path, const char *role, int *ret_fd, uint64_t *ret_size);
/* Closes the direct descriptor only. */
void dio_done(struct dio *d);

/* As pread_full and pwrite_full (0 or -errno), choosing the descriptor, and
 * through d->map when it has one. */
int dio_pread(const struct dio *d, void *buf, size_t len, uint64_t off, size_t *ret_got);
int dio_pwrite(const struct dio *d, const void *buf, size_t len, uint64_t off);
/* Whether [off, off+len) of the image all lands somewhere (1), or some of it
 * is dropped (0). Always 1 without a map. */
int dio_placed(const struct dio *d, uint64_t off, uint64_t len);

#endif
