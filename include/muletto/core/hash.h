/* Chunk ids: SHA-256 or SHA512/256 of a chunk's uncompressed bytes (OpenSSL). */
#ifndef MULETTO_HASH_H
#define MULETTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CHUNK_ID_SIZE 32
#define CHUNK_ID_HEX_SIZE (CHUNK_ID_SIZE * 2 + 1)
/* The largest chunk casync allows (and so the largest we hash or hold). */
#define CHUNK_SIZE_LIMIT (128ULL * 1024 * 1024)

enum hash_kind { HASH_SHA256 = 0, HASH_SHA512_256 = 1 };

struct chunk_id {
	uint8_t b[CHUNK_ID_SIZE];
};

/* Hashes len bytes into *ret. Thread-safe. Returns 0 or -EIO. */
int hash_buf(enum hash_kind kind, const void *buf, size_t len, struct chunk_id *ret);
/* SHA-256 of a whole file's bytes as lower-case hex (manifests pin indexes so). */
int hash_sha256_hex(const void *buf, size_t len, char out[CHUNK_ID_HEX_SIZE]);
/* Lower-case hex, NUL-terminated, into out (CHUNK_ID_HEX_SIZE bytes). */
void chunk_id_hex(const struct chunk_id *id, char out[CHUNK_ID_HEX_SIZE]);
/* Parses 64 hex digits; returns 0 or -EINVAL. */
int chunk_id_parse(const char *hex, struct chunk_id *ret);
int chunk_id_equal(const struct chunk_id *a, const struct chunk_id *b);
/* 1 when the id is the hash of len zero bytes (cached per length). */
int chunk_id_is_zero(enum hash_kind kind, const struct chunk_id *id, uint64_t len);
/* 1 when all len bytes of buf are zero. */
int buf_is_zero(const void *buf, size_t len);

#endif
