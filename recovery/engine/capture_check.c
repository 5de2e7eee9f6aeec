/* A capture reads a disk over seconds or hours: if something writes to it
 * meanwhile, the image mixes moments and its file systems may not mount.
 * Before reading, refuse a source mounted read-write; after, tell whether it
 * changed. --live takes such an image anyway and says so in the manifest;
 * --snapshot reads a snapshot of an LVM volume instead (capture_snap.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/disk/dio.h"
#include "muletto/disk/disk.h"
#include "muletto/disk/snapshot.h"
#include "muletto/engine/capture.h"

/* Ends a message of a source that changed; capture_watch_check adds the way
 * around it that fits the source (capture_ways). */
#define CHANGED_FIX "the image would be torn; stop what writes to it, or "

/* How to capture a source in use anyway: --snapshot only where it can work. */
static const char *capture_ways(const char *path)
{
	return snapshot_is_lvm_volume(path) ? "capture with --snapshot or --live"
					    : "capture with --live (--snapshot takes LVM logical "
					      "volumes only)";
}

static int capture_check_one(const char *path, enum capture_mode mode)
{
	struct disk_rw_mount rm;
	char via[300] = "";
	int r = disk_find_rw_mount(NULL, path, &rm);

	if (r <= 0) {
		/* cannot tell (a path that does not open says so next): the
		 * check after reading still catches a change */
		err_clear();
		return 0;
	}
	if (rm.loop[0])
		snprintf(via, sizeof(via), "it is the backing file of %s, and ", rm.loop);
	if (mode == CAPTURE_MODE_LIVE) {
		event_notice("capturing %s live: %s%s is mounted read-write on %s; the image may "
			     "be inconsistent", path, via, rm.dev, rm.mountpoint);
		return 0;
	}
	return err_set(-EBUSY, "source %s: %s%s is mounted read-write on %s: a capture now would "
			       "be torn; unmount it or remount it read-only (mount -o remount,ro "
			       "%s), or %s", path, via, rm.dev, rm.mountpoint, rm.mountpoint,
		       capture_ways(path));
}

int capture_check_sources(const struct capture_request *q)
{
	int i, r = 0;

	for (i = 0; i < q->ndevs && r == 0; i++)
		r = q->o.mode == CAPTURE_MODE_SNAPSHOT ? snapshot_check_source(q->devs[i])
						       : capture_check_one(q->devs[i], q->o.mode);
	return r;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int capture_watch_start(int fd, uint64_t size, struct capture_watch *ret)
{
	struct stat st;

	memset(ret, 0, sizeof(*ret));
	if (fstat(fd, &st) < 0)
		return err_set(-errno, "cannot examine the source: %s", strerror(errno));
	ret->size = size;
	ret->is_blk = S_ISBLK(st.st_mode);
	ret->mtime_ns = ts_ns(&st.st_mtim);
	ret->ctime_ns = ts_ns(&st.st_ctim);
	if (!ret->is_blk)
		return 0;
	/* Writes made before the capture and still in the cache must not be
	 * counted as writes during it when they reach the disk. */
	(void)fsync(fd);
	ret->have_writes = disk_write_count(fd, &ret->writes) == 0;
	return 0;
}

static int watch_file(const struct capture_watch *w, const char *path, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(-errno, "source %s: %s", path, strerror(errno));
	if ((uint64_t)st.st_size != w->size)
		return err_set(-EAGAIN, "source %s changed while it was read (its size went from "
					"%" PRIu64 " to %" PRIu64 " bytes): " CHANGED_FIX, path,
			       w->size, (uint64_t)st.st_size);
	if (ts_ns(&st.st_mtim) != w->mtime_ns || ts_ns(&st.st_ctim) != w->ctime_ns)
		return err_set(-EAGAIN, "source %s changed while it was read (it was written to: "
					"its modification or change time moved): " CHANGED_FIX,
			       path);
	return 0;
}

/* Chunk i of the disk, read again past the page cache: still what idx says? */
static int watch_chunk(const struct dio *d, const struct caibx *idx, size_t i, void *buf,
		       int *ret_same)
{
	uint64_t off = caibx_chunk_start(idx, i), len = caibx_chunk_size(idx, i);
	struct chunk_id id;
	size_t got = 0;
	int r;

	if (d->dfd < 0)
		posix_fadvise(d->fd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED);
	r = dio_pread(d, buf, (size_t)len, off, &got);
	if (r == 0 && got != len)
		r = -EIO;
	if (r == 0)
		r = hash_buf(HASH_SHA256, buf, (size_t)len, &id);
	if (r == 0)
		*ret_same = chunk_id_equal(&id, &idx->e[i].id);
	return r;
}

/* The first and the last chunk: where partition tables, superblocks and
 * their backups live, and what a writer busy at the end touches last. */
static int watch_ends(const char *path, int fd, const struct caibx *idx)
{
	static const char *const which[] = { "first", "last" };
	size_t k, i;
	struct dio d;
	void *buf = buf_alloc_aligned(idx->chunk_max);
	int r = buf ? 0 : -ENOMEM, same = 1;

	if (r < 0)
		return r;
	dio_init(&d, fd, path, O_RDONLY);
	for (k = 0; k < 2 && r == 0 && same; k++) {
		i = k ? idx->n - 1 : 0;
		r = watch_chunk(&d, idx, i, buf, &same);
		if (r < 0)
			r = err_set(r, "source %s: reading its %s chunk again failed: %s", path,
				    which[k], strerror(-r));
		else if (!same)
			r = err_set(-EAGAIN, "source %s changed while it was read (its %s chunk "
					     "differs on a second read): " CHANGED_FIX, path,
				    which[k]);
	}
	dio_done(&d);
	free(buf);
	return r;
}

/* A disk: its size, its ends read again, the writes through its device node
 * (they move the node's modification time) and the writes that reached it. */
static int watch_disk(const struct capture_watch *w, const char *path, int fd,
		      const struct caibx *idx)
{
	uint64_t size = 0, writes = 0;
	struct stat st;
	int r;

	if (ioctl(fd, BLKGETSIZE64, &size) < 0 || fstat(fd, &st) < 0)
		return err_set(-errno, "source %s: cannot read its size: %s", path,
			       strerror(errno));
	if (size != w->size)
		return err_set(-EAGAIN, "source %s changed while it was read (its size went from "
					"%" PRIu64 " to %" PRIu64 " bytes): " CHANGED_FIX, path,
			       w->size, size);
	(void)fsync(fd); /* what was written meanwhile and sits in the cache: to the disk,
			    where the second read and the count see it */
	r = watch_ends(path, fd, idx);
	if (r < 0)
		return r;
	if (ts_ns(&st.st_mtim) != w->mtime_ns)
		return err_set(-EAGAIN, "source %s changed while it was read (it was written to "
					"through %s: its modification time moved): " CHANGED_FIX,
			       path, path);
	if (w->have_writes && disk_write_count(fd, &writes) == 0 && writes != w->writes)
		return err_set(-EAGAIN, "source %s changed while it was read (%" PRIu64 " KiB "
					"were written to it meanwhile): " CHANGED_FIX, path,
			       (writes - w->writes + 1) / 2);
	return 0;
}

int capture_watch_check(const struct capture_watch *w, const char *path, int fd,
			const struct caibx *idx)
{
	char msg[ERR_MSG_MAX];
	int r;

	if (!idx->n)
		return 0;
	r = w->is_blk ? watch_disk(w, path, fd, idx) : watch_file(w, path, fd);
	if (r == -EAGAIN) {
		str_copy(msg, sizeof(msg), err_msg());
		err_set(r, "%s%s", msg, capture_ways(path));
	}
	return r;
}
