/* Where the server listens: a Unix socket only its owner may use, or a TCP
 * port on loopback (anywhere else only when asked for, since NBD carries no
 * authentication here). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd.h"

#define LISTEN_BACKLOG 64

/* A socket file at path: absent or stale (no server answers) is fine and
 * removed; a live server or anything that is not a socket is refused. */
static int unix_clear(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(-errno, "unix:%s: %m", path);
	if (!S_ISSOCK(st.st_mode))
		return err_set(-EEXIST, "unix:%s exists and is not a socket: not replacing it", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %m");
	memcpy(sa.sun_path, path, strlen(path));
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0)
		return err_set(-EADDRINUSE, "unix:%s: another server is listening there", path);
	if (errno != ECONNREFUSED)
		return err_set(-errno, "unix:%s: %m", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(-errno, "unix:%s: removing the stale socket: %m", path);
	return 0;
}

static int listen_unix(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return err_set(-ENAMETOOLONG, "unix:%s: a socket path has 1 to %zu bytes", path,
			       sizeof(sa.sun_path) - 1);
	r = unix_clear(path);
	if (r < 0)
		return r;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %m");
	/* The socket file takes the socket's mode: only its owner connects. */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = err_set(-errno, "unix:%s: %m", path);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const uint8_t *b = s6->sin6_addr.s6_addr;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" into host (a copy) and port. */
static int split_host_port(const char *spec, char *host, size_t size, int *ret_port)
{
	const char *colon, *start = spec, *end;

	if (*spec == '[') {
		start = spec + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		colon = end + 1;
	} else {
		colon = end = strrchr(spec, ':');
		if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
			return -EINVAL; /* none, or an IPv6 address without brackets */
	}
	if (end == start || (size_t)(end - start) >= size)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = 0;
	return parse_int(colon + 1, 0, 65535, ret_port);
}

static int tcp_bind(const struct addrinfo *ai, const char *spec, int *ret_fd)
{
	int fd, one = 1, r;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "tcp:%s: %m", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		r = errno == EADDRINUSE ?
			err_set(-errno, "tcp:%s: another program listens on that port: choose "
					"another port, or stop that program", spec) :
			err_set(-errno, "tcp:%s: %m", spec);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int listen_tcp(const char *spec, int allow_remote, int *ret_fd)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[INET6_ADDRSTRLEN + 16], port_text[8];
	int port, r;

	if (split_host_port(spec, host, sizeof(host), &port) < 0)
		return err_set(-EINVAL, "tcp:%s: expected tcp:ADDR:PORT (an IPv6 ADDR in brackets, "
					"PORT 0 to 65535)", spec);
	if (!strcmp(host, "localhost"))
		str_copy(host, sizeof(host), "127.0.0.1");
	snprintf(port_text, sizeof(port_text), "%d", port);
	if (getaddrinfo(host, port_text, &hints, &ai) != 0 || !ai)
		return err_set(-EINVAL, "tcp:%s: '%s' is not an IP address", spec, host);
	if (!is_loopback(ai->ai_addr) && !allow_remote)
		r = err_set(-EPERM, "tcp:%s: %s is not a loopback address, and NBD has no password: "
				    "anyone who reaches it could read and write the disk; add "
				    "--allow-remote to serve it on the network", spec, host);
	else
		r = tcp_bind(ai, spec, ret_fd);
	freeaddrinfo(ai);
	return r;
}

int nbd_listen(const char *spec, int allow_remote, int *ret_fd)
{
	if (!strncmp(spec, "unix:", 5))
		return listen_unix(spec + 5, ret_fd);
	if (!strncmp(spec, "tcp:", 4))
		return listen_tcp(spec + 4, allow_remote, ret_fd);
	return err_set(-EINVAL, "'%s': expected unix:PATH or tcp:ADDR:PORT", spec);
}

int nbd_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return err_set(-errno, "getsockname: %m");
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return err_set(-EINVAL, "not a TCP socket");
}
