/* Linux MD (software RAID) members in partitions: their superblock read
 * (where it lives decides whether the member can change size), and a member
 * with its superblock at the start resized in its partition: assembled
 * alone, its array and the file system inside fitted, stopped. */
#ifndef MULETTO_DISK_MD_H
#define MULETTO_DISK_MD_H

#include <stddef.h>
#include <stdint.h>

struct md_info {
	char metadata[8];    /* "0.90", "1.0", "1.1", "1.2" */
	char level[16];	     /* "raid1", "raid0", "linear", "raid5", ... */
	uint32_t raid_disks;
	uint64_t data_offset; /* bytes from the partition's start to the array's data */
	uint64_t data_size;   /* bytes of data the member holds (0: unknown) */
};

/* The MD superblock of the partition [off, off+size) of fd: 0 and *ret
 * filled, or -ENOENT when it holds none (-errno when it cannot be read). */
int md_probe(int fd, uint64_t off, uint64_t size, struct md_info *ret);

/* Whether a member with this metadata version keeps its superblock at the
 * end of its partition (0.90, 1.0): moving the end loses the array. */
int md_super_at_end(const char *metadata);

/* Why a member with this metadata cannot change size, as one line naming
 * the partition (number), or NULL when it can (1.1, 1.2). */
const char *md_why_fixed(int number, const char *metadata, char *buf, size_t n);

/* Fits the MD member at off of path (room bytes there to work in) to size
 * bytes: a 1.1/1.2 member assembled alone (mdadm --assemble --run), its
 * array grown to the partition (--grow --size=max) and the file system fs
 * inside grown, or that file system shrunk first and the array after it;
 * then stopped. data_offset: where the member's data starts. */
int md_fit(const char *path, uint64_t off, uint64_t room, uint64_t size, uint64_t data_offset,
	   const char *fs, char *verdict, size_t n);

#endif
