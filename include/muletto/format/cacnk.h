/* Chunk files (.cacnk): one compressed frame holding a chunk's bytes.
 * We write zstd; we read zstd, xz and gzip, told apart by magic, as casync does.
 * casync writes zstd frames without a content size, so the caller passes the
 * expected size (from the index). */
#ifndef MULETTO_CACNK_H
#define MULETTO_CACNK_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/core/hash.h"

struct cacnk_ctx; /* per-thread compression/decompression state */

struct cacnk_ctx *cacnk_ctx_new(int zstd_level);
void cacnk_ctx_free(struct cacnk_ctx *c);

/* Compresses len bytes. *ret_buf points into the context's own buffer, valid
 * until the next call on the same context. */
int cacnk_compress(struct cacnk_ctx *c, const void *buf, size_t len, const void **ret_buf,
		   size_t *ret_len);

/* Decompresses a chunk file's bytes into out, which holds exactly expected_len
 * bytes; fails with -EBADMSG unless exactly expected_len bytes come out. */
int cacnk_decompress(struct cacnk_ctx *c, const void *in, size_t in_len, void *out,
		     size_t expected_len);

/* The most bytes a chunk file of len bytes can take, in any of the
 * compressions read (what a server may send for it). */
size_t cacnk_frame_bound(size_t len);

/* Path of a chunk inside a store: "XXXX/<64 hex>.cacnk" into out. */
void cacnk_path(const struct chunk_id *id, char *out, size_t out_size);

#endif
