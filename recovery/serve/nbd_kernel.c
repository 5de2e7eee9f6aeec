/* The kernel's NBD client on an export of ours: a free /dev/nbdX found and
 * claimed, the socketpair and the ioctls, the server and NBD_DO_IT on threads
 * of their own, and a clean disconnect. */
#include <errno.h>
#include <fcntl.h>
#include <linux/nbd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_kernel.h"
#include "muletto/store/netfs.h"

#define NBD_DEVICES_MAX 1024	  /* /dev/nbd0 .. looked at, at most */
#define NBD_START_WAIT_MS 10000	  /* for the kernel to take the device */
#define NBD_STOP_WAIT_MS 10000	  /* for it to let go after NBD_DISCONNECT */
#define NBD_POLL_MS 20

struct nbd_kernel {
	char dev[32];
	int fd;	     /* the device, for the ioctls */
	int sock[2]; /* [0]: the kernel's end, [1]: ours */
	const struct nbd_export *e;
	pthread_t server, doit;
	int threads;	      /* 1: the server runs; 2: and NBD_DO_IT */
	atomic_int doit_done; /* NBD_DO_IT returned: the kernel let go */
	int doit_err;	      /* its result, written before doit_done */
	int server_err;	      /* the server's result, read after joining it */
	char server_msg[ERR_MSG_MAX];
};

static void sys_block_path(const char *dev, const char *attr, char *out, size_t size)
{
	const char *name = strrchr(dev, '/');

	snprintf(out, size, "/sys/block/%s/%s", name ? name + 1 : dev, attr);
}

int nbd_kernel_is_free(const char *dev)
{
	char path[128], size[32] = "";

	sys_block_path(dev, "pid", path, sizeof(path));
	if (access(path, F_OK) == 0)
		return 0;
	sys_block_path(dev, "size", path, sizeof(path));
	/* no size: the device is gone, nothing holds it */
	return read_line_file(path, size, sizeof(size)) < 0 || !strcmp(size, "0");
}

int nbd_kernel_load(int *ret_max_part)
{
	char v[32] = "";
	struct utsname u;
	int n;

	if (access("/sys/block/nbd0", F_OK) != 0)
		netfs_modprobe("nbd");
	if (access("/sys/block/nbd0", F_OK) != 0) {
		uname(&u);
		return err_set(-ENODEV, "the kernel has no nbd driver (Linux %s has no nbd module)",
			       u.release);
	}
	if (read_line_file("/sys/module/nbd/parameters/max_part", v, sizeof(v)) < 0 ||
	    parse_int(v, 0, 1 << 20, &n) < 0)
		n = -1;
	*ret_max_part = n;
	return 0;
}

const char *nbd_kernel_device(const struct nbd_kernel *k)
{
	return k->dev;
}

int nbd_kernel_connected(struct nbd_kernel *k)
{
	return !atomic_load(&k->doit_done);
}

static void *nbd_kernel_serve(void *v)
{
	struct nbd_kernel *k = v;

	k->server_err = nbd_serve_transmission(k->sock[1], k->e);
	if (k->server_err < 0)
		str_copy(k->server_msg, sizeof(k->server_msg), err_text(k->server_err));
	shutdown(k->sock[1], SHUT_RDWR); /* the kernel's end sees it at once */
	return NULL;
}

static void *nbd_kernel_doit(void *v)
{
	struct nbd_kernel *k = v;

	k->doit_err = ioctl(k->fd, NBD_DO_IT) < 0 ? -errno : 0;
	atomic_store(&k->doit_done, 1);
	return NULL;
}

static void nbd_kernel_close(struct nbd_kernel *k)
{
	if (k->fd >= 0)
		close(k->fd);
	if (k->sock[0] >= 0)
		close(k->sock[0]);
	if (k->sock[1] >= 0)
		close(k->sock[1]);
	k->fd = k->sock[0] = k->sock[1] = -1;
}

/* Claims /dev/nbd<i>: 1 when the kernel took our socket for it, 0 when the
 * device is not there or is somebody else's, or a negative errno. */
static int nbd_kernel_claim(struct nbd_kernel *k, int i)
{
	int e;

	snprintf(k->dev, sizeof(k->dev), "/dev/nbd%d", i);
	if (!nbd_kernel_is_free(k->dev))
		return 0;
	k->fd = open(k->dev, O_RDWR | O_CLOEXEC);
	if (k->fd < 0 && (errno == EACCES || errno == EPERM))
		return err_set(-errno, "cannot open %s: %s: this needs root", k->dev, strerror(errno));
	if (k->fd < 0)
		return 0; /* no device node for it: the next one */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, k->sock) < 0) {
		e = errno;
		nbd_kernel_close(k);
		return err_set(-e, "cannot make a socket pair for %s: %s", k->dev, strerror(e));
	}
	if (ioctl(k->fd, NBD_SET_SOCK, (unsigned long)k->sock[0]) == 0)
		return 1;
	e = errno;
	nbd_kernel_close(k);
	if (e == EBUSY)
		return 0; /* another process is setting it up */
	return err_set(-e, "%s: the kernel refused the connection (NBD_SET_SOCK): %s", k->dev,
		       strerror(e));
}

/* The kernel serves the device: its pid shows in /sys, and its size, which
 * the driver sets just after. */
static int nbd_kernel_serving(const struct nbd_kernel *k)
{
	char path[128], size[32] = "";

	sys_block_path(k->dev, "pid", path, sizeof(path));
	if (access(path, F_OK) != 0)
		return 0;
	sys_block_path(k->dev, "size", path, sizeof(path));
	return read_line_file(path, size, sizeof(size)) == 0 && size[0] && strcmp(size, "0");
}

/* Size, block size and flags, then the threads; returns once the kernel
 * serves the device. */
static int nbd_kernel_start(struct nbd_kernel *k, uint32_t block_size, uint16_t flags)
{
	sigset_t all, old;
	int waited, r = 0;

	if (ioctl(k->fd, NBD_SET_BLKSIZE, (unsigned long)block_size) < 0 ||
	    ioctl(k->fd, NBD_SET_SIZE, (unsigned long)k->e->size) < 0 ||
	    ioctl(k->fd, NBD_SET_FLAGS, (unsigned long)flags) < 0)
		return err_set(-errno, "%s: the kernel refused the size %llu or the block size %u: %s",
			       k->dev, (unsigned long long)k->e->size, block_size, strerror(errno));
	/* Signals go to the caller: one that reached NBD_DO_IT would cut the
	 * connection. The threads start with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&k->server, NULL, nbd_kernel_serve, k) == 0) {
		k->threads = 1;
		if (pthread_create(&k->doit, NULL, nbd_kernel_doit, k) == 0)
			k->threads = 2;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (k->threads < 2)
		return err_set(-EAGAIN, "cannot start the threads that serve %s", k->dev);
	for (waited = 0; !nbd_kernel_serving(k); waited += NBD_POLL_MS) {
		if (atomic_load(&k->doit_done)) {
			r = k->doit_err ? k->doit_err : -EIO;
			return err_set(r, "%s: the kernel did not start serving it (NBD_DO_IT): %s",
				       k->dev, strerror(-r));
		}
		if (waited >= NBD_START_WAIT_MS)
			return err_set(-ETIMEDOUT, "%s: the kernel did not start serving it within "
						   "%d s", k->dev, NBD_START_WAIT_MS / 1000);
		sleep_ms(NBD_POLL_MS);
	}
	return 0;
}

int nbd_kernel_attach(const struct nbd_export *e, uint32_t block_size, struct nbd_kernel **ret)
{
	struct nbd_kernel *k;
	uint16_t flags;
	int i, r, seen = 0;

	r = nbd_export_flags(e, &flags);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->e = e;
	k->fd = k->sock[0] = k->sock[1] = -1;
	for (i = 0, r = 0; r == 0 && i < NBD_DEVICES_MAX; i++) {
		char sys[64];
		snprintf(sys, sizeof(sys), "/sys/block/nbd%d", i);
		if (access(sys, F_OK) != 0)
			break;
		seen++;
		r = nbd_kernel_claim(k, i);
	}
	if (r == 0)
		r = err_set(-EBUSY, "no free nbd device: all %d (/dev/nbd0 to /dev/nbd%d) are in use; "
				    "muletto umount one that is no longer needed", seen, seen - 1);
	if (r > 0)
		r = nbd_kernel_start(k, block_size, flags);
	if (r < 0) {
		nbd_kernel_detach(k);
		return r;
	}
	debug_log("nbd", "%s: served to the kernel, %llu bytes, flags %#x", k->dev,
		  (unsigned long long)e->size, flags);
	*ret = k;
	return 0;
}

/* Waits for NBD_DO_IT to return, at most ms. */
static int nbd_kernel_wait_doit(struct nbd_kernel *k, int ms)
{
	int waited;

	for (waited = 0; !atomic_load(&k->doit_done) && waited < ms; waited += NBD_POLL_MS)
		sleep_ms(NBD_POLL_MS);
	return atomic_load(&k->doit_done);
}

int nbd_kernel_detach(struct nbd_kernel *k)
{
	int r;

	if (!k)
		return 0;
	if (k->threads == 2 && !atomic_load(&k->doit_done)) {
		ioctl(k->fd, NBD_DISCONNECT); /* the kernel sends NBD_CMD_DISC */
		if (!nbd_kernel_wait_doit(k, NBD_STOP_WAIT_MS))
			ioctl(k->fd, NBD_CLEAR_SOCK); /* cuts its end of the socket */
	}
	if (k->sock[1] >= 0)
		shutdown(k->sock[1], SHUT_RDWR);
	if (k->threads == 2)
		pthread_join(k->doit, NULL);
	if (k->threads >= 1)
		pthread_join(k->server, NULL);
	if (k->fd >= 0) /* claimed: its setup goes, the rest with our last close */
		ioctl(k->fd, NBD_CLEAR_SOCK);
	nbd_kernel_close(k);
	r = k->server_err;
	if (r < 0)
		err_set(r, "%s", k->server_msg);
	debug_log("nbd", "%s: disconnected", k->dev);
	free(k);
	return r;
}

int nbd_kernel_release(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return err_set(-errno, "cannot open %s: %s", dev, strerror(errno));
	ioctl(fd, NBD_DISCONNECT);
	ioctl(fd, NBD_CLEAR_SOCK);
	close(fd);
	return 0;
}
