/* A command's job record: what the event channel (core/event.h) says of a
 * running restore, capture, verify, run or serve, kept as a JSON file that
 * others read: muletto status, the status page (ui/status.h), notifications
 * (ui/notify.h).
 *
 * The file is JOBS/<op>-<pid>.json (<op>-<pid>-<n> for the n-th job of a
 * process that runs several, as the guided screens do), JOBS being the folder
 * "jobs" beside the VMs' folder (vm/run.h: /run/muletto/jobs, or
 * MULETTO_RUN_DIR/../jobs). It is replaced atomically (a temporary name, then
 * rename), at most twice a second while bytes move, ten times when something
 * is said, at once when it ends. Messages in it are made safe for a terminal
 * and a web page's text, and URLs in them lose their user:password. A lock
 * (the same name, .lock, held while the job lives) tells a running job from
 * one whose process died. */
#ifndef MULETTO_UI_JOBREC_H
#define MULETTO_UI_JOBREC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "muletto/core/event.h"

#define JOBREC_MESSAGES 10 /* the last notices, warnings and errors kept */
#define JOBREC_KEEP 20	   /* ended jobs' files kept in the folder */

struct jobrec;

/* The folder of job records (a static string). */
const char *jobrec_dir(void);

/* A new record for this process, written at once. repo, image, target may
 * be NULL. When the folder cannot be made, the record is kept in memory only
 * (for notifications). NULL when out of memory. */
struct jobrec *jobrec_new(const char *op, const char *repo, const char *image,
			  const char *target);
/* An event of the job: progress, notices, warnings, states. Call it from the
 * event sink (no events emitted from it). Accepts NULL. A restore's progress
 * carries its chunk counts so far: they become the record's "chunks",
 * {"total", "fetched", "seeded", "zero"}, absent until an event has them. */
void jobrec_event(struct jobrec *j, const struct event *e);
/* A count of the result ("chunks_fetched", ...), or the target once known. */
void jobrec_set_count(struct jobrec *j, const char *name, uint64_t v);
void jobrec_set_target(struct jobrec *j, const char *target);
/* The job ended: ok, else error (one line; NULL: none said). Written at once. */
void jobrec_finish(struct jobrec *j, int ok, const char *error);
/* A copy of the record as it stands (json_decref it); NULL for NULL. */
json_t *jobrec_json(struct jobrec *j);
/* Called (from the event sink, with a copy of the record) each time the
 * job's progress first reaches 25, 50 and 75 %. */
typedef void (*jobrec_milestone_fn)(void *ctx, int percent, json_t *rec);
void jobrec_on_milestone(struct jobrec *j, jobrec_milestone_fn fn, void *ctx);
/* Releases the lock and the memory; the file stays (JOBREC_KEEP). */
void jobrec_free(struct jobrec *j);

/* Every record in the folder, newest first, at most max; a job that says
 * "running" but whose process is gone says "ended". A new array. */
json_t *jobrec_list(size_t max);

/* text made safe to show anywhere (control characters as \xNN, bytes that
 * are not UTF-8 as '?', a URL's user:password dropped), into buf. */
const char *jobrec_clean_text(const char *text, char *buf, size_t size);

#endif
