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
	char fs[DISK_STR];    /* "ext4", "vfat", "swap", "" */
	char label[DISK_STR];
	char fs_uuid[DISK_STR];
	char mountpoint[DISK_STR]; /* "" when not mounted */
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

/* One disk by device path (/dev/sdb), or an image file: for a regular file only
 * size, partitions and file systems are filled. */
int disk_probe(const char *sysroot, const char *path, struct disk_info *ret);
void disk_info_clear(struct disk_info *d);

/* Partition table and file systems of an open fd (device or image file). */
int disk_probe_fd(int fd, uint64_t size, struct disk_info *ret);

#endif
