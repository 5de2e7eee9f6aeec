/* Chunk files: zstd frames (we write them), zstd/xz/gzip (we read them). */
#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "muletto/format/cacnk.h"
#include "muletto/core/err.h"
#include "muletto/core/util.h"

struct cacnk_ctx {
	int level;
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	void *out;
	size_t out_cap;
};

struct cacnk_ctx *cacnk_ctx_new(int zstd_level)
{
	struct cacnk_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->level = zstd_level;
	return c;
}

void cacnk_ctx_free(struct cacnk_ctx *c)
{
	if (!c)
		return;
	ZSTD_freeCCtx(c->cctx);
	ZSTD_freeDCtx(c->dctx);
	free(c->out);
	free(c);
}

int cacnk_compress(struct cacnk_ctx *c, const void *buf, size_t len, const void **ret_buf,
		   size_t *ret_len)
{
	size_t bound = ZSTD_compressBound(len), n;

	if (!c->cctx) {
		c->cctx = ZSTD_createCCtx();
		if (!c->cctx)
			return -ENOMEM;
		ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, c->level);
		ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0);
	}
	if (c->out_cap < bound) {
		void *nb = realloc(c->out, bound);
		if (!nb)
			return -ENOMEM;
		c->out = nb;
		c->out_cap = bound;
	}
	n = ZSTD_compress2(c->cctx, c->out, c->out_cap, buf, len);
	if (ZSTD_isError(n))
		return err_set(-EIO, "zstd compression failed: %s", ZSTD_getErrorName(n));
	*ret_buf = c->out;
	*ret_len = n;
	return 0;
}

static int cacnk_zstd(struct cacnk_ctx *c, const void *in, size_t in_len, void *out,
		      size_t expected)
{
	ZSTD_inBuffer ib = { in, in_len, 0 };
	ZSTD_outBuffer ob = { out, expected, 0 };
	unsigned char extra;
	size_t r;

	if (!c->dctx && !(c->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
	do {
		r = ZSTD_decompressStream(c->dctx, &ob, &ib);
		if (ZSTD_isError(r))
			return err_set(-EBADMSG, "not a valid zstd frame (%s)", ZSTD_getErrorName(r));
	} while (r != 0 && ob.pos < ob.size && ib.pos < ib.size);
	if (r != 0 && ob.pos == ob.size) {
		/* Output full but the frame goes on: it holds more than the index says. */
		ZSTD_outBuffer more = { &extra, 1, 0 };
		r = ZSTD_decompressStream(c->dctx, &more, &ib);
		if (ZSTD_isError(r) || more.pos)
			return err_set(-EBADMSG, "holds more than the %zu bytes its index says",
				       expected);
	}
	if (r != 0)
		return err_set(-EBADMSG, "truncated zstd frame (%zu of %zu bytes came out)", ob.pos,
			       expected);
	if (ob.pos != expected)
		return err_set(-EBADMSG, "holds %zu bytes, its index says %zu", ob.pos, expected);
	return 0;
}

static int cacnk_xz(const void *in, size_t in_len, void *out, size_t expected)
{
	uint64_t memlimit = 256ULL << 20;
	size_t in_pos = 0, out_pos = 0;
	lzma_ret r;

	r = lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, in_len, out, &out_pos,
				      expected);
	if (r == LZMA_BUF_ERROR && out_pos == expected)
		return err_set(-EBADMSG, "holds more than the %zu bytes its index says", expected);
	if (r != LZMA_OK)
		return err_set(-EBADMSG, "not a valid xz stream (liblzma error %d)", (int)r);
	if (out_pos != expected)
		return err_set(-EBADMSG, "holds %zu bytes, its index says %zu", out_pos, expected);
	return 0;
}

static int cacnk_gzip(const void *in, size_t in_len, void *out, size_t expected)
{
	z_stream zs;
	unsigned char extra;
	int r;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = (uInt)expected;
	r = inflate(&zs, Z_FINISH);
	if (r == Z_BUF_ERROR && zs.avail_out == 0) {
		zs.next_out = &extra;
		zs.avail_out = 1;
		r = inflate(&zs, Z_FINISH);
		inflateEnd(&zs);
		return err_set(-EBADMSG, "holds more than the %zu bytes its index says", expected);
	}
	inflateEnd(&zs);
	if (r != Z_STREAM_END)
		return err_set(-EBADMSG, "not a valid gzip stream (zlib error %d)", r);
	if (zs.total_out != expected)
		return err_set(-EBADMSG, "holds %lu bytes, its index says %zu", zs.total_out,
			       expected);
	return 0;
}

int cacnk_decompress(struct cacnk_ctx *c, const void *in, size_t in_len, void *out,
		     size_t expected_len)
{
	const unsigned char *p = in;

	if (in_len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return cacnk_zstd(c, in, in_len, out, expected_len);
	if (in_len >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6))
		return cacnk_xz(in, in_len, out, expected_len);
	if (in_len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return cacnk_gzip(in, in_len, out, expected_len);
	return err_set(-EBADMSG, "not a compressed chunk (no zstd, xz or gzip signature)");
}

size_t cacnk_frame_bound(size_t len)
{
	size_t z = ZSTD_compressBound(len), x = lzma_stream_buffer_bound(len);
	size_t g = (size_t)compressBound((uLong)len) + 18; /* gzip's header and trailer */

	return MAX(MAX(z, x), g) + 4096; /* and room for frame options */
}

void cacnk_path(const struct chunk_id *id, char *out, size_t out_size)
{
	char hex[CHUNK_ID_HEX_SIZE];

	chunk_id_hex(id, hex);
	snprintf(out, out_size, "%.4s/%s.cacnk", hex, hex);
}
