/* A restore's record in the repository: images/NAME/restores/DATE.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/store/repo.h"
#include "muletto/store/source.h"
#include "muletto/store/url.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/restore_record.h"

/* Kinds of repository written to without a mount of their own: a folder, an
 * SFTP server, an S3 bucket (shares would be mounted again read-write). */
static int record_writable_kind(const char *repo)
{
	static const char *const kinds[] = { "file", "sftp", "s3" };
	struct url *u = NULL;
	size_t i;
	int ok = 0;

	if (url_parse(repo, &u) < 0)
		return 0;
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		ok |= !strcmp(u->scheme, kinds[i]);
	url_free(u);
	return ok;
}

static json_t *record_text(const char *s)
{
	char buf[1200];

	return s ? json_string(jobrec_clean_text(s, buf, sizeof(buf))) ?: json_null() : json_null();
}

/* The target disk as the office knows it: model, serial, size. */
static json_t *record_target(const char *target)
{
	struct disk_info d;
	struct stat st;
	json_t *o = json_object();

	json_object_set_new(o, "path", record_text(target));
	if (!target || stat(target, &st) < 0)
		return o;
	memset(&d, 0, sizeof(d));
	if (S_ISBLK(st.st_mode) && disk_probe(NULL, target, &d) == 0) {
		json_object_set_new(o, "model", record_text(d.model));
		json_object_set_new(o, "serial", record_text(d.serial));
		json_object_set_new(o, "size", json_integer((json_int_t)d.size));
		json_object_set_new(o, "bus", record_text(d.transport));
		disk_info_clear(&d);
	} else {
		json_object_set_new(o, "size", json_integer((json_int_t)st.st_size));
	}
	return o;
}

static uint64_t record_count(const json_t *job, const char *name)
{
	return (uint64_t)json_integer_value(json_object_get(json_object_get(job, "counts"), name));
}

static json_t *record_build(const json_t *job)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	char when[32];
	json_t *o = json_object();

#define S(k) json_object_set_new(o, k, record_text(json_string_value(json_object_get(job, k))))
	iso8601_now(when, sizeof(when));
	S("host");
	S("image");
	S("repo");
	json_object_set_new(o, "target",
			    record_target(json_string_value(json_object_get(job, "target"))));
	S("started");
	json_object_set_new(o, "ended", json_string(when));
	json_object_set_new(o, "seconds", json_real(json_number_value(json_object_get(job, "seconds"))));
	json_object_set_new(o, "bytes_total", json_integer((json_int_t)record_count(job, "bytes_total")));
	json_object_set_new(o, "bytes_written",
			    json_integer((json_int_t)record_count(job, "bytes_written")));
	json_object_set_new(o, "bytes_fetched",
			    json_integer((json_int_t)record_count(job, "bytes_fetched")));
	json_object_set_new(o, "result", json_string(state && !strcmp(state, "done") ? "ok" : "failed"));
	S("error");
#undef S
	return o;
}

/* rec as images/NAME/FILE in repo, when it can be written and holds the
 * image (restore_record_save's return values). */
static int record_put(const char *repo, const char *name, const char *file, const json_t *rec)
{
	struct source *s = NULL;
	char *path = NULL, *mpath = NULL, *text = NULL;
	int r;

	if (!record_writable_kind(repo) || repo_check_name(name) < 0)
		return 1;
	err_clear();
	r = source_open(repo, SOURCE_WRITE, &s);
	if (r == -EROFS)
		return 1;
	if (r < 0)
		return r;
	mpath = str_printf("images/%s/manifest.json", name);
	path = str_printf("images/%s/%s", name, file);
	if (!mpath || !path || !rec ||
	    !(text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII))) {
		r = -ENOMEM;
		goto out;
	}
	if (source_exists(s, mpath) != 1) { /* no such image: no folder made for it */
		r = 1;
		goto out;
	}
	r = source_put(s, path, text, strlen(text));
	if (r == 0)
		r = source_sync(s);
	if (r < 0)
		r = err_prefix(r, "%s in %s", path, repo);
out:
	free(text);
	free(path);
	free(mpath);
	source_close(s);
	return r;
}

int restore_record_save(const char *repo, const char *name, const json_t *job)
{
	char stamp[32], file[64];
	time_t t = time(NULL);
	struct tm tm;
	json_t *rec = record_build(job);
	int r;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(file, sizeof(file), "restores/%s.json", stamp);
	r = record_put(repo, name, file, rec);
	json_decref(rec);
	return r;
}

int boot_record_save(const char *repo, const char *name, int booted, double seconds,
		     const char *why)
{
	char when[32], host[256] = "";
	json_t *rec = json_object();
	int r;

	iso8601_now(when, sizeof(when));
	gethostname(host, sizeof(host) - 1);
	json_object_set_new(rec, "booted", json_boolean(booted));
	json_object_set_new(rec, "date", json_string(when));
	json_object_set_new(rec, "seconds", json_real(seconds));
	json_object_set_new(rec, "why", record_text(why));
	json_object_set_new(rec, "host", record_text(host));
	r = record_put(repo, name, BOOT_RECORD_FILE, rec);
	json_decref(rec);
	return r;
}
