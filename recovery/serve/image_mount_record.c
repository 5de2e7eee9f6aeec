/* The records of muletto mount (IMAGE_MOUNT_DIR/nbdX, one "key=value" a line,
 * locked by the process that serves the device) and muletto umount, which
 * finds one by its folder, unmounts it and stops its server. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_kernel.h"
#include "image_mount_int.h"

#define RECORD_MAX 65536
#define STOP_WAIT_MS 30000 /* for the server to disconnect and end */
#define FREE_WAIT_MS 5000  /* for the kernel to free the device after */
#define STOP_POLL_MS 50

static void record_path(const char *device, char *out, size_t size)
{
	const char *name = strrchr(device, '/');

	snprintf(out, size, "%s/%s", IMAGE_MOUNT_DIR, name ? name + 1 : device);
}

/* A value on one line: control characters (a label from the image) as '?'. */
static void record_clean(const char *s, char *out, size_t size)
{
	size_t i;

	str_copy(out, size, s);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
}

int image_mount_record_write(const struct image_mount_info *m, const char *repo, int *ret_fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX], label[256], image[300], where[1024];
	_cleanup_free_ char *text = NULL;
	int fd, r;

	r = mkdir_p(IMAGE_MOUNT_DIR, 0700);
	if (r < 0)
		return err_set(r, "cannot make %s: %s", IMAGE_MOUNT_DIR, strerror(-r));
	record_path(m->device, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(-errno, "cannot write %s: %s", path, strerror(errno));
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		close(fd);
		return err_set(-EBUSY, "%s is held by another muletto", path);
	}
	record_clean(m->label, label, sizeof(label));
	record_clean(m->image, image, sizeof(image));
	record_clean(repo, where, sizeof(where));
	text = str_printf("pid=%d\ndir=%s\ndevice=%s\npartition=%d\npartition_device=%s\nfs=%s\n"
			  "label=%s\nsize=%llu\nimage=%s\nrepo=%s\n", (int)getpid(), m->dir,
			  m->device, m->partition, m->part_dev, m->fs, label,
			  (unsigned long long)m->size, image, where);
	r = text ? 0 : -ENOMEM;
	if (r == 0 && ftruncate(fd, 0) < 0)
		r = -errno;
	if (r == 0)
		r = write_full(fd, text, strlen(text));
	if (r < 0) {
		unlink(path);
		close(fd);
		return err_set(r, "cannot write %s: %s", path, strerror(-r));
	}
	*ret_fd = fd;
	return 0;
}

void image_mount_record_remove(const struct image_mount_info *m, int fd)
{
	char path[PATH_MAX];

	record_path(m->device, path, sizeof(path));
	unlink(path);
	close(fd); /* the lock goes: muletto umount knows the server is done */
}

/* The process holding the record's lock, 0 when none. */
static pid_t record_holder(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid;
}

static void record_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = text;

	out[0] = 0;
	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			p += klen + 1;
			snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

/* Reads the record at path: 1 when it names dir. */
static int record_read(const char *path, const char *dir, struct image_mount_info *ret)
{
	char v[64];
	_cleanup_free_ void *buf = NULL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len;

	if (fd < 0 || fd_read_all(fd, RECORD_MAX, &buf, &len) < 0)
		return 0; /* gone meanwhile, or not ours to read */
	memset(ret, 0, sizeof(*ret));
	record_value(buf, "dir", ret->dir, sizeof(ret->dir));
	if (strcmp(ret->dir, dir))
		return 0;
	record_value(buf, "device", ret->device, sizeof(ret->device));
	record_value(buf, "partition_device", ret->part_dev, sizeof(ret->part_dev));
	record_value(buf, "fs", ret->fs, sizeof(ret->fs));
	record_value(buf, "label", ret->label, sizeof(ret->label));
	record_value(buf, "image", ret->image, sizeof(ret->image));
	record_value(buf, "partition", v, sizeof(v));
	parse_int(v, 0, 1 << 20, &ret->partition);
	record_value(buf, "size", v, sizeof(v));
	parse_u64(v, 0, UINT64_MAX, &ret->size);
	ret->pid = record_holder(fd);
	return ret->device[0] ? 1 : 0;
}

int image_mount_record_find(const char *dir, struct image_mount_info *ret)
{
	char path[PATH_MAX];
	DIR *d = opendir(IMAGE_MOUNT_DIR);
	struct dirent *de;
	int found = 0;

	if (!d)
		return errno == ENOENT ? 0 : err_set(-errno, "cannot read %s: %s", IMAGE_MOUNT_DIR,
						     strerror(errno));
	while (!found && (de = readdir(d))) {
		/* nbdN only: nbdN.log is what the server said */
		if (strncmp(de->d_name, "nbd", 3) || !de->d_name[3] ||
		    strspn(de->d_name + 3, "0123456789") != strlen(de->d_name + 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s", IMAGE_MOUNT_DIR, de->d_name);
		found = record_read(path, dir, ret);
	}
	closedir(d);
	return found;
}

/* Waits until the record's lock is free (its server ended), at most ms. */
static int record_wait_free(const struct image_mount_info *m, int ms)
{
	char path[PATH_MAX];
	int waited, fd;
	pid_t holder = 1;

	record_path(m->device, path, sizeof(path));
	for (waited = 0; waited < ms; waited += STOP_POLL_MS) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		holder = fd < 0 ? 0 : record_holder(fd);
		if (fd >= 0)
			close(fd);
		if (!holder)
			return 1;
		sleep_ms(STOP_POLL_MS);
	}
	return 0;
}

/* Stops the server holding the record: SIGTERM, then its end. */
static int stop_server(const struct image_mount_info *m)
{
	if (kill(m->pid, SIGTERM) < 0 && errno != ESRCH)
		return err_set(-errno, "cannot stop process %d, which serves %s: %s", (int)m->pid,
			       m->device, strerror(errno));
	if (!record_wait_free(m, STOP_WAIT_MS))
		return err_set(-ETIMEDOUT, "process %d, which serves %s, did not end within %d s "
					   "after SIGTERM: end it with kill -9 %d, then run muletto "
					   "umount again", (int)m->pid, m->device, STOP_WAIT_MS / 1000,
			       (int)m->pid);
	return 0;
}

/* A record nobody holds: its server died; the device is released here. */
static int release_orphan(const struct image_mount_info *m)
{
	char path[PATH_MAX];

	record_path(m->device, path, sizeof(path));
	if (!nbd_kernel_is_free(m->device))
		nbd_kernel_release(m->device);
	unlink(path);
	return 0;
}

int image_mount_stop(const char *dir, struct image_mount_info *ret)
{
	struct image_mount_info m;
	char real[PATH_MAX];
	int r, waited;

	if (!realpath(dir, real))
		return err_set(-errno, "%s: %s", dir, strerror(errno));
	r = image_mount_record_find(real, &m);
	if (r == 0)
		return err_set(-ENOENT, "%s was not mounted by muletto mount (no record in %s names "
					"it): for other mounts, use umount %s", dir, IMAGE_MOUNT_DIR,
			       dir);
	if (r < 0)
		return r;
	if (image_mount_is_mounted(&m) && umount2(m.dir, 0) < 0) {
		if (errno == EBUSY)
			return err_set(-EBUSY, "%s is in use: a shell or a program has its working "
					       "directory or a file open in it; leave it (cd /) and "
					       "close them, then run muletto umount %s again", dir, dir);
		return err_set(-errno, "cannot unmount %s: %s", dir, strerror(errno));
	}
	r = m.pid ? stop_server(&m) : release_orphan(&m);
	for (waited = 0; r == 0 && !nbd_kernel_is_free(m.device); waited += STOP_POLL_MS) {
		if (waited >= FREE_WAIT_MS)
			return err_set(-EBUSY, "%s was unmounted, but %s is still held by something "
					       "else", dir, m.device);
		sleep_ms(STOP_POLL_MS);
	}
	if (r == 0)
		*ret = m;
	return r;
}
