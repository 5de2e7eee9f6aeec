/* The NBD server: clients accepted on the listening socket, each on a thread
 * of its own (handshake, then transmission), until the caller's stop flag is
 * set; the export's sizes checked once; whole messages on the socket. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd.h"
#include "muletto/serve/nbd_proto.h"

/* A client that sends nothing for this long during the handshake, or takes
 * no reply for this long, is disconnected. */
#define HANDSHAKE_TIMEOUT_S 30
#define SEND_TIMEOUT_S 60
/* After a stop, the time clients get to finish what is in flight. */
#define STOP_GRACE_MS 10000
#define POLL_MS 200

static int is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int nbd_export_check(const struct nbd_export *e, struct nbd_export *out)
{
	struct nbd_export x = *e;

	if (!x.read)
		return err_set(-EINVAL, "NBD export without a read function");
	x.min_block = x.min_block ? x.min_block : NBD_MIN_BLOCK_DEFAULT;
	x.pref_block = x.pref_block ? x.pref_block : MAX(NBD_PREF_BLOCK_DEFAULT, x.min_block);
	x.max_block = x.max_block ? x.max_block : NBD_MAX_BLOCK_DEFAULT;
	if (!is_pow2(x.min_block) || x.min_block > 65536)
		return err_set(-EINVAL, "NBD minimum block size %u: a power of two up to 65536",
			       x.min_block);
	if (!is_pow2(x.pref_block) || x.pref_block < MAX(x.min_block, 512u))
		return err_set(-EINVAL, "NBD preferred block size %u: a power of two, at least 512 "
					"and the minimum", x.pref_block);
	if (x.max_block % x.min_block || x.max_block > NBD_CLIENT_BYTES_MAX ||
	    x.max_block < MIN((uint64_t)x.pref_block, x.size))
		return err_set(-EINVAL, "NBD maximum block size %u: a multiple of the minimum, from "
					"the preferred size to %u", x.max_block, NBD_CLIENT_BYTES_MAX);
	if (x.name && strlen(x.name) > NBD_STRING_MAX)
		return err_set(-EINVAL, "NBD export name longer than %d bytes", NBD_STRING_MAX);
	if (!x.write)
		x.read_only = 1;
	*out = x;
	return 0;
}

uint16_t nbd_transmission_flags(const struct nbd_export *e, int structured)
{
	/* The backend is one for every connection, and so is its flush. */
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_CAN_MULTI_CONN;

	if (e->flush)
		f |= NBD_FLAG_SEND_FLUSH;
	if (e->read_only) {
		f |= NBD_FLAG_READ_ONLY;
	} else {
		f |= NBD_FLAG_SEND_WRITE_ZEROES;
		if (e->flush)
			f |= NBD_FLAG_SEND_FUA;
		if (e->trim)
			f |= NBD_FLAG_SEND_TRIM;
	}
	if (structured)
		f |= NBD_FLAG_SEND_DF; /* every read is one chunk anyway */
	return f;
}

int nbd_recv_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || errno == ECONNRESET) {
			return err_set(-EPIPE, "the client went away%s",
				       got ? " in the middle of a message" : "");
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return err_set(-ETIMEDOUT, "the client sent nothing for %d s",
				       HANDSHAKE_TIMEOUT_S);
		} else if (errno != EINTR) {
			return err_set(-errno, "receiving from the client: %m");
		}
	}
	return 0;
}

int nbd_sendv_all(int fd, struct iovec *iov, int n)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	ssize_t k;

	while (m.msg_iovlen > 0) {
		k = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return err_set(-EPIPE, "the client went away");
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return err_set(-ETIMEDOUT, "the client took no reply for %d s",
					       SEND_TIMEOUT_S);
			return err_set(-errno, "sending to the client: %m");
		}
		while (m.msg_iovlen > 0 && (size_t)k >= m.msg_iov->iov_len) {
			k -= (ssize_t)m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + k;
			m.msg_iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

int nbd_send_all(int fd, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	return nbd_sendv_all(fd, &iov, 1);
}

int nbd_recv_discard(int fd, uint64_t len)
{
	uint8_t buf[16384];
	int r = 0;

	while (len > 0 && r == 0) {
		size_t n = (size_t)MIN(len, (uint64_t)sizeof(buf));
		r = nbd_recv_all(fd, buf, n);
		len -= n;
	}
	return r;
}

static void set_timeout(int fd, int opt, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* One client from greeting to goodbye; fd stays open. */
static int serve_conn(int fd, unsigned id, const struct nbd_export *e)
{
	struct nbd_session s = { .fd = fd, .id = id, .e = e };
	int one = 1, r;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on Unix sockets */
	set_timeout(fd, SO_SNDTIMEO, SEND_TIMEOUT_S);
	set_timeout(fd, SO_RCVTIMEO, HANDSHAKE_TIMEOUT_S);
	r = nbd_handshake(&s);
	if (r == 1) {
		set_timeout(fd, SO_RCVTIMEO, 0); /* a client may be idle for days */
		r = nbd_transmit(&s);
	}
	if (r < 0 && r != -EPIPE)
		debug_log("nbd", "client %u: disconnected: %s", id, err_text(r));
	else
		debug_log("nbd", "client %u: done", id);
	return r;
}

int nbd_serve_fd(int fd, const struct nbd_export *e)
{
	struct nbd_export x;
	int r = nbd_export_check(e, &x);

	if (r == 0)
		serve_conn(fd, 0, &x);
	close(fd);
	return r;
}

int nbd_export_flags(const struct nbd_export *e, uint16_t *ret)
{
	struct nbd_export x;
	int r = nbd_export_check(e, &x);

	if (r == 0)
		*ret = nbd_transmission_flags(&x, 0);
	return r;
}

int nbd_serve_transmission(int fd, const struct nbd_export *e)
{
	struct nbd_export x;
	struct nbd_session s = { .fd = fd, .e = &x };
	int r = nbd_export_check(e, &x);

	if (r < 0)
		return r;
	/* The kernel's client knows the size and flags from its ioctls; what it
	 * speaks on the socket is simple replies, without structured ones. */
	s.tflags = nbd_transmission_flags(&x, 0);
	set_timeout(fd, SO_SNDTIMEO, SEND_TIMEOUT_S);
	r = nbd_transmit(&s);
	debug_log("nbd", "kernel client: %s", r < 0 ? err_text(r) : "disconnected");
	return r == -EPIPE ? 0 : r;
}

struct client {
	struct server *srv;
	pthread_t tid;
	int fd;	  /* -1 once closed */
	unsigned id;
	int done; /* its thread has finished: join it */
	struct client *next;
};

struct server {
	struct nbd_export e;
	pthread_mutex_t lock; /* guards the list and every client's fd and done */
	pthread_cond_t ended; /* a client finished */
	struct client *clients;
	int n;
	unsigned next_id;
};

static void *client_main(void *v)
{
	struct client *cl = v;
	struct server *srv = cl->srv;

	serve_conn(cl->fd, cl->id, &srv->e);
	pthread_mutex_lock(&srv->lock);
	close(cl->fd);
	cl->fd = -1;
	cl->done = 1;
	pthread_cond_broadcast(&srv->ended);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Joins and frees the clients whose thread has ended. */
static void reap(struct server *srv)
{
	struct client **p = &srv->clients, *cl;

	pthread_mutex_lock(&srv->lock);
	while ((cl = *p)) {
		if (!cl->done) {
			p = &cl->next;
			continue;
		}
		*p = cl->next;
		pthread_join(cl->tid, NULL);
		srv->n--;
		free(cl);
	}
	pthread_mutex_unlock(&srv->lock);
}

static void start_client(struct server *srv, int fd)
{
	struct client *cl = NULL;
	int r = -1;

	pthread_mutex_lock(&srv->lock);
	if (srv->n < NBD_CLIENTS_MAX && (cl = calloc(1, sizeof(*cl)))) {
		*cl = (struct client){ .srv = srv, .fd = fd, .id = ++srv->next_id };
		r = pthread_create(&cl->tid, NULL, client_main, cl);
	}
	if (r == 0) {
		cl->next = srv->clients;
		srv->clients = cl;
		srv->n++;
		debug_log("nbd", "client %u: connected (%d served)", cl->id, srv->n);
	} else {
		debug_log("nbd", "a client is turned away: %d are served (at most %d)", srv->n,
			  NBD_CLIENTS_MAX);
		free(cl);
		close(fd);
	}
	pthread_mutex_unlock(&srv->lock);
}

/* Waits for every client to end, at most until deadline (0: no limit). */
static void wait_clients(struct server *srv, const struct timespec *deadline)
{
	struct client *cl;
	int busy;

	do {
		busy = 0;
		for (cl = srv->clients; cl; cl = cl->next)
			busy |= !cl->done;
		if (!busy)
			break;
		if (!deadline)
			pthread_cond_wait(&srv->ended, &srv->lock);
		else if (pthread_cond_timedwait(&srv->ended, &srv->lock, deadline) == ETIMEDOUT)
			break;
	} while (1);
}

/* Stops reading from every client; once they answered what they had in
 * flight (or the grace time is over) their connections are cut. */
static void stop_clients(struct server *srv)
{
	struct timespec deadline;
	struct client *cl;

	pthread_mutex_lock(&srv->lock);
	for (cl = srv->clients; cl; cl = cl->next)
		if (!cl->done)
			shutdown(cl->fd, SHUT_RD);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_GRACE_MS / 1000;
	wait_clients(srv, &deadline);
	for (cl = srv->clients; cl; cl = cl->next)
		if (!cl->done)
			shutdown(cl->fd, SHUT_RDWR);
	wait_clients(srv, NULL);
	pthread_mutex_unlock(&srv->lock);
	reap(srv);
}

static int accept_one(struct server *srv, int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, POLL_MS) <= 0)
		return 0; /* a timeout, or a signal: look at the stop flag */
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		start_client(srv, fd);
		return 0;
	}
	switch (errno) {
	case EMFILE: /* out of descriptors or memory: wait for clients to leave */
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		sleep_ms(POLL_MS);
		return 0;
	case EBADF:
	case EINVAL:
	case ENOTSOCK:
	case EOPNOTSUPP:
		return err_set(-errno, "accepting NBD clients: %m");
	default: /* EAGAIN, EINTR, a connection aborted before it was taken */
		return 0;
	}
}

int nbd_serve(int listen_fd, const struct nbd_export *e, volatile sig_atomic_t *stop)
{
	struct server srv = { 0 };
	int r, fl;

	r = nbd_export_check(e, &srv.e);
	if (r < 0)
		return r;
	fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return err_set(-errno, "NBD listening socket: %m");
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.ended, NULL);
	while (!*stop && r == 0) {
		r = accept_one(&srv, listen_fd);
		reap(&srv);
	}
	debug_log("nbd", "stopping: %d clients to finish", srv.n);
	stop_clients(&srv);
	pthread_cond_destroy(&srv.ended);
	pthread_mutex_destroy(&srv.lock);
	return r;
}
