/* One muletto per target: lock files keyed by the target's identity, flock()ed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/lock.h"

struct lock {
	int fd;
	char *file;
};

static void lock_name(const struct stat *st, char *out, size_t n)
{
	if (S_ISBLK(st->st_mode))
		snprintf(out, n, "block-%u:%u.lock", major(st->st_rdev), minor(st->st_rdev));
	else
		snprintf(out, n, "file-%u:%u-%llu.lock", major(st->st_dev), minor(st->st_dev),
			 (unsigned long long)st->st_ino);
}

/* Opens (creating) the lock file called name in the first folder that can
 * hold it: *ret_file is a new string. */
static int lock_open_file(const char *path, const char *name, char **ret_file, int *ret_fd)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];
	char *file;
	int r = 0, first = 0, fd;

	for (int i = 0; i < 2; i++) {
		if (i == 0)
			str_copy(dir, sizeof(dir), LOCK_DIR);
		else if (xdg && xdg[0] == '/')
			snprintf(dir, sizeof(dir), "%.3000s/muletto/locks", xdg);
		else
			break;
		file = path_join(dir, name);
		if (!file)
			return -ENOMEM;
		r = mkdir_p(dir, 0755);
		fd = r < 0 ? -1 : open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd >= 0) {
			*ret_file = file;
			*ret_fd = fd;
			return 0;
		}
		if (r == 0)
			r = -errno;
		if (i == 0)
			first = r;
		free(file);
	}
	return err_set(first, "cannot lock target %s: no lock file can be made in %s (%s); "
			      "muletto needs a writable /run (as root, or mount a tmpfs on /run) "
			      "to keep two restores off one target", path, LOCK_DIR,
		       strerror(-first));
}

/* The pid the holder wrote, waiting a little for a holder that has just taken
 * the lock to write it; 0 when unknown. */
static long lock_holder_pid(int fd)
{
	char buf[32];
	size_t got = 0;
	long pid = 0;

	for (int i = 0; i < 50; i++) {
		memset(buf, 0, sizeof(buf));
		if (pread_full(fd, buf, sizeof(buf) - 1, 0, &got) < 0)
			return 0;
		if (got && strchr(buf, '\n')) {
			pid = strtol(buf, NULL, 10);
			return pid > 0 ? pid : 0;
		}
		sleep_ms(10);
	}
	return 0;
}

static int lock_refuse(const char *path, int fd)
{
	long pid = lock_holder_pid(fd);

	if (pid)
		return err_set(-EBUSY, "refusing to write to %s: another muletto is writing it "
				       "(pid %ld); wait for it to end, or choose another target",
			       path, pid);
	return err_set(-EBUSY, "refusing to write to %s: another muletto is writing it; wait "
			       "for it to end, or choose another target", path);
}

/* 1 when fd is still the file called file: its holder may have removed it
 * between our open and our flock, and a new one may stand there now. */
static int lock_still_linked(int fd, const char *file)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(file, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int lock_write_pid(struct lock *l, const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int r;

	if (ftruncate(l->fd, 0) < 0)
		r = -errno;
	else
		r = pwrite_full(l->fd, buf, (size_t)n, 0);
	if (r < 0)
		return err_set(r, "cannot lock target %s: writing %s: %s", path, l->file,
			       strerror(-r));
	return 0;
}

int lock_target(const char *path, const struct stat *st, struct lock **ret)
{
	char name[96];
	struct lock *l;
	int r = 0;

	lock_name(st, name, sizeof(name));
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (int tries = 0; tries < 16; tries++) {
		r = lock_open_file(path, name, &l->file, &l->fd);
		if (r < 0)
			break;
		if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? lock_refuse(path, l->fd)
						 : err_set(-errno, "cannot lock target %s: %s: %s",
							   path, l->file, strerror(errno));
			break;
		}
		if (lock_still_linked(l->fd, l->file)) {
			r = lock_write_pid(l, path);
			if (r < 0)
				break;
			*ret = l;
			return 0;
		}
		close(l->fd);
		free(l->file);
		l->file = NULL;
		r = err_set(-EAGAIN, "cannot lock target %s: its lock file keeps being replaced",
			    path);
	}
	if (l->file) {
		close(l->fd);
		free(l->file);
	}
	free(l);
	return r;
}

void lock_release(struct lock *l)
{
	if (!l)
		return;
	/* Removed while still held: whoever opened it meanwhile sees it unlinked. */
	unlink(l->file);
	close(l->fd);
	free(l->file);
	free(l);
}
