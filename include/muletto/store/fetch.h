/* Fetching a chunk from a store: the frame over the source, decompressed, and
 * trusted only once its hash matches its id. One fetcher per worker thread. */
#ifndef MULETTO_FETCH_H
#define MULETTO_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/core/hash.h"

struct fetcher;

/* store_url: a path or URL of a chunk store; chunk_max: the largest chunk. */
int fetcher_new(const char *store_url, uint64_t chunk_max, struct fetcher **ret);
void fetcher_free(struct fetcher *f);
/* The buffer a fetched chunk lands in (chunk_max bytes); also scratch space. */
void *fetcher_buf(struct fetcher *f);

/* Fetches chunk id of size bytes into dst (NULL: fetcher_buf(f)); *ret_wire is what came
 * over the source. -ENOENT: missing; -EBADMSG: damaged or not matching its id;
 * every message names the chunk and the store. */
int fetcher_get(struct fetcher *f, const struct chunk_id *id, uint64_t size,
		enum hash_kind kind, void *dst, size_t *ret_wire);

#endif
