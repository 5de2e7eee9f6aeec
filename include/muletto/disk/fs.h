/* File systems inside partitions: what a partition is for, how much its file
 * system holds and the least it could shrink to (for capture, so that a
 * restore can plan), and fitting one to a partition of another size (for a
 * restore onto another disk). A partition is named by the disk or image
 * holding it and its byte offset: e2fsprogs open "PATH?offset=N", so no
 * partition device node is needed (image files have none, and a target's may
 * not exist yet). */
#ifndef MULETTO_DISK_FS_H
#define MULETTO_DISK_FS_H

#include <stddef.h>
#include <stdint.h>

/* What a partition is for, from its table's type (GPT type GUID or MBR type
 * as "0x83") and its file system as libblkid names it: "esp", "bios_boot",
 * "msr", "swap", "lvm_pv", "md", "luks", "extended" (an MBR container of
 * logical partitions) or "data". */
const char *fs_role(const char *type, const char *fs);

/* Whether muletto can grow, or shrink, a file system of this type (libblkid's
 * name): ext2/3/4 and NTFS both ways (e2fsprogs, ntfsresize, offline), btrfs
 * both ways (mounted), LVM physical volumes both ways (pvresize: a shrink as
 * far as the last allocated extent), XFS grows (xfs_growfs, mounted) and
 * cannot shrink: a smaller one is made anew and its files copied
 * (fs_shrinks_by_copy, fs_xfs_copy). */
int fs_can_grow(const char *fs);
int fs_can_shrink(const char *fs);
int fs_shrinks_by_copy(const char *fs);

/* The bytes the file system in [off, off+size) of path uses and the least it
 * can shrink to (0 when it cannot or is not known). 0, or a negative code when
 * it could not be read (nothing is set then). */
int fs_measure(const char *path, uint64_t off, uint64_t size, const char *fs, uint64_t *used,
	       uint64_t *min_size);

/* Fits the file system at off of path, of type fs, to size bytes, where
 * room bytes from off are there to work in (the partition; when shrinking,
 * the partition and its overflow): checked and repaired first (e2fsck -f -p),
 * resized, its end checked to be within size, then checked again read-only;
 * its verdict ("clean") in verdict. A negative code with a message when it
 * cannot be done. */
int fs_fit(const char *path, uint64_t off, uint64_t room, uint64_t size, const char *fs,
	   char *verdict, size_t verdict_size);

/* Fits the file system of type fs on the device dev (an assembled array) to
 * size bytes (0: the device's size), as fs_fit does. */
int fs_fit_dev(const char *dev, uint64_t size, const char *fs, char *verdict, size_t n);

/* A loop device (its path in dev) over [off, off+size) of the file or disk
 * path, read-only when ro; it goes away when *ret_fd is closed. */
int fs_loop_attach(const char *path, uint64_t off, uint64_t size, int ro, char *dev, size_t n,
		   int *ret_fd);

/* An XFS file system made anew at off of path, size bytes, with uuid and
 * label and the block, sector and inode sizes and features of the XFS in the
 * file src (src_size bytes: a partition as captured, muletto's own copy),
 * whose files are then copied into it (xfsdump | xfsrestore: attributes,
 * hard links, sparse files kept); xfs_repair -n's verdict in verdict. */
int fs_xfs_copy(const char *src, uint64_t src_size, const char *path, uint64_t off,
		uint64_t size, const char *uuid, const char *label, char *verdict, size_t n);

/* A file system at off of fd whose partition now starts at start_sector:
 * NTFS's boot sector (and its copy at the volume's end) says where its
 * partition starts ("hidden sectors"), and Windows boots only when that is
 * right. Nothing for other file systems. */
int fs_moved(int fd, uint64_t off, const char *fs, uint64_t start_sector);

/* A FAT file system made anew at off of path, size bytes, for sectors of
 * sector bytes, with its volume ID ("609C-4B1B") and label and the files of
 * the FAT in the file src (src_size bytes; NULL: the one at off of path, which
 * is then overwritten); fsck.vfat's verdict in verdict. FAT is resized this
 * way both ways. */
int fs_fat_rebuild(const char *src, uint64_t src_size, const char *path, uint64_t off,
		   uint64_t size, uint32_t sector, const char *label, const char *volid,
		   char *verdict, size_t n);

/* A FAT32 made at off of path (size bytes) for sectors of sector bytes,
 * labelled EFI, for an ESP the image had not; fsck.vfat's verdict in verdict. */
int fs_fat_make(const char *path, uint64_t off, uint64_t size, uint32_t sector, char *verdict,
		size_t n);

/* A swap area made anew at off of path, size bytes, with its UUID and label
 * (either may be ""). */
int fs_swap_make(int fd, const char *path, uint64_t off, uint64_t size, const char *uuid,
		 const char *label);

#endif
