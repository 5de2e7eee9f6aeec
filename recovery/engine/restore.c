/* Restore from a chunk index: fetch -> decompress -> verify -> write, on
 * worker threads that each own a store connection and buffers. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muletto/store/fetch.h"
#include "muletto/core/err.h"
#include "muletto/core/pfor.h"
#include "muletto/core/progress.h"
#include "muletto/engine/restore.h"
#include "muletto/disk/seed.h"
#include "muletto/core/util.h"

#define RESTORE_NET_THREADS 8
#define RESTORE_ZERO_RUN_MAX (256ULL << 20)
#define RESTORE_WRITE_MAX (1U << 20)

struct restore_job {
	const struct caibx *idx;
	const char *store_url;
	struct target *t;
	enum hash_kind kind;
	struct progress *prog;
	int seed_target;	 /* the target may already hold chunks */
	int no_read;		 /* --no-seed: never read the target */
	struct dio seed;	 /* --seed; fd -1 without */
	uint64_t seed_size;
	atomic_uint_fast64_t done, fetched, written, n_fetched, n_zero, n_seeded;
};

/* A worker: its way to the store, and the buffer neighbouring chunks are
 * gathered in so that they reach the target in one write. */
struct restore_ws {
	struct fetcher *f;
	unsigned char *batch; /* MAX(chunk_max, RESTORE_WRITE_MAX) */
};

static int restore_worker_init(void *arg, void **ret)
{
	struct restore_job *j = arg;
	struct restore_ws *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	r = fetcher_new(j->store_url, j->idx->chunk_max, &w->f);
	if (r < 0) {
		free(w);
		return r;
	}
	w->batch = buf_alloc_aligned((size_t)MAX(j->idx->chunk_max, (uint64_t)RESTORE_WRITE_MAX));
	if (!w->batch) {
		fetcher_free(w->f);
		free(w);
		return err_set(-ENOMEM, "out of memory for write buffers");
	}
	*ret = w;
	return 0;
}

static void restore_worker_fini(void *arg, void *ws)
{
	struct restore_ws *w = ws;

	(void)arg;
	fetcher_free(w->f);
	free(w->batch);
	free(w);
}

/* One piece of work from chunk i on: a run of all-zero chunks of up to
 * 256 MiB, or neighbouring chunks that hold data up to RESTORE_WRITE_MAX
 * together (small chunks, as casync makes them, reach the disk in one write). */
static size_t restore_span(void *arg, size_t i)
{
	const struct restore_job *j = arg;
	const struct caibx *x = j->idx;
	uint64_t start = caibx_chunk_start(x, i), sum = 0;
	size_t k = i;

	if (chunk_id_is_zero(j->kind, &x->e[i].id, caibx_chunk_size(x, i))) {
		while (k < x->n && caibx_chunk_start(x, k) - start < RESTORE_ZERO_RUN_MAX &&
		       chunk_id_is_zero(j->kind, &x->e[k].id, caibx_chunk_size(x, k)))
			k++;
		return k - i;
	}
	while (k < x->n && !chunk_id_is_zero(j->kind, &x->e[k].id, caibx_chunk_size(x, k)) &&
	       (k == i || sum + caibx_chunk_size(x, k) <= RESTORE_WRITE_MAX))
		sum += caibx_chunk_size(x, k++);
	return k - i;
}

/* A run of all-zero chunks: nothing to fetch. Nothing to do on a target known
 * to be zero; one call where the device zeroes by itself; otherwise read it
 * and write zeros only where it does not hold them already. */
static int restore_zero_run(struct restore_job *j, struct fetcher *f, uint64_t start,
			    uint64_t len)
{
	uint64_t off = start, end = start + len;
	size_t piece = (size_t)j->idx->chunk_max, got, n;
	int r;

	if (j->t->fresh)
		return 0;
	if (j->t->zeroes_cheap || j->no_read)
		return target_zero(j->t, start, len);
	for (; off < end; off += n) {
		n = (size_t)MIN((uint64_t)piece, end - off);
		r = target_read(j->t, fetcher_buf(f), n, off, &got);
		if (r < 0)
			return r;
		if (got == n && buf_is_zero(fetcher_buf(f), n))
			continue;
		r = target_zero(j->t, off, n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* 1 when the target already holds the chunk; 2 when the seed does, copied to
 * dst; 0 when it has to be fetched. */
static int restore_seed_chunk(struct restore_job *j, struct fetcher *f, uint64_t start,
			      uint64_t size, const struct chunk_id *id, void *dst)
{
	int r = 0;

	if (j->seed_target) {
		r = seed_match(&j->t->io, start, (size_t)size, j->kind, id, 0, fetcher_buf(f));
		if (r < 0)
			return err_set(r, "cannot read %s at offset %llu: %s", j->t->path,
				       (unsigned long long)start, strerror(-r));
		if (r > 0)
			return 1;
	}
	if (j->seed.fd >= 0 && start + size <= j->seed_size &&
	    seed_match(&j->seed, start, (size_t)size, j->kind, id, 0, dst) > 0)
		return 2;
	return 0; /* an unreadable seed is only a missed shortcut */
}

/* Writes what the worker gathered: len bytes for the target at off. */
static int restore_flush(struct restore_job *j, struct restore_ws *w, uint64_t off, size_t len)
{
	int r;

	if (!len)
		return 0;
	r = target_write(j->t, w->batch, len, off);
	if (r == 0)
		atomic_fetch_add(&j->written, len);
	return r;
}

/* Chunks i..i+n-1, neighbours that hold data: each comes from the target
 * (left alone), the seed or the store, and the ones to write go out
 * together. */
static int restore_data_span(struct restore_job *j, struct restore_ws *w, size_t i, size_t n)
{
	uint64_t off = caibx_chunk_start(j->idx, i), start, size;
	size_t k, pos = 0, wire;
	int r;

	for (k = i; k < i + n; k++) {
		const struct chunk_id *id = &j->idx->e[k].id;

		start = caibx_chunk_start(j->idx, k);
		size = caibx_chunk_size(j->idx, k);
		r = restore_seed_chunk(j, w->f, start, size, id, w->batch + pos);
		if (r < 0)
			return r;
		if (r > 0)
			atomic_fetch_add(&j->n_seeded, 1);
		if (r == 1) { /* already there: write what came before it */
			r = restore_flush(j, w, off, pos);
			if (r < 0)
				return r;
			off = start + size;
			pos = 0;
			continue;
		}
		if (r == 0) {
			wire = 0;
			r = fetcher_get(w->f, id, size, j->kind, w->batch + pos, &wire);
			if (r < 0)
				return r;
			atomic_fetch_add(&j->fetched, wire);
			atomic_fetch_add(&j->n_fetched, 1);
		}
		pos += (size_t)size;
	}
	return restore_flush(j, w, off, pos);
}

static int restore_one(void *arg, void *ws, size_t i)
{
	struct restore_job *j = arg;
	struct restore_ws *w = ws;
	size_t n = restore_span(j, i);
	uint64_t start = caibx_chunk_start(j->idx, i);
	uint64_t len = caibx_chunk_start(j->idx, i + n - 1) +
		       caibx_chunk_size(j->idx, i + n - 1) - start;
	int r;

	if (chunk_id_is_zero(j->kind, &j->idx->e[i].id, caibx_chunk_size(j->idx, i))) {
		r = restore_zero_run(j, w->f, start, len);
		if (r == 0)
			atomic_fetch_add(&j->n_zero, n);
	} else {
		r = restore_data_span(j, w, i, n);
	}
	if (r == 0)
		atomic_fetch_add(&j->done, len);
	return r;
}

/* The chunk counts so far, for the progress events. */
static void restore_chunks(struct restore_job *j)
{
	struct event_chunks c = { .total = j->idx->n, .fetched = atomic_load(&j->n_fetched),
				  .seeded = atomic_load(&j->n_seeded), .zero = atomic_load(&j->n_zero) };

	progress_chunks(j->prog, &c);
}

static void restore_tick(void *arg)
{
	struct restore_job *j = arg;

	restore_chunks(j);
	progress_update(j->prog, atomic_load(&j->done));
}

/* A blank disk holds nothing to seed from, and reading all of it first would
 * double the time: look at the start of up to 64 data chunks spread over the
 * disk. Only if every one reads as zeros is seeding skipped; an interrupted
 * restore has data in some of them, so resuming keeps seeding. */
static int restore_target_blank(const struct restore_job *j)
{
	enum { SAMPLES = 64, PROBE = 65536 };
	const struct caibx *x = j->idx;
	unsigned char *buf = buf_alloc_aligned(PROBE);
	size_t i, step = x->n / SAMPLES + 1, seen = 0;
	int blank = 1;

	if (!buf)
		return 0;
	for (i = 0; i < x->n && blank; i += step) {
		uint64_t size;
		size_t n, got = 0;
		/* the nearest chunk that holds data, at or after i */
		while (i < x->n && chunk_id_is_zero(j->kind, &x->e[i].id, caibx_chunk_size(x, i)))
			i++;
		if (i >= x->n)
			break;
		size = caibx_chunk_size(x, i);
		n = (size_t)MIN(size, (uint64_t)PROBE);
		if (dio_pread(&j->t->io, buf, n, caibx_chunk_start(x, i), &got) < 0 ||
		    got != n || !buf_is_zero(buf, n))
			blank = 0;
		seen++;
	}
	free(buf);
	debug_log("seed", "target %s looks %s (%zu places read)", j->t->path,
		  blank ? "blank: not seeding from it" : "used: seeding from it", seen);
	return blank;
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
		  const struct restore_opts *o, const char *image, int disk,
		  struct restore_stats *st)
{
	static const struct pfor_ops ops = {
		.init = restore_worker_init,
		.fn = restore_one,
		.fini = restore_worker_fini,
		.tick = restore_tick,
		.span = restore_span,
	};
	struct restore_job j = { .idx = idx, .store_url = store_url, .t = t,
				 .kind = caibx_hash_kind(idx), .seed.fd = -1 };
	double t0 = now_seconds();
	int threads = o->threads ? o->threads : RESTORE_NET_THREADS, r;

	j.no_read = o->no_seed;
	j.seed_target = !o->no_seed && !t->fresh && !restore_target_blank(&j);
	if (o->seed) {
		r = seed_open(o->seed, &j.seed, &j.seed_size);
		if (r < 0)
			return r;
	}
	j.prog = progress_new("restore", image, disk, caibx_blob_size(idx));
	r = pfor_run(idx->n, threads, &ops, &j);
	if (j.seed.fd >= 0)
		seed_close(&j.seed);
	restore_chunks(&j);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	memset(st, 0, sizeof(*st));
	st->bytes_total = caibx_blob_size(idx);
	st->bytes_written = atomic_load(&j.written);
	st->bytes_fetched = atomic_load(&j.fetched);
	st->chunks_total = idx->n;
	st->chunks_fetched = atomic_load(&j.n_fetched);
	st->chunks_zero = atomic_load(&j.n_zero);
	st->chunks_seeded = atomic_load(&j.n_seeded);
	st->seconds = now_seconds() - t0;
	return r;
}

struct verify_job {
	const struct caibx *idx;
	struct target *t;
	enum hash_kind kind;
	struct progress *prog;
	atomic_uint_fast64_t done;
};

static int verify_worker_init(void *arg, void **ret)
{
	struct verify_job *j = arg;

	*ret = buf_alloc_aligned(j->idx->chunk_max);
	return *ret ? 0 : -ENOMEM;
}

static void verify_worker_fini(void *arg, void *ws)
{
	(void)arg;
	free(ws);
}

static int verify_one(void *arg, void *ws, size_t i)
{
	struct verify_job *j = arg;
	const struct chunk_id *id = &j->idx->e[i].id;
	uint64_t start = caibx_chunk_start(j->idx, i), size = caibx_chunk_size(j->idx, i);
	char hex[CHUNK_ID_HEX_SIZE];
	int r;

	if (!dio_placed(&j->t->io, start, size)) { /* a layout change left part of it out */
		atomic_fetch_add(&j->done, size);
		return 0;
	}
	r = seed_match(&j->t->io, start, (size_t)size, j->kind, id,
		       chunk_id_is_zero(j->kind, id, size), ws);
	if (r < 0)
		return err_set(r, "verify: cannot read %s at offset %llu: %s; the disk may be "
				  "failing, check 'dmesg'", j->t->path, (unsigned long long)start,
			       strerror(-r));
	if (r == 0) {
		chunk_id_hex(id, hex);
		return err_set(-EIO, "verify: %s at offset %llu does not read back as written "
				     "(chunk %.16s…): the disk may be failing; check 'dmesg' and "
				     "choose another disk", j->t->path, (unsigned long long)start, hex);
	}
	atomic_fetch_add(&j->done, size);
	return 0;
}

static void verify_tick(void *arg)
{
	struct verify_job *j = arg;

	progress_update(j->prog, atomic_load(&j->done));
}

int restore_verify(const struct caibx *idx, struct target *t, const char *image, int disk)
{
	static const struct pfor_ops ops = {
		.init = verify_worker_init,
		.fn = verify_one,
		.fini = verify_worker_fini,
		.tick = verify_tick,
	};
	struct verify_job j = { .idx = idx, .t = t, .kind = caibx_hash_kind(idx) };
	int r;

	if (fsync(t->fd) < 0)
		return err_set(-errno, "cannot flush %s: %s", t->path, strerror(errno));
	posix_fadvise(t->fd, 0, 0, POSIX_FADV_DONTNEED);
	j.prog = progress_new("verify", image, disk, caibx_blob_size(idx));
	r = pfor_run(idx->n, cpu_count(), &ops, &j);
	progress_done(j.prog, atomic_load(&j.done), r == 0);
	progress_free(j.prog);
	return r;
}
