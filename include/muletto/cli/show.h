/* How the command line shows what the library reports (core/event.h):
 * progress as a bar on a terminal or as JSON lines, notices and warnings as
 * "muletto: ..." lines, debug lines for MULETTO_DEBUG. And the rules for
 * anything that came from a server: never raw on the terminal. */
#ifndef MULETTO_CLI_SHOW_H
#define MULETTO_CLI_SHOW_H

#include <jansson.h>
#include <stddef.h>

#include "muletto/core/event.h"

enum show_mode { SHOW_AUTO, SHOW_BAR, SHOW_JSON, SHOW_NONE };

/* "auto", "bar", "json", "none"; -EINVAL with a message. */
int show_mode_parse(const char *s, enum show_mode *ret);
/* Installs the event sink with mode for progress (auto: a bar when stderr is a
 * terminal). warnings_out: the stream WARNING events go to (verify's bad
 * chunks are its result: stdout), NULL for stderr. */
void show_start(enum show_mode mode, FILE *warnings_out);
/* Every event goes to fn(e, ctx) too, before it is shown (the job's record,
 * ui/jobrec.h); NULL: no more. Installs the sink as show_start does. */
void show_also(event_sink_fn fn, void *ctx);
/* Every event but debug lines as a JSON line on stdout instead (progress at
 * most once a second): for scripts watching a long job (serve --json). */
void show_events_json(int on);
/* Ends a bar line in progress, before other output. */
void show_break(void);

/* s made safe for a terminal: control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 as \xNN; into buf, which is returned. */
const char *show_safe(const char *s, char *buf, size_t size);
/* A JSON string of s; bytes that are not UTF-8 become U+FFFD. */
json_t *show_json_string(const char *s);
/* The uint64_t fields of a result struct, named for JSON. */
struct show_count {
	const char *name;
	size_t offset; /* offsetof the field */
};
/* Adds each count of stats to o, then "seconds". */
void show_counts(json_t *o, const void *stats, const struct show_count *c, size_t n,
		 double seconds);
/* Prints o on stdout (one line, or indented) and frees it. Non-ASCII is
 * escaped: JSON output is plain ASCII. */
void show_json_line(json_t *o);
void show_json_pretty(json_t *o);

#endif
