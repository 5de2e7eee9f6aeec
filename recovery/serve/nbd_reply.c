/* A checked request run on the backend, and its reply. Each reply is one
 * message: a simple reply (magic, error, handle, then the data of a READ), or,
 * once structured replies were negotiated, one chunk marked done (the data of
 * a READ, the extents of a BLOCK_STATUS, nothing, or an error with its
 * message). A READ's data is read whole before its reply starts, so an error
 * never has to be reported in the middle of one. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_proto.h"

/* Sends one whole reply; when the client cannot take it, the connection is
 * broken: the reader stops (its socket is shut down) and later replies are
 * dropped. */
static void send_reply(struct nbd_conn *c, struct iovec *iov, int n)
{
	int r;

	if (atomic_load(&c->broken))
		return;
	pthread_mutex_lock(&c->send_lock);
	r = nbd_sendv_all(c->s->fd, iov, n);
	pthread_mutex_unlock(&c->send_lock);
	if (r < 0) {
		debug_log("nbd", "client %u: %s", c->s->id, err_text(r));
		atomic_store(&c->broken, 1);
		shutdown(c->s->fd, SHUT_RDWR);
		pthread_mutex_lock(&c->lock);
		pthread_cond_broadcast(&c->room);
		pthread_mutex_unlock(&c->lock);
	}
}

static void reply_simple(struct nbd_conn *c, const struct nbd_req *rq, uint32_t err,
			 const void *data, uint32_t len)
{
	uint8_t h[NBD_SIMPLE_REPLY_SIZE];
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)data, len } };

	nbd_put32(h, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(h + 4, err);
	nbd_put64(h + 8, rq->handle);
	send_reply(c, iov, len ? 2 : 1);
}

/* The one chunk of a structured reply: its payload is a then b. */
static void reply_chunk(struct nbd_conn *c, const struct nbd_req *rq, uint16_t type,
			const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	uint8_t h[NBD_CHUNK_HEADER_SIZE];
	struct iovec iov[3] = { { h, sizeof(h) }, { (void *)a, alen }, { (void *)b, blen } };

	nbd_put32(h, NBD_STRUCTURED_REPLY_MAGIC);
	nbd_put16(h + 4, NBD_REPLY_FLAG_DONE);
	nbd_put16(h + 6, type);
	nbd_put64(h + 8, rq->handle);
	nbd_put32(h + 16, alen + blen);
	send_reply(c, iov, blen ? 3 : alen ? 2 : 1);
}

void nbd_reply_error(struct nbd_conn *c, const struct nbd_req *rq, uint32_t err, const char *msg)
{
	uint8_t p[6];
	uint16_t n = (uint16_t)MIN(strlen(msg), (size_t)NBD_STRING_MAX);

	if (!c->s->structured) {
		reply_simple(c, rq, err, NULL, 0);
		return;
	}
	nbd_put32(p, err);
	nbd_put16(p + 4, n);
	reply_chunk(c, rq, NBD_REPLY_TYPE_ERROR, p, sizeof(p), msg, n);
}

/* The protocol's error for a backend's -errno: anything it has no number for
 * is an I/O error. */
static uint32_t nbd_errno(int r)
{
	switch (-r) {
	case EPERM:
	case EACCES:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}

static void reply_failed(struct nbd_conn *c, const struct nbd_req *rq, int r)
{
	char msg[ERR_MSG_MAX];

	snprintf(msg, sizeof(msg), "%s", err_text(r));
	debug_log("nbd", "client %u: request %d at %llu of %u bytes failed: %s", c->s->id,
		  rq->type, (unsigned long long)rq->off, rq->len, msg);
	nbd_reply_error(c, rq, nbd_errno(r), msg);
}

static void reply_read(struct nbd_conn *c, const struct nbd_req *rq)
{
	uint8_t off[8];

	if (!c->s->structured) {
		reply_simple(c, rq, 0, rq->buf, rq->len);
		return;
	}
	nbd_put64(off, rq->off);
	reply_chunk(c, rq, NBD_REPLY_TYPE_OFFSET_DATA, off, sizeof(off), rq->buf, rq->len);
}

/* WRITE_ZEROES: the backend's zero, or zeros written when it has none. */
static int zero_range(const struct nbd_export *e, const struct nbd_req *rq)
{
	static const uint8_t zeros[64 << 10];
	uint32_t done, n;
	int r = -EOPNOTSUPP;

	if (e->zero)
		r = e->zero(e->ctx, rq->len, rq->off, !(rq->flags & NBD_CMD_FLAG_NO_HOLE));
	if (r != -EOPNOTSUPP)
		return r;
	for (done = 0; done < rq->len; done += n) {
		n = MIN(rq->len - done, MIN((uint32_t)sizeof(zeros), e->max_block));
		r = e->write(e->ctx, zeros, n, rq->off + done, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The descriptors of a BLOCK_STATUS reply, filled by the backend. */
struct extents {
	uint8_t *p;	  /* 8 bytes each: length, flags */
	uint32_t n, max;
	uint64_t total, want;
};

static int extent_add(void *a, uint32_t length, uint32_t flags)
{
	struct extents *x = a;
	uint8_t *last = x->n ? x->p + 8 * (size_t)(x->n - 1) : NULL;

	flags &= NBD_STATE_HOLE | NBD_STATE_ZERO;
	if (x->total >= x->want)
		return 1;
	if (length == 0)
		return 0;
	if (length > x->want - x->total)
		length = (uint32_t)(x->want - x->total);
	if (last && nbd_get32(last + 4) == flags) {
		nbd_put32(last, nbd_get32(last) + length);
	} else {
		if (x->n == x->max)
			return 1;
		nbd_put32(x->p + 8 * (size_t)x->n, length);
		nbd_put32(x->p + 8 * (size_t)x->n + 4, flags);
		x->n++;
	}
	x->total += length;
	return x->total >= x->want;
}

static int block_status(struct nbd_conn *c, const struct nbd_req *rq)
{
	const struct nbd_export *e = c->s->e;
	uint8_t buf[4 + 8 * NBD_EXTENTS_MAX];
	struct extents x = { .p = buf + 4, .want = rq->len };
	int r;

	x.max = rq->flags & NBD_CMD_FLAG_REQ_ONE ? 1 : NBD_EXTENTS_MAX;
	if (e->block_status) {
		r = e->block_status(e->ctx, rq->off, rq->len, extent_add, &x);
		if (r < 0)
			return r;
	}
	if (x.n == 0) /* nothing known: data, which is always true */
		extent_add(&x, rq->len, 0);
	nbd_put32(buf, c->s->meta_id);
	reply_chunk(c, rq, NBD_REPLY_TYPE_BLOCK_STATUS, buf, 4 + 8 * x.n, NULL, 0);
	return 0;
}

void nbd_execute(struct nbd_conn *c, const struct nbd_req *rq)
{
	const struct nbd_export *e = c->s->e;
	int fua = !!(rq->flags & NBD_CMD_FLAG_FUA), r;

	err_clear();
	switch (rq->type) {
	case NBD_CMD_READ:
		r = e->read(e->ctx, rq->buf, rq->len, rq->off);
		if (r == 0) {
			reply_read(c, rq);
			return;
		}
		break;
	case NBD_CMD_WRITE:
		r = e->write(e->ctx, rq->buf, rq->len, rq->off, fua);
		fua = 0;
		break;
	case NBD_CMD_FLUSH:
		r = e->flush(e->ctx);
		fua = 0;
		break;
	case NBD_CMD_TRIM:
		r = e->trim(e->ctx, rq->len, rq->off);
		if (r == -EOPNOTSUPP) /* a hint the backend may ignore */
			r = 0;
		break;
	case NBD_CMD_WRITE_ZEROES:
		r = zero_range(e, rq);
		break;
	case NBD_CMD_BLOCK_STATUS:
		r = block_status(c, rq);
		if (r == 0)
			return;
		break;
	default:
		r = err_set(-EINVAL, "unknown command %u", rq->type);
	}
	if (r == 0 && fua && e->flush)
		r = e->flush(e->ctx);
	if (r < 0)
		reply_failed(c, rq, r);
	else if (c->s->structured)
		reply_chunk(c, rq, NBD_REPLY_TYPE_NONE, NULL, 0, NULL, 0);
	else
		reply_simple(c, rq, 0, NULL, 0);
}
