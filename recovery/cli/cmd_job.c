/* A command's job (ui/job.h): its record for muletto status and the status
 * page, its notifications. Events reach it through show_also. */
#include <jansson.h>

#include "muletto/cli/cmd.h"
#include "muletto/cli/show.h"
#include "muletto/ui/job.h"

static struct job *cmd_job;

static void job_sink(const struct event *e, void *ctx)
{
	(void)ctx;
	job_event(cmd_job, e);
}

void cmd_job_begin(const char *op, const char *repo, const char *image, const char *target)
{
	if (cmd_job)
		return;
	cmd_job = job_begin(op, repo, image, target);
	show_also(job_sink, NULL);
}

struct job *cmd_job_current(void)
{
	return cmd_job;
}

int cmd_job_end(int code)
{
	if (!cmd_job)
		return code;
	show_also(NULL, NULL);
	job_end(cmd_job, code == 0, cmd_last_error());
	cmd_job = NULL;
	return code;
}
