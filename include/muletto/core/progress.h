/* Progress of a long operation: bytes done of a total, a smoothed rate and
 * the time left, reported as events (core/event.h) at most 5 times a second,
 * and a FINISHED event at the end. How it is shown is the program's business. */
#ifndef MULETTO_CORE_PROGRESS_H
#define MULETTO_CORE_PROGRESS_H

#include <stdint.h>

#include "muletto/core/event.h"

struct progress;

/* op: "restore", "capture", "verify"; image: the image's name or NULL; disk:
 * its number or -1; total: bytes, 0 when not known. Copies the strings.
 * NULL when out of memory (every function below accepts NULL). */
struct progress *progress_new(const char *op, const char *image, int disk, uint64_t total);
/* Reports done bytes if 200 ms passed since the last report. Call it from one
 * thread (the one that waits for the workers). */
void progress_update(struct progress *p, uint64_t done);
/* Chunk counts the next events carry (a restore's: fetched, seeded, zero);
 * events carry none until this is called. */
void progress_chunks(struct progress *p, const struct event_chunks *c);
/* The FINISHED event. */
void progress_done(struct progress *p, uint64_t done, int ok);
void progress_free(struct progress *p);

#endif
