/* The status page's HTTP/1.1 server: one thread, poll(2), bounded requests,
 * deadlines, one request per connection, GET and HEAD only, a token. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/ui/status.h"
#include "muletto/ui/status_req.h"

#define STATUS_LINGER_SECONDS 2

struct status_client {
	int fd;		 /* -1: a free slot */
	char req[STATUS_REQUEST_MAX + 1];
	size_t len;	 /* bytes of the request so far */
	char *reply;	 /* NULL while the request is read */
	size_t rlen, roff;
	int lingering;	 /* answered: what the client still sends is read and dropped
			    until it closes, so that a close does not reset the answer */
	double deadline; /* it is dropped then, whatever it is doing */
};

int status_parse_listen(const char *s, char *addr, size_t addr_size, int *port)
{
	const char *colon = strrchr(s, ':'), *p = s;
	size_t alen;

	if (!colon) {
		str_copy(addr, addr_size, "0.0.0.0");
	} else {
		alen = (size_t)(colon - s);
		if (*s == '[' && alen >= 2 && s[alen - 1] == ']') /* [::1]:8080 */
			s++, alen -= 2;
		if (!alen || alen >= addr_size)
			return err_set(-EINVAL, "--serve %s: give [ADDR:]PORT (127.0.0.1:8080, 80)", p);
		memcpy(addr, s, alen);
		addr[alen] = 0;
		s = colon + 1;
	}
	if (parse_int(colon ? colon + 1 : s, 1, 65535, port) < 0)
		return err_set(-EINVAL, "--serve %s: give [ADDR:]PORT with a port from 1 to 65535", p);
	return 0;
}

static int status_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

static int status_listen(const struct status_server_opts *o, int *ret_fd)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char addr[128], port[16];
	int p, fd = -1, one = 1, r;

	if ((r = status_parse_listen(o->listen, addr, sizeof(addr), &p)) < 0)
		return r;
	snprintf(port, sizeof(port), "%d", p);
	if (getaddrinfo(addr, port, &hints, &ai) != 0 || !ai)
		return err_set(-EINVAL, "--serve %s: %s is not an IP address of this machine",
			       o->listen, addr);
	if (!o->token && !status_is_loopback(ai->ai_addr)) {
		freeaddrinfo(ai);
		return err_set(-EPERM, "the status page on %s needs a token: set status_token= in "
				       "muletto.conf (chmod 600), or serve on 127.0.0.1", o->listen);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		r = err_set(-errno, "cannot serve the status page on %s: %s", o->listen,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	*ret_fd = fd;
	event_notice("status page on http://%s%s%s:%d/%s", strchr(addr, ':') ? "[" : "", addr,
		     strchr(addr, ':') ? "]" : "", p,
		     o->token ? " (give it ?token=, the status_token= of muletto.conf)" : "");
	return 0;
}

/* Equal strings, in a time that does not tell how much of them matched. */
static int status_token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < lb; i++)
		d |= (unsigned char)(a[i % (la ? la : 1)] ^ b[i]);
	return !d && la;
}

static void status_reply(struct status_client *c, int code, const char *type,
			 const char *body, int head)
{
	const char *why = code == 200 ? "OK" : code == 403 ? "Forbidden" : code == 404 ? "Not Found" :
			  code == 405 ? "Method Not Allowed" : code == 431 ?
			  "Request Header Fields Too Large" : code == 500 ? "Internal Server Error" :
			  "Bad Request";
	size_t blen = body ? strlen(body) : 0;

	c->reply = str_printf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			      "Cache-Control: no-store\r\nConnection: close\r\n"
			      "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
			      "X-Frame-Options: DENY\r\n"
			      "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
			      "style-src 'unsafe-inline'; connect-src 'self'\r\n\r\n%s",
			      code, why, type, blen, head || !body ? "" : body);
	c->rlen = c->reply ? strlen(c->reply) : 0;
	c->roff = 0;
	c->deadline = now_seconds() + STATUS_REPLY_SECONDS;
}

/* The answer to a whole request (its header in c->req). */
static void status_answer(struct status_client *c, const char *token)
{
	struct status_req rq;
	char *body;
	json_t *s;
	int r = status_req_parse(c->req, &rq), ok;

	if (r == -EOPNOTSUPP)
		return status_reply(c, 405, "text/plain", "read-only: GET only\n", 0);
	if (r < 0)
		return status_reply(c, 400, "text/plain", "bad request\n", 0);
	ok = !token || status_token_equal(rq.token, token);
	explicit_bzero(rq.token, sizeof(rq.token));
	if (!ok)
		return status_reply(c, 403, "text/plain",
				    "forbidden: give the token (?token=, or Authorization: Bearer)\n",
				    rq.head);
	if (strcmp(rq.path, "/") && strcmp(rq.path, "/index.html") &&
	    strcmp(rq.path, "/status.json"))
		return status_reply(c, 404, "text/plain", "not found: / and /status.json\n", rq.head);
	s = status_collect();
	if (!strcmp(rq.path, "/status.json"))
		body = json_dumps(s, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	else
		body = status_page_html(s);
	json_decref(s);
	if (!body)
		return status_reply(c, 500, "text/plain", "out of memory\n", rq.head);
	status_reply(c, 200, strcmp(rq.path, "/status.json") ? "text/html; charset=utf-8" :
		     "application/json", body, rq.head);
	free(body);
}

static void status_drop(struct status_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->reply);
	c->fd = -1;
	c->reply = NULL;
	c->len = 0;
	c->lingering = 0;
}

/* Reads what came; answers once the header is whole, or too long. */
static void status_read(struct status_client *c, const char *token)
{
	ssize_t n = recv(c->fd, c->req + c->len, STATUS_REQUEST_MAX - c->len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return status_drop(c);
	c->len += (size_t)n;
	c->req[c->len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		status_answer(c, token);
	else if (c->len == STATUS_REQUEST_MAX)
		status_reply(c, 431, "text/plain", "request too large\n", 0);
}

/* After the answer: what the client still sends, read and dropped. */
static void status_linger(struct status_client *c)
{
	char buf[4096];
	ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		status_drop(c);
}

static void status_write(struct status_client *c)
{
	ssize_t n = send(c->fd, c->reply + c->roff, c->rlen - c->roff, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return status_drop(c);
	c->roff += (size_t)n;
	if (c->roff == c->rlen) {
		shutdown(c->fd, SHUT_WR);
		c->lingering = 1;
		c->deadline = now_seconds() + STATUS_LINGER_SECONDS;
	}
}

static void status_accept(int lfd, struct status_client *cl)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < STATUS_CLIENTS_MAX && cl[i].fd >= 0; i++)
		;
	if (i == STATUS_CLIENTS_MAX) {
		close(fd);
		return;
	}
	cl[i].fd = fd;
	cl[i].len = 0;
	cl[i].deadline = now_seconds() + STATUS_REQUEST_SECONDS;
}

int status_serve(const struct status_server_opts *o, volatile sig_atomic_t *stop)
{
	struct pollfd pf[STATUS_CLIENTS_MAX + 1];
	struct status_client *cl = calloc(STATUS_CLIENTS_MAX, sizeof(*cl));
	size_t i, nfree;
	int lfd = -1, r;

	if (!cl)
		return -ENOMEM;
	for (i = 0; i < STATUS_CLIENTS_MAX; i++)
		cl[i].fd = -1;
	if ((r = status_listen(o, &lfd)) < 0)
		goto out;
	while (!*stop) {
		double t = now_seconds();
		for (i = 0, nfree = 0; i < STATUS_CLIENTS_MAX; i++) {
			if (cl[i].fd >= 0 && t > cl[i].deadline)
				status_drop(&cl[i]); /* a trickler, or a reader that never reads */
			pf[i + 1].fd = cl[i].fd;
			pf[i + 1].events = cl[i].reply && !cl[i].lingering ? POLLOUT : POLLIN;
			pf[i + 1].revents = 0;
			nfree += cl[i].fd < 0;
		}
		pf[0].fd = nfree ? lfd : -1; /* full: new clients wait in the backlog */
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		if (poll(pf, STATUS_CLIENTS_MAX + 1, 250) < 0 && errno != EINTR) {
			r = err_set(-errno, "status page: poll: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < STATUS_CLIENTS_MAX; i++) {
			if (cl[i].fd < 0 || !pf[i + 1].revents)
				continue;
			if (cl[i].lingering)
				status_linger(&cl[i]);
			else if (cl[i].reply)
				status_write(&cl[i]);
			else
				status_read(&cl[i], o->token);
		}
		if (pf[0].revents & POLLIN)
			status_accept(lfd, cl);
	}
	r = 0;
out:
	for (i = 0; i < STATUS_CLIENTS_MAX; i++)
		status_drop(&cl[i]);
	free(cl);
	if (lfd >= 0)
		close(lfd);
	return r;
}
