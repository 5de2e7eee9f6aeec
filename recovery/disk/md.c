/* MD members: superblocks read, 1.1/1.2 members resized (see md.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/disk/fs.h"
#include "muletto/disk/md.h"

#define MD_MAGIC 0xa92b4efcU
#define MD_SB_SIZE 4096	       /* what is read: a 1.x superblock with its roles */
#define MD_090_RESERVED 65536ULL /* 0.90: the last 64 KiB-aligned 64 KiB */

static uint64_t md_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void md_level_name(int32_t level, char *out, size_t n)
{
	if (level == -1)
		str_copy(out, n, "linear");
	else if (level == -4)
		str_copy(out, n, "multipath");
	else if (level == -5)
		str_copy(out, n, "faulty");
	else if (level >= 0 && level <= 10)
		snprintf(out, n, "raid%d", level);
	else
		snprintf(out, n, "level %d", level);
}

/* A 1.x superblock at byte at of the partition, which must say it is there
 * (super_offset, in 512-byte sectors). */
static int md_try_1(int fd, uint64_t off, uint64_t size, uint64_t at, const char *minor,
		    struct md_info *ret)
{
	unsigned char sb[MD_SB_SIZE];
	size_t got = 0;
	int r;

	if (at + 256 > size)
		return -ENOENT;
	r = pread_full(fd, sb, sizeof(sb), off + at, &got);
	if (r < 0)
		return r;
	if (got < 256 || md_le(sb, 4) != MD_MAGIC || md_le(sb + 4, 4) != 1 ||
	    md_le(sb + 144, 8) != at / 512)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->metadata, sizeof(ret->metadata), "1.%s", minor);
	md_level_name((int32_t)md_le(sb + 72, 4), ret->level, sizeof(ret->level));
	ret->raid_disks = (uint32_t)md_le(sb + 92, 4);
	ret->data_offset = md_le(sb + 128, 8) * 512;
	ret->data_size = md_le(sb + 136, 8) * 512;
	if (ret->data_offset > size || ret->data_size > size - ret->data_offset)
		return -ENOENT; /* not one that fits its partition: not taken for one */
	return 0;
}

int md_probe(int fd, uint64_t off, uint64_t size, struct md_info *ret)
{
	unsigned char sb[64];
	uint64_t at;
	size_t got = 0;
	int r;

	if ((r = md_try_1(fd, off, size, 0, "1", ret)) != -ENOENT ||
	    (r = md_try_1(fd, off, size, 4096, "2", ret)) != -ENOENT)
		return r;
	if (size >= 16 * 512 && (r = md_try_1(fd, off, size, ((size / 512 - 16) & ~7ULL) * 512,
					      "0", ret)) != -ENOENT)
		return r;
	if (size < 2 * MD_090_RESERVED)
		return -ENOENT;
	at = (size & ~(MD_090_RESERVED - 1)) - MD_090_RESERVED;
	if ((r = pread_full(fd, sb, sizeof(sb), off + at, &got)) < 0)
		return r;
	if (got < sizeof(sb) || md_le(sb, 4) != MD_MAGIC || md_le(sb + 4, 4) != 0)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->metadata, sizeof(ret->metadata), "0.%" PRIu64, md_le(sb + 8, 4));
	md_level_name((int32_t)md_le(sb + 28, 4), ret->level, sizeof(ret->level));
	ret->raid_disks = (uint32_t)md_le(sb + 40, 4);
	ret->data_size = md_le(sb + 32, 4) * 1024; /* in KiB */
	return 0;
}

int md_super_at_end(const char *metadata)
{
	return !strncmp(metadata, "0.", 2) || !strcmp(metadata, "1.0");
}

const char *md_why_fixed(int number, const char *metadata, char *buf, size_t n)
{
	if (!metadata[0] || !md_super_at_end(metadata))
		return NULL;
	snprintf(buf, n, "partition %d: MD superblock %s lives at the end of the partition; "
			 "resizing it would lose the array: restore with --layout same or onto a "
			 "disk of the same size", number, metadata);
	return buf;
}

/* A name for the array, free on this machine. */
static void md_name(char *out, size_t n)
{
	int i;

	for (i = 0; i < 64; i++) {
		snprintf(out, n, "/dev/md/muletto-fit%d", i);
		if (access(out, F_OK) < 0)
			return;
	}
}

/* The member dev of the array md told its new size (KiB): its superblock
 * then says the data ends there, so the array assembles from the shrunk
 * partition (the kernel refuses a member smaller than its superblock says). */
static int md_member_size(const char *md, const char *dev, uint64_t kib)
{
	char real[4096], path[4300], v[32];
	const char *name, *d = strrchr(dev, '/');
	int fd, r = 0;

	if (!realpath(md, real))
		return err_set(-errno, "%s: %s", md, strerror(errno));
	name = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	snprintf(path, sizeof(path), "/sys/block/%s/md/dev-%s/size", name, d ? d + 1 : dev);
	snprintf(v, sizeof(v), "%" PRIu64 "\n", kib);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
	    write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		r = err_set(-errno, "cannot tell %s its member's new size (%s): %s", md, path,
			    strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* The array at md: its file system fitted (grown, or shrunk first) and the
 * array's size changed. */
static int md_resize(const char *md, const char *dev, uint64_t size, uint64_t data_offset,
		     int grow, const char *fs, char *verdict, size_t n, char *out, size_t out_size)
{
	char kib[48], v[64] = "";
	const char *max[] = { "mdadm", "--grow", md, "--size=max", NULL };
	const char *set[] = { "mdadm", "--grow", md, kib, NULL };
	uint64_t data = (size - data_offset) / (64 * 1024) * (64 * 1024);
	int r;

	if (grow) {
		r = spawn_run(max, out, out_size);
		/* the file system told the device's size: it grows to fill it */
		if (r == 0)
			r = fs_fit_dev(md, 0, fs, v, sizeof(v));
	} else {
		r = fs_fit_dev(md, data, fs, v, sizeof(v));
		snprintf(kib, sizeof(kib), "--size=%" PRIu64, data / 1024);
		if (r == 0)
			r = spawn_run(set, out, out_size);
		if (r == 0)
			r = md_member_size(md, dev, data / 1024);
	}
	snprintf(verdict, n, "md %s, %s", grow ? "grown" : "shrunk", v);
	return r;
}

int md_fit(const char *path, uint64_t off, uint64_t room, uint64_t size, uint64_t data_offset,
	   const char *fs, char *verdict, size_t n)
{
	char dev[64], md[64], out[4096];
	const char *assemble[] = { "mdadm", "--assemble", "--run", md, dev, NULL };
	const char *stop[] = { "mdadm", "--stop", md, NULL };
	int loop = -1, r, r2;

	verdict[0] = 0;
	if (!fs[0] || !fs_can_grow(fs) || (size < room && fs_can_shrink(fs) != 1))
		return err_set(-EOPNOTSUPP, "%s at offset %" PRIu64 ": muletto cannot %s the %s "
					    "file system inside this MD member; restore with "
					    "--layout same or onto a disk of the same size", path, off,
			       size < room ? "shrink" : "grow", fs[0] ? fs : "unknown");
	if (size <= data_offset)
		return err_set(-ENOSPC, "%s at offset %" PRIu64 ": %" PRIu64 " bytes leave no room "
					"for the MD member's data, which starts at %" PRIu64, path,
			       off, size, data_offset);
	/* growing: the partition is its new size; shrinking: its old one (room) */
	r = fs_loop_attach(path, off, size < room ? room : size, 0, dev, sizeof(dev), &loop);
	if (r < 0)
		return r;
	md_name(md, sizeof(md));
	r = spawn_run(assemble, out, sizeof(out));
	if (r < 0) {
		close(loop);
		return r; /* mdadm's own message */
	}
	r = md_resize(md, dev, size, data_offset, size >= room, fs, verdict, n, out, sizeof(out));
	r2 = spawn_run(stop, out, sizeof(out));
	close(loop);
	return r < 0 ? r : r2;
}
