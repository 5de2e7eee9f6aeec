/* The transmission phase of one client. The client's thread reads requests
 * and checks each one against the export before anything is allocated; a
 * request the server refuses is answered at once, a valid one gets its buffer
 * (within the client's budget: NBD_IN_FLIGHT_MAX requests, NBD_CLIENT_BYTES_MAX
 * bytes) and goes to a queue. Workers, started as the queue needs them, run
 * the backend and send the reply; replies go out whole, one at a time, under
 * the send lock, in whatever order the requests finish (the protocol allows
 * it: replies carry the request's handle). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd_proto.h"

/* Waits for room in the client's budget for one more request holding bytes;
 * a request always fits when nothing else is in flight. 0, or -EPIPE once
 * replies can no longer be sent. */
static int budget_take(struct nbd_conn *c, struct nbd_req *rq, uint32_t bytes)
{
	int r = 0;

	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->broken) && c->in_flight > 0 &&
	       (c->in_flight >= NBD_IN_FLIGHT_MAX || c->bytes + bytes > NBD_CLIENT_BYTES_MAX))
		pthread_cond_wait(&c->room, &c->lock);
	if (atomic_load(&c->broken)) {
		r = -EPIPE;
	} else {
		c->in_flight++;
		c->bytes += bytes;
		rq->counted = 1;
		rq->reserved = bytes;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Frees rq and gives back what it held of the budget. */
static void req_done(struct nbd_conn *c, struct nbd_req *rq)
{
	if (rq->counted) {
		pthread_mutex_lock(&c->lock);
		c->in_flight--;
		c->bytes -= rq->reserved;
		pthread_cond_broadcast(&c->room);
		pthread_mutex_unlock(&c->lock);
	}
	free(rq->buf);
	free(rq);
}

static const char *cmd_name(uint16_t type)
{
	switch (type) {
	case NBD_CMD_READ: return "READ";
	case NBD_CMD_WRITE: return "WRITE";
	case NBD_CMD_DISC: return "DISC";
	case NBD_CMD_FLUSH: return "FLUSH";
	case NBD_CMD_TRIM: return "TRIM";
	case NBD_CMD_WRITE_ZEROES: return "WRITE_ZEROES";
	case NBD_CMD_BLOCK_STATUS: return "BLOCK_STATUS";
	default: return "unknown command";
	}
}

/* What a command may carry and where it is checked. */
struct cmd_rule {
	int known, offered, writes, ranged, capped;
	uint16_t flags; /* command flags it accepts */
};

static struct cmd_rule cmd_rule(const struct nbd_conn *c, uint16_t type)
{
	const struct nbd_export *e = c->s->e;
	struct cmd_rule k = { .known = 1, .ranged = 1, .flags = NBD_CMD_FLAG_FUA };

	switch (type) {
	case NBD_CMD_READ:
		k.offered = k.capped = 1;
		if (c->s->structured)
			k.flags |= NBD_CMD_FLAG_DF;
		break;
	case NBD_CMD_WRITE:
		k.offered = k.writes = k.capped = 1;
		break;
	case NBD_CMD_FLUSH:
		k.offered = e->flush != NULL;
		k.ranged = 0;
		break;
	case NBD_CMD_TRIM:
		k.offered = e->trim != NULL;
		k.writes = 1;
		break;
	case NBD_CMD_WRITE_ZEROES:
		k.offered = k.writes = k.capped = 1;
		k.flags |= NBD_CMD_FLAG_NO_HOLE;
		break;
	case NBD_CMD_BLOCK_STATUS:
		k.offered = c->s->structured && c->s->meta_id;
		k.flags |= NBD_CMD_FLAG_REQ_ONE;
		break;
	default:
		k.known = 0;
	}
	return k;
}

/* 0 when the request may run, else the NBD error, the reason in msg. */
static uint32_t req_check(const struct nbd_conn *c, const struct nbd_req *rq, char *msg,
			  size_t size)
{
	const struct nbd_export *e = c->s->e;
	struct cmd_rule k = cmd_rule(c, rq->type);
	const char *name = cmd_name(rq->type);

	if (!k.known)
		return snprintf(msg, size, "unknown command %u", rq->type), NBD_EINVAL;
	if (rq->flags & ~k.flags)
		return snprintf(msg, size, "flags %#x are not valid for %s", rq->flags, name),
		       NBD_EINVAL;
	if (k.writes && e->read_only)
		return snprintf(msg, size, "%s on a read-only export", name), NBD_EPERM;
	if (!k.offered)
		return snprintf(msg, size, "%s was not offered to this client", name), NBD_EINVAL;
	if (!k.ranged)
		return 0;
	if (rq->len == 0)
		return snprintf(msg, size, "%s of 0 bytes", name), NBD_EINVAL;
	if (rq->off > e->size || rq->len > e->size - rq->off)
		return snprintf(msg, size, "%s of %u bytes at %llu goes past the end (%llu bytes)",
				name, rq->len, (unsigned long long)rq->off,
				(unsigned long long)e->size),
		       k.writes && rq->type != NBD_CMD_TRIM ? NBD_ENOSPC : NBD_EINVAL;
	if (rq->off % e->min_block || rq->len % e->min_block)
		return snprintf(msg, size, "%s at %llu of %u bytes is not aligned to %u bytes", name,
				(unsigned long long)rq->off, rq->len, e->min_block),
		       NBD_EINVAL;
	if (k.capped && rq->len > e->max_block)
		return snprintf(msg, size, "%s of %u bytes: at most %u at a time", name, rq->len,
				e->max_block),
		       NBD_EINVAL;
	return 0;
}

static void *worker_main(void *v);

/* Queues a checked request, starting a worker when none is free. */
static void req_queue(struct nbd_conn *c, struct nbd_req *rq)
{
	pthread_mutex_lock(&c->lock);
	if (c->queued + 1 > c->idle && c->nworkers < NBD_IN_FLIGHT_MAX &&
	    pthread_create(&c->workers[c->nworkers], NULL, worker_main, c) == 0)
		c->nworkers++;
	if (c->nworkers == 0) { /* no thread could start: run it here */
		pthread_mutex_unlock(&c->lock);
		nbd_execute(c, rq);
		req_done(c, rq);
		return;
	}
	if (c->tail)
		c->tail->next = rq;
	else
		c->head = rq;
	c->tail = rq;
	c->queued++;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
}

static struct nbd_req *req_next(struct nbd_conn *c)
{
	struct nbd_req *rq;

	pthread_mutex_lock(&c->lock);
	while (!c->head && !c->closing) {
		c->idle++;
		pthread_cond_wait(&c->work, &c->lock);
		c->idle--;
	}
	rq = c->head;
	if (rq) {
		c->head = rq->next;
		if (!c->head)
			c->tail = NULL;
		c->queued--;
	}
	pthread_mutex_unlock(&c->lock);
	return rq;
}

static void *worker_main(void *v)
{
	struct nbd_conn *c = v;
	struct nbd_req *rq;

	while ((rq = req_next(c))) {
		if (!atomic_load(&c->broken))
			nbd_execute(c, rq);
		req_done(c, rq);
	}
	return NULL;
}

/* The buffer of a READ or WRITE, within the budget; when memory runs out
 * the request is answered ENOMEM (the payload of a WRITE is still read). */
static int req_buffer(struct nbd_conn *c, struct nbd_req *rq, uint32_t *err, char *msg,
		      size_t size)
{
	int r = budget_take(c, rq, rq->len);

	if (r == 0 && !(rq->buf = malloc(rq->len))) {
		snprintf(msg, size, "out of memory for %u bytes", rq->len);
		*err = NBD_ENOMEM;
	}
	return r;
}

/* One request from the socket: 1 to go on, 0 after NBD_CMD_DISC, or a
 * negative errno when the connection is over. */
static int req_read(struct nbd_conn *c)
{
	uint8_t h[NBD_REQUEST_SIZE];
	char msg[256];
	struct nbd_req *rq;
	uint32_t err;
	int r;

	r = nbd_recv_all(c->s->fd, h, sizeof(h));
	if (r < 0)
		return r;
	if (nbd_get32(h) != NBD_REQUEST_MAGIC)
		return err_set(-EPROTO, "client sent a request without its magic (%08x)",
			       nbd_get32(h));
	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return err_set(-ENOMEM, "out of memory for a request");
	rq->flags = nbd_get16(h + 4);
	rq->type = nbd_get16(h + 6);
	rq->handle = nbd_get64(h + 8);
	rq->off = nbd_get64(h + 16);
	rq->len = nbd_get32(h + 24);
	if (rq->type == NBD_CMD_DISC) {
		req_done(c, rq);
		return 0;
	}
	err = req_check(c, rq, msg, sizeof(msg));
	if (!err)
		r = rq->type == NBD_CMD_READ || rq->type == NBD_CMD_WRITE
			    ? req_buffer(c, rq, &err, msg, sizeof(msg))
			    : budget_take(c, rq, 0);
	if (r == 0 && rq->type == NBD_CMD_WRITE) /* the payload, used or not */
		r = rq->buf ? nbd_recv_all(c->s->fd, rq->buf, rq->len)
			    : nbd_recv_discard(c->s->fd, rq->len);
	if (r == 0 && err) {
		debug_log("nbd", "client %u: %s refused: %s", c->s->id, cmd_name(rq->type), msg);
		nbd_reply_error(c, rq, err, msg);
	}
	if (r < 0 || err) {
		req_done(c, rq);
		return r < 0 ? r : 1;
	}
	req_queue(c, rq);
	return 1;
}

int nbd_transmit(struct nbd_session *s)
{
	struct nbd_conn c = { .s = s };
	int r, i;

	pthread_mutex_init(&c.lock, NULL);
	pthread_mutex_init(&c.send_lock, NULL);
	pthread_cond_init(&c.work, NULL);
	pthread_cond_init(&c.room, NULL);
	debug_log("nbd", "client %u: transmission, flags %#x, %s replies%s", s->id, s->tflags,
		  s->structured ? "structured" : "simple",
		  s->meta_id ? ", base:allocation" : "");
	while ((r = req_read(&c)) > 0)
		if (atomic_load(&c.broken)) {
			r = err_set(-EPIPE, "a reply could not be sent: the client went away");
			break;
		}
	/* The requests in flight are answered before the connection closes. */
	pthread_mutex_lock(&c.lock);
	c.closing = 1;
	pthread_cond_broadcast(&c.work);
	pthread_mutex_unlock(&c.lock);
	for (i = 0; i < c.nworkers; i++)
		pthread_join(c.workers[i], NULL);
	pthread_cond_destroy(&c.room);
	pthread_cond_destroy(&c.work);
	pthread_mutex_destroy(&c.send_lock);
	pthread_mutex_destroy(&c.lock);
	return r;
}
