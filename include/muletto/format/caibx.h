/* casync blob index (.caibx), as casync's src/caformat.h and caindex.c define it.
 *
 * Little-endian: a 48-byte index header (size 48, type CAIBX_TYPE_INDEX, feature
 * flags, chunk size min/avg/max), a 16-byte table header (size UINT64_MAX, type
 * CAIBX_TYPE_TABLE), 40-byte items (end offset of the chunk, 32-byte id), and a
 * 40-byte tail (0, 0, offset of the table header = 48, table size =
 * 16 + 40 * n + 40, marker CAIBX_TAIL_MARKER). */
#ifndef MULETTO_CAIBX_H
#define MULETTO_CAIBX_H

#include <stddef.h>
#include <stdint.h>

#include "muletto/core/hash.h"

#define CAIBX_TYPE_INDEX 0x96824d9c7b129ff9ULL
#define CAIBX_TYPE_TABLE 0xe75b9e112f17417dULL
#define CAIBX_TAIL_MARKER 0x4b4f050e5549ecd1ULL
#define CAIBX_FLAG_SHA512_256 0x2000000000000000ULL
#define CAIBX_CHUNK_SIZE_LIMIT CHUNK_SIZE_LIMIT
/* The most bytes a bare index may take (a 2 TiB disk in casync's 64 KiB
 * chunks needs 1.3 GB); an image's index is exactly as large as its manifest
 * says (caibx_file_size). */
#define CAIBX_FILE_MAX (4ULL << 30)
/* ... and one whose size the server does not say beforehand. */
#define CAIBX_UNSIZED_MAX (64ULL << 20)

struct caibx_entry {
	uint64_t end; /* offset just past this chunk in the blob */
	struct chunk_id id;
};

struct caibx {
	uint64_t feature_flags;
	uint64_t chunk_min, chunk_avg, chunk_max;
	size_t n;
	struct caibx_entry *e; /* n entries, ends strictly increasing */
	void *mem;	       /* an adopted file buffer that e points into, or NULL */
};

/* Parses and validates an index held in memory. name is used in error messages
 * ("disk0.caibx from http://nas/repo"). On success *ret is a new index
 * (free with caibx_free). Errors: -EBADMSG for anything malformed or truncated. */
int caibx_parse(const void *buf, size_t len, const char *name, struct caibx **ret);
/* The same, taking ownership of a malloc'd buf (freed on failure too): the
 * entries are used where they lie, so a 2 TB disk's 80 MB index is held once. */
int caibx_adopt(void *buf, size_t len, const char *name, struct caibx **ret);
/* Serialises to a new malloc'd buffer (*ret_buf, *ret_len); caller frees. */
int caibx_serialize(const struct caibx *x, void **ret_buf, size_t *ret_len);
void caibx_free(struct caibx *x);

static inline uint64_t caibx_chunk_start(const struct caibx *x, size_t i)
{
	return i ? x->e[i - 1].end : 0;
}
static inline uint64_t caibx_chunk_size(const struct caibx *x, size_t i)
{
	return x->e[i].end - caibx_chunk_start(x, i);
}
static inline uint64_t caibx_blob_size(const struct caibx *x)
{
	return x->n ? x->e[x->n - 1].end : 0;
}
/* Bytes of an index file of n chunks. */
static inline uint64_t caibx_file_size(uint64_t n)
{
	return 48 + 16 + 40 * n + 40;
}
static inline enum hash_kind caibx_hash_kind(const struct caibx *x)
{
	return (x->feature_flags & CAIBX_FLAG_SHA512_256) ? HASH_SHA512_256 : HASH_SHA256;
}

#endif
