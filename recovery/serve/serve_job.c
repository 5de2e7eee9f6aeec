/* A serve from start to end: the image, the listening socket, the clients,
 * the hydration, and a clean stop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd.h"
#include "muletto/serve/serve.h"

/* How a client names the export: QEMU, qemu-img and libnbd take this URI. */
static void serve_uri(const char *spec, int fd, char *out, size_t size)
{
	int port;

	if (!strncmp(spec, "unix:", 5)) {
		snprintf(out, size, "nbd+unix:///?socket=%s", spec + 5);
		return;
	}
	port = nbd_bound_port(fd);
	snprintf(out, size, "nbd://%.*s:%d", (int)(strrchr(spec, ':') - spec - 4), spec + 4,
		 port > 0 ? port : 0);
}

int serve_run(const struct serve_request *q, volatile sig_atomic_t *stop)
{
	struct served *s = NULL;
	struct nbd_export e;
	char size[32], uri[600];
	int fd = -1, r, r2;

	r = served_open(q->repo, q->name, &q->o, &s);
	if (r == 0)
		r = nbd_listen(q->nbd, q->allow_remote, &fd);
	if (r == 0)
		r = served_start(s);
	if (r == 0) {
		served_export(s, &e);
		human_size(served_size(s), size, sizeof(size));
		serve_uri(q->nbd, fd, uri, sizeof(uri));
		event_state("serve", served_name(s), "ready", "serving %s (%s%s) at %s", served_name(s),
			    size, e.read_only ? ", read-only" : "", uri);
		r = nbd_serve(fd, &e, stop);
	}
	if (fd >= 0) {
		close(fd);
		if (!strncmp(q->nbd, "unix:", 5))
			unlink(q->nbd + 5);
	}
	r2 = served_close(s);
	if (r == 0)
		r = r2;
	if (r == 0)
		event_state("serve", NULL, "stopped", "stopped; what arrived is kept");
	return r;
}
