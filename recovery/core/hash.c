/* Chunk ids with OpenSSL: SHA-256 or SHA512/256 of the uncompressed bytes. */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/hash.h"

static pthread_once_t hash_once = PTHREAD_ONCE_INIT;
static EVP_MD *hash_md[2];
static pthread_key_t hash_ctx_key; /* each thread's reusable EVP_MD_CTX */

static void hash_ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void hash_init(void)
{
	hash_md[HASH_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
	hash_md[HASH_SHA512_256] = EVP_MD_fetch(NULL, "SHA512-256", NULL);
	pthread_key_create(&hash_ctx_key, hash_ctx_free);
}

int hash_buf(enum hash_kind kind, const void *buf, size_t len, struct chunk_id *ret)
{
	EVP_MD_CTX *ctx;
	unsigned int n = 0;

	pthread_once(&hash_once, hash_init);
	if (!hash_md[kind])
		return err_set(-EIO, "OpenSSL has no %s digest",
			       kind == HASH_SHA256 ? "SHA-256" : "SHA512/256");
	ctx = pthread_getspecific(hash_ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (!ctx || pthread_setspecific(hash_ctx_key, ctx) != 0) {
			EVP_MD_CTX_free(ctx);
			return -ENOMEM;
		}
	}
	if (!EVP_DigestInit_ex(ctx, hash_md[kind], NULL) || !EVP_DigestUpdate(ctx, buf, len) ||
	    !EVP_DigestFinal_ex(ctx, ret->b, &n) || n != CHUNK_ID_SIZE)
		return err_set(-EIO, "hashing failed in OpenSSL");
	return 0;
}

int hash_sha256_hex(const void *buf, size_t len, char out[CHUNK_ID_HEX_SIZE])
{
	struct chunk_id id;
	int r = hash_buf(HASH_SHA256, buf, len, &id);

	if (r == 0)
		chunk_id_hex(&id, out);
	return r;
}

void chunk_id_hex(const struct chunk_id *id, char out[CHUNK_ID_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < CHUNK_ID_SIZE; i++) {
		out[2 * i] = digits[id->b[i] >> 4];
		out[2 * i + 1] = digits[id->b[i] & 15];
	}
	out[2 * CHUNK_ID_SIZE] = 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int chunk_id_parse(const char *hex, struct chunk_id *ret)
{
	struct chunk_id id;
	int i;

	for (i = 0; i < CHUNK_ID_SIZE; i++) {
		int hi = hex_value(hex[2 * i]), lo = hi < 0 ? -1 : hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		id.b[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[2 * CHUNK_ID_SIZE])
		return -EINVAL;
	*ret = id;
	return 0;
}

int chunk_id_equal(const struct chunk_id *a, const struct chunk_id *b)
{
	return !memcmp(a->b, b->b, CHUNK_ID_SIZE);
}

int buf_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i, head = len < 16 ? len : 16;

	for (i = 0; i < head; i++)
		if (p[i])
			return 0;
	return len <= 16 || !memcmp(p, p + 16, len - 16);
}

/* Hashes of runs of zeros, per length and kind: a small table filled on demand.
 * Disks are chunked at one size, casync's chunker cuts zeros at its maximum:
 * a handful of lengths cover every index. */
#define ZERO_SLOTS 16
static struct {
	uint64_t len;
	enum hash_kind kind;
	struct chunk_id id;
} zero_ids[ZERO_SLOTS];
static int zero_n;
static pthread_rwlock_t zero_lock = PTHREAD_RWLOCK_INITIALIZER; /* guards zero_ids, zero_n */

static int zero_lookup(enum hash_kind kind, uint64_t len, struct chunk_id *ret)
{
	int i, found = 0;

	pthread_rwlock_rdlock(&zero_lock);
	for (i = 0; i < zero_n && !found; i++)
		if (zero_ids[i].len == len && zero_ids[i].kind == kind) {
			*ret = zero_ids[i].id;
			found = 1;
		}
	pthread_rwlock_unlock(&zero_lock);
	return found;
}

int chunk_id_is_zero(enum hash_kind kind, const struct chunk_id *id, uint64_t len)
{
	struct chunk_id z;
	void *zeros;

	if (len == 0 || len > CHUNK_SIZE_LIMIT)
		return 0;
	if (zero_lookup(kind, len, &z))
		return chunk_id_equal(&z, id);
	/* Table full (a content-defined index with many lengths): an unknown
	 * length counts as data; a zero chunk is then fetched like any other. */
	if (__atomic_load_n(&zero_n, __ATOMIC_RELAXED) >= ZERO_SLOTS)
		return 0;
	zeros = calloc(1, (size_t)len);
	if (!zeros || hash_buf(kind, zeros, (size_t)len, &z) < 0) {
		free(zeros);
		return 0;
	}
	free(zeros);
	pthread_rwlock_wrlock(&zero_lock);
	if (zero_n < ZERO_SLOTS) {
		zero_ids[zero_n].len = len;
		zero_ids[zero_n].kind = kind;
		zero_ids[zero_n].id = z;
		zero_n++;
	}
	pthread_rwlock_unlock(&zero_lock);
	return chunk_id_equal(&z, id);
}
