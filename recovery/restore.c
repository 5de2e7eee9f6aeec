/* Restore from a chunk index: fetch -> decompress -> verify -> write, on
 * worker threads that each own a store connection and buffers. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/cacnk.h"
#include "muletto/err.h"
#include "muletto/pfor.h"
#include "muletto/restore.h"
#include "muletto/source.h"
#include "muletto/util.h"

#define RESTORE_NET_THREADS 8

struct restore_job {
	const struct caibx *idx;
	const char *store_url;
	struct target *t;
	enum hash_kind kind;
	struct progress *prog;
	atomic_uint_fast64_t done, fetched, written, n_fetched, n_zero;
};

struct restore_worker {
	struct source *src;
	struct cacnk_ctx *cctx;
	void *buf; /* one uncompressed chunk, chunk_max bytes */
};

static int restore_worker_init(void *arg, void **ret)
{
	struct restore_job *j = arg;
	struct restore_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	*ret = w;
	r = source_open(j->store_url, &w->src);
	if (r < 0)
		return r;
	w->cctx = cacnk_ctx_new(3);
	w->buf = malloc(j->idx->chunk_max ? j->idx->chunk_max : 1);
	if (!w->cctx || !w->buf)
		return err_set(-ENOMEM, "out of memory for chunk buffers");
	return 0;
}

static void restore_worker_fini(void *arg, void *ws)
{
	struct restore_worker *w = ws;

	(void)arg;
	if (!w)
		return;
	source_close(w->src);
	cacnk_ctx_free(w->cctx);
	free(w->buf);
	free(w);
}

/* Fetches, decompresses and verifies chunk i into w->buf. */
static int restore_fetch_chunk(struct restore_job *j, struct restore_worker *w, size_t i,
			       uint64_t size)
{
	const struct chunk_id *id = &j->idx->e[i].id;
	char hex[CHUNK_ID_HEX_SIZE], path[128];
	struct chunk_id got;
	void *comp = NULL;
	size_t clen = 0;
	int r;

	chunk_id_hex(id, hex);
	cacnk_path(id, path, sizeof(path));
	r = source_get(w->src, path, &comp, &clen);
	if (r == -ENOENT)
		return err_set(r, "chunk %s is missing from the store %s: the repository is "
				  "incomplete or damaged; run 'muletto verify' and restore "
				  "another image", hex, j->store_url);
	if (r < 0)
		return err_prefix(r, "chunk %.16s…", hex);
	atomic_fetch_add(&j->fetched, clen);
	atomic_fetch_add(&j->n_fetched, 1);
	r = cacnk_decompress(w->cctx, comp, clen, w->buf, (size_t)size);
	free(comp);
	if (r < 0)
		return err_prefix(r, "chunk %s from %s", hex, j->store_url);
	r = hash_buf(j->kind, w->buf, (size_t)size, &got);
	if (r < 0)
		return r;
	if (!chunk_id_equal(&got, id))
		return err_set(-EBADMSG, "chunk %s from %s does not match its id (hash "
					 "mismatch): the store is damaged and it was not "
					 "written; run 'muletto verify'", hex, j->store_url);
	return 0;
}

static int restore_one(void *arg, void *ws, size_t i)
{
	struct restore_job *j = arg;
	struct restore_worker *w = ws;
	uint64_t start = caibx_chunk_start(j->idx, i), size = caibx_chunk_size(j->idx, i);
	int r;

	if (chunk_id_is_zero(j->kind, &j->idx->e[i].id, size)) {
		r = target_zero(j->t, start, size);
		atomic_fetch_add(&j->n_zero, 1);
	} else {
		r = restore_fetch_chunk(j, w, i, size);
		if (r == 0)
			r = target_write(j->t, w->buf, (size_t)size, start);
		if (r == 0)
			atomic_fetch_add(&j->written, size);
	}
	if (r == 0)
		atomic_fetch_add(&j->done, size);
	return r;
}

static void restore_tick(void *arg)
{
	struct restore_job *j = arg;

	progress_update(j->prog, atomic_load(&j->done));
}

uint64_t restore_data_bytes(const struct caibx *idx)
{
	enum hash_kind kind = caibx_hash_kind(idx);
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < idx->n; i++)
		if (!chunk_id_is_zero(kind, &idx->e[i].id, caibx_chunk_size(idx, i)))
			sum += caibx_chunk_size(idx, i);
	return sum;
}

int restore_index(const struct caibx *idx, const char *store_url, struct target *t,
		  const struct restore_opts *o, struct restore_stats *st)
{
	static const struct pfor_ops ops = {
		.init = restore_worker_init,
		.fn = restore_one,
		.fini = restore_worker_fini,
		.tick = restore_tick,
	};
	struct restore_job j = { .idx = idx, .store_url = store_url, .t = t,
				 .kind = caibx_hash_kind(idx) };
	double t0 = now_seconds();
	int threads = o->threads ? o->threads : RESTORE_NET_THREADS, r;

	j.prog = progress_new(o->label ? o->label : "restore", caibx_blob_size(idx), o->progress);
	r = pfor_run(idx->n, threads, &ops, &j);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	memset(st, 0, sizeof(*st));
	st->bytes_total = caibx_blob_size(idx);
	st->bytes_written = atomic_load(&j.written);
	st->bytes_fetched = atomic_load(&j.fetched);
	st->chunks_total = idx->n;
	st->chunks_fetched = atomic_load(&j.n_fetched);
	st->chunks_zero = atomic_load(&j.n_zero);
	st->seconds = now_seconds() - t0;
	return r;
}
