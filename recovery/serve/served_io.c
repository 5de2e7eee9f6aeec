/* The client's requests on a served image, chunk by chunk: a chunk that is
 * not local is brought in first (fetched and verified), then read or
 * written; a write that covers a whole chunk needs nothing brought in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/serve/share.h"
#include "served_int.h"

#define SERVED_EXTENTS_MAX 1024

/* A request's part in chunk i: image offset off, n bytes. */
struct piece {
	size_t i;
	uint64_t start, size; /* the chunk */
	uint64_t off;
	size_t n;
};

/* The failure goes to the log (a warning event); the client gets EIO. */
static int io_failed(struct served *s, int r, const struct piece *p)
{
	event_warning("%s: the client's request at offset %llu failed: %s", s->name,
		      (unsigned long long)p->off, err_text(r));
	return r;
}

static int io_read_local(struct served *s, void *dst, const struct piece *p)
{
	size_t got = 0;
	int r = target_read(s->t, dst, p->n, p->off, &got);

	if (r == 0 && got != p->n)
		r = err_set(-EIO, "%s ends before offset %llu", s->t->path,
			    (unsigned long long)(p->off + p->n));
	return r;
}

/* A chunk that is not local: brought in (kept on the target when hydrating),
 * then its part copied out. held: the caller claimed it. */
static int io_read_remote(struct served *s, void *dst, const struct piece *p, int held)
{
	int keep = s->mode == SERVED_TARGET, r, slot;
	struct fetcher *f;

	if (!keep && served_cache_get(s, p->i, dst, p->off - p->start, p->n)) {
		if (held)
			chunkmap_release(s->map, p->i, 0);
		return 0;
	}
	f = served_fetcher_get(s);
	if (!f) {
		if (held)
			chunkmap_release(s->map, p->i, 0);
		return err_set(-EIO, "%s: cannot reach the repository", s->name);
	}
	slot = share_demand_begin(); /* background fetches everywhere hold back */
	r = served_make_local(s, p->i, f, keep, keep);
	share_demand_end(slot);
	if (r == 0 && !keep)
		served_cache_put(s, p->i, fetcher_buf(f));
	if (r == 0)
		memcpy(dst, (char *)fetcher_buf(f) + (p->off - p->start), p->n);
	if (held)
		chunkmap_release(s->map, p->i, keep && r == 0);
	served_fetcher_put(s, f);
	if (keep)
		served_read_ahead(s, p->i);
	return r;
}

static int io_read_piece(struct served *s, void *dst, const struct piece *p)
{
	enum chunk_state st;

	if (s->mode == SERVED_READ_ONLY) {
		if (served_chunk_is_zero(s, p->i)) {
			memset(dst, 0, p->n);
			return 0;
		}
		return io_read_remote(s, dst, p, 0);
	}
	if (chunkmap_state(s->map, p->i) == CHUNK_LOCAL)
		return io_read_local(s, dst, p);
	if (s->mode == SERVED_COW && served_chunk_is_zero(s, p->i)) {
		memset(dst, 0, p->n);
		return 0;
	}
	st = chunkmap_claim(s->map, p->i);
	if (st == CHUNK_LOCAL)
		return io_read_local(s, dst, p);
	return io_read_remote(s, dst, p, 1);
}

/* Writes (src) or zeroes (src NULL) a piece of a chunk that is local or held. */
static int io_put(struct served *s, const void *src, uint64_t off, size_t n)
{
	return src ? target_write(s->t, src, n, off) : target_zero(s->t, off, n);
}

static int io_write_piece(struct served *s, const void *src, const struct piece *p)
{
	struct fetcher *f;
	int r, slot;

	if (chunkmap_claim(s->map, p->i) == CHUNK_LOCAL)
		return io_put(s, src, p->off, p->n);
	if (p->off == p->start && p->n == p->size) { /* whole: nothing to bring in */
		r = io_put(s, src, p->off, p->n);
		chunkmap_release(s->map, p->i, r == 0);
		return r;
	}
	f = served_fetcher_get(s);
	if (!f) {
		chunkmap_release(s->map, p->i, 0);
		return err_set(-EIO, "%s: cannot reach the repository", s->name);
	}
	slot = share_demand_begin();
	r = served_make_local(s, p->i, f, 1, 0);
	share_demand_end(slot);
	if (r == 0) { /* the chunk with the client's part in it, written once */
		char *buf = fetcher_buf(f);
		if (src)
			memcpy(buf + (p->off - p->start), src, p->n);
		else
			memset(buf + (p->off - p->start), 0, p->n);
		r = target_write(s->t, buf, (size_t)p->size, p->start);
	}
	chunkmap_release(s->map, p->i, r == 0);
	served_fetcher_put(s, f);
	return r;
}

typedef int (*piece_fn)(struct served *s, void *arg, size_t done, const struct piece *p);

/* Calls fn for each chunk's part of [off, off+len). */
static int io_each(struct served *s, uint64_t off, uint32_t len, piece_fn fn, void *arg)
{
	uint64_t end = off + len, done = 0;
	size_t i = served_chunk_at(s, off);
	int r = 0;

	atomic_fetch_add(&s->client_busy, 1);
	while (r == 0 && off < end && i < s->idx->n) {
		struct piece p = { .i = i, .start = caibx_chunk_start(s->idx, i),
				   .size = caibx_chunk_size(s->idx, i), .off = off };
		p.n = (size_t)(MIN(end, s->idx->e[i].end) - off);
		r = fn(s, arg, (size_t)done, &p);
		if (r < 0)
			io_failed(s, r, &p);
		off += p.n;
		done += p.n;
		i++;
	}
	atomic_fetch_sub(&s->client_busy, 1);
	return r;
}

static int io_read_fn(struct served *s, void *arg, size_t done, const struct piece *p)
{
	return io_read_piece(s, (char *)arg + done, p);
}

static int io_write_fn(struct served *s, void *arg, size_t done, const struct piece *p)
{
	return io_write_piece(s, arg ? (const char *)arg + done : NULL, p);
}

/* Trim is advice: whole chunks read as zeros afterwards, parts are left. */
static int io_trim_fn(struct served *s, void *arg, size_t done, const struct piece *p)
{
	(void)arg;
	(void)done;
	if (p->off != p->start || p->n != p->size)
		return 0;
	return io_write_piece(s, NULL, p);
}

static int served_read(void *ctx, void *buf, uint32_t len, uint64_t off)
{
	return io_each(ctx, off, len, io_read_fn, buf);
}

static int served_flush(void *ctx)
{
	struct served *s = ctx;

	if (s->mode == SERVED_TARGET)
		return chunkmap_commit(s->map, served_sync, s);
	return served_sync(s);
}

static int served_write(void *ctx, const void *buf, uint32_t len, uint64_t off, int fua)
{
	int r = io_each(ctx, off, len, io_write_fn, (void *)buf);

	return r == 0 && fua ? served_flush(ctx) : r;
}

static int served_zero(void *ctx, uint32_t len, uint64_t off, int may_trim)
{
	(void)may_trim;
	return io_each(ctx, off, len, io_write_fn, NULL);
}

static int served_trim(void *ctx, uint32_t len, uint64_t off)
{
	return io_each(ctx, off, len, io_trim_fn, NULL);
}

/* Local chunks are data; chunks not yet here that are all zeros are holes. */
static int served_block_status(void *ctx, uint64_t off, uint32_t len, nbd_extent_fn add,
			       void *a)
{
	struct served *s = ctx;
	uint64_t end = off + len, run = 0;
	uint32_t flags = 0, f;
	size_t i = served_chunk_at(s, off), n = 0;
	int r;

	for (; off < end && i < s->idx->n && n < SERVED_EXTENTS_MAX; i++) {
		uint64_t piece = MIN(end, s->idx->e[i].end) - off;
		f = (s->mode == SERVED_READ_ONLY || chunkmap_state(s->map, i) != CHUNK_LOCAL) &&
				    served_chunk_is_zero(s, i) ?
			    NBD_STATE_HOLE | NBD_STATE_ZERO : 0;
		if (run && f != flags) {
			if ((r = add(a, (uint32_t)run, flags)) != 0)
				return r < 0 ? r : 0; /* 1: no more wanted */
			n++;
			run = 0;
		}
		flags = f;
		run += piece;
		off += piece;
	}
	r = run ? add(a, (uint32_t)run, flags) : 0;
	return r < 0 ? r : 0;
}

void served_export(struct served *s, struct nbd_export *e)
{
	memset(e, 0, sizeof(*e));
	e->name = s->name;
	e->size = s->d->size;
	e->description = s->mode == SERVED_TARGET ? "an image arriving on a local disk" :
			 s->mode == SERVED_COW ? "an image, with a throw-away layer for writes" :
						 "an image, read-only";
	e->read_only = s->mode == SERVED_READ_ONLY;
	e->ctx = s;
	e->read = served_read;
	e->block_status = served_block_status;
	if (e->read_only)
		return;
	e->write = served_write;
	e->flush = served_flush;
	e->trim = served_trim;
	e->zero = served_zero;
}
