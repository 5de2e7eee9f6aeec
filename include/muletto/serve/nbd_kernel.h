/* The kernel's own NBD client (drivers/block/nbd) on an export of this
 * process: a /dev/nbdX whose every read the kernel sends over a socketpair to
 * nbd_serve_transmission() (serve/nbd.h) on a thread here.
 *
 * Set up with the ioctls nbd-client uses: NBD_SET_SOCK, NBD_SET_BLKSIZE,
 * NBD_SET_SIZE, NBD_SET_FLAGS, then NBD_DO_IT, which blocks, on a thread of
 * its own, for as long as the device is connected. The kernel speaks only the
 * transmission phase: the size and the flags come from the ioctls, there is
 * no handshake.
 *
 * A device is free when the kernel serves nobody on it: no
 * /sys/block/nbdX/pid and a size of 0. Two processes that pick the same one
 * race on NBD_SET_SOCK, which the kernel grants to one of them (the other
 * gets EBUSY and tries the next device). */
#ifndef MULETTO_SERVE_NBD_KERNEL_H
#define MULETTO_SERVE_NBD_KERNEL_H

#include <stdint.h>

#include "muletto/serve/nbd.h"

struct nbd_kernel;

/* Loads the nbd module (modprobe) when the kernel shows no nbd device yet.
 * 0, with the partitions the driver shows per device (its max_part; 0: none,
 * -1: not known); -ENODEV when the kernel has no nbd driver. */
int nbd_kernel_load(int *ret_max_part);
/* Connects a free /dev/nbdX to e (read-only when e is) with block_size (a
 * power of two from 512 to 4096) and returns once the kernel serves it. e
 * must outlive the connection. -EBUSY when every device is in use. */
int nbd_kernel_attach(const struct nbd_export *e, uint32_t block_size, struct nbd_kernel **ret);
/* "/dev/nbd0" */
const char *nbd_kernel_device(const struct nbd_kernel *k);
/* 1 while the kernel serves the device; 0 once it let go of it (somebody
 * disconnected it, or the connection broke). */
int nbd_kernel_connected(struct nbd_kernel *k);
/* Disconnects the device (NBD_DISCONNECT; NBD_CLEAR_SOCK when the kernel does
 * not let go), waits for both threads and frees k. The device is free again
 * once nothing else holds it open (a mount). NULL is fine. Returns the first
 * error the server met. */
int nbd_kernel_detach(struct nbd_kernel *k);
/* Disconnects dev from outside the process that served it (one that died).
 * 0, or a negative errno with a message. */
int nbd_kernel_release(const char *dev);
/* 1 when nobody serves dev ("/dev/nbd0"), or when there is no such device. */
int nbd_kernel_is_free(const char *dev);

#endif
