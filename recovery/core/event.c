/* Events: one sink, called under a lock. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"

/* Guards sink and sink_ctx, and serialises calls to the sink. */
static pthread_mutex_t event_lock = PTHREAD_MUTEX_INITIALIZER;
static event_sink_fn sink;
static void *sink_ctx;

void event_set_sink(event_sink_fn fn, void *ctx)
{
	pthread_mutex_lock(&event_lock);
	sink = fn;
	sink_ctx = ctx;
	pthread_mutex_unlock(&event_lock);
}

void event_emit(const struct event *e)
{
	pthread_mutex_lock(&event_lock);
	if (sink)
		sink(e, sink_ctx);
	pthread_mutex_unlock(&event_lock);
}

static void event_message(enum event_kind kind, const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];
	struct event e = { .kind = kind, .disk = -1, .eta = -1, .message = msg };

	vsnprintf(msg, sizeof(msg), fmt, ap);
	event_emit(&e);
}

void event_notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_message(EVENT_NOTICE, fmt, ap);
	va_end(ap);
}

void event_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	event_message(EVENT_WARNING, fmt, ap);
	va_end(ap);
}

void event_state(const char *op, const char *image, const char *state, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	struct event e = { .kind = EVENT_STATE, .op = op, .image = image, .disk = -1, .eta = -1,
			   .state = state, .message = msg };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	event_emit(&e);
}
