/* Unit tests: chunk frames. */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "muletto/format/cacnk.h"

#define N 100000

static unsigned char *data(void)
{
	unsigned char *d = malloc(N);
	size_t i;

	for (i = 0; i < N; i++)
		d[i] = (unsigned char)(i % 251 ^ (i >> 9));
	return d;
}

static void zstd_round_trip(void)
{
	struct cacnk_ctx *c = cacnk_ctx_new(3);
	unsigned char *d = data(), *out = malloc(N);
	const void *comp;
	size_t clen;

	CHECK(cacnk_compress(c, d, N, &comp, &clen) == 0 && clen < N);
	CHECK(cacnk_decompress(c, comp, clen, out, N) == 0 && !memcmp(d, out, N));
	CHECK(cacnk_decompress(c, comp, clen, out, N - 1) == -EBADMSG); /* more than expected */
	CHECK(cacnk_decompress(c, comp, clen, out, N + 0) == 0);
	CHECK(cacnk_decompress(c, comp, clen - 5, out, N) == -EBADMSG); /* truncated */
	cacnk_ctx_free(c);
	free(d);
	free(out);
}

/* casync writes frames without a content size, through the streaming API. */
static void zstd_without_content_size(void)
{
	struct cacnk_ctx *c = cacnk_ctx_new(3);
	unsigned char *d = data(), *out = malloc(N + 10), *comp = malloc(ZSTD_compressBound(N));
	ZSTD_CStream *zc = ZSTD_createCStream();
	ZSTD_inBuffer in = { d, N, 0 };
	ZSTD_outBuffer ob = { comp, ZSTD_compressBound(N), 0 };

	ZSTD_initCStream(zc, 3);
	ZSTD_compressStream(zc, &ob, &in);
	ZSTD_endStream(zc, &ob);
	CHECK(ZSTD_getFrameContentSize(comp, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(cacnk_decompress(c, comp, ob.pos, out, N) == 0 && !memcmp(d, out, N));
	CHECK(cacnk_decompress(c, comp, ob.pos, out, N + 10) == -EBADMSG); /* fewer than expected */
	ZSTD_freeCStream(zc);
	cacnk_ctx_free(c);
	free(d);
	free(out);
	free(comp);
}

static void gzip_and_xz_frames(void)
{
	struct cacnk_ctx *c = cacnk_ctx_new(3);
	unsigned char *d = data(), *out = malloc(N), *comp = malloc(2 * N);
	size_t xlen = 0;
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = d;
	zs.avail_in = N;
	zs.next_out = comp;
	zs.avail_out = 2 * N;
	deflate(&zs, Z_FINISH);
	CHECK(cacnk_decompress(c, comp, zs.total_out, out, N) == 0 && !memcmp(d, out, N));
	CHECK(cacnk_decompress(c, comp, zs.total_out, out, N - 1) == -EBADMSG);
	deflateEnd(&zs);
	CHECK(lzma_easy_buffer_encode(3, LZMA_CHECK_CRC64, NULL, d, N, comp, &xlen, 2 * N) ==
	      LZMA_OK);
	CHECK(cacnk_decompress(c, comp, xlen, out, N) == 0 && !memcmp(d, out, N));
	CHECK(cacnk_decompress(c, comp, xlen / 2, out, N) == -EBADMSG);
	cacnk_ctx_free(c);
	free(d);
	free(out);
	free(comp);
}

static void garbage_is_refused(void)
{
	struct cacnk_ctx *c = cacnk_ctx_new(3);
	unsigned char junk[64], out[64];

	memset(junk, 0x5a, sizeof(junk));
	CHECK(cacnk_decompress(c, junk, sizeof(junk), out, sizeof(out)) == -EBADMSG);
	junk[0] = 0x28, junk[1] = 0xb5, junk[2] = 0x2f, junk[3] = 0xfd; /* zstd magic, junk after */
	CHECK(cacnk_decompress(c, junk, sizeof(junk), out, sizeof(out)) == -EBADMSG);
	CHECK(cacnk_decompress(c, junk, 0, out, sizeof(out)) == -EBADMSG);
	cacnk_ctx_free(c);
}

static void store_paths(void)
{
	struct chunk_id id;
	char p[128];

	memset(id.b, 0xab, sizeof(id.b));
	id.b[1] = 0x12;
	cacnk_path(&id, p, sizeof(p));
	CHECK(!strncmp(p, "ab12/ab12abab", 13) && strstr(p, ".cacnk") == p + 5 + 64);
}

int main(void)
{
	RUN(zstd_round_trip);
	RUN(zstd_without_content_size);
	RUN(gzip_and_xz_frames);
	RUN(garbage_is_refused);
	RUN(store_paths);
	CHECK_EXIT();
}
