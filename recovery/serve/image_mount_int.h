/* What image_mount.c, image_mount_fs.c and image_mount_record.c share. */
#ifndef MULETTO_SERVE_IMAGE_MOUNT_INT_H
#define MULETTO_SERVE_IMAGE_MOUNT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/serve/image_mount.h"

/* image_mount_fs.c */

/* Chooses what to mount on the disk open as fd (m->device, size bytes, image
 * m->image): partition want, or (0) the largest one holding a file system
 * this kernel can mount; a disk without a partition table is mounted whole.
 * max_part: the partitions the nbd driver shows (-1: not known). Fills
 * m->partition, part_dev, fs (the kernel's name of the type), label, size. */
int image_mount_pick(int fd, uint64_t size, int max_part, int want, struct image_mount_info *m);
/* Waits for m->part_dev to appear, then mount(2)s it on m->dir read-only,
 * nodev, nosuid, noexec; a file system whose journal needs replaying, which a
 * read-only device cannot do, is mounted without it (m->journal_skipped). */
int image_mount_fs(struct image_mount_info *m);
/* 1 when m->part_dev is what is mounted on m->dir. */
int image_mount_is_mounted(const struct image_mount_info *m);

/* image_mount_record.c */

/* Writes the record of m under IMAGE_MOUNT_DIR and locks it; *ret_fd holds
 * the lock until image_mount_record_remove(). */
int image_mount_record_write(const struct image_mount_info *m, const char *repo, int *ret_fd);
void image_mount_record_remove(const struct image_mount_info *m, int fd);
/* The record naming dir (a realpath): 1 with *ret filled and ret->pid the
 * process holding its lock (0: nobody, the server died), 0 when there is
 * none, or a negative errno. */
int image_mount_record_find(const char *dir, struct image_mount_info *ret);

#endif
