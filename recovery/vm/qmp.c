/* A QMP client: a line of JSON out, lines of JSON in until the answer. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/vm/qmp.h"

#define QMP_LINE_MAX (1 << 20)
#define QMP_TIMEOUT_MS 30000

struct qmp {
	int fd;
	char *buf; /* what has been read and not used yet */
	size_t len, cap;
};

/* The next line QEMU sends, parsed; NULL on a failure (message set). */
static json_t *qmp_read(struct qmp *q)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		json_error_t je;
		ssize_t n;
		if (nl) {
			json_t *j = json_loadb(q->buf, (size_t)(nl - q->buf), 0, &je);
			q->len -= (size_t)(nl + 1 - q->buf);
			memmove(q->buf, nl + 1, q->len);
			if (!j)
				err_set(-EPROTO, "QEMU's monitor sent something that is not JSON: %s",
					je.text);
			return j;
		}
		if (q->cap - q->len < 4096) {
			char *b = q->cap < QMP_LINE_MAX ? realloc(q->buf, q->cap + 65536) : NULL;
			if (!b) {
				err_set(-EPROTO, "QEMU's monitor sent a line over %d bytes", QMP_LINE_MAX);
				return NULL;
			}
			q->buf = b;
			q->cap += 65536;
		}
		if (poll(&p, 1, QMP_TIMEOUT_MS) <= 0) {
			err_set(-ETIMEDOUT, "QEMU's monitor did not answer in %d s", QMP_TIMEOUT_MS / 1000);
			return NULL;
		}
		n = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (n <= 0) {
			err_set(-ECONNRESET, "QEMU's monitor closed: QEMU has ended");
			return NULL;
		}
		q->len += (size_t)n;
	}
}

int qmp_call(struct qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	json_t *req = json_pack("{s:s}", "execute", cmd), *a, *e;
	char *line;
	int r;

	if (args)
		json_object_set_new(req, "arguments", args);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return -ENOMEM;
	r = write_full(q->fd, line, strlen(line));
	if (r == 0)
		r = write_full(q->fd, "\n", 1);
	free(line);
	if (r < 0)
		return err_set(r, "cannot talk to QEMU's monitor: %s", strerror(-r));
	for (;;) {
		json_t *j = qmp_read(q);
		if (!j)
			return -EIO; /* qmp_read said why */
		if ((a = json_object_get(j, "return"))) {
			if (ret)
				*ret = json_incref(a);
			json_decref(j);
			return 0;
		}
		if ((e = json_object_get(j, "error"))) {
			r = err_set(-EIO, "QEMU refused %s: %s", cmd,
				    json_string_value(json_object_get(e, "desc")) ?: "?");
			json_decref(j);
			return r;
		}
		json_decref(j); /* an event */
	}
}

int qmp_connect(const char *path, int timeout_ms, struct qmp **ret)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct qmp *q = calloc(1, sizeof(*q));
	double until = now_seconds() + timeout_ms / 1000.0;
	json_t *greeting;
	int r;

	if (!q)
		return -ENOMEM;
	str_copy(a.sun_path, sizeof(a.sun_path), path);
	for (;;) {
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd >= 0 && connect(q->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		if (q->fd >= 0)
			close(q->fd);
		q->fd = -1;
		if (now_seconds() > until) {
			free(q);
			return err_set(-ETIMEDOUT, "QEMU's monitor %s did not open: QEMU did not "
						   "start (see its log)", path);
		}
		sleep_ms(50);
	}
	greeting = qmp_read(q);
	r = greeting ? qmp_call(q, "qmp_capabilities", NULL, NULL) : -EPROTO;
	json_decref(greeting);
	if (r < 0) {
		qmp_close(q);
		return r;
	}
	*ret = q;
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}
