/* Seeding: a chunk already on the target (yesterday's restore, an interrupted
 * one, the original disk) or in another local copy (--seed) is not fetched.
 * One mechanism for delta restore, resume and restore onto the old disk. */
#ifndef MULETTO_SEED_H
#define MULETTO_SEED_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/disk/dio.h"
#include "muletto/core/hash.h"

/* Reads [off, off+len) of io into buf (aligned: see buf_alloc_aligned) and compares its hash with id.
 * Returns 1 on a match, 0 if not (or the range lies past the end: a short
 * read), negative on a read error. zero_id: id is the hash of zeros, where an
 * all-zero region matches without hashing. */
int seed_match(const struct dio *io, uint64_t off, size_t len, enum hash_kind kind,
	       const struct chunk_id *id, int zero_id, void *buf);

/* Opens a local copy (image file or disk) read-only as a seed. */
int seed_open(const char *path, struct dio *ret_io, uint64_t *ret_size);
void seed_close(struct dio *io);

#endif
