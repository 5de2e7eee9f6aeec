/* Restore of a raw disk image (.img, .img.zst) streamed from a path or URL:
 * what a dd-based backup left on a NAS. There are no chunk ids to verify
 * against; the stream is checked for length (and zstd's own checksum). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "muletto/core/err.h"
#include "muletto/core/progress.h"
#include "muletto/engine/restore.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

#define RAW_BLOCK (1024 * 1024)

struct raw_job {
	const char *url, *target_path;
	const struct restore_opts *o;
	struct source *src;
	ZSTD_DStream *zds; /* NULL for an uncompressed image */
	size_t zret;	   /* last ZSTD_decompressStream result: 0 at a frame's end */
	struct target *t;
	uint64_t size;	 /* expected image size, UINT64_MAX when unknown */
	uint64_t off;	 /* bytes of image written (or zeroed) so far */
	uint64_t fetched;
	uint64_t written;
	struct progress *prog;
	unsigned char *blk; /* one block being filled */
	size_t fill;
};

static int raw_open_target(struct raw_job *j)
{
	uint64_t need = j->size == UINT64_MAX ? 0 : j->size;
	int r;

	r = target_open(j->target_path, need, need, &j->t);
	if (r < 0)
		return r;
	if (j->size == UINT64_MAX && !j->t->is_block)
		j->t->size = UINT64_MAX / 2; /* grows with the stream; trimmed at the end */
	j->prog = progress_new("restore", NULL, -1, need);
	return 0;
}

static int raw_flush(struct raw_job *j)
{
	int r;

	if (!j->fill)
		return 0;
	if (j->off > j->t->size || j->fill > j->t->size - j->off)
		return err_set(-ENOSPC, "%s is larger than the target %s (%llu bytes): the target "
					"now holds the first %llu bytes only; choose a larger disk",
			       j->url, j->target_path, (unsigned long long)j->t->size,
			       (unsigned long long)j->off);
	if (buf_is_zero(j->blk, j->fill)) {
		r = target_zero(j->t, j->off, j->fill);
	} else {
		r = target_write(j->t, j->blk, j->fill, j->off);
		j->written += j->fill;
	}
	if (r < 0)
		return r;
	j->off += j->fill;
	j->fill = 0;
	progress_update(j->prog, j->off);
	return 0;
}

static int raw_put(struct raw_job *j, const unsigned char *p, size_t len)
{
	while (len) {
		size_t n = MIN(len, (size_t)RAW_BLOCK - j->fill);
		memcpy(j->blk + j->fill, p, n);
		j->fill += n;
		p += n;
		len -= n;
		if (j->fill == RAW_BLOCK) {
			int r = raw_flush(j);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int raw_decompress(struct raw_job *j, const void *buf, size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };

	while (in.pos < in.size) {
		ZSTD_outBuffer out = { j->blk, RAW_BLOCK, j->fill };
		size_t ret = ZSTD_decompressStream(j->zds, &out, &in);
		if (ZSTD_isError(ret))
			return err_set(-EBADMSG, "%s: not a valid zstd stream (%s) at byte %llu: the "
						 "image file is damaged", j->url,
				       ZSTD_getErrorName(ret), (unsigned long long)j->fetched);
		j->fill = out.pos;
		j->zret = ret;
		if (j->fill == RAW_BLOCK) {
			int r = raw_flush(j);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int raw_piece(void *ctx, const void *buf, size_t len)
{
	struct raw_job *j = ctx;
	int r;

	if (!j->t) {
		if (j->zds) {
			unsigned long long cs = ZSTD_getFrameContentSize(buf, len);
			j->size = (cs == ZSTD_CONTENTSIZE_ERROR || cs == ZSTD_CONTENTSIZE_UNKNOWN)
					  ? UINT64_MAX : cs;
		}
		r = raw_open_target(j);
		if (r < 0)
			return r;
	}
	j->fetched += len;
	return j->zds ? raw_decompress(j, buf, len) : raw_put(j, buf, len);
}

static int raw_finish(struct raw_job *j)
{
	int r = raw_flush(j);

	if (r < 0)
		return r;
	if (j->size != UINT64_MAX && j->off != j->size)
		return err_set(-EPIPE, "%s ended after %llu of %llu bytes: the image file is "
				       "truncated; the target holds an incomplete image",
			       j->url, (unsigned long long)j->off, (unsigned long long)j->size);
	if (j->size == UINT64_MAX && !j->t->is_block) {
		if (ftruncate(j->t->fd, (off_t)j->off) < 0)
			return err_set(-errno, "cannot set the size of %s", j->target_path);
		j->t->size = j->off;
	}
	return 0;
}

static int raw_run(struct raw_job *j, const char *name)
{
	int r;

	if (!j->zds) {
		r = source_size(j->src, name, &j->size);
		if (r < 0)
			return r;
	}
	r = source_stream(j->src, name, raw_piece, j);
	if (r < 0)
		return r;
	if (!j->t) { /* empty object: nothing came */
		r = raw_open_target(j);
		if (r < 0)
			return r;
	}
	if (j->zds && j->zret != 0)
		return err_set(-EPIPE, "%s: the zstd stream is truncated; the target holds an "
				       "incomplete image", j->url);
	return raw_finish(j);
}

int restore_raw(const char *url, const char *target_path, const struct restore_opts *o,
		struct restore_stats *st)
{
	struct raw_job j = { .url = url, .target_path = target_path, .o = o, .size = UINT64_MAX };
	_cleanup_free_ char *parent = NULL, *name = NULL;
	double t0 = now_seconds();
	int r, r2;

	r = url_split(url, &parent, &name);
	if (r < 0)
		return r;
	r = source_open(parent, 0, &j.src);
	if (r < 0)
		return r;
	j.blk = malloc(RAW_BLOCK);
	if (!j.blk) {
		r = -ENOMEM;
		goto out;
	}
	if (str_ends_with(name, ".zst") || str_ends_with(name, ".zstd")) {
		j.zds = ZSTD_createDStream();
		if (!j.zds) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = raw_run(&j, name);
out:
	progress_done(j.prog, j.off, r == 0);
	progress_free(j.prog);
	r2 = target_close(j.t, r == 0);
	if (r == 0)
		r = r2;
	memset(st, 0, sizeof(*st));
	st->bytes_total = j.off;
	st->bytes_written = j.written;
	st->bytes_fetched = j.fetched;
	st->seconds = now_seconds() - t0;
	ZSTD_freeDStream(j.zds);
	free(j.blk);
	source_close(j.src);
	return r;
}
