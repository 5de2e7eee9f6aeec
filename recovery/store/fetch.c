/* One worker's way to the store: a source connection, a decompressor, a buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/format/cacnk.h"
#include "muletto/core/err.h"
#include "muletto/store/fetch.h"
#include "muletto/core/util.h"
#include "muletto/store/source.h"

struct fetcher {
	const char *store_url; /* the caller's, for messages */
	struct source *src;
	struct cacnk_ctx *cctx;
	void *buf;
};

int fetcher_new(const char *store_url, uint64_t chunk_max, struct fetcher **ret)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->store_url = store_url;
	r = source_open(store_url, 0, &f->src);
	if (r < 0) {
		free(f);
		return r;
	}
	f->cctx = cacnk_ctx_new(3);
	f->buf = buf_alloc_aligned(chunk_max);
	if (!f->cctx || !f->buf) {
		fetcher_free(f);
		return err_set(-ENOMEM, "out of memory for chunk buffers");
	}
	*ret = f;
	return 0;
}

void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	source_close(f->src);
	cacnk_ctx_free(f->cctx);
	free(f->buf);
	free(f);
}

void *fetcher_buf(struct fetcher *f)
{
	return f->buf;
}

int fetcher_get(struct fetcher *f, const struct chunk_id *id, uint64_t size,
		enum hash_kind kind, void *dst, size_t *ret_wire)
{
	char hex[CHUNK_ID_HEX_SIZE], path[128];
	struct chunk_id got;
	void *comp = NULL;
	size_t clen = 0;
	int r;

	chunk_id_hex(id, hex);
	cacnk_path(id, path, sizeof(path));
	r = source_get(f->src, path, cacnk_frame_bound((size_t)size), &comp, &clen);
	if (r == -ENOENT)
		return err_set(r, "chunk %s is missing from the store %s: the repository is "
				  "incomplete or damaged; run 'muletto verify' and restore "
				  "another image", hex, f->store_url);
	if (r < 0)
		return err_prefix(r, "chunk %.16s…", hex);
	*ret_wire = clen;
	if (!dst)
		dst = f->buf;
	r = cacnk_decompress(f->cctx, comp, clen, dst, (size_t)size);
	free(comp);
	if (r < 0)
		return err_prefix(r, "chunk %s from %s", hex, f->store_url);
	r = hash_buf(kind, dst, (size_t)size, &got);
	if (r < 0)
		return r;
	if (!chunk_id_equal(&got, id))
		return err_set(-EBADMSG, "chunk %s from %s does not match its id (hash "
					 "mismatch): the store is damaged and it was not "
					 "written; run 'muletto verify'", hex, f->store_url);
	return 0;
}
