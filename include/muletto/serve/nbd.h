/* An image's disk as a block device on the network: an NBD server.
 *
 * The server speaks the fixed newstyle NBD protocol (NetworkBlockDevice's
 * doc/proto.md) to QEMU, the kernel's nbd-client, libnbd and qemu-img. What
 * lies behind it is a struct nbd_export: a size, block sizes and functions
 * that read and write bytes (a file, a disk, or an image hydrated on demand).
 *
 * nbd_listen() opens the socket, nbd_serve() accepts clients until *stop is
 * set. Each client is served on a thread of its own that reads its requests,
 * and up to NBD_IN_FLIGHT_MAX of them run at once on a small pool, so that a
 * slow read (a chunk fetched from a repository) does not hold up the others.
 * Nothing a client sends is trusted: every length is checked before anything
 * is allocated, and a client that breaks the protocol is disconnected
 * without disturbing the others. */
#ifndef MULETTO_SERVE_NBD_H
#define MULETTO_SERVE_NBD_H

#include <signal.h>
#include <stdint.h>

/* base:allocation, what block_status reports for an extent. */
#define NBD_STATE_HOLE (1u << 0) /* not allocated in the backend */
#define NBD_STATE_ZERO (1u << 1) /* reads as zeros */

/* Defaults for the block sizes of an export (0 in struct nbd_export). */
#define NBD_MIN_BLOCK_DEFAULT 1u
#define NBD_PREF_BLOCK_DEFAULT 4096u
#define NBD_MAX_BLOCK_DEFAULT (32u << 20)
/* Requests of one client executing at once, and the bytes their buffers hold
 * at most (a request larger than what is left waits for the others). */
#define NBD_IN_FLIGHT_MAX 16
#define NBD_CLIENT_BYTES_MAX (64u << 20)
/* Clients served at once; more are turned away at connect. */
#define NBD_CLIENTS_MAX 32

/* Adds one extent of length bytes (flags: NBD_STATE_*) after the previous
 * one; returns 0 to go on, or 1 when no more are wanted (the backend then
 * stops and returns 0). */
typedef int (*nbd_extent_fn)(void *a, uint32_t length, uint32_t flags);

/* What is served. The functions are called from several threads at once and
 * return 0 or a negative errno, with a message by err_set() (core/err.h)
 * that the client sees next to the error. A NULL function is not offered to
 * clients (trim, flush), or done another way (zero: by writing zeros;
 * block_status: everything is reported as data). The server never calls a
 * function beyond size, nor with a length of 0 or over max_block (trim and
 * block_status excepted: up to 4 GiB - 1). */
struct nbd_export {
	const char *name;	 /* what clients ask for; "" or NULL: the default export */
	const char *description; /* shown by nbdinfo; may be NULL */
	uint64_t size;		 /* bytes */
	/* 0: the defaults above. min_block: a power of two up to 64 KiB, the
	 * alignment of every request; pref_block: a power of two from 512;
	 * max_block: a multiple of min_block, the longest read or write. */
	uint32_t min_block, pref_block, max_block;
	int read_only; /* writes, trims and zeroing refused with EPERM */
	void *ctx;
	int (*read)(void *ctx, void *buf, uint32_t len, uint64_t off);
	/* fua: durable before returning (as write then flush). */
	int (*write)(void *ctx, const void *buf, uint32_t len, uint64_t off, int fua);
	/* Makes every write that returned durable, whichever client made it. */
	int (*flush)(void *ctx);
	/* A hint: the range may be discarded (-EOPNOTSUPP counts as done). */
	int (*trim)(void *ctx, uint32_t len, uint64_t off);
	/* The range reads as zeros afterwards; may_trim: it may become a hole.
	 * -EOPNOTSUPP: the server writes zeros instead. */
	int (*zero)(void *ctx, uint32_t len, uint64_t off, int may_trim);
	/* Extents covering [off, off + len) in order from off, reported through
	 * add(a, ...); may cover less than len (the client asks again). */
	int (*block_status)(void *ctx, uint64_t off, uint32_t len, nbd_extent_fn add, void *a);
};

/* Opens a listening socket: "unix:PATH" (mode 0600; a stale socket file left
 * by a server that died is replaced, anything else at PATH is refused) or
 * "tcp:ADDR:PORT" (ADDR an IPv4 address, an IPv6 one in brackets, or
 * localhost; PORT 0 picks a free one, see nbd_bound_port). An ADDR that is not
 * a loopback address is refused unless allow_remote (the NBD protocol has
 * no authentication here: anyone who reaches the port can read and write). */
int nbd_listen(const char *spec, int allow_remote, int *ret_fd);
/* The TCP port fd listens on, or -EINVAL for a Unix socket. */
int nbd_bound_port(int fd);
/* Serves e to every client that connects to listen_fd until *stop becomes
 * nonzero (a signal handler may set it). Then new requests are no longer
 * read, the ones in flight are answered, and clients are disconnected;
 * returns 0 once every client's thread has ended. -EINVAL for an export
 * whose sizes are not valid; listen_fd stays the caller's. */
int nbd_serve(int listen_fd, const struct nbd_export *e, volatile sig_atomic_t *stop);
/* Serves one client already connected on fd, in the calling thread, until it
 * disconnects; fd is closed. For tests and fuzzing (a socketpair). */
int nbd_serve_fd(int fd, const struct nbd_export *e);
/* The transmission flags (the protocol's NBD_FLAG_*, the same numbers the
 * kernel's NBD_SET_FLAGS takes) announced for e without structured replies:
 * 0 with *ret set, or -EINVAL for an export whose sizes are not valid. */
int nbd_export_flags(const struct nbd_export *e, uint16_t *ret);
/* Serves a client that starts at the transmission phase, without any
 * handshake: the kernel's NBD client, given fd's peer by ioctl (NBD_SET_SOCK)
 * along with the size and flags (nbd_export_flags). Simple replies
 * only. In the calling thread, until the client sends NBD_CMD_DISC (0) or
 * goes away (0 too: a disconnect by the kernel is a socket shut down); fd
 * stays the caller's. */
int nbd_serve_transmission(int fd, const struct nbd_export *e);

#endif
