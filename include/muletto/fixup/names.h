/* Disks named by the machine they were on: kernel names (/dev/sda2,
 * /dev/vda1, /dev/nvme0n1p3, /dev/mmcblk0p1), by-path and by-id links. On
 * another controller those names change, so fixup rewrites them to what
 * travels with the data (UUID=). Pure text: no disk is looked at here. */
#ifndef MULETTO_FIXUP_NAMES_H
#define MULETTO_FIXUP_NAMES_H

#include <stddef.h>

/* Splits a device name into its disk and partition number:
 * "/dev/vda3" -> "/dev/vda", 3; "/dev/nvme0n1p2" -> "/dev/nvme0n1", 2;
 * "/dev/disk/by-id/ata-X-part1" -> "/dev/disk/by-id/ata-X", 1. 0 when name
 * is not such a name (UUID=..., LABEL=..., /dev/mapper/..., a whole disk). */
int names_split(const char *name, char *disk, size_t disk_size, int *part);

/* The disk the system's own root was on, from its fstab line for "/" (or, when
 * that names no disk, the first disk a machine has: "" means any of sda, vda,
 * hda, xvda, nvme0n1, mmcblk0). */
void names_root_disk(const char *root_spec, char *disk, size_t disk_size);

/* Whether disk is the root's disk (as names_root_disk gave it). */
int names_same_disk(const char *root_disk, const char *disk);

/* What partition number a name gives on the root's disk, or 0 when it names
 * something else. */
int names_partition(const char *root_disk, const char *name);

/* A resolver: the new spec ("UUID=...") for partition part of the root's
 * disk, into out; 0 when it has none (the name is then left alone). */
typedef int (*names_resolve_fn)(void *ctx, int part, char *out, size_t out_size);

/* fstab or crypttab text (field: which field names the device, 1 for fstab,
 * 2 for crypttab) with every name of the root's disk rewritten; comments and
 * spacing kept. *changed counts the rewritten lines; each one is reported
 * through note (old name, new spec). A new string, or NULL when out of
 * memory. */
char *names_rewrite_table(const char *text, int field, const char *root_disk,
			  names_resolve_fn resolve, void *ctx,
			  void (*note)(void *ctx, const char *old, const char *now), int *changed);

/* A kernel command line (GRUB_CMDLINE_LINUX's value) with root=, resume= and
 * the like rewritten the same way. A new string or NULL. */
char *names_rewrite_cmdline(const char *line, const char *root_disk, names_resolve_fn resolve,
			    void *ctx, void (*note)(void *ctx, const char *old, const char *now),
			    int *changed);

#endif
