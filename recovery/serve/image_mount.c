/* muletto mount from start to end: the folder checked, the nbd driver
 * loaded, the image served read-only to a /dev/nbdX, the partition chosen and
 * mounted, the record written; then serving until told to stop, and every
 * step undone in reverse. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_kernel.h"
#include "image_mount_int.h"

#define POLL_MS 100

struct image_mount {
	struct served *s;
	struct nbd_export e;
	struct nbd_kernel *k;
	int record_fd; /* holds the record's lock; -1 before it is written */
	int mounted;
	struct image_mount_info info;
};

static int check_dir(const char *dir, struct image_mount_info *m)
{
	struct image_mount_info other;
	struct stat st;
	int r;

	if (!realpath(dir, m->dir))
		return err_set(-errno, "%s: %s: give an existing folder to mount the image on "
				       "(mkdir %s first)", dir, strerror(errno), dir);
	if (stat(m->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(-ENOTDIR, "%s is not a folder: give a folder to mount the image on",
			       dir);
	if (strchr(m->dir, '\n'))
		return err_set(-EINVAL, "%s: a folder whose name holds a line break cannot be "
					"recorded: choose another", dir);
	r = image_mount_record_find(m->dir, &other);
	if (r > 0 && other.pid)
		return err_set(-EBUSY, "%s already shows %s, mounted by muletto (process %d): "
				       "muletto umount %s first", dir, other.image, (int)other.pid,
			       dir);
	return r < 0 ? r : 0;
}

static int load_driver(int *max_part)
{
	char msg[ERR_MSG_MAX];
	int r = nbd_kernel_load(max_part);

	if (r == -ENODEV) {
		str_copy(msg, sizeof(msg), err_msg());
		return err_set(r, "%s: mount needs the boot environment, or modprobe nbd", msg);
	}
	return r;
}

/* The kernel reads the partition table, libblkid the file systems. */
static int choose(struct image_mount *im, int max_part, int want)
{
	int fd, r;

	str_copy(im->info.device, sizeof(im->info.device), nbd_kernel_device(im->k));
	fd = open(im->info.device, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "cannot open %s: %s", im->info.device, strerror(errno));
	/* now, rather than at some later open (the nbd driver asks for a scan
	 * when it starts serving, done at the next open) */
	if (ioctl(fd, BLKRRPART) < 0)
		debug_log("mount", "%s: BLKRRPART: %s", im->info.device, strerror(errno));
	r = image_mount_pick(fd, served_size(im->s), max_part, want, &im->info);
	close(fd);
	return r;
}

static int setup(struct image_mount *im, const struct image_mount_request *q)
{
	struct serve_opts o = q->o;
	int max_part = -1, r;

	o.to = o.cow = o.state = NULL; /* read-only: nothing written anywhere */
	o.confirm = NULL;
	r = check_dir(q->dir, &im->info);
	if (r == 0)
		r = load_driver(&max_part);
	if (r == 0)
		r = served_open(q->repo, q->name, &o, &im->s);
	if (r < 0)
		return r;
	str_copy(im->info.image, sizeof(im->info.image), served_name(im->s));
	served_export(im->s, &im->e);
	r = nbd_kernel_attach(&im->e, served_sector_size(im->s), &im->k);
	if (r == 0)
		r = choose(im, max_part, q->partition);
	if (r == 0)
		r = image_mount_record_write(&im->info, q->repo, &im->record_fd);
	if (r == 0)
		r = image_mount_fs(&im->info);
	im->mounted = r == 0;
	return r;
}

/* Unmounts (lazily when busy: nothing else would ever let go of the device),
 * disconnects the kernel, closes the image, removes the record. */
static int teardown(struct image_mount *im)
{
	const char *dir = im->info.dir;
	int r = 0, r2;

	if (im->mounted && image_mount_is_mounted(&im->info) && umount2(dir, 0) < 0) {
		if (errno == EBUSY && umount2(dir, MNT_DETACH) == 0)
			event_warning("%s was in use: it is detached, and what is still open there "
				      "reads errors from now on", dir);
		else
			r = err_set(-errno, "cannot unmount %s: %s", dir, strerror(errno));
	}
	r2 = nbd_kernel_detach(im->k);
	if (r == 0)
		r = r2;
	r2 = served_close(im->s);
	if (r == 0)
		r = r2;
	if (im->record_fd >= 0)
		image_mount_record_remove(&im->info, im->record_fd);
	return r;
}

int image_mount_run(const struct image_mount_request *q, image_mount_ready_fn ready, void *ctx,
		    volatile sig_atomic_t *stop)
{
	struct image_mount im = { .record_fd = -1 };
	char msg[ERR_MSG_MAX];
	int r = setup(&im, q), r2;

	if (r == 0) {
		im.info.pid = getpid();
		ready(ctx, &im.info);
		while (!*stop && nbd_kernel_connected(im.k))
			sleep_ms(POLL_MS);
		if (!*stop)
			event_warning("the kernel let go of %s (somebody disconnected it): %s is "
				      "unmounted", im.info.device, im.info.dir);
	}
	if (r < 0)
		str_copy(msg, sizeof(msg), err_text(r));
	r2 = teardown(&im);
	if (r < 0) /* the mount's failure, not what undoing it met */
		return err_set(r, "%s", msg);
	return r2;
}
