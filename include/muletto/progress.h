/* Progress of a long operation: bytes done of a total, rate, ETA.
 * Shown as a bar on a terminal (stderr), as JSON lines (for the UI), or not. */
#ifndef MULETTO_PROGRESS_H
#define MULETTO_PROGRESS_H

#include <stdint.h>

enum progress_mode { PROGRESS_AUTO, PROGRESS_BAR, PROGRESS_JSON, PROGRESS_NONE };

struct progress;

/* what: "restore", "capture", "verify". total may be 0 if unknown. */
struct progress *progress_new(const char *what, uint64_t total, enum progress_mode mode);
/* Redraws if at least 200 ms passed since the last time (thread-safe enough to
 * call from one thread only: the waiting thread). */
void progress_update(struct progress *p, uint64_t done);
/* Final line (bar completed or cleared). */
void progress_done(struct progress *p, uint64_t done, int ok);
void progress_free(struct progress *p);
/* Parses "auto", "bar", "json", "none". */
int progress_mode_parse(const char *s, enum progress_mode *ret);

#endif
