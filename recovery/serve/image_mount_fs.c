/* Which partition to mount and mount(2) itself: the file systems this kernel
 * can mount, the choice by size, and journals a read-only device cannot
 * replay. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/mounts.h"
#include "muletto/store/netfs.h"
#include "image_mount_int.h"

#define NODE_WAIT_MS 5000
#define NODE_POLL_MS 20
#define PART_LIST_MAX 1024

/* /proc/filesystems lists type as a file system on a block device. */
static int fs_listed(const char *type)
{
	char line[128];
	FILE *f = fopen("/proc/filesystems", "re");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *t = strchr(line, '\t');
		if (!t || !strncmp(line, "nodev", 5))
			continue;
		t[strcspn(t, "\n")] = 0;
		found = !strcmp(t + 1, type);
	}
	fclose(f);
	return found;
}

/* The kernel's name for the file system libblkid calls type, its module
 * loaded: into out, 0; -ENODEV when this kernel has none. */
static int fs_kernel_type(const char *type, char *out, size_t size)
{
	static const struct {
		const char *blkid, *kernel[2];
	} alias[] = {
		{ "ext2", { "ext2", "ext4" } }, /* ext4's driver reads them all */
		{ "ext3", { "ext3", "ext4" } },
		{ "ntfs", { "ntfs3", "ntfs" } },
	};
	const char *names[2] = { type, NULL };
	char module[64];
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(alias); i++)
		if (!strcmp(type, alias[i].blkid))
			memcpy(names, alias[i].kernel, sizeof(names));
	for (j = 0; j < ARRAY_SIZE(names) && names[j]; j++) {
		if (!fs_listed(names[j])) {
			snprintf(module, sizeof(module), "fs-%s", names[j]);
			netfs_modprobe(module); /* the alias every file system module has */
		}
		if (fs_listed(names[j])) {
			str_copy(out, size, names[j]);
			return 0;
		}
	}
	return -ENODEV;
}

/* Why a type libblkid knows is not mounted, for the common ones. */
static const char *fs_why_not(const char *type)
{
	static const char *const why[][2] = {
		{ "swap", " (swap space: no files)" },
		{ "LVM2_member", " (an LVM physical volume: restore the image to reach its volumes)" },
		{ "linux_raid_member", " (a member of a RAID array: restore the image)" },
		{ "crypto_LUKS", " (an encrypted volume: restore the image, then open it)" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(why); i++)
		if (!strcmp(type, why[i][0]))
			return why[i][1];
	return "";
}

/* "1 (vfat "ESP", 40 MiB), 2 (ext4 "root", 55 MiB)" */
static void parts_describe(const struct disk_info *d, char *out, size_t size)
{
	size_t i, n = 0;
	char hs[32];

	out[0] = 0;
	for (i = 0; i < d->nparts && n < size; i++) {
		const struct disk_part *p = &d->parts[i];
		human_size(p->size, hs, sizeof(hs));
		n += (size_t)snprintf(out + n, size - n, "%s%d (%s%s%s%s, %s)", i ? ", " : "",
				      p->number, p->fs[0] ? p->fs : "no file system",
				      p->label[0] ? " \"" : "", p->label, p->label[0] ? "\"" : "", hs);
	}
}

static void info_fill(struct image_mount_info *m, const struct disk_part *p, const char *ktype)
{
	m->partition = p->number;
	str_copy(m->part_dev, sizeof(m->part_dev), p->dev[0] ? p->dev : m->device);
	str_copy(m->fs, sizeof(m->fs), ktype);
	str_copy(m->label, sizeof(m->label), p->label);
	m->size = p->size;
}

/* The partitions the nbd driver shows are 1 to max_part - 1. */
static int part_shown(const struct disk_part *p, int max_part)
{
	return max_part < 0 || p->number < max_part;
}

static int pick_number(const struct disk_info *d, int max_part, int want,
		       struct image_mount_info *m)
{
	char list[PART_LIST_MAX], ktype[32];
	const struct disk_part *p = NULL;
	size_t i;

	parts_describe(d, list, sizeof(list));
	for (i = 0; i < d->nparts && !p; i++)
		if (d->parts[i].number == want)
			p = &d->parts[i];
	if (!p)
		return err_set(-ENOENT, "%s has no partition %d; it has %s: choose one with "
					"--partition N", m->image, want, list);
	if (!p->fs[0])
		return err_set(-ENOENT, "partition %d of %s holds no file system libblkid knows; "
					"%s has %s: choose another with --partition N", want,
			       m->image, m->image, list);
	if (!part_shown(p, max_part))
		return err_set(-ERANGE, "partition %d of %s: the nbd driver shows partitions 1 to %d "
					"only (max_part=%d): rmmod nbd, then modprobe nbd "
					"max_part=64", want, m->image, max_part - 1, max_part);
	if (fs_kernel_type(p->fs, ktype, sizeof(ktype)) < 0)
		return err_set(-ENODEV, "partition %d of %s holds %s, which this system cannot "
					"mount%s; %s has %s: choose another with --partition N",
			       want, m->image, p->fs, fs_why_not(p->fs), m->image, list);
	info_fill(m, p, ktype);
	return 0;
}

static int pick_largest(const struct disk_info *d, int max_part, struct image_mount_info *m)
{
	char list[PART_LIST_MAX], ktype[32], best_type[32] = "";
	const struct disk_part *best = NULL;
	size_t i;

	for (i = 0; i < d->nparts; i++) {
		const struct disk_part *p = &d->parts[i];
		if (!p->fs[0] || !part_shown(p, max_part) || (best && p->size <= best->size) ||
		    fs_kernel_type(p->fs, ktype, sizeof(ktype)) < 0)
			continue;
		best = p;
		str_copy(best_type, sizeof(best_type), ktype);
	}
	if (best) {
		info_fill(m, best, best_type);
		return 0;
	}
	parts_describe(d, list, sizeof(list));
	if (max_part == 0)
		return err_set(-ENOTSUP, "the nbd driver shows no partitions (it was loaded with "
					 "max_part=0): rmmod nbd, then modprobe nbd max_part=16");
	return err_set(-ENOENT, "no partition of %s holds a file system this system can mount; "
				"it has %s: restore the image instead", m->image, list);
}

/* A disk without a partition table: a file system on the whole of it. */
static int pick_whole(int fd, uint64_t size, int want, struct image_mount_info *m)
{
	struct disk_part p = { .number = 0, .start = 0, .size = size };
	char ktype[32];

	disk_probe_fs(fd, &p);
	if (want && p.fs[0])
		return err_set(-ENOENT, "%s has no partition table (%s on the whole disk): leave "
					"--partition out", m->image, p.fs);
	if (!p.fs[0])
		return err_set(-ENOENT, "%s has neither a partition table nor a file system libblkid "
					"knows: there is nothing to mount; restore the image instead",
			       m->image);
	if (fs_kernel_type(p.fs, ktype, sizeof(ktype)) < 0)
		return err_set(-ENODEV, "%s holds %s on the whole disk, which this system cannot "
					"mount%s", m->image, p.fs, fs_why_not(p.fs));
	info_fill(m, &p, ktype);
	return 0;
}

int image_mount_pick(int fd, uint64_t size, int max_part, int want, struct image_mount_info *m)
{
	struct disk_info d;
	int r;

	memset(&d, 0, sizeof(d));
	str_copy(d.dev, sizeof(d.dev), m->device);
	r = disk_probe_fd(fd, size, &d);
	if (r == 0 && d.nparts == 0)
		r = pick_whole(fd, size, want, m);
	else if (r == 0)
		r = want ? pick_number(&d, max_part, want, m) : pick_largest(&d, max_part, m);
	disk_info_clear(&d);
	return r;
}

/* What a failed mount(2) means, said after its error. */
static const char *mount_hint(int e)
{
	switch (e) {
	case EINVAL:
	case EUCLEAN:
	case EIO:
	case EBADMSG:
		return ": the file system is damaged or not what libblkid took it for; try another "
		       "partition (--partition N), or restore the image and check it (fsck)";
	case ENODEV:
		return ": this kernel has no driver for it";
	case EROFS:
		return ": it cannot be mounted read-only as it is (its journal needs replaying)";
	default:
		return "";
	}
}

static int node_wait(const struct image_mount_info *m)
{
	int waited;

	for (waited = 0; access(m->part_dev, F_OK) != 0; waited += NODE_POLL_MS) {
		if (waited >= NODE_WAIT_MS)
			return err_set(-ENOENT, "%s did not appear: the kernel found no partition %d "
						"in the partition table of %s", m->part_dev,
				       m->partition, m->image);
		sleep_ms(NODE_POLL_MS);
	}
	return 0;
}

int image_mount_fs(struct image_mount_info *m)
{
	/* What mounts a file system whose journal a read-only device cannot replay. */
	static const char *const no_replay[][2] = {
		{ "ext3", "noload" }, { "ext4", "noload" }, { "xfs", "norecovery" },
		{ "btrfs", "rescue=nologreplay" },
	};
	unsigned long flags = MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC;
	char what[400];
	size_t i;
	int e, r = node_wait(m);

	if (r < 0)
		return r;
	if (mount(m->part_dev, m->dir, m->fs, flags, NULL) == 0)
		return 0;
	e = errno;
	for (i = 0; i < ARRAY_SIZE(no_replay) && e != ENODEV; i++)
		if (!strcmp(m->fs, no_replay[i][0]) &&
		    mount(m->part_dev, m->dir, m->fs, flags, no_replay[i][1]) == 0) {
			m->journal_skipped = 1;
			event_notice("%s: its journal was not replayed (%s; a read-only device cannot): "
				     "what was written last before the capture may be missing",
				     m->part_dev, no_replay[i][1]);
			return 0;
		}
	if (m->partition)
		snprintf(what, sizeof(what), "partition %d of %s", m->partition, m->image);
	else
		snprintf(what, sizeof(what), "%s", m->image);
	return err_set(-e, "cannot mount %s (%s, %s) on %s: %s%s", what, m->fs, m->part_dev, m->dir,
		       strerror(e), mount_hint(e));
}

int image_mount_is_mounted(const struct image_mount_info *m)
{
	struct mounts t;
	const char *src;
	int yes;

	mounts_read(NULL, &t);
	src = mounts_source_at(&t, m->dir);
	yes = src && !strcmp(src, m->part_dev);
	mounts_free(&t);
	return yes;
}
