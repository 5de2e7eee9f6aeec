/* Unit tests: programs run without a shell, alone and in a pipe. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "muletto/core/err.h"
#include "muletto/core/spawn.h"

static void run_captures_output_and_environment(void)
{
	const char *echo[] = { "sh", "-c", "printf '%s' \"$LC_ALL\"", NULL };
	char out[64];

	CHECK(spawn_run(echo, out, sizeof(out)) == 0 && !strcmp(out, "C"));
}

static void run_reports_status_and_standard_error(void)
{
	const char *bad[] = { "sh", "-c", "echo 'no room\tleft' >&2; echo second >&2; exit 3", NULL };
	const char *missing[] = { "muletto-no-such-program", NULL };

	CHECK(spawn_run(bad, NULL, 0) == -EIO);
	CHECK(strstr(err_msg(), "failed: no room left; second") != NULL);
	CHECK(spawn_run_ok(bad, 3, NULL, 0) == 3);
	CHECK(spawn_run(missing, NULL, 0) == -ENOENT);
	CHECK(strstr(err_msg(), "muletto-no-such-program is not installed") != NULL);
}

static void pipe_feeds_the_second_program(void)
{
	const char *a[] = { "sh", "-c", "printf 'abc'; printf 'x' >&2", NULL };
	const char *b[] = { "tr", "a-z", "A-Z", NULL };
	char out[64];

	CHECK(spawn_pipe(a, b, out, sizeof(out)) == 0 && !strcmp(out, "ABC"));
}

static void pipe_reports_the_first_failure(void)
{
	const char *fails[] = { "sh", "-c", "echo dump broke >&2; exit 2", NULL };
	const char *reads[] = { "cat", NULL };
	const char *ok[] = { "printf", "data", NULL };
	const char *refuses[] = { "sh", "-c", "cat >/dev/null; echo restore broke >&2; exit 4",
				  NULL };
	const char *missing[] = { "muletto-no-such-program", NULL };

	CHECK(spawn_pipe(fails, reads, NULL, 0) == -EIO);
	CHECK(strstr(err_msg(), "dump broke") != NULL);
	CHECK(spawn_pipe(ok, refuses, NULL, 0) == -EIO);
	CHECK(strstr(err_msg(), "restore broke") != NULL && strstr(err_msg(), "exit 4"));
	CHECK(spawn_pipe(ok, missing, NULL, 0) == -ENOENT);
	CHECK(strstr(err_msg(), "muletto-no-such-program is not installed") != NULL);
}

int main(void)
{
	RUN(run_captures_output_and_environment);
	RUN(run_reports_status_and_standard_error);
	RUN(pipe_feeds_the_second_program);
	RUN(pipe_reports_the_first_failure);
	CHECK_EXIT();
}
