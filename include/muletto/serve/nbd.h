/* PROVISIONAL: the NBD server's interface as specified; replaced by the
 * protocol layer's own header when it lands. */
#ifndef MULETTO_SERVE_NBD_H
#define MULETTO_SERVE_NBD_H

#include <signal.h>
#include <stdint.h>

#define NBD_STATE_HOLE (1 << 0)
#define NBD_STATE_ZERO (1 << 1)

struct nbd_export {
	const char *name;
	uint64_t size;
	uint32_t min_block, pref_block, max_block;
	int read_only;
	void *ctx;
	int (*read)(void *ctx, void *buf, uint32_t len, uint64_t off);
	int (*write)(void *ctx, const void *buf, uint32_t len, uint64_t off, int fua);
	int (*flush)(void *ctx);
	int (*trim)(void *ctx, uint32_t len, uint64_t off);
	int (*zero)(void *ctx, uint32_t len, uint64_t off, int may_trim);
	int (*block_status)(void *ctx, uint64_t off, uint32_t len,
			    int (*add)(void *a, uint32_t length, uint32_t flags), void *a);
};

int nbd_listen(const char *spec, int allow_remote, int *ret_fd);
int nbd_serve(int listen_fd, const struct nbd_export *e, volatile sig_atomic_t *stop);

#endif
