/* The operating systems on a restored disk, found and fixed (see fixup.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/lock.h"
#include "muletto/fixup/fixup.h"
#include "muletto/fixup/linux.h"
#include "muletto/fixup/win.h"

static int fixup_is_linux_fs(const char *fs)
{
	static const char *const kinds[] = { "ext2", "ext3", "ext4", "xfs", "btrfs" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(fs, kinds[i]))
			return 1;
	return 0;
}

/* The disk as it is, refused when it cannot be fixed safely. */
static int fixup_open(const char *path, struct disk_info *d)
{
	struct stat st;
	size_t i;
	int r;

	if (stat(path, &st) < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return err_set(-ENOTBLK, "%s is not a disk: fixup works on a disk's partitions; for "
					 "an image file, attach it with 'losetup -P --find --show "
					 "%s' and name the loop device", path, path);
	if ((r = disk_probe(NULL, path, d)) < 0)
		return r;
	if (d->is_boot)
		r = err_set(-EPERM, "refusing to change %s: the running system was booted from it",
			    path);
	else if (d->in_use)
		r = err_set(-EBUSY, "refusing to change %s: %s; unmount or stop it first", path,
			    d->in_use_why);
	else if (!d->nparts)
		r = err_set(-ENOENT, "%s has no partitions, so no operating system to fix", path);
	if (r == 0 && disk_part_nodes(path, d) < 0)
		debug_log("fixup", "%s", err_msg());
	for (i = 0; r == 0 && i < d->nparts; i++)
		if (d->parts[i].fs[0] && access(d->parts[i].dev, F_OK) < 0)
			r = err_set(-ENOENT, "%s's partition %d has no device node (%s): for a loop "
					     "device, 'partx -a %s' (or attach it with losetup -P)",
				    path, d->parts[i].number, d->parts[i].dev, path);
	if (r < 0)
		disk_info_clear(d);
	return r;
}

int fixup_disk(const char *path, const struct fixup_opts *o, struct fixup_report *out,
	       size_t max, size_t *n)
{
	struct disk_info d;
	struct lock *lock = NULL;
	struct stat st;
	char name[128];
	size_t i;
	int r, rc = 0;

	*n = 0;
	if ((r = fixup_open(path, &d)) < 0)
		return r;
	if (!o->dry_run && (stat(path, &st) < 0 || (r = lock_target(path, &st, &lock)) < 0)) {
		disk_info_clear(&d);
		return r < 0 ? r : err_set(-errno, "%s: %s", path, strerror(errno));
	}
	for (i = 0; i < d.nparts && *n < max; i++) {
		struct disk_part *p = &d.parts[i];
		struct fixup_report *rep = &out[*n];
		if (!strcmp(p->fs, "ntfs") || !strcasecmp(p->fs, "BitLocker")) {
			memset(rep, 0, sizeof(*rep));
			r = fixup_windows(&d, p, o, rep);
			if (r > 0) {
				(*n)++;
				if (rep->refused && rc == 0)
					rc = err_set(-EPERM, "%s on %s was refused: %s", rep->name,
						     p->dev, rep->n ? rep->items[rep->n - 1].detail : "");
			} else if (r < 0 && rc == 0) {
				rc = r;
			}
			continue;
		}
		if (!fixup_is_linux_fs(p->fs) || (r = fixup_linux_probe(p, name, sizeof(name))) <= 0)
			continue;
		memset(rep, 0, sizeof(*rep));
		str_copy(rep->name, sizeof(rep->name), name);
		(*n)++;
		event_notice("%s: %s on %s", o->dry_run ? "looking at" : "fixing", name, p->dev);
		r = fixup_linux(&d, p, o, rep);
		if (r < 0 && rc == 0)
			rc = r;
	}
	if (*n == 0 && rc == 0)
		rc = err_set(-ENOENT, "no operating system found on %s (no partition holds a Linux "
				      "root with etc/os-release and etc/fstab, nor Windows with "
				      "Windows/System32/config/SYSTEM)", path);
	else if (rc < 0) {
		char cause[ERR_MSG_MAX];
		str_copy(cause, sizeof(cause), err_msg());
		rc = err_set(rc, "%s: not every fix-up could be done: %s", path, cause);
	}
	lock_release(lock);
	disk_info_clear(&d);
	return rc;
}
