/* The machine's disks: what they are, what is on them, whether they are in use.
 * libblkid for partition tables and file systems, sysfs for the rest.
 * A sysroot ("" or NULL for the live system) points discovery at a captured
 * tree holding sys/ and proc/ (tests). */
#ifndef MULETTO_DISK_H
#define MULETTO_DISK_H

#include <stddef.h>
#include <stdint.h>

#define DISK_STR 256

struct disk_part {
	int number;
	char dev[DISK_STR]; /* "/dev/sda1" (may not exist for image files) */
	uint64_t start, size; /* bytes */
	char type[DISK_STR];  /* GPT type GUID, or MBR type as "0x83" */
	char name[DISK_STR];  /* GPT partition name */
	char uuid[DISK_STR];  /* partition UUID */
	uint64_t attributes;  /* GPT attribute bits; MBR: the boot indicator (0x80) */
	char fs[DISK_STR];    /* "ext4", "vfat", "swap", "" */
	char label[DISK_STR];
	char fs_uuid[DISK_STR];
	uint32_t fs_block_size; /* libblkid's BLOCK_SIZE: the least sector size it can live on */
	char mountpoint[DISK_STR]; /* "" when not mounted (a read-write mount first) */
	int mounted_rw;		   /* a file system on it is mounted read-write */
};

struct disk_info {
	char name[DISK_STR]; /* "sda", "nvme0n1", "loop3" */
	char dev[DISK_STR];  /* "/dev/sda" */
	uint64_t size;       /* bytes */
	uint32_t logical_sector_size, physical_sector_size;
	char model[DISK_STR], serial[DISK_STR];
	char transport[DISK_STR]; /* nvme sata sas usb virtio mmc scsi loop ... */
	int rotational, removable, read_only;
	char pt_type[DISK_STR]; /* "gpt", "dos", "" */
	char pt_uuid[DISK_STR];
	size_t nparts;
	struct disk_part *parts;
	int in_use;		     /* a mounted/swap partition, or holders */
	char in_use_why[DISK_STR];   /* "/dev/sda2 mounted on /", "held by md0" */
	int is_boot;		     /* the running system was booted from it */
};

/* Every whole disk (no partitions, ram, zram, or empty loop devices). */
int disk_list(const char *sysroot, struct disk_info **ret, size_t *ret_n);
void disk_list_free(struct disk_info *d, size_t n);
/* The optical drives (srN) holding a medium, which disk_list leaves out (never
 * a target: read-only), as names separated by spaces into out ("" when none). */
void disk_list_optical(const char *sysroot, char *out, size_t size);

/* One disk by device path (/dev/sdb), or an image file: for a regular file only
 * size, partitions and file systems are filled. */
int disk_probe(const char *sysroot, const char *path, struct disk_info *ret);
void disk_info_clear(struct disk_info *d);

/* Makes sure every partition of d (probed from path) has its device node:
 * the kernel re-reads the table, or is told of each partition (BLKPG, as
 * partx -a). 0 when they all exist. */
int disk_part_nodes(const char *path, const struct disk_info *d);

/* Partition table and file systems of an open fd (device or image file). */
int disk_probe_fd(int fd, uint64_t size, struct disk_info *ret);
/* The file system (fs, label, fs_uuid) in [p->start, p->start + p->size) of
 * fd; fs stays "" when libblkid finds none. */
void disk_probe_fs(int fd, struct disk_part *p);

/* ---- who may be writing to a disk (disk_rw.c) ---- */

struct disk_rw_mount {
	char dev[DISK_STR];	   /* what is mounted: "/dev/loop3p2" */
	char mountpoint[DISK_STR]; /* where: "/mnt" */
	char loop[DISK_STR];	   /* for an image file: the loop device it backs, else "" */
};

/* Whether a file system is mounted read-write on path: a block device (a whole
 * disk: itself or any of its partitions; a partition: itself) or an image file
 * (through every loop device it is the backing file of). 1 with *ret filled,
 * 0 when there is none, or a negative errno with a message. */
int disk_find_rw_mount(const char *sysroot, const char *path, struct disk_rw_mount *ret);

/* 512-byte sectors written or discarded on the block device open as fd since
 * boot (/sys/dev/block/MAJ:MIN/stat): two readings tell whether anything
 * reached it in between. -ENOTBLK for a regular file, -ENOENT when the kernel
 * does not say; no message. */
int disk_write_count(int fd, uint64_t *ret);

#endif
