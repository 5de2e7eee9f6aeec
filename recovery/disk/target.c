/* Opening a restore target: files and block devices, and the safety rules. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/busy.h"
#include "muletto/disk/lock.h"
#include "muletto/disk/target.h"

int target_inspect(const char *path, struct disk_info *info, int *ret_is_block, int *ret_exists)
{
	struct stat st;
	int r;

	memset(info, 0, sizeof(*info));
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return err_set(-errno, "target %s: %s", path, strerror(errno));
		/* A mistyped disk name must not become a file in /dev. */
		if (!strncmp(path, "/dev/", 5))
			return err_set(-ENODEV, "there is no disk %s: check the name with "
						"'muletto disks'", path);
		*ret_is_block = 0;
		*ret_exists = 0;
		return 0;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return err_set(-EINVAL, "target %s is neither a disk nor a regular file: name a disk "
					"(see 'muletto disks') or an image file", path);
	r = disk_probe(NULL, path, info);
	if (r < 0)
		return r;
	*ret_is_block = S_ISBLK(st.st_mode);
	*ret_exists = 1;
	return 0;
}

static int target_check_block(const char *path, const struct disk_info *info, uint64_t need)
{
	char have[32], want[32];

	if (info->is_boot)
		return err_set(-EPERM, "refusing to write to %s: the running system was booted from "
				       "it; choose another disk", path);
	if (info->in_use)
		return err_set(-EBUSY, "refusing to write to %s: %s; unmount or stop it first, or "
				       "choose another disk", path, info->in_use_why);
	if (info->read_only)
		return err_set(-EROFS, "target %s is read-only: check the disk's write-protect "
				       "switch or controller settings, or choose another disk", path);
	if (info->size < need) {
		human_size(info->size, have, sizeof(have));
		human_size(need, want, sizeof(want));
		return err_set(-ENOSPC, "target %s is too small: it holds %s (%llu bytes), the image "
					"needs %s (%llu bytes); choose a larger disk", path, have,
			       (unsigned long long)info->size, want, (unsigned long long)need);
	}
	return 0;
}

/* 1 when the device zeroes a range by itself (Write Zeroes, or a discard that
 * reads back as zeros): BLKZEROOUT then moves no data. Partitions ask their disk. */
static int target_zeroes_offloaded(int fd)
{
	char path[96], line[32];
	struct stat st;
	int up;

	if (fstat(fd, &st) < 0)
		return 0;
	for (up = 0; up < 2; up++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/write_zeroes_max_bytes",
			 major(st.st_rdev), minor(st.st_rdev), up ? "../" : "");
		if (read_line_file(path, line, sizeof(line)) == 0)
			return strtoull(line, NULL, 10) > 0;
	}
	return 0;
}

/* "it" for the target itself, else the partition the process has open. */
static const char *target_busy_what(const struct busy_proc *p)
{
	return p->whole ? "it" : p->what;
}

/* Refuses a target another process has open for writing (a dd, a VM, an
 * editor): the restore and that process would overwrite each other. */
static int target_check_writers(const struct target *t, const struct stat *st)
{
	struct busy_proc p;

	if (!busy_find_process(st, 1, &p))
		return 0;
	return err_set(-EBUSY, "refusing to write to %s: it is in use by pid %ld (%s), which has "
			       "%s open for writing; stop that process or choose another target",
		       t->path, (long)p.pid, p.comm, target_busy_what(&p));
}

/* O_EXCL said EBUSY: find out who holds the device, so the message names it. */
static int target_explain_busy(const struct target *t, const struct stat *st)
{
	struct disk_info now;
	struct busy_proc p;
	int r;

	if (disk_probe(NULL, t->path, &now) == 0 && now.in_use) {
		r = target_check_block(t->path, &now, 0);
		disk_info_clear(&now);
		return r;
	}
	disk_info_clear(&now);
	if (busy_find_process(st, 0, &p))
		return err_set(-EBUSY, "refusing to write to %s: it is in use by pid %ld (%s), "
				       "which has %s open; stop that process or choose another disk",
			       t->path, (long)p.pid, p.comm, target_busy_what(&p));
	return err_set(-EBUSY, "refusing to write to %s: the kernel reports it in use, but no "
			       "mount, swap, holder or process of ours can see it; check "
			       "'lsblk %s' and 'fuser -v %s'", t->path, t->path, t->path);
}

static int target_open_block(struct target *t, uint64_t need)
{
	struct stat st;
	int ro = 0, r;

	if (stat(t->path, &st) < 0)
		return err_set(-errno, "target %s: %s", t->path, strerror(errno));
	r = lock_target(t->path, &st, &t->lock);
	if (r < 0)
		return r;
	r = target_check_block(t->path, &t->info, need);
	if (r < 0)
		return r;
	r = target_check_writers(t, &st);
	if (r < 0)
		return r;
	/* O_EXCL on a block device fails while the kernel holds it (mounted, LVM, md). */
	t->fd = open(t->path, O_RDWR | O_EXCL | O_CLOEXEC);
	if (t->fd < 0) {
		r = -errno;
		if (r == -EBUSY)
			return target_explain_busy(t, &st);
		if (r == -EROFS || r == -EACCES)
			return err_set(r, "target %s is read-only: choose a writable disk", t->path);
		return err_set(r, "cannot open target %s: %s", t->path, strerror(-r));
	}
	if (ioctl(t->fd, BLKROGET, &ro) == 0 && ro)
		return err_set(-EROFS, "target %s is read-only: check the disk's write-protect switch "
				       "or choose another disk", t->path);
	if (ioctl(t->fd, BLKGETSIZE64, &t->size) < 0)
		return err_set(-errno, "cannot read the size of %s: %s", t->path, strerror(errno));
	if (t->size < need)
		return target_check_block(t->path, &(struct disk_info){ .size = t->size }, need);
	dio_init(&t->io, t->fd, t->path, O_RDWR);
	t->zeroes_cheap = target_zeroes_offloaded(t->fd);
	return 0;
}

static int target_check_space(struct target *t, uint64_t need, uint64_t data)
{
	struct statvfs vfs;
	struct stat st;
	uint64_t avail, have, missing;
	char a[32], m[32];

	if (fstat(t->fd, &st) < 0 || fstatvfs(t->fd, &vfs) < 0)
		return 0; /* no numbers: the writes will tell */
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	have = (uint64_t)st.st_blocks * 512;
	missing = data > have ? data - have : 0;
	if (missing <= avail)
		return 0;
	human_size(avail, a, sizeof(a));
	human_size(missing, m, sizeof(m));
	(void)need;
	return err_set(-ENOSPC, "target %s: no space for the image: its file system has %s free, "
				"the image needs %s more; free space or choose another target",
		       t->path, a, m);
}

static int target_open_error(const struct target *t, int r)
{
	if (r == -EROFS || r == -EACCES || r == -EPERM)
		return err_set(r, "target %s is not writable (%s): choose another place", t->path,
			       strerror(-r));
	if (r == -ENOENT)
		return err_set(r, "target %s: the folder it should go in does not exist", t->path);
	return err_set(r, "cannot create target %s: %s", t->path, strerror(-r));
}

/* Locks, then opens: an existing file is locked before it is opened for
 * writing; a new one is created empty (O_EXCL: ours alone) and locked before a
 * byte goes in. A file replaced between the stat and the open is looked at again. */
static int target_open_file_locked(struct target *t)
{
	struct stat st, now;
	int r;

	for (int tries = 0; tries < 4; tries++) {
		if (stat(t->path, &st) < 0) {
			if (errno != ENOENT)
				return target_open_error(t, -errno);
			t->fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			if (t->fd < 0 && errno == EEXIST) {
				if (lstat(t->path, &now) == 0 && S_ISLNK(now.st_mode))
					return err_set(-ENOENT, "target %s is a symbolic link to "
								"nothing: name the file itself", t->path);
				continue; /* created by someone else meanwhile */
			}
			if (t->fd < 0 || fstat(t->fd, &st) < 0)
				return target_open_error(t, -errno);
			t->created = 1;
			return lock_target(t->path, &st, &t->lock);
		}
		r = lock_target(t->path, &st, &t->lock);
		if (r < 0)
			return r;
		t->fd = open(t->path, O_RDWR | O_CLOEXEC);
		if (t->fd < 0)
			return target_open_error(t, -errno);
		if (fstat(t->fd, &now) == 0 && now.st_dev == st.st_dev && now.st_ino == st.st_ino)
			return 0;
		close(t->fd);
		t->fd = -1;
		lock_release(t->lock);
		t->lock = NULL;
	}
	return err_set(-EAGAIN, "target %s keeps being replaced while muletto opens it: stop "
				"whatever writes it, or choose another target", t->path);
}

/* A file behind a loop device is that device's disk, perhaps mounted: writing
 * it under the kernel destroys what is on it. So is a file another process writes. */
static int target_check_file_users(const struct target *t, const struct stat *st)
{
	char loop[DISK_STR], why[DISK_STR + 8];
	struct disk_info info;
	const char *w;
	size_t n;

	if (!busy_loop_backing(st, loop, sizeof(loop)))
		return target_check_writers(t, st);
	why[0] = 0;
	if (disk_probe(NULL, loop, &info) == 0 && info.in_use) {
		/* "/dev/loop3 is mounted on /mnt" -> "mounted on /mnt" */
		n = strlen(loop);
		w = info.in_use_why;
		if (!strncmp(w, loop, n) && !strncmp(w + n, " is ", 4))
			w += n + 4;
		snprintf(why, sizeof(why), " (%s)", w);
	}
	disk_info_clear(&info);
	return err_set(-EBUSY, "refusing to write to %s: it is the backing file of %s%s; %s "
			       "it first (losetup -d %s) or choose another target", t->path, loop,
		       why, why[0] ? "unmount and detach" : "detach", loop);
}

static int target_open_file(struct target *t, uint64_t need, uint64_t data)
{
	struct stat st;
	int r;

	r = target_open_file_locked(t);
	if (r < 0)
		return r;
	if (fstat(t->fd, &st) < 0)
		return err_set(-errno, "target %s: %s", t->path, strerror(errno));
	r = target_check_file_users(t, &st);
	if (r < 0)
		return r;
	t->fresh = t->created || st.st_size == 0;
	r = target_check_space(t, need, data);
	if (r < 0)
		return r;
	if ((uint64_t)st.st_size != need && ftruncate(t->fd, (off_t)need) < 0) {
		r = -errno;
		return err_set(r, "cannot resize target %s to %llu bytes: %s", t->path,
			       (unsigned long long)need, strerror(-r));
	}
	t->size = need;
	t->zeroes_cheap = 1; /* a punched hole */
	dio_init(&t->io, t->fd, t->path, O_RDWR);
	return 0;
}

int target_open(const char *path, uint64_t need, uint64_t data, struct target **ret)
{
	struct target *t;
	int is_block = 0, exists = 0, r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	t->io.dfd = -1;
	t->path = strdup(path);
	if (!t->path) {
		free(t);
		return -ENOMEM;
	}
	r = target_inspect(path, &t->info, &is_block, &exists);
	if (r < 0)
		goto fail;
	t->is_block = is_block;
	r = is_block ? target_open_block(t, need) : target_open_file(t, need, data);
	if (r < 0)
		goto fail;
	*ret = t;
	return 0;
fail:
	dio_done(&t->io);
	if (t->fd >= 0)
		close(t->fd);
	/* A file we created, unless another muletto locked it meanwhile: it is its now. */
	if (t->created && (t->lock || r != -EBUSY))
		unlink(path);
	lock_release(t->lock);
	disk_info_clear(&t->info);
	free(t->path);
	free(t);
	return r;
}

static int target_write_error(struct target *t, int r, uint64_t off, size_t len)
{
	if (r == -ENOSPC || r == -EDQUOT)
		return err_set(r, "target %s is full: no space left writing %zu bytes at offset "
				  "%llu; the image is only partly written: free space or choose "
				  "another target, then restore again", t->path, len,
			       (unsigned long long)off);
	if (r == -EIO)
		return err_set(r, "write error on %s at offset %llu: the disk may be failing; "
				  "check 'dmesg' and choose another disk", t->path,
			       (unsigned long long)off);
	return err_set(r, "cannot write to %s at offset %llu: %s", t->path,
		       (unsigned long long)off, strerror(-r));
}

int target_write(struct target *t, const void *buf, size_t len, uint64_t off)
{
	int r;

	if (!t->io.map && (off > t->size || len > t->size - off))
		return err_set(-EINVAL, "write past the end of %s (offset %llu, %zu bytes)", t->path,
			       (unsigned long long)off, len);
	r = dio_pwrite(&t->io, buf, len, off);
	if (r < 0)
		return target_write_error(t, r, off, len);
	__atomic_add_fetch(&t->written, len, __ATOMIC_RELAXED);
	return 0;
}

int target_read(struct target *t, void *buf, size_t len, uint64_t off, size_t *ret_got)
{
	int r = dio_pread(&t->io, buf, len, off, ret_got);

	if (r < 0)
		return err_set(r, "cannot read %s at offset %llu: %s; the disk may be failing, "
				  "check 'dmesg'", t->path, (unsigned long long)off, strerror(-r));
	return 0;
}

/* Zeros written at off of io (the device's own offsets). */
static int target_write_zeros(struct target *t, const struct dio *io, uint64_t off, uint64_t len)
{
	static const char zeros[65536];

	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		int r = pwrite_full(io->fd, zeros, n, off);
		if (r < 0)
			return target_write_error(t, r, off, n);
		__atomic_add_fetch(&t->written, n, __ATOMIC_RELAXED);
		off += n;
		len -= n;
	}
	return 0;
}

/* [off, off+len) of the device read as zeros. */
static int target_zero_dev(struct target *t, uint64_t off, uint64_t len)
{
	if (t->is_block) {
		uint64_t range[2] = { off, len };
		if (off % 512 || len % 512)
			return target_write_zeros(t, &t->io, off, len);
		/* A hole punched in a device: zeroes that may deallocate (an SSD's
		 * Write Zeroes with unmap, a thin volume or a loop file stays thin).
		 * BLKZEROOUT forbids unmapping and falls back to writing zeros. */
		if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0 ||
		    ioctl(t->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			     (off_t)len) == 0) {
		return 0;
	}
	return target_write_zeros(t, &t->io, off, len);
}

int target_zero(struct target *t, uint64_t off, uint64_t len)
{
	const struct dio_map *m = t->io.map;
	size_t i;
	int r = 0;

	if (t->fresh)
		return 0;
	if (!m)
		return target_zero_dev(t, off, len);
	/* through the map: each placed piece on its own device */
	for (i = 0; i < m->n && r == 0; i++) {
		const struct dio_seg *s = &m->s[i];
		uint64_t a = MAX(off, s->start), b = MIN(off + len, s->start + s->len);
		if (a >= b || !s->io)
			continue;
		if (s->io->fd == t->fd)
			r = target_zero_dev(t, s->to + (a - s->start), b - a);
		else if (fallocate(s->io->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   (off_t)(s->to + (a - s->start)), (off_t)(b - a)) < 0)
			r = target_write_zeros(t, s->io, s->to + (a - s->start), b - a);
	}
	return r;
}

int target_close(struct target *t, int sync)
{
	int r = 0;

	if (!t)
		return 0;
	dio_done(&t->io);
	if (t->fd >= 0) {
		if (sync && fsync(t->fd) < 0)
			r = target_write_error(t, -errno, 0, 0);
		if (close(t->fd) < 0 && r == 0)
			r = target_write_error(t, -errno, 0, 0);
	}
	lock_release(t->lock);
	disk_info_clear(&t->info);
	free(t->path);
	free(t);
	return r;
}

static int target_candidate(const struct disk_info *d, uint64_t need)
{
	return !d->is_boot && !d->in_use && !d->read_only && d->size >= need &&
	       strcmp(d->transport, "loop") && strncmp(d->name, "sr", 2) &&
	       strncmp(d->name, "dm-", 3) && strncmp(d->name, "md", 2);
}

int target_pick_auto(uint64_t need, char **ret)
{
	struct disk_info *d = NULL;
	char list[512] = "", want[32];
	size_t n = 0, i, found = 0, pick = 0, used = 0;
	int r;

	r = disk_list(NULL, &d, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		if (!target_candidate(&d[i], need))
			continue;
		if (found++ == 0)
			pick = i;
		r = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", d[i].dev);
		if (r > 0 && (size_t)r < sizeof(list) - used)
			used += (size_t)r;
	}
	human_size(need, want, sizeof(want));
	if (found == 1)
		*ret = strdup(d[pick].dev);
	disk_list_free(d, n);
	if (found == 0)
		return err_set(-ENODEV, "target auto: no disk of at least %s that is not the boot "
					"medium and not in use; check 'muletto disks'", want);
	if (found > 1)
		return err_set(-EEXIST, "target auto: %zu disks could take the image (%s); name "
					"one with --to", found, list);
	return *ret ? 0 : -ENOMEM;
}

int target_share(struct target *t)
{
	int fd;

	if (!t->is_block)
		return 0;
	fd = open(t->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "cannot open %s again: %s", t->path, strerror(errno));
	if (dup3(fd, t->fd, O_CLOEXEC) < 0) {
		int r = -errno;
		close(fd);
		return err_set(r, "cannot open %s again: %s", t->path, strerror(-r));
	}
	close(fd);
	return 0;
}
