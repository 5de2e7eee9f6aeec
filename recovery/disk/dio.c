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
	d->map = NULL;
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

/* The segment holding off, or the first one after it (m->n if none). */
static size_t dio_seg_find(const struct dio_map *m, uint64_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->s[mid].start + m->s[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* [off, off+len) of the image through the map, piece by piece. */
static int dio_map_io(const struct dio *d, void *rbuf, const void *wbuf, size_t len, uint64_t off)
{
	const struct dio_map *m = d->map;
	size_t i = dio_seg_find(m, off), done = 0, n, got;
	int r;

	while (done < len) {
		uint64_t at = off + done;
		const struct dio_seg *s = i < m->n ? &m->s[i] : NULL;
		if (s && at >= s->start + s->len) {
			i++;
			continue;
		}
		if (!s || at < s->start || !s->io) { /* dropped up to the next segment */
			n = (size_t)MIN((uint64_t)(len - done), s && at < s->start ? s->start - at :
							       s ? s->start + s->len - at : len - done);
			if (rbuf)
				memset((char *)rbuf + done, 0, n);
			done += n;
			continue;
		}
		n = (size_t)MIN((uint64_t)(len - done), s->start + s->len - at);
		if (rbuf) {
			got = 0;
			r = dio_pread(s->io, (char *)rbuf + done, n, s->to + (at - s->start), &got);
			if (r == 0 && got < n)
				memset((char *)rbuf + done + got, 0, n - got);
		} else {
			r = dio_pwrite(s->io, (const char *)wbuf + done, n, s->to + (at - s->start));
		}
		if (r < 0)
			return r;
		done += n;
	}
	return 0;
}

int dio_placed(const struct dio *d, uint64_t off, uint64_t len)
{
	const struct dio_map *m = d->map;
	size_t i;
	uint64_t at = off;

	if (!m)
		return 1;
	for (i = dio_seg_find(m, off); at < off + len; i++) {
		if (i >= m->n || m->s[i].start > at || !m->s[i].io)
			return 0;
		at = m->s[i].start + m->s[i].len;
	}
	return 1;
}

int dio_pread(const struct dio *d, void *buf, size_t len, uint64_t off, size_t *ret_got)
{
	if (d->map) {
		int r = dio_map_io(d, buf, NULL, len, off);
		if (ret_got)
			*ret_got = r == 0 ? len : 0;
		return r;
	}
	if (dio_aligned(d, buf, len, off)) {
		int r = pread_full(d->dfd, buf, len, off, ret_got);
		if (r != -EINVAL)
			return r;
	}
	return pread_full(d->fd, buf, len, off, ret_got);
}

int dio_pwrite(const struct dio *d, const void *buf, size_t len, uint64_t off)
{
	if (d->map)
		return dio_map_io(d, NULL, buf, len, off);
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
