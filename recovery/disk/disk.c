/* The machine's disks from sysfs: identity, transport, and whether they are in use. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "muletto/disk/disk.h"
#include "muletto/disk/mounts.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

/* <sysroot>/sys/block/<name>[/<attr>] */
static void sys_path(const char *sysroot, char *out, size_t n, const char *name, const char *attr)
{
	snprintf(out, n, "%s/sys/block/%.200s%s%.200s", sysroot ? sysroot : "", name,
		 attr[0] ? "/" : "", attr);
}

static void sys_read(const char *sysroot, const char *name, const char *attr, char *out,
		     size_t n)
{
	char path[768];
	size_t i, k;

	out[0] = 0;
	sys_path(sysroot, path, sizeof(path), name, attr);
	if (read_line_file(path, out, n) < 0)
		return;
	for (i = 0; out[i] == ' '; i++)
		;
	memmove(out, out + i, strlen(out + i) + 1);
	for (k = strlen(out); k && out[k - 1] == ' '; k--)
		out[k - 1] = 0;
}

static uint64_t sys_u64(const char *sysroot, const char *name, const char *attr)
{
	char v[64];

	sys_read(sysroot, name, attr, v, sizeof(v));
	return strtoull(v, NULL, 10);
}

static void disk_transport(const char *sysroot, const char *name, char *out, size_t n)
{
	static const struct {
		const char *needle, *transport;
	} map[] = {
		{ "/usb", "usb" },	   { "/nvme", "nvme" },	   { "/virtio", "virtio" },
		{ "/mmc_host", "mmc" },	   { "/end_device-", "sas" }, { "/ata", "sata" },
		{ "/vbd-", "xen" },	   { "/host", "scsi" },
	};
	char path[768], link[1024];
	ssize_t k;
	size_t i;

	str_copy(out, n, "");
	if (!strncmp(name, "loop", 4) || !strncmp(name, "md", 2) || !strncmp(name, "dm-", 3)) {
		str_copy(out, n, !strncmp(name, "loop", 4) ? "loop" : name[0] == 'm' ? "md" : "dm");
		return;
	}
	sys_path(sysroot, path, sizeof(path), name, "");
	k = readlink(path, link, sizeof(link) - 1);
	if (k <= 0)
		return;
	link[k] = 0;
	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (strstr(link, map[i].needle)) {
			str_copy(out, n, map[i].transport);
			return;
		}
}

/* USB disks keep their serial number on the USB device, a few levels up. */
static void usb_serial(const char *sysroot, const char *name, char *out, size_t n)
{
	char path[768], real[4096], file[4200];
	int up;

	sys_path(sysroot, path, sizeof(path), name, "device");
	if (!realpath(path, real) || !strstr(real, "/usb"))
		return;
	for (up = 0; up < 6; up++) {
		char *slash = strrchr(real, '/');
		snprintf(file, sizeof(file), "%s/serial", real);
		if (read_line_file(file, out, n) == 0 && out[0])
			return;
		if (!slash || slash == real)
			return;
		*slash = 0;
	}
}

static void disk_identity(const char *sysroot, struct disk_info *d)
{
	sys_read(sysroot, d->name, "device/model", d->model, sizeof(d->model));
	sys_read(sysroot, d->name, "device/serial", d->serial, sizeof(d->serial));
	if (!d->serial[0])
		sys_read(sysroot, d->name, "serial", d->serial, sizeof(d->serial));
	if (!d->serial[0])
		sys_read(sysroot, d->name, "device/wwid", d->serial, sizeof(d->serial));
	if (!d->serial[0])
		sys_read(sysroot, d->name, "wwid", d->serial, sizeof(d->serial));
	if (!d->serial[0])
		usb_serial(sysroot, d->name, d->serial, sizeof(d->serial));
	if (!d->model[0] && !strncmp(d->name, "loop", 4))
		sys_read(sysroot, d->name, "loop/backing_file", d->model, sizeof(d->model));
}

/* Fills everything sysfs knows about /sys/block/<name>. */
static int disk_from_sysfs(const char *sysroot, const char *name, struct disk_info *d)
{
	char v[64];

	memset(d, 0, sizeof(*d));
	str_copy(d->name, sizeof(d->name), name);
	snprintf(d->dev, sizeof(d->dev), "/dev/%.200s", name);
	d->size = sys_u64(sysroot, name, "size") * 512;
	d->logical_sector_size = (uint32_t)sys_u64(sysroot, name, "queue/logical_block_size");
	d->physical_sector_size = (uint32_t)sys_u64(sysroot, name, "queue/physical_block_size");
	d->rotational = (int)sys_u64(sysroot, name, "queue/rotational");
	d->removable = (int)sys_u64(sysroot, name, "removable");
	d->read_only = (int)sys_u64(sysroot, name, "ro");
	disk_identity(sysroot, d);
	disk_transport(sysroot, name, d->transport, sizeof(d->transport));
	sys_read(sysroot, name, "dev", v, sizeof(v));
	return 0;
}

/* ---- in use, boot ---- */

static int dir_nonempty(const char *path, char *first, size_t n)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			str_copy(first, n, de->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

static int is_swap(const char *sysroot, const char *name)
{
	char path[512], line[1024], want[300];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/proc/swaps", sysroot ? sysroot : "");
	snprintf(want, sizeof(want), "/dev/%.200s ", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, want, strlen(want));
	fclose(f);
	return found;
}

/* "LVM volume vg0-root (/dev/dm-0)", "RAID array /dev/md0": what holds a disk. */
static void holder_describe(const char *sysroot, const char *holder, char *out, size_t n)
{
	char name[DISK_STR], uuid[DISK_STR];
	const char *kind = "device-mapper";

	if (!strncmp(holder, "md", 2)) {
		snprintf(out, n, "RAID array /dev/%.60s", holder);
		return;
	}
	if (strncmp(holder, "dm-", 3)) {
		snprintf(out, n, "/dev/%.60s", holder);
		return;
	}
	sys_read(sysroot, holder, "dm/name", name, sizeof(name));
	sys_read(sysroot, holder, "dm/uuid", uuid, sizeof(uuid));
	if (!strncmp(uuid, "LVM-", 4))
		kind = "LVM volume";
	else if (!strncmp(uuid, "CRYPT-", 6))
		kind = "encrypted volume";
	snprintf(out, n, "%s %.100s (/dev/%.60s)", kind, name[0] ? name : holder, holder);
}

/* One block device (the disk or a partition): mounted, swap or held? */
static int node_in_use(const char *sysroot, const char *dir, const char *name,
		       const struct mounts *m, char *why, size_t n)
{
	char path[768], devno[32] = "", holder[DISK_STR], what[DISK_STR];
	const char *mp;

	snprintf(path, sizeof(path), "%s/dev", dir);
	read_line_file(path, devno, sizeof(devno));
	if (devno[0] && (mp = mounts_find(m, devno))) {
		snprintf(why, n, "/dev/%.60s is mounted on %.150s", name, mp);
		return 1;
	}
	if (is_swap(sysroot, name)) {
		snprintf(why, n, "/dev/%.60s is in use as swap", name);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/holders", dir);
	if (dir_nonempty(path, holder, sizeof(holder))) {
		holder_describe(sysroot, holder, what, sizeof(what));
		snprintf(why, n, "/dev/%.60s is held by %.150s", name, what);
		return 1;
	}
	return 0;
}

static void disk_check_in_use(const char *sysroot, struct disk_info *d, const struct mounts *m)
{
	char dir[600], sub[1200];
	struct dirent *de;
	DIR *dd;

	snprintf(dir, sizeof(dir), "%s/sys/block/%.200s", sysroot ? sysroot : "", d->name);
	if (node_in_use(sysroot, dir, d->name, m, d->in_use_why, sizeof(d->in_use_why))) {
		d->in_use = 1;
		return;
	}
	dd = opendir(dir);
	if (!dd)
		return;
	while (!d->in_use && (de = readdir(dd))) {
		if (strncmp(de->d_name, d->name, strlen(d->name)) || !strcmp(de->d_name, d->name))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		d->in_use = node_in_use(sysroot, sub, de->d_name, m, d->in_use_why,
					sizeof(d->in_use_why));
	}
	closedir(dd);
}

#define BOOT_MAX 16
struct boot_set {
	int n;
	char name[BOOT_MAX][64];
};

/* Adds the whole disk(s) under the block device devno ("8:2"), following
 * device-mapper and RAID slaves down to disks. */
static void boot_add_devno(const char *sysroot, const char *devno, struct boot_set *b, int depth)
{
	char path[600], real[4096], sub[4200], *p, *disk;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/sys/dev/block/%.30s", sysroot ? sysroot : "", devno);
	if (depth > 4 || !realpath(path, real))
		return;
	snprintf(sub, sizeof(sub), "%s/slaves", real);
	d = opendir(sub);
	if (d) {
		int any = 0;
		while ((de = readdir(d))) {
			char slave_dev[4300], sd[32] = "";
			if (de->d_name[0] == '.')
				continue;
			snprintf(slave_dev, sizeof(slave_dev), "%.4000s/%.200s/dev", sub, de->d_name);
			if (read_line_file(slave_dev, sd, sizeof(sd)) == 0 && sd[0]) {
				boot_add_devno(sysroot, sd, b, depth + 1);
				any = 1;
			}
		}
		closedir(d);
		if (any)
			return;
	}
	/* .../block/sda/sda2 -> sda ; .../block/nvme0n1 -> nvme0n1 (the last "/block/") */
	for (p = NULL, disk = real; (disk = strstr(disk, "/block/")); disk++)
		p = disk;
	if (!p || b->n >= BOOT_MAX)
		return;
	disk = p + 7;
	disk[strcspn(disk, "/")] = 0;
	str_copy(b->name[b->n++], sizeof(b->name[0]), disk);
}

static void boot_disks(const char *sysroot, const struct mounts *m, struct boot_set *b)
{
	static const char *const mps[] = { "/", "/run/live/medium", "/run/initramfs/live",
					   "/cdrom", "/boot", "/boot/efi" };
	static const char *const media[] = { "MULETTO_BOOT_MEDIUM", "MULETTO_CONFIG_MEDIUM" };
	size_t i, k;
	struct stat st;
	char devno[32];

	memset(b, 0, sizeof(*b));
	for (i = 0; i < ARRAY_SIZE(mps); i++)
		for (k = 0; k < m->n; k++)
			if (!strcmp(m->e[k].mp, mps[i]))
				boot_add_devno(sysroot, m->e[k].devno, b, 0);
	/* set by the boot environment: the medium it came from, the one with muletto.conf */
	for (i = 0; i < ARRAY_SIZE(media); i++) {
		const char *medium = getenv(media[i]);
		if (medium && *medium && stat(medium, &st) == 0 && S_ISBLK(st.st_mode)) {
			snprintf(devno, sizeof(devno), "%u:%u", major(st.st_rdev),
				 minor(st.st_rdev));
			boot_add_devno(sysroot, devno, b, 0);
		}
	}
}

static int boot_has(const struct boot_set *b, const char *name)
{
	int i;

	for (i = 0; i < b->n; i++)
		if (!strcmp(b->name[i], name))
			return 1;
	return 0;
}

/* ---- the public functions ---- */

static int disk_skip(const char *sysroot, const char *name)
{
	if (name[0] == '.' || !strncmp(name, "ram", 3) || !strncmp(name, "zram", 4) ||
	    !strncmp(name, "sr", 2) || !strncmp(name, "fd", 2))
		return 1;
	/* loop devices with nothing attached have size 0 */
	return sys_u64(sysroot, name, "size") == 0;
}

void disk_list_optical(const char *sysroot, char *out, size_t size)
{
	struct dirent **names = NULL;
	char path[512];
	size_t k = 0;
	int n, i;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/sys/block", sysroot ? sysroot : "");
	n = scandir(path, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (!strncmp(name, "sr", 2) && sys_u64(sysroot, name, "size") > 0 && k < size)
			k += (size_t)snprintf(out + k, size - k, "%s%.32s", k ? " " : "", name);
		free(names[i]);
	}
	free(names);
}

/* Where each partition of the table is mounted, through its kernel node
 * (/sys/block/loop0/loop0p1). */
static void disk_parts_mounted(const char *sysroot, struct disk_info *d, const struct mounts *m)
{
	char path[768], devno[32];
	const char *mp, *base;
	size_t i;

	for (i = 0; i < d->nparts; i++) {
		struct disk_part *p = &d->parts[i];
		if (!(base = strrchr(p->dev, '/')))
			continue;
		snprintf(path, sizeof(path), "%s/sys/block/%.200s/%.200s/dev",
			 sysroot ? sysroot : "", d->name, base + 1);
		devno[0] = 0;
		if (read_line_file(path, devno, sizeof(devno)) < 0 || !devno[0])
			continue;
		mp = mounts_find_rw(m, devno);
		p->mounted_rw = mp != NULL;
		if (mp || (mp = mounts_find(m, devno)))
			str_copy(p->mountpoint, sizeof(p->mountpoint), mp);
	}
}

static void disk_fill(const char *sysroot, const char *name, const struct mounts *m,
		      const struct boot_set *b, struct disk_info *d)
{
	int fd;

	disk_from_sysfs(sysroot, name, d);
	disk_check_in_use(sysroot, d, m);
	d->is_boot = boot_has(b, name);
	if (sysroot && *sysroot)
		return; /* a captured tree: no device nodes to probe */
	fd = open(d->dev, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		disk_probe_fd(fd, d->size, d);
		close(fd);
	}
	disk_parts_mounted(sysroot, d, m);
}

int disk_list(const char *sysroot, struct disk_info **ret, size_t *ret_n)
{
	char path[512];
	struct disk_info *list = NULL;
	struct dirent **names = NULL;
	struct mounts m;
	struct boot_set b;
	size_t n = 0;
	int i, k;

	snprintf(path, sizeof(path), "%s/sys/block", sysroot ? sysroot : "");
	k = scandir(path, &names, NULL, versionsort);
	if (k < 0)
		return err_set(-errno, "cannot read %s: %s", path, strerror(errno));
	mounts_read(sysroot, &m);
	boot_disks(sysroot, &m, &b);
	list = calloc((size_t)k + 1, sizeof(*list));
	for (i = 0; i < k; i++) {
		if (list && !disk_skip(sysroot, names[i]->d_name))
			disk_fill(sysroot, names[i]->d_name, &m, &b, &list[n++]);
		free(names[i]);
	}
	free(names);
	mounts_free(&m);
	if (!list)
		return -ENOMEM;
	*ret = list;
	*ret_n = n;
	return 0;
}

void disk_list_free(struct disk_info *d, size_t n)
{
	size_t i;

	for (i = 0; d && i < n; i++)
		disk_info_clear(&d[i]);
	free(d);
}

int disk_probe(const char *sysroot, const char *path, struct disk_info *ret)
{
	char link[600], real[4096], *name;
	struct mounts m;
	struct boot_set b;
	struct stat st;
	int fd;

	memset(ret, 0, sizeof(*ret));
	if (stat(path, &st) < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_set(-errno, "%s: %s", path, strerror(errno));
		ret->size = (uint64_t)st.st_size;
		str_copy(ret->dev, sizeof(ret->dev), path);
		ret->dev[0] = 0; /* an image file has no partition device nodes */
		disk_probe_fd(fd, ret->size, ret);
		close(fd);
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return err_set(-ENOTBLK, "%s is not a disk", path);
	snprintf(link, sizeof(link), "%s/sys/dev/block/%u:%u", sysroot ? sysroot : "",
		 major(st.st_rdev), minor(st.st_rdev));
	if (!realpath(link, real))
		return err_set(-ENODEV, "%s: not found in /sys: is it a disk?", path);
	snprintf(link, sizeof(link), "%.500s/partition", real);
	if (access(link, F_OK) == 0) {
		*strrchr(real, '/') = 0;
		return err_set(-EINVAL, "%s is a partition; name the whole disk /dev/%s", path,
			       strrchr(real, '/') + 1);
	}
	name = strrchr(real, '/') + 1;
	mounts_read(sysroot, &m);
	boot_disks(sysroot, &m, &b);
	disk_fill(sysroot, name, &m, &b, ret);
	mounts_free(&m);
	return 0;
}
