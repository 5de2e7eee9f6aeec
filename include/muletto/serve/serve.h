/* muletto serve: an image's disk as an NBD export until stopped (see
 * serve/served.h for what is served and how it hydrates). */
#ifndef MULETTO_SERVE_SERVE_H
#define MULETTO_SERVE_SERVE_H

#include <signal.h>

#include "muletto/serve/served.h"

struct serve_request {
	const char *repo, *name;
	const char *nbd;   /* "unix:PATH" or "tcp:ADDR:PORT" */
	int allow_remote;  /* a non-loopback address may be listened on */
	struct serve_opts o;
};

/* Serves until *stop is set (a signal); STATE events "ready" (with where, in
 * the message), "hydrated", "stopped". The map is committed on the way out. */
int serve_run(const struct serve_request *q, volatile sig_atomic_t *stop);

#endif
