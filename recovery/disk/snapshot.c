/* Which sources --snapshot can take (device-mapper in the kernel, an LVM
 * logical volume, lvm2's tools), and why the others cannot. Taking, checking
 * and removing the snapshot: snapshot_lvm.c. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/lvm.h"
#include "muletto/disk/snapshot.h"
#include "snapshot_int.h"

#define NOT_DM "writes to it do not pass through device-mapper, so a snapshot of it would " \
	       "not be consistent"

/* LVM's names, as lvm2 allows them: what may go into an argv. */
static int lvm_name_ok(const char *s)
{
	if (!*s || *s == '-')
		return 0;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || strchr("+_.-", *s)))
			return 0;
	return 1;
}

/* One part of a device-mapper name LVM made ("my--vg-root"): up to the first
 * '-' that is not doubled, "--" read as '-'. Returns where the next part
 * starts (after the '-'), or NULL at the end of name. */
static const char *dm_name_part(const char *name, char *out, size_t out_size)
{
	size_t k = 0;

	for (; *name; name++) {
		if (name[0] == '-' && name[1] == '-')
			name++;
		else if (name[0] == '-')
			break;
		if (k + 1 < out_size)
			out[k++] = *name;
	}
	out[k] = 0;
	return *name ? name + 1 : NULL;
}

int snapshot_dm_lv(const char *sysdir, struct snapshot_lvid *ret)
{
	char path[PATH_MAX], uuid[256], name[256];
	const char *rest;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/dm/uuid", sysdir);
	if (read_line_file(path, uuid, sizeof(uuid)) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/dm/name", sysdir);
	if (read_line_file(path, name, sizeof(name)) < 0)
		name[0] = 0;
	str_copy(ret->dm, sizeof(ret->dm), name);
	if (strncmp(uuid, "LVM-", 4))
		return 0;
	/* "LVM-" and the group's and the volume's uuids, 32 characters each; a
	 * suffix ("-real", "-cow", "-tpool") marks a layer inside a volume */
	ret->layer = strlen(uuid) > 4 + 64;
	rest = dm_name_part(name, ret->vg, sizeof(ret->vg));
	if (rest)
		dm_name_part(rest, ret->lv, sizeof(ret->lv));
	return lvm_name_ok(ret->vg) && lvm_name_ok(ret->lv) ? 1 : 0;
}

/* The logical volumes over the device whose sysfs folder is dir (its
 * holders): the first in lv, how many in *n. */
static void holder_lvs(const char *dir, struct snapshot_lvid *lv, int *n)
{
	char path[PATH_MAX];
	struct snapshot_lvid h;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/holders", dir);
	if (!(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/block/%.200s", de->d_name);
		if (de->d_name[0] == '.' || snapshot_dm_lv(path, &h) != 1 || h.layer)
			continue;
		if (!(*n)++)
			*lv = h;
	}
	closedir(d);
}

/* An LVM physical volume on the device at dir (a partition or disk) or on a
 * partition of it: its device in pv, the first volume on it in lv. */
static int find_pv(const char *dir, const char *name, char *pv, size_t pv_size,
		   struct snapshot_lvid *lv, int *n)
{
	char sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	*n = 0;
	holder_lvs(dir, lv, n);
	if (*n) {
		snprintf(pv, pv_size, "/dev/%s", name);
		return 1;
	}
	if (!(d = opendir(dir)))
		return 0;
	while (!*n && (de = readdir(d))) {
		if (strncmp(de->d_name, name, strlen(name)) || !strcmp(de->d_name, name))
			continue;
		snprintf(sub, sizeof(sub), "%.3000s/%.200s", dir, de->d_name);
		holder_lvs(sub, lv, n);
		if (*n)
			snprintf(pv, pv_size, "/dev/%.200s", de->d_name);
	}
	closedir(d);
	return *n > 0;
}

/* What to do instead, for a source that is not an LVM volume: depends on
 * whether something has it mounted read-write. */
static void advice_not_lv(const char *path, char *out, size_t out_size)
{
	struct disk_rw_mount rm;

	if (disk_find_rw_mount(NULL, path, &rm) > 0)
		snprintf(out, out_size, "unmount it or remount it read-only (mount -o remount,ro "
			 "%s), put its file system on LVM, or capture with --live", rm.mountpoint);
	else
		snprintf(out, out_size, "nothing on it is mounted read-write: capture it without "
			 "--snapshot, or put its file system on LVM");
	err_clear();
}

/* A block device that is not a logical volume: why, in one line. */
static int refuse_blk(const char *path, const char *dir, const char *name)
{
	char pv[300], who[400], advice[600], part[PATH_MAX];
	struct snapshot_lvid lv;
	int n;

	if (find_pv(dir, name, pv, sizeof(pv), &lv, &n)) {
		if (!strcmp(pv + 5, name))
			str_copy(who, sizeof(who), "it");
		else
			snprintf(who, sizeof(who), "its partition %s", pv);
		return err_set(-EOPNOTSUPP, "--snapshot cannot be used for %s: %s is an LVM "
					    "physical volume, and only the writes to its logical "
					    "volumes pass through device-mapper; capture /dev/%s/%s "
					    "with --snapshot instead%s, or %s with --live", path, who,
			       lv.vg, lv.lv, n > 1 ? " (and its other volumes, one by one)" : "",
			       path);
	}
	snprintf(part, sizeof(part), "%.3000s/partition", dir);
	advice_not_lv(path, advice, sizeof(advice));
	return err_set(-EOPNOTSUPP, "--snapshot cannot be used for %s: it is %s, not an LVM "
				    "logical volume, and " NOT_DM "; %s", path,
		       access(part, F_OK) == 0 ? "a partition" : "a whole disk", advice);
}

/* The source, from the kernel's view: an LVM volume (1, in *ret), or not (a
 * refusal). */
static int identify(const char *path, struct snapshot_lvid *ret)
{
	char link[128], dir[PATH_MAX], advice[600];
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return err_set(-errno, "source %s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode)) {
		advice_not_lv(path, advice, sizeof(advice));
		return err_set(-EOPNOTSUPP, "--snapshot cannot be used for %s: it is %s, not an LVM "
					    "logical volume, and " NOT_DM "; %s", path,
			       S_ISREG(st.st_mode) ? "a file" : "not a block device", advice);
	}
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(link, dir))
		return err_set(-ENODEV, "source %s: not found in /sys: is it a disk?", path);
	r = snapshot_dm_lv(dir, ret);
	if (r < 0)
		return refuse_blk(path, dir, strrchr(dir, '/') + 1);
	if (r == 0)
		return err_set(-EOPNOTSUPP, "--snapshot cannot be used for %s: it is device-mapper "
					    "device %s, which LVM does not manage, and muletto takes "
					    "snapshots of LVM logical volumes only; unmount it or "
					    "remount it read-only, or capture with --live", path,
			       ret->dm[0] ? ret->dm : strrchr(dir, '/') + 1);
	if (ret->layer)
		return err_set(-EOPNOTSUPP, "--snapshot cannot be used for %s: it is %s, a layer "
					    "inside LVM volume %s/%s, not the volume; capture "
					    "/dev/%s/%s with --snapshot", path, ret->dm, ret->vg,
			       ret->lv, ret->vg, ret->lv);
	return 1;
}

int snapshot_identify(const char *path, struct snapshot_lvid *ret)
{
	int r;

	if (!lvm_have_device_mapper())
		return err_set(-EOPNOTSUPP, "--snapshot is not available on this system: the "
					    "kernel has no device-mapper (not in /proc/misc, no "
					    "dm-mod module), which LVM snapshots need; "
					    "unmount the source's file systems or remount them "
					    "read-only, or capture with --live");
	r = identify(path, ret);
	if (r < 0)
		return r;
	return lvm_tools_check();
}

int snapshot_check_source(const char *path)
{
	struct snapshot_lvid lv;

	return snapshot_identify(path, &lv);
}

int snapshot_is_lvm_volume(const char *path)
{
	struct snapshot_lvid lv;
	int r = identify(path, &lv);

	err_clear();
	return r == 1;
}
