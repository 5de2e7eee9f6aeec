/* A partition's head on the target and its tail in a sparse file, joined
 * into one file through FUSE while its file system shrinks (see overflow.h). */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/overflow.h"

#define OVERFLOW_NAME "partition"

struct overflow {
	char file[4096], dir[4200];
	int fd;		   /* the overflow file */
	struct dio io;
	uint64_t size;	   /* of the overflow */
	int target_fd;	   /* while joined */
	uint64_t off, head;
	struct fuse *fuse;
	pthread_t loop;
	int joined;
};

static const char *overflow_tmpdir(void)
{
	const char *d = getenv("MULETTO_TMPDIR");

	if (!d || !d[0])
		d = getenv("TMPDIR");
	return d && d[0] ? d : "/tmp";
}

int overflow_new(uint64_t size, uint64_t data, const char *what, struct overflow **ret)
{
	struct overflow *o = calloc(1, sizeof(*o));
	const char *dir = overflow_tmpdir();
	struct statvfs vfs;
	char need[32], have[32];
	uint64_t room;

	if (!o)
		return -ENOMEM;
	o->fd = -1;
	if (statvfs(dir, &vfs) == 0) {
		room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (room < data + (data >> 4)) { /* and a sixteenth for the file system's own */
			human_size(data, need, sizeof(need));
			human_size(room, have, sizeof(have));
			free(o);
			return err_set(-ENOSPC, "shrinking %s needs %s of room for the data beyond "
						"its new end while it shrinks, and %s has %s free: set "
						"MULETTO_TMPDIR to a folder with more room (not on the "
						"target), or choose a larger disk", what, need, dir, have);
		}
	}
	snprintf(o->file, sizeof(o->file), "%s/muletto-overflow.XXXXXX", dir);
	o->fd = mkostemp(o->file, O_CLOEXEC);
	if (o->fd < 0 || ftruncate(o->fd, (off_t)size) < 0) {
		int r = -errno;
		if (o->fd >= 0) {
			close(o->fd);
			unlink(o->file);
		}
		free(o);
		return err_set(r, "cannot make an overflow file in %s for shrinking %s: %s", dir,
			       what, strerror(-r));
	}
	o->size = size;
	o->target_fd = -1;
	dio_init(&o->io, o->fd, o->file, O_RDWR);
	*ret = o;
	return 0;
}

const char *overflow_path(const struct overflow *o)
{
	return o->file;
}

const struct dio *overflow_io(const struct overflow *o)
{
	return &o->io;
}

static struct overflow *overflow_self(void)
{
	return fuse_get_context()->private_data;
}

static int ov_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct overflow *o = overflow_self();

	(void)fi;
	memset(st, 0, sizeof(*st));
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0700;
		st->st_nlink = 2;
		return 0;
	}
	if (strcmp(path, "/" OVERFLOW_NAME))
		return -ENOENT;
	st->st_mode = S_IFREG | 0600;
	st->st_nlink = 1;
	st->st_size = (off_t)(o->head + o->size);
	return 0;
}

static int ov_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/"))
		return -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, OVERFLOW_NAME, NULL, 0, 0);
	return 0;
}

static int ov_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/" OVERFLOW_NAME))
		return -ENOENT;
	fi->direct_io = 1; /* no second copy in the page cache, nothing stale */
	return 0;
}

/* [off, off+len) of the joined file, read or written piece by piece. */
static int ov_io(struct overflow *o, char *rbuf, const char *wbuf, size_t len, off_t off)
{
	uint64_t end = o->head + o->size, at = (uint64_t)off;
	size_t done = 0, n, got;
	int r;

	if (at >= end)
		return 0;
	len = (size_t)MIN((uint64_t)len, end - at);
	while (done < len) {
		uint64_t p = at + done;
		int fd = p < o->head ? o->target_fd : o->fd;
		uint64_t to = p < o->head ? o->off + p : p - o->head;
		n = (size_t)MIN((uint64_t)(len - done), p < o->head ? o->head - p : end - p);
		if (rbuf) {
			got = 0;
			r = pread_full(fd, rbuf + done, n, to, &got);
			if (r == 0 && got < n)
				memset(rbuf + done + got, 0, n - got);
		} else {
			r = pwrite_full(fd, wbuf + done, n, to);
		}
		if (r < 0)
			return r;
		done += n;
	}
	return (int)done;
}

static int ov_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return ov_io(overflow_self(), buf, NULL, len, off);
}

static int ov_write(const char *path, const char *buf, size_t len, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return ov_io(overflow_self(), NULL, buf, len, off);
}

/* Its size is the partition's: a tool that cuts or extends it changes nothing. */
static int ov_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path;
	(void)size;
	(void)fi;
	return 0;
}

static int ov_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct overflow *o = overflow_self();

	(void)path;
	(void)datasync;
	(void)fi;
	return fsync(o->target_fd) < 0 || fsync(o->fd) < 0 ? -errno : 0;
}

static const struct fuse_operations overflow_ops = {
	.getattr = ov_getattr,
	.readdir = ov_readdir,
	.open = ov_open,
	.read = ov_read,
	.write = ov_write,
	.truncate = ov_truncate,
	.fsync = ov_fsync,
};

static void *overflow_loop(void *arg)
{
	struct overflow *o = arg;

	fuse_loop(o->fuse);
	return NULL;
}

int overflow_join(struct overflow *o, int target_fd, uint64_t off, uint64_t head, char *path,
		  size_t path_size)
{
	char *argv[] = { "muletto", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	int r;

	o->target_fd = target_fd;
	o->off = off;
	o->head = head;
	snprintf(o->dir, sizeof(o->dir), "%s.join", o->file);
	if (mkdir(o->dir, 0700) < 0)
		return err_set(-errno, "cannot make %s: %s", o->dir, strerror(errno));
	o->fuse = fuse_new(&args, &overflow_ops, sizeof(overflow_ops), o);
	if (!o->fuse || fuse_mount(o->fuse, o->dir) < 0) {
		r = err_set(-ENODEV, "cannot join a partition and its overflow through FUSE at %s: "
				     "load the fuse module (modprobe fuse)", o->dir);
		if (o->fuse)
			fuse_destroy(o->fuse);
		o->fuse = NULL;
		rmdir(o->dir);
		fuse_opt_free_args(&args);
		return r;
	}
	fuse_opt_free_args(&args);
	if ((r = pthread_create(&o->loop, NULL, overflow_loop, o)) != 0) {
		fuse_unmount(o->fuse);
		fuse_destroy(o->fuse);
		o->fuse = NULL;
		rmdir(o->dir);
		return err_set(-r, "cannot start a thread: %s", strerror(r));
	}
	o->joined = 1;
	snprintf(path, path_size, "%s/" OVERFLOW_NAME, o->dir);
	return 0;
}

int overflow_unjoin(struct overflow *o)
{
	if (!o->joined)
		return 0;
	fuse_exit(o->fuse);
	fuse_unmount(o->fuse); /* ends the loop: its next read finds the mount gone */
	pthread_join(o->loop, NULL);
	fuse_destroy(o->fuse);
	o->fuse = NULL;
	o->joined = 0;
	rmdir(o->dir);
	return 0;
}

void overflow_free(struct overflow *o)
{
	if (!o)
		return;
	overflow_unjoin(o);
	dio_done(&o->io);
	if (o->fd >= 0)
		close(o->fd);
	unlink(o->file);
	free(o);
}
