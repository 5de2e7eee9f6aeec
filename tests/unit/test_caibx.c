/* Unit tests: the casync blob index. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "muletto/format/caibx.h"

static struct caibx *sample(size_t n, uint64_t chunk)
{
	struct caibx *x = calloc(1, sizeof(*x));
	size_t i;

	x->chunk_min = x->chunk_avg = x->chunk_max = chunk;
	x->n = n;
	x->e = calloc(n, sizeof(*x->e));
	for (i = 0; i < n; i++) {
		x->e[i].end = (i + 1) * chunk - (i + 1 == n ? chunk / 2 : 0);
		memset(x->e[i].id.b, (int)(i + 1), CHUNK_ID_SIZE);
	}
	return x;
}

static void put64(unsigned char *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void round_trip_keeps_every_entry(void)
{
	struct caibx *x = sample(5, 1 << 20), *y = NULL;
	void *buf = NULL;
	size_t len = 0;

	CHECK(caibx_serialize(x, &buf, &len) == 0);
	CHECK(len == 48 + 16 + 5 * 40 + 40);
	CHECK(caibx_parse(buf, len, "t", &y) == 0);
	CHECK(y && y->n == 5 && y->chunk_max == 1 << 20);
	CHECK(y && !memcmp(x->e, y->e, 5 * sizeof(*x->e)));
	CHECK(y && caibx_blob_size(y) == 5 * (1 << 20) - (1 << 19));
	CHECK(y && caibx_chunk_size(y, 4) == 1 << 19 && caibx_chunk_start(y, 1) == 1 << 20);
	CHECK(y && caibx_hash_kind(y) == HASH_SHA256);
	caibx_free(x);
	caibx_free(y);
	free(buf);
}

/* Layout as casync 2+20201210 writes it for a 300000-byte blob. */
static void reads_casync_layout_and_flags(void)
{
	struct caibx *x = sample(2, 65536), *y = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;

	x->chunk_min = 16384;
	x->chunk_max = 262144;
	x->feature_flags = 0xb000000000000000ULL; /* casync's default: sha512-256 */
	CHECK(caibx_serialize(x, (void **)&buf, &len) == 0);
	CHECK(le64toh(*(uint64_t *)(buf + len - 24)) == 48);
	CHECK(le64toh(*(uint64_t *)(buf + len - 16)) == 16 + 2 * 40 + 40);
	CHECK(caibx_parse(buf, len, "t", &y) == 0);
	CHECK(y && caibx_hash_kind(y) == HASH_SHA512_256);
	caibx_free(x);
	caibx_free(y);
	free(buf);
}

static int parse_fails(const void *buf, size_t len)
{
	struct caibx *y = NULL;
	int r = caibx_parse(buf, len, "bad", &y);

	caibx_free(y);
	return r == -EBADMSG && y == NULL;
}

static void every_damage_is_refused(void)
{
	struct caibx *x = sample(3, 4096);
	unsigned char *buf = NULL, *c;
	size_t len = 0, cut;

	caibx_serialize(x, (void **)&buf, &len);
	c = malloc(len + 40);
	for (cut = 0; cut < len; cut += 7)
		CHECK(parse_fails(buf, cut));
	memcpy(c, buf, len);
	memset(c + len, 0, 40);
	CHECK(parse_fails(c, len + 40)); /* trailing entry-sized garbage */
#define DAMAGE(off, val)                                \
	do {                                            \
		memcpy(c, buf, len);                    \
		put64(c + (off), (val));                \
		CHECK(parse_fails(c, len));             \
	} while (0)
	DAMAGE(0, 47);			     /* header size */
	DAMAGE(8, 0x1234);		     /* header type */
	DAMAGE(24, 0);			     /* min 0 */
	DAMAGE(24, 8192);		     /* min > avg */
	DAMAGE(40, 256ULL << 20);	     /* max over 128 MiB */
	DAMAGE(48, 0);			     /* table header size */
	DAMAGE(56, 0);			     /* table header type */
	DAMAGE(64, 0);			     /* first chunk empty */
	DAMAGE(64 + 40, 100);		     /* ends go backwards */
	DAMAGE(64 + 40, 4096 + 8192);	     /* chunk larger than max */
	DAMAGE(len - 8, 0);		     /* tail marker */
	DAMAGE(len - 16, 16 + 40 * 2 + 40);  /* table size disagrees */
	DAMAGE(len - 16, UINT64_MAX - 10);   /* overflowing table size */
	DAMAGE(len - 24, 0);		     /* index offset */
	DAMAGE(64 + 80, UINT64_MAX);	     /* end near overflow */
	free(c);
	free(buf);
	caibx_free(x);
}

static void empty_index_is_valid(void)
{
	struct caibx x = { .chunk_min = 1, .chunk_avg = 1, .chunk_max = 1 }, *y = NULL;
	void *buf = NULL;
	size_t len = 0;

	CHECK(caibx_serialize(&x, &buf, &len) == 0 && len == 104);
	CHECK(caibx_parse(buf, len, "t", &y) == 0 && y && y->n == 0 && caibx_blob_size(y) == 0);
	caibx_free(y);
	free(buf);
}

int main(void)
{
	RUN(round_trip_keeps_every_entry);
	RUN(reads_casync_layout_and_flags);
	RUN(every_damage_is_refused);
	RUN(empty_index_is_valid);
	CHECK_EXIT();
}
