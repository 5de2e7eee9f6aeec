/* A job's record and notifications together (ui/job.h). */
#include <stddef.h>
#include <stdlib.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/ui/job.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/notify.h"
#include "muletto/ui/restore_record.h"

struct job {
	struct jobrec *rec;
	struct notify *notify;
};

static void job_milestone(void *ctx, int percent, json_t *rec)
{
	struct job *j = ctx;

	json_object_set_new(rec, "milestone", json_integer(percent));
	notify_progress(j->notify, rec);
}

struct job *job_begin(const char *op, const char *repo, const char *image, const char *target)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->rec = jobrec_new(op, repo, image, target);
	notify_new(&j->notify);
	jobrec_on_milestone(j->rec, job_milestone, j);
	return j;
}

void job_event(struct job *j, const struct event *e)
{
	if (j)
		jobrec_event(j->rec, e);
}

void job_count(struct job *j, const char *name, uint64_t v)
{
	if (j)
		jobrec_set_count(j->rec, name, v);
}

void job_target(struct job *j, const char *target)
{
	if (j)
		jobrec_set_target(j->rec, target);
}

void job_restore_result(struct job *j, const struct restore_result *res, int rc, const char *to)
{
#define COUNT(f) { #f, offsetof(struct restore_stats, f) }
	static const struct {
		const char *name;
		size_t offset;
	} counts[] = {
		COUNT(bytes_total),    COUNT(bytes_written), COUNT(bytes_fetched), COUNT(chunks_total),
		COUNT(chunks_fetched), COUNT(chunks_seeded), COUNT(chunks_zero),
	};
#undef COUNT

	for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
		job_count(j, counts[i].name,
			  *(const uint64_t *)((const char *)&res->st + counts[i].offset));
	job_target(j, rc == 0 && res->target[0] ? res->target : to);
}

void job_restore_record(struct job *j, const char *repo, const char *name, int ok,
			const char *error)
{
	json_t *rec;
	int r;

	if (!name || !(rec = job_json(j)))
		return;
	json_object_set_new(rec, "state", json_string(ok ? "done" : "failed"));
	if (!ok && error) {
		char safe[1024];
		json_object_set_new(rec, "error",
				    json_string(jobrec_clean_text(error, safe, sizeof(safe))));
	}
	r = restore_record_save(repo, name, rec);
	json_decref(rec);
	if (r < 0)
		event_warning("the restore's record was not written to the repository: %s "
			      "(the restore is not affected)", err_msg());
}

json_t *job_json(struct job *j)
{
	return j ? jobrec_json(j->rec) : NULL;
}

void job_end(struct job *j, int ok, const char *error)
{
	json_t *rec;

	if (!j)
		return;
	jobrec_finish(j->rec, ok, error);
	if (j->notify && (rec = jobrec_json(j->rec))) {
		notify_end(j->notify, rec);
		json_decref(rec);
	}
	notify_free(j->notify);
	jobrec_free(j->rec);
	free(j);
}
