/* A command's job: its record for muletto status and the status page, its
 * notifications. Events reach the record through show_also. */
#include <jansson.h>
#include <stdlib.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/notify.h"

static struct {
	struct jobrec *rec;
	struct notify *notify;
} job;

static void job_event(const struct event *e, void *ctx)
{
	(void)ctx;
	jobrec_event(job.rec, e);
}

static void job_milestone(void *ctx, int percent, json_t *rec)
{
	(void)ctx;
	json_object_set_new(rec, "milestone", json_integer(percent));
	notify_progress(job.notify, rec);
}

void cmd_job_begin(const char *op, const char *repo, const char *image, const char *target)
{
	if (job.rec)
		return;
	job.rec = jobrec_new(op, repo, image, target);
	notify_new(&job.notify);
	jobrec_on_milestone(job.rec, job_milestone, NULL);
	show_also(job_event, NULL);
}

void cmd_job_count(const char *name, uint64_t v)
{
	jobrec_set_count(job.rec, name, v);
}

void cmd_job_target(const char *target)
{
	jobrec_set_target(job.rec, target);
}

json_t *cmd_job_json(void)
{
	return jobrec_json(job.rec);
}

int cmd_job_end(int code)
{
	json_t *rec;

	if (!job.rec && !job.notify)
		return code;
	show_also(NULL, NULL);
	jobrec_finish(job.rec, code == 0, cmd_last_error());
	if (job.notify && (rec = jobrec_json(job.rec))) {
		notify_end(job.notify, rec);
		json_decref(rec);
	}
	notify_free(job.notify);
	jobrec_free(job.rec);
	job.rec = NULL;
	job.notify = NULL;
	return code;
}
