/* Who may be writing to a disk while it is read: a file system mounted
 * read-write on it or on one of its partitions (for an image file: on a loop
 * device it backs), and the kernel's count of writes that reached it. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "muletto/disk/busy.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/mounts.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

/* The block device whose sysfs folder is dir (".../block/sda/sda2"), named
 * name: mounted read-write? */
static int node_rw_mount(const char *dir, const char *name, const struct mounts *m,
			 struct disk_rw_mount *ret)
{
	char path[1300], devno[32] = "";
	const char *mp;

	snprintf(path, sizeof(path), "%s/dev", dir);
	if (read_line_file(path, devno, sizeof(devno)) < 0 || !devno[0] ||
	    !(mp = mounts_find_rw(m, devno)))
		return 0;
	snprintf(ret->dev, sizeof(ret->dev), "/dev/%.200s", name);
	str_copy(ret->mountpoint, sizeof(ret->mountpoint), mp);
	return 1;
}

/* The device at dir and every partition under it (a partition has none). */
static int tree_rw_mount(const char *dir, const char *name, const struct mounts *m,
			 struct disk_rw_mount *ret)
{
	char sub[1200];
	struct dirent *de;
	DIR *dd;
	int found = node_rw_mount(dir, name, m, ret);

	if (found || !(dd = opendir(dir)))
		return found;
	while (!found && (de = readdir(dd))) {
		if (strncmp(de->d_name, name, strlen(name)) || !strcmp(de->d_name, name))
			continue;
		snprintf(sub, sizeof(sub), "%.600s/%.500s", dir, de->d_name);
		found = node_rw_mount(sub, de->d_name, m, ret);
	}
	closedir(dd);
	return found;
}

static int blk_rw_mount(const char *sysroot, const char *path, const struct stat *st,
			const struct mounts *m, struct disk_rw_mount *ret)
{
	char link[600], real[4096];

	snprintf(link, sizeof(link), "%s/sys/dev/block/%u:%u", sysroot ? sysroot : "",
		 major(st->st_rdev), minor(st->st_rdev));
	if (!realpath(link, real))
		return err_set(-ENODEV, "%s: not found in /sys: is it a disk?", path);
	return tree_rw_mount(real, strrchr(real, '/') + 1, m, ret);
}

struct rw_loop {
	const struct mounts *m;
	struct disk_rw_mount *ret;
};

static int rw_loop_one(void *ctx, const char *loop)
{
	struct rw_loop *l = ctx;
	char dir[300];
	int found;

	snprintf(dir, sizeof(dir), "/sys/block/%.200s", loop);
	found = tree_rw_mount(dir, loop, l->m, l->ret);
	if (found > 0)
		snprintf(l->ret->loop, sizeof(l->ret->loop), "/dev/%.200s", loop);
	return found;
}

/* Every loop device whose backing file is the file st describes. */
static int file_rw_mount(const struct stat *st, const struct mounts *m,
			 struct disk_rw_mount *ret)
{
	struct rw_loop l = { m, ret };

	return busy_loops_of(st, rw_loop_one, &l);
}

int disk_find_rw_mount(const char *sysroot, const char *path, struct disk_rw_mount *ret)
{
	struct disk_rw_mount found;
	struct mounts m;
	struct stat st;
	int r = 0;

	memset(&found, 0, sizeof(found));
	if (stat(path, &st) < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	mounts_read(sysroot, &m);
	if (S_ISBLK(st.st_mode))
		r = blk_rw_mount(sysroot, path, &st, &m, &found);
	else if (S_ISREG(st.st_mode))
		r = file_rw_mount(&st, &m, &found);
	mounts_free(&m);
	if (r > 0)
		*ret = found;
	return r;
}

int disk_write_count(int fd, uint64_t *ret)
{
	char path[128], line[512];
	uint64_t v[14] = { 0 };
	struct stat st;
	int n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat", major(st.st_rdev),
		 minor(st.st_rdev));
	if (read_line_file(path, line, sizeof(line)) < 0)
		return -ENOENT;
	/* reads, merges, sectors, ticks; the same for writes; in flight, io and queue
	 * ticks; the same four for discards; flushes. Sectors, not requests: a
	 * flush with no data (an fsync) counts as a write request. */
	n = sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			 " %" SCNu64 " %" SCNu64,
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
		   &v[11], &v[12], &v[13]);
	if (n < 7)
		return -ENOENT;
	*ret = v[6] + (n >= 14 ? v[13] : 0);
	return 0;
}
