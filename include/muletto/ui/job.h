/* A job from start to end, for whoever starts one (a command, a screen): its
 * record (ui/jobrec.h) for muletto status and the status page, and its
 * notifications (ui/notify.h) at 25/50/75 % and at the end. The starter
 * passes the job's events to job_event from its event sink. */
#ifndef MULETTO_UI_JOB_H
#define MULETTO_UI_JOB_H

#include <jansson.h>
#include <stdint.h>

#include "muletto/core/event.h"
#include "muletto/engine/restore.h"

struct job;

/* A new job (repo, image, target may be NULL); NULL when out of memory, and
 * every function below accepts NULL. */
struct job *job_begin(const char *op, const char *repo, const char *image,
		      const char *target);
/* An event of the job, from the event sink (no events emitted from it). */
void job_event(struct job *j, const struct event *e);
/* A count of the result ("chunks_fetched", ...), or the target once known. */
void job_count(struct job *j, const char *name, uint64_t v);
void job_target(struct job *j, const char *target);
/* A restore's counts and its target (to, when the restore did not name one). */
void job_restore_result(struct job *j, const struct restore_result *res, int rc,
			const char *to);
/* images/NAME/restores/DATE.json in repo (ui/restore_record.h) from the job's
 * record, ok or failed with error; a WARNING event when it cannot be written. */
void job_restore_record(struct job *j, const char *repo, const char *name, int ok,
			const char *error);
/* A copy of the record as it stands (json_decref it). */
json_t *job_json(struct job *j);
/* The job ended: ok, else error (one line, or NULL). The record says so, the
 * notifications go out (this waits for them), and j is freed. */
void job_end(struct job *j, int ok, const char *error);

#endif
