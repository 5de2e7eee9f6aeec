/* Direct I/O on block devices, with a buffered fallback for what is unaligned. */
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/disk/dio.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

void dio_init(struct dio *d, int fd, const char *path, int flags)
{
	struct stat st;
	int ssz = 0;

	d->fd = fd;
	d->dfd = -1;
	d->align = 512;
	if (getenv("MULETTO_NO_DIRECT_IO") || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode))
		return;
	if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz >= 512 && ssz <= BUF_ALIGN)
		d->align = (unsigned)ssz;
	/* Not O_EXCL: fd already holds the exclusive claim when writing. */
	d->dfd = open(path, (flags & O_ACCMODE) | O_DIRECT | O_CLOEXEC);
}

void dio_done(struct dio *d)
{
	if (d->dfd >= 0)
		close(d->dfd);
	d->dfd = -1;
}

static int dio_aligned(const struct dio *d, const void *buf, size_t len, uint64_t off)
{
	return d->dfd >= 0 && len && off % d->align == 0 && len % d->align == 0 &&
	       (uintptr_t)buf % BUF_ALIGN == 0;
}

int dio_pread(const struct dio *d, void *buf, size_t len, uint64_t off, size_t *ret_got)
{
	if (dio_aligned(d, buf, len, off)) {
		int r = pread_full(d->dfd, buf, len, off, ret_got);
		if (r != -EINVAL)
			return r;
	}
	return pread_full(d->fd, buf, len, off, ret_got);
}

int dio_pwrite(const struct dio *d, const void *buf, size_t len, uint64_t off)
{
	if (dio_aligned(d, buf, len, off)) {
		int r = pwrite_full(d->dfd, buf, len, off);
		if (r != -EINVAL)
			return r;
	}
	return pwrite_full(d->fd, buf, len, off);
}

int dio_open_read(const char *path, const char *role, int *ret_fd, uint64_t *ret_size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return err_set(-errno, "%s %s: %s: check the path", role, path, strerror(errno));
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return err_set(-EINVAL, "%s %s is neither a disk nor an image file", role, path);
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, ret_size) < 0) {
			r = -errno;
			close(fd);
			return err_set(r, "%s %s: cannot read its size: %s", role, path,
				       strerror(-r));
		}
	} else {
		*ret_size = (uint64_t)st.st_size;
	}
	*ret_fd = fd;
	return 0;
}
