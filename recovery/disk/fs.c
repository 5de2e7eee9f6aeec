/* File systems in partitions: roles, sizes, resizing (see fs.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/spawn.h"
#include "muletto/core/util.h"
#include "muletto/disk/fs.h"

#define FS_OUT_MAX 65536
#define FS_SWAP_HEADER 4096 /* mkswap writes its header in the first page */
#define FS_XFS_LEAST (300ULL << 20)  /* mkfs.xfs makes nothing smaller */
#define FS_BTRFS_LEAST (256ULL << 20) /* the kernel resizes no btrfs below 256 MiB */

static const struct {
	const char *type, *role;
} fs_types[] = {
	{ "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "esp" },
	{ "0xef", "esp" },
	{ "21686148-6449-6e6f-744e-656564454649", "bios_boot" },
	{ "e3c9e316-0b5c-4db8-817d-f92df00215ae", "msr" },
	{ "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "swap" },
	{ "0x82", "swap" },
	{ "e6d6d379-f507-44c2-a23c-238f2a3df928", "lvm_pv" },
	{ "0x8e", "lvm_pv" },
	{ "a19d880f-05fc-4d3b-a006-743f0f84911e", "md" },
	{ "0xfd", "md" },
	{ "ca7d7ccb-63ed-4c53-861c-1742536059cc", "luks" },
	{ "0x05", "extended" },
	{ "0x0f", "extended" },
	{ "0x85", "extended" },
};

static const struct {
	const char *fs, *role;
} fs_kinds[] = {
	{ "swap", "swap" },
	{ "LVM2_member", "lvm_pv" },
	{ "linux_raid_member", "md" },
	{ "crypto_LUKS", "luks" },
};

const char *fs_role(const char *type, const char *fs)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fs_types); i++)
		if (!strcasecmp(type, fs_types[i].type))
			return fs_types[i].role;
	for (i = 0; i < ARRAY_SIZE(fs_kinds); i++)
		if (!strcmp(fs, fs_kinds[i].fs))
			return fs_kinds[i].role;
	return "data";
}

/* The number after "key:" on a line of text, or 0. */
static uint64_t fs_field(const char *text, const char *key)
{
	size_t k = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n') && p[k] == ':')
			return strtoull(p + k + 1, NULL, 10);
		p += k;
	}
	return 0;
}

/* A loop device over [off, off+size) of the regular file path, which goes
 * away when *ret_fd is closed (LO_FLAGS_AUTOCLEAR): the tools that need a
 * device of the partition's own size get one (resize2fs, given a regular file,
 * cuts it to the new size of its file system, whatever the offset). */
static int fs_loop(const char *path, uint64_t off, uint64_t size, int ro, uint32_t block,
		   char *dev, size_t n, int *ret_fd)
{
	struct loop_config c = { .block_size = block,
				 .info = { .lo_offset = off, .lo_sizelimit = size,
					   .lo_flags = LO_FLAGS_AUTOCLEAR |
						       (ro ? LO_FLAGS_READ_ONLY : 0) } };
	int ctl = -1, file = -1, fd = -1, r = 0, tries;

	if ((ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC)) < 0 ||
	    (file = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0)
		r = -errno;
	for (tries = 0; r == 0 && tries < 8; tries++) {
		int no = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (no < 0) {
			r = -errno;
			break;
		}
		snprintf(dev, n, "/dev/loop%d", no);
		if ((fd = open(dev, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0) {
			r = -errno;
			break;
		}
		c.fd = (unsigned)file;
		if (ioctl(fd, LOOP_CONFIGURE, &c) == 0)
			break;
		r = errno == EBUSY ? 0 : -errno; /* taken meanwhile: another one */
		close(fd);
		fd = -1;
	}
	if (ctl >= 0)
		close(ctl);
	if (file >= 0)
		close(file);
	if (r == 0 && fd < 0)
		r = -EBUSY;
	if (r < 0)
		return err_set(r, "%s: cannot attach a loop device to its partition at offset "
				  "%" PRIu64 ": %s", path, off, strerror(-r));
	*ret_fd = fd;
	return 0;
}

static int fs_measure_ext(const char *dev, uint64_t *used, uint64_t *min_size)
{
	const char *head[] = { "dumpe2fs", "-h", dev, NULL };
	const char *min[] = { "resize2fs", "-P", dev, NULL };
	char *out = malloc(FS_OUT_MAX);
	uint64_t count, free_blocks, bs, least = 0;
	const char *p;
	int r;

	if (!out)
		return -ENOMEM;
	r = spawn_run(head, out, FS_OUT_MAX);
	count = fs_field(out, "Block count");
	free_blocks = fs_field(out, "Free blocks");
	bs = fs_field(out, "Block size");
	if (r == 0 && (!count || !bs || free_blocks > count))
		r = err_set(-EIO, "dumpe2fs -h %s: no block counts in its output", dev);
	if (r == 0 && spawn_run(min, out, FS_OUT_MAX) == 0 &&
	    (p = strstr(out, "minimum size of the filesystem: ")))
		least = strtoull(p + 32, NULL, 10) * bs;
	if (r == 0) {
		*used = (count - free_blocks) * bs;
		*min_size = least;
	}
	free(out);
	return r;
}

static int fs_fit_ext(const char *dev, uint64_t size, char *verdict, size_t n);
static uint64_t fs_xfs_least(uint64_t used);
static int fs_measure_fat(const char *dev, uint64_t *used, uint64_t *min_size);

/* NTFS, offline with ntfsresize: the least it can shrink to from its --info. */
static int fs_measure_ntfs(const char *dev, uint64_t *used, uint64_t *min_size)
{
	const char *info[] = { "ntfsresize", "--info", "--force", "--no-progress-bar", dev, NULL };
	char *out = malloc(FS_OUT_MAX);
	const char *p;
	int r;

	if (!out)
		return -ENOMEM;
	r = spawn_run(info, out, FS_OUT_MAX);
	if (r == 0 && (p = strstr(out, "You might resize at ")))
		*min_size = strtoull(p + 20, NULL, 10);
	if (r == 0 && (p = strstr(out, "Space in use")) && (p = strchr(p, ':')))
		*used = strtoull(p + 1, NULL, 10) * 1000000;
	free(out);
	return r;
}

static int fs_fit_ntfs(const char *dev, uint64_t size, char *verdict, size_t n)
{
	char sz[32];
	const char *resize[] = { "ntfsresize", "--force", "--no-progress-bar", "-s", sz, dev, NULL };
	const char *check[] = { "ntfsresize", "--check", "--force", dev, NULL };
	char *out = malloc(FS_OUT_MAX);
	int r;

	if (!out)
		return -ENOMEM;
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	r = spawn_run(resize, out, FS_OUT_MAX);
	if (r == 0) {
		r = spawn_run(check, out, FS_OUT_MAX);
		str_copy(verdict, n, r == 0 ? "consistent (ntfsresize --check)" :
					      "inconsistent (ntfsresize --check)");
	}
	free(out);
	return r;
}

/* XFS: used blocks from its superblock; it cannot shrink. */
static int fs_measure_xfs(const char *dev, uint64_t *used, uint64_t *min_size)
{
	const char *db[] = { "xfs_db", "-r", "-c", "sb 0", "-c", "print dblocks fdblocks blocksize",
			     dev, NULL };
	char out[4096];
	uint64_t blocks, free_blocks, bs;
	const char *p;
	int r = spawn_run(db, out, sizeof(out));

	if (r < 0)
		return r;
	blocks = (p = strstr(out, "dblocks = ")) ? strtoull(p + 10, NULL, 10) : 0;
	free_blocks = (p = strstr(out, "fdblocks = ")) ? strtoull(p + 11, NULL, 10) : 0;
	bs = (p = strstr(out, "blocksize = ")) ? strtoull(p + 12, NULL, 10) : 0;
	if (blocks && bs && free_blocks <= blocks)
		*used = (blocks - free_blocks) * bs;
	/* smaller only made anew, its files copied (fs_xfs_copy) */
	*min_size = *used ? fs_xfs_least(*used) : 0;
	return 0;
}

/* Resized while mounted (XFS, btrfs): at a private folder, resize runs
 * with "DIR" the folder and "SIZE" the size in bytes (or "max" when growing
 * to fill the device: the partition), then the file system is unmounted and
 * checked with check. */
static int fs_resize_mounted(const char *dev, const char *type, uint64_t size, int grow,
			     const char *const resize[], const char *const check[],
			     const char *clean, char *verdict, size_t n)
{
	char dir[] = "/tmp/muletto-resize.XXXXXX", out[4096], v[64], sz[32];
	const char *argv[8];
	size_t i;
	int r;

	if (!mkdtemp(dir))
		return err_set(-errno, "cannot make a folder to resize %s in: %s", type,
			       strerror(errno));
	if (mount(dev, dir, type, 0, NULL) < 0) {
		r = err_set(-errno, "cannot mount the %s file system (%s) to resize it: %s", type,
			    dev, strerror(errno));
		rmdir(dir);
		return r;
	}
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	for (i = 0; resize[i] && i + 1 < ARRAY_SIZE(argv); i++)
		argv[i] = !strcmp(resize[i], "DIR") ? dir :
			  !strcmp(resize[i], "SIZE") ? (grow ? "max" : sz) : resize[i];
	argv[i] = NULL;
	r = spawn_run(argv, out, sizeof(out));
	if (umount(dir) < 0 && r == 0)
		r = err_set(-errno, "cannot unmount %s after resizing %s: %s", dir, type,
			    strerror(errno));
	rmdir(dir);
	if (r == 0) {
		r = spawn_run(check, out, sizeof(out));
		snprintf(v, sizeof(v), "%s (%s)", r == 0 ? "clean" : "errors", clean);
		str_copy(verdict, n, v);
	}
	return r;
}

/* The size of the device dev, in bytes (0 when unknown). */
static uint64_t fs_dev_size(const char *dev)
{
	uint64_t size = 0;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			size = 0;
		close(fd);
	}
	return size;
}

static int fs_fit_xfs(const char *dev, uint64_t size, char *verdict, size_t n)
{
	const char *grow[] = { "xfs_growfs", "DIR", NULL };
	const char *check[] = { "xfs_repair", "-n", dev, NULL };

	/* the device is the partition: xfs_growfs fills it */
	return fs_resize_mounted(dev, "xfs", size, 1, grow, check, "xfs_repair -n", verdict, n);
}

/* The least an XFS holding used bytes can be when made anew: mkfs.xfs makes
 * none under 300 MB, and a new log and metadata need room beside the data. */
static uint64_t fs_xfs_least(uint64_t used)
{
	return MAX(FS_XFS_LEAST, used + used / 8 + (32ULL << 20));
}

/* A number after "key=" in xfs_info's output ("crc=1", "bsize=4096"); def
 * when absent. */
static unsigned long fs_xfs_opt(const char *info, const char *key, unsigned long def)
{
	size_t k = strlen(key);
	const char *p = info;

	while ((p = strstr(p, key))) {
		if ((p == info || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && p[k] == '=')
			return strtoul(p + k + 1, NULL, 10);
		p += k;
	}
	return def;
}

/* mkfs.xfs's options for a file system like the one xfs_info describes: its
 * block, sector and inode sizes and its features, so that the new one is the
 * same kind (a kernel that mounted the old one mounts it). */
static void fs_xfs_like(const char *info, char *m, size_t mn, char *b, size_t bn, char *ss,
			size_t sn, char *i, size_t in, char *nm, size_t nn)
{
	const char *sect = strstr(info, "sectsz=");
	const char *data = strstr(info, "\ndata ");
	int crc = (int)fs_xfs_opt(info, "crc", 1);

	snprintf(b, bn, "size=%lu", data ? fs_xfs_opt(data, "bsize", 4096) : 4096);
	snprintf(ss, sn, "size=%lu", sect ? strtoul(sect + 7, NULL, 10) : 512);
	if (crc)
		snprintf(m, mn, "crc=1,finobt=%lu,rmapbt=%lu,reflink=%lu,bigtime=%lu,inobtcount=%lu",
			 fs_xfs_opt(info, "finobt", 1), fs_xfs_opt(info, "rmapbt", 0),
			 fs_xfs_opt(info, "reflink", 1), fs_xfs_opt(info, "bigtime", 0),
			 fs_xfs_opt(info, "inobtcount", 0));
	else
		snprintf(m, mn, "crc=0");
	snprintf(i, in, "size=%lu%s", fs_xfs_opt(info, "isize", 512),
		 crc ? (fs_xfs_opt(info, "sparse", 1) ? ",sparse=1" : ",sparse=0") : "");
	snprintf(nm, nn, "ftype=%lu", fs_xfs_opt(info, "ftype", 1));
}

int fs_xfs_copy(const char *src, uint64_t src_size, const char *path, uint64_t off,
		uint64_t size, const char *uuid, const char *label, char *verdict, size_t n)
{
	char from[] = "/tmp/muletto-xfs-from.XXXXXX", to[] = "/tmp/muletto-xfs-to.XXXXXX";
	char sdev[64], ddev[64], um[160], m[224], b[32], ss[32], in[48], nm[32];
	char *out = malloc(FS_OUT_MAX);
	const char *info[] = { "xfs_db", "-r", "-c", "info", sdev, NULL }; /* xfs_info's text */
	const char *mkfs[20] = { "mkfs.xfs", "-f", "-q", "-m", m, "-b", b, "-s", ss, "-i", in,
				 "-n", nm };
	/* "-": to standard output, and from standard input */
	const char *dump[] = { "xfsdump", "-J", "-l", "0", "-L", "muletto", "-M", "muletto", "-",
			       from, NULL };
	const char *load[] = { "xfsrestore", "-J", "-", to, NULL };
	const char *check[] = { "xfs_repair", "-n", ddev, NULL };
	int sfd = -1, dfd = -1, r, mounted = 0, k = 13;

	if (!out)
		return -ENOMEM;
	verdict[0] = 0;
	if (!mkdtemp(from) || !mkdtemp(to)) {
		r = err_set(-errno, "cannot make folders to copy XFS's files: %s", strerror(errno));
		goto out;
	}
	/* the copy of the old file system is muletto's own: mounted read-write, so
	 * that a log left by an unclean shutdown is replayed */
	r = fs_loop(src, 0, src_size, 0, 0, sdev, sizeof(sdev), &sfd);
	if (r == 0)
		r = spawn_run(info, out, FS_OUT_MAX);
	/* nouuid: the two have the same UUID, and so may a disk of this machine */
	if (r == 0 && mount(sdev, from, "xfs", 0, "nouuid") < 0)
		r = err_set(-errno, "cannot mount the XFS file system as it was captured (%s) to "
				    "copy its files: %s", sdev, strerror(errno));
	mounted = r == 0;
	if (r == 0) {
		fs_xfs_like(out, um, sizeof(um), b, sizeof(b), ss, sizeof(ss), in, sizeof(in), nm,
			    sizeof(nm));
		snprintf(m, sizeof(m), "%s%s%s", um, uuid[0] ? ",uuid=" : "", uuid);
		if (label[0]) {
			mkfs[k++] = "-L";
			mkfs[k++] = label;
		}
		mkfs[k++] = ddev;
		mkfs[k] = NULL;
		r = fs_loop(path, off, size, 0, 0, ddev, sizeof(ddev), &dfd);
	}
	if (r == 0)
		r = spawn_run(mkfs, out, FS_OUT_MAX);
	if (r == 0 && mount(ddev, to, "xfs", 0, "nouuid") < 0)
		r = err_set(-errno, "cannot mount the new XFS file system (%s): %s", ddev,
			    strerror(errno));
	else if (r == 0) {
		r = spawn_pipe(dump, load, out, FS_OUT_MAX);
		if (umount(to) < 0 && r == 0)
			r = err_set(-errno, "cannot unmount the new XFS file system at %s: %s", to,
				    strerror(errno));
	}
	if (r == 0) {
		r = spawn_run(check, out, FS_OUT_MAX);
		str_copy(verdict, n, r == 0 ? "made anew, files copied (xfsdump), clean (xfs_repair -n)" :
					      "made anew, errors (xfs_repair -n)");
	}
out:
	if (mounted)
		umount(from);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	rmdir(from);
	rmdir(to);
	free(out);
	return r;
}

/* btrfs: its used bytes from its superblock; the least it can shrink to from
 * btrfs itself, which knows it only mounted: read-only, at a private folder,
 * without replaying its log (nothing is written to the source). */
static int fs_measure_btrfs(const char *dev, uint64_t *used, uint64_t *min_size)
{
	const char *argv[] = { "btrfs", "inspect-internal", "dump-super", dev, NULL };
	char out[8192], dir[] = "/tmp/muletto-measure.XXXXXX";
	const char *min[] = { "btrfs", "inspect-internal", "min-dev-size", dir, NULL };
	const char *p;
	int r = spawn_run(argv, out, sizeof(out));

	if (r < 0)
		return r;
	if ((p = strstr(out, "\nbytes_used")))
		*used = strtoull(p + 11, NULL, 10);
	*min_size = 0;
	if (!mkdtemp(dir))
		return 0;
	if (mount(dev, dir, "btrfs", MS_RDONLY, "rescue=nologreplay") == 0 ||
	    mount(dev, dir, "btrfs", MS_RDONLY, NULL) == 0) {
		if (spawn_run(min, out, sizeof(out)) == 0) /* "173015040 bytes (165.00MiB)" */
			*min_size = MAX(strtoull(out, NULL, 10), FS_BTRFS_LEAST);
		umount(dir);
	}
	rmdir(dir);
	return 0;
}

static int fs_fit_btrfs(const char *dev, uint64_t size, char *verdict, size_t n)
{
	const char *resize[] = { "btrfs", "filesystem", "resize", "SIZE", "DIR", NULL };
	const char *check[] = { "btrfs", "check", "--readonly", dev, NULL };
	const char *super[] = { "btrfs", "inspect-internal", "dump-super", dev, NULL };
	char out[8192];
	const char *p;
	uint64_t end;
	int grow = size >= fs_dev_size(dev), r;

	r = fs_resize_mounted(dev, "btrfs", size, grow, resize, check, "btrfs check --readonly",
			      verdict, n);
	if (r == 0 && (r = spawn_run(super, out, sizeof(out))) == 0) {
		end = (p = strstr(out, "dev_item.total_bytes")) ? strtoull(p + 20, NULL, 10) : 0;
		if (!end || end > size)
			r = err_set(-EIO, "%s: after btrfs filesystem resize the file system is %" PRIu64
					  " bytes, more than its partition's %" PRIu64 ": nothing was "
					  "cut, but it does not fit", dev, end, size);
	}
	return r;
}

/* An LVM physical volume, lvm2 told to look at this device only, so that the
 * source's copy of the same volume, where it is attached too, is not taken for
 * it. Grown to its partition with pvresize (its volume group's free room
 * grows; the logical volumes keep their sizes); shrunk as far as its last
 * allocated extent allows (pvresize moves nothing). */
static int fs_measure_pv(const char *dev, uint64_t *used, uint64_t *min_size)
{
	const char *argv[] = { "pvs", "--devices", dev, "--noheadings", "--units", "b", "--nosuffix",
			       "-o", "pv_size,pv_free,pe_start,vg_extent_size", dev, NULL };
	const char *segs[] = { "pvs", "--devices", dev, "--noheadings", "--segments", "-o",
			       "pvseg_start,pvseg_size,lv_name", dev, NULL };
	char out[8192], lv[256];
	const char *p;
	unsigned long long size = 0, free_b = 0, pe_start = 0, extent = 0, start, count, end = 0;
	int r = spawn_run(argv, out, sizeof(out)), k;

	if (r == 0 && sscanf(out, "%llu %llu %llu %llu", &size, &free_b, &pe_start, &extent) == 4 &&
	    free_b <= size)
		*used = size - free_b;
	*min_size = 0;
	if (r < 0 || !extent || spawn_run(segs, out, sizeof(out)) < 0)
		return r;
	for (p = out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		lv[0] = 0;
		k = sscanf(p, "%llu %llu %255s", &start, &count, lv);
		if (k == 3 && lv[0] && start + count > end)
			end = start + count; /* an allocated segment (free ones have no LV) */
	}
	*min_size = pe_start + (end + 1) * extent; /* and an extent for lvm2's rounding */
	return 0;
}

static int fs_fit_pv(const char *dev, uint64_t size, char *verdict, size_t n)
{
	char sz[32];
	const char *grow[] = { "pvresize", "--devices", dev, dev, NULL };
	const char *shrink[] = { "pvresize", "-y", "--devices", dev, "--setphysicalvolumesize", sz,
				 dev, NULL };
	const char *check[] = { "pvck", "--devices", dev, dev, NULL };
	const char *pvs[] = { "pvs", "--devices", dev, "--noheadings", "--units", "b", "--nosuffix",
			      "-o", "pv_size", dev, NULL };
	char out[2048];
	int r;

	snprintf(sz, sizeof(sz), "%" PRIu64 "b", size);
	r = spawn_run(size >= fs_dev_size(dev) ? grow : shrink, out, sizeof(out));
	if (r == 0 && (r = spawn_run(pvs, out, sizeof(out))) == 0 &&
	    strtoull(out, NULL, 10) > size)
		r = err_set(-EIO, "%s: after pvresize the physical volume is %llu bytes, more than "
				  "its partition's %" PRIu64 ": nothing was cut, but it does not fit",
			    dev, strtoull(out, NULL, 10), size);
	if (r == 0) {
		r = spawn_run(check, out, sizeof(out));
		str_copy(verdict, n, r == 0 ? "consistent (pvck)" : "errors (pvck)");
	}
	return r;
}

static const struct fs_kind {
	const char *name;
	int grow, shrink; /* 2: made anew in the new size, its files copied */
	int on_loop; /* its tools need a device of the partition's size */
	int (*measure)(const char *dev, uint64_t *used, uint64_t *min_size);
	int (*fit)(const char *dev, uint64_t size, char *verdict, size_t n);
} fs_kinds_table[] = {
	{ "ext2", 1, 1, 0, fs_measure_ext, fs_fit_ext },
	{ "ext3", 1, 1, 0, fs_measure_ext, fs_fit_ext },
	{ "ext4", 1, 1, 0, fs_measure_ext, fs_fit_ext },
	{ "ntfs", 1, 1, 1, fs_measure_ntfs, fs_fit_ntfs },
	{ "xfs", 1, 2, 1, fs_measure_xfs, fs_fit_xfs },
	{ "vfat", 2, 2, 1, fs_measure_fat, NULL }, /* both: fs_fat_rebuild */
	{ "btrfs", 1, 1, 1, fs_measure_btrfs, fs_fit_btrfs },
	{ "LVM2_member", 1, 1, 1, fs_measure_pv, fs_fit_pv },
};

static const struct fs_kind *fs_kind(const char *fs)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fs_kinds_table); i++)
		if (!strcmp(fs, fs_kinds_table[i].name))
			return &fs_kinds_table[i];
	return NULL;
}

int fs_can_grow(const char *fs)
{
	const struct fs_kind *k = fs_kind(fs);

	return k && k->grow;
}

int fs_can_shrink(const char *fs)
{
	const struct fs_kind *k = fs_kind(fs);

	return k && k->shrink;
}

int fs_shrinks_by_copy(const char *fs)
{
	const struct fs_kind *k = fs_kind(fs);

	return k && k->shrink == 2;
}

int fs_measure(const char *path, uint64_t off, uint64_t size, const char *fs, uint64_t *used,
	       uint64_t *min_size)
{
	const struct fs_kind *k = fs_kind(fs);
	char dev[4200];
	int loop = -1, r;

	if (!k)
		return -EOPNOTSUPP;
	if (k->on_loop && (r = fs_loop(path, off, size, 1, 0, dev, sizeof(dev), &loop)) < 0)
		return r;
	if (!k->on_loop)
		snprintf(dev, sizeof(dev), "%s?offset=%" PRIu64, path, off);
	r = k->measure(dev, used, min_size);
	if (loop >= 0)
		close(loop);
	return r;
}

/* The file system's end is within size bytes: nothing of it lies beyond. */
static int fs_ext_ends_within(const char *dev, uint64_t size, char *out)
{
	const char *head[] = { "dumpe2fs", "-h", dev, NULL };
	uint64_t end;
	int r = spawn_run(head, out, FS_OUT_MAX);

	if (r < 0)
		return r;
	end = fs_field(out, "Block count") * fs_field(out, "Block size");
	if (!end || end > size)
		return err_set(-EIO, "%s: after resize2fs the file system is %" PRIu64 " bytes, "
				     "more than its partition's %" PRIu64 ": nothing was cut, but "
				     "it does not fit", dev, end, size);
	return 0;
}

static int fs_fit_ext(const char *dev, uint64_t size, char *verdict, size_t n)
{
	char kib[32];
	const char *check[] = { "e2fsck", "-f", "-p", dev, NULL };
	const char *resize[] = { "resize2fs", dev, kib, NULL };
	const char *final[] = { "e2fsck", "-f", "-n", dev, NULL };
	char *out = malloc(FS_OUT_MAX);
	int r;

	if (!out)
		return -ENOMEM;
	snprintf(kib, sizeof(kib), "%" PRIu64 "K", size / 1024);
	r = spawn_run_ok(check, 1, out, FS_OUT_MAX); /* 1: errors corrected */
	if (r >= 0)
		r = spawn_run(resize, out, FS_OUT_MAX);
	if (r >= 0)
		r = fs_ext_ends_within(dev, size, out);
	if (r >= 0) {
		r = spawn_run(final, out, FS_OUT_MAX);
		str_copy(verdict, n, r == 0 ? "clean (e2fsck -f -n)" : "errors (e2fsck -f -n)");
	}
	free(out);
	return r;
}

int fs_fit(const char *path, uint64_t off, uint64_t room, uint64_t size, const char *fs,
	   char *verdict, size_t verdict_size)
{
	const struct fs_kind *k = fs_kind(fs);
	char dev[4200];
	struct stat st;
	int loop = -1, r;

	verdict[0] = 0;
	if (!k || !k->fit)
		return err_set(-EOPNOTSUPP, "%s at offset %" PRIu64 ": muletto cannot resize a %s "
					    "file system; restore onto a disk of the image's size, "
					    "or use --layout same", path, off, fs[0] ? fs : "unknown");
	if (k->on_loop || (stat(path, &st) == 0 && S_ISREG(st.st_mode))) {
		if ((r = fs_loop(path, off, room, 0, 0, dev, sizeof(dev), &loop)) < 0)
			return r;
	} else {
		snprintf(dev, sizeof(dev), "%s?offset=%" PRIu64, path, off);
	}
	r = k->fit(dev, size, verdict, verdict_size);
	if (loop >= 0)
		close(loop);
	return r;
}

int fs_fit_dev(const char *dev, uint64_t size, const char *fs, char *verdict, size_t n)
{
	const struct fs_kind *k = fs_kind(fs);

	verdict[0] = 0;
	if (!k || !k->fit)
		return err_set(-EOPNOTSUPP, "%s: muletto cannot resize a %s file system", dev,
			       fs[0] ? fs : "unknown");
	return k->fit(dev, size ? size : fs_dev_size(dev), verdict, n);
}

int fs_loop_attach(const char *path, uint64_t off, uint64_t size, int ro, char *dev, size_t n,
		   int *ret_fd)
{
	return fs_loop(path, off, size, ro, 0, dev, n, ret_fd);
}

/* A FAT: the bytes its clusters in use hold, from fsck.fat -n -v ("2048 bytes
 * per cluster", "18 files, 2728/32695 clusters"); the least a new one holding
 * them can be (it is made anew to change size: fs_fat_rebuild). */
static int fs_fat_count(const char *dev, uint64_t *used, uint64_t *min_size,
			unsigned long long *files)
{
	const char *argv[] = { "fsck.fat", "-n", "-v", dev, NULL };
	char *out = malloc(FS_OUT_MAX);
	unsigned long long cluster = 0, inuse = 0;
	const char *p;
	int r;

	if (!out)
		return -ENOMEM;
	r = spawn_run(argv, out, FS_OUT_MAX);
	for (p = out; r == 0 && *p;) {
		const char *nl = strchr(p, '\n');
		char line[256];
		snprintf(line, sizeof(line), "%.*s", (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
		if (strstr(line, " bytes per cluster"))
			cluster = strtoull(line, NULL, 10);
		else if (strstr(line, " files, ") && strstr(line, " clusters")) {
			inuse = strtoull(strstr(line, " files, ") + 8, NULL, 10);
			*files = strtoull(strstr(line, ": ") ? strstr(line, ": ") + 2 : line,
					  NULL, 10);
		}
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (r == 0 && cluster) {
		*used = inuse * cluster;
		/* files may take more clusters in the new one; and its FATs and root */
		*min_size = *used + *used / 4 + (2ULL << 20);
	}
	free(out);
	return r;
}

static int fs_measure_fat(const char *dev, uint64_t *used, uint64_t *min_size)
{
	unsigned long long files = 0;

	return fs_fat_count(dev, used, min_size, &files);
}

/* Every entry of folder dir copied into the root of the FAT at dev. */
static int fs_fat_copy_in(const char *dev, const char *dir, char *out, size_t n)
{
	const char *argv[260] = { "mcopy", "-s", "-p", "-n", "-i", dev };
	char *names[250];
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t k = 6, i, nn = 0;
	int r = 0;

	if (!d)
		return err_set(-errno, "cannot read %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && nn < ARRAY_SIZE(names)) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&names[nn], "%s/%s", dir, e->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		argv[k++] = names[nn++];
	}
	closedir(d);
	if (e && r == 0)
		r = err_set(-E2BIG, "the ESP has more than %zu entries in its root", ARRAY_SIZE(names));
	argv[k++] = "::/";
	argv[k] = NULL;
	if (r == 0 && nn)
		r = spawn_run(argv, out, n);
	for (i = 0; i < nn; i++)
		free(names[i]);
	return r;
}

/* Removes a folder muletto made, and everything in it. */
static void fs_rmtree(const char *path)
{
	struct stat st;
	struct dirent *e;
	char sub[4400];
	DIR *d;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path))) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
				fs_rmtree(sub);
			}
		closedir(d);
	}
	rmdir(path);
}

/* A FAT file system made anew for sectors or a partition of another size:
 * its files copied out (mtools reads it whatever its sector size), mkfs.vfat
 * with the new size, the same volume ID and label, the files copied back,
 * fsck.vfat -n. */
int fs_fat_rebuild(const char *src, uint64_t src_size, const char *path, uint64_t off,
		   uint64_t size, uint32_t sector, const char *label, const char *volid,
		   char *verdict, size_t n)
{
	char dev[4200], sdev[4200], tmp[] = "/tmp/muletto-fat.XXXXXX", files[4300], ss[16];
	char out[4096], id[16] = "";
	const char *out_argv[] = { "mcopy", "-s", "-p", "-n", "-i", src ? sdev : dev, "::*", files,
				   NULL };
	const char *mkfs[12] = { "mkfs.vfat", "-S", ss };
	const char *check[] = { "fsck.vfat", "-n", dev, NULL };
	int loop = -1, sloop = -1, r, k = 3;
	unsigned long long nfiles = 0;
	uint64_t used, least;
	size_t i, j;

	if (!mkdtemp(tmp))
		return err_set(-errno, "cannot make a folder for the ESP's files: %s", strerror(errno));
	snprintf(files, sizeof(files), "%s/files", tmp);
	snprintf(ss, sizeof(ss), "%u", sector);
	for (i = j = 0; volid[i] && j + 1 < sizeof(id); i++)
		if (volid[i] != '-')
			id[j++] = volid[i];
	id[j] = 0;
	if (id[0]) {
		mkfs[k++] = "-i";
		mkfs[k++] = id;
	}
	if (label[0]) {
		mkfs[k++] = "-n";
		mkfs[k++] = label;
	}
	mkfs[k++] = dev;
	r = mkdir(files, 0700) < 0 ? err_set(-errno, "cannot make %s: %s", files, strerror(errno)) : 0;
	if (r == 0)
		r = fs_loop(path, off, size, 0, sector, dev, sizeof(dev), &loop);
	if (r == 0 && src)
		r = fs_loop(src, 0, src_size, 1, 0, sdev, sizeof(sdev), &sloop);
	if (r == 0)
		r = fs_fat_count(src ? sdev : dev, &used, &least, &nfiles);
	if (r == 0 && (r = spawn_run(out_argv, out, sizeof(out))) < 0 && !used && nfiles <= 1)
		r = 0; /* nothing but its label, and mcopy finds no "::*" */
	if (r == 0)
		r = spawn_run(mkfs, out, sizeof(out));
	if (r == 0)
		r = fs_fat_copy_in(dev, files, out, sizeof(out));
	if (r == 0) {
		r = spawn_run(check, out, sizeof(out));
		str_copy(verdict, n, r == 0 ? "made anew, clean (fsck.vfat -n)" :
					      "made anew, errors (fsck.vfat -n)");
	}
	if (loop >= 0)
		close(loop);
	if (sloop >= 0)
		close(sloop);
	fs_rmtree(tmp);
	return r;
}

int fs_fat_make(const char *path, uint64_t off, uint64_t size, uint32_t sector, char *verdict,
		size_t n)
{
	char dev[4200], ss[16], out[4096];
	const char *mkfs[] = { "mkfs.vfat", "-F", "32", "-S", ss, "-n", "EFI", dev, NULL };
	const char *check[] = { "fsck.vfat", "-n", dev, NULL };
	int loop = -1, r;

	snprintf(ss, sizeof(ss), "%u", sector);
	r = fs_loop(path, off, size, 0, sector, dev, sizeof(dev), &loop);
	if (r == 0)
		r = spawn_run(mkfs, out, sizeof(out));
	if (r == 0) {
		r = spawn_run(check, out, sizeof(out));
		snprintf(verdict, n, "FAT32 made with %u-byte sectors, %s (fsck.vfat -n)", sector,
			 r == 0 ? "clean" : "errors");
	}
	if (loop >= 0)
		close(loop);
	return r;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

int fs_moved(int fd, uint64_t off, const char *fs, uint64_t start_sector)
{
	unsigned char bs[512];
	uint64_t total, sector;
	size_t got = 0;
	int r, k;

	if (strcmp(fs, "ntfs"))
		return 0;
	r = pread_full(fd, bs, sizeof(bs), off, &got);
	if (r < 0 || got != sizeof(bs) || memcmp(bs + 3, "NTFS    ", 8))
		return r < 0 ? r : 0;
	sector = le(bs + 0x0b, 2);
	total = le(bs + 0x28, 8);
	for (k = 0; k < 4; k++)
		bs[0x1c + k] = (unsigned char)(start_sector >> (8 * k));
	r = pwrite_full(fd, bs, sizeof(bs), off);
	/* the copy in the volume's last sector (total: the volume's size as it is now) */
	if (r == 0 && sector >= 512 && total)
		r = pwrite_full(fd, bs, sizeof(bs), off + total * sector);
	return r;
}

int fs_swap_make(int fd, const char *path, uint64_t off, uint64_t size, const char *uuid,
		 const char *label)
{
	char tmp[] = "/tmp/muletto-swap.XXXXXX", head[FS_SWAP_HEADER];
	const char *argv[8] = { "mkswap" };
	int t = mkstemp(tmp), r, k = 1;
	size_t got = 0;

	if (t < 0)
		return err_set(-errno, "cannot make a swap area: %s", strerror(errno));
	if (uuid[0]) {
		argv[k++] = "-U";
		argv[k++] = uuid;
	}
	if (label[0]) {
		argv[k++] = "-L";
		argv[k++] = label;
	}
	argv[k++] = tmp;
	/* a sparse file of the partition's size: mkswap writes its first page */
	r = ftruncate(t, (off_t)size) < 0 ? -errno : 0;
	if (r == 0 && (r = spawn_run(argv, NULL, 0)) < 0) {
		close(t);
		unlink(tmp);
		return r; /* mkswap's own message */
	}
	if (r == 0)
		r = pread_full(t, head, sizeof(head), 0, &got);
	if (r == 0 && got == sizeof(head))
		r = pwrite_full(fd, head, sizeof(head), off);
	else if (r == 0)
		r = -EIO;
	close(t);
	unlink(tmp);
	if (r < 0)
		return err_set(r, "%s: cannot write a swap area at offset %" PRIu64 ": %s", path,
			       off, strerror(-r));
	return 0;
}
