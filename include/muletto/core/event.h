/* The one way the library tells the world what it is doing.
 *
 * Library code never writes to a terminal: it reports progress, notices
 * (waiting for a server that went away), warnings (a bad chunk found by
 * verify) and debug lines as events. The program installs one sink: the
 * command line turns events into lines, bars and JSON; a text UI or a status
 * page shows the same events. Without a sink, events are dropped.
 *
 * Events may come from any thread; the sink is called with a lock held, one
 * event at a time, and must not emit events itself. The strings in an event
 * live only for the call. */
#ifndef MULETTO_CORE_EVENT_H
#define MULETTO_CORE_EVENT_H

#include <stdint.h>

enum event_kind {
	EVENT_PROGRESS, /* done of total bytes, rate, ETA: at most 5 times a second */
	EVENT_FINISHED, /* an operation ended (ok says how), done and elapsed final */
	EVENT_NOTICE,	/* worth knowing, the work goes on (retrying a server) */
	EVENT_WARNING,	/* a fault that did not stop the work (a bad chunk) */
	EVENT_DEBUG,	/* MULETTO_DEBUG lines, for the area named */
	EVENT_STATE,	/* a long-running job changed state ("ready", "hydrated", "stopped") */
};

/* Chunks of a restore so far: how each one reached the disk. */
struct event_chunks {
	uint64_t total, fetched, seeded, zero;
};

struct event {
	enum event_kind kind;
	const char *op;	   /* "restore", "capture", "verify", or NULL */
	const char *image; /* image name, index or file name; NULL when none */
	int disk;	   /* the image's disk number, -1 when none */
	uint64_t done, total; /* bytes; total 0 when not known */
	double rate;	   /* bytes per second (smoothed; the mean when FINISHED) */
	double eta;	   /* seconds left, -1 when not known */
	double elapsed;	   /* seconds since the operation started */
	int ok;		   /* FINISHED: 1 when it succeeded */
	const char *area;  /* DEBUG: "fetch", "net", "mount", ... */
	const char *state; /* STATE: the new state */
	const char *message; /* NOTICE, WARNING, DEBUG: one line, no newline */
	const struct event_chunks *chunks; /* PROGRESS, FINISHED of a restore; else NULL */
};

typedef void (*event_sink_fn)(const struct event *e, void *ctx);

/* Installs the sink (NULL: drop events). */
void event_set_sink(event_sink_fn fn, void *ctx);
/* Delivers e to the sink. Thread-safe. */
void event_emit(const struct event *e);
/* A NOTICE or WARNING with a formatted message. */
void event_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void event_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A STATE event of op for image, with a message. */
void event_state(const char *op, const char *image, const char *state, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
