/* Job records: a command's events kept as JOBS/<op>-<pid>.json. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/engine/restore.h"
#include "muletto/ui/jobrec.h"
#include "muletto/vm/run.h"

#define JOBREC_WRITE_INTERVAL 0.5 /* seconds between writes while bytes move */
#define JOBREC_WRITE_INTERVAL_SAID 0.1 /* when something is said (a flood of warnings) */
#define JOBREC_TEXT_MAX 600

struct jobrec {
	pthread_mutex_t lock; /* guards everything below: the sink's threads, the command's */
	json_t *o;	      /* the record */
	char path[512], lockpath[512];
	int lock_fd;
	double started, last_write;
	int dirty;
	int next_milestone; /* 25, 50, 75, then 100: none left */
	int milestone_disk; /* the disk the milestones count for */
	jobrec_milestone_fn milestone;
	void *milestone_ctx;
};

const char *jobrec_dir(void)
{
	static char dir[600];
	char root[512];
	char *slash;
	size_t n;

	str_copy(root, sizeof(root), run_dir_root());
	n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = 0;
	slash = strrchr(root, '/');
	if (!slash)
		str_copy(root, sizeof(root), ".");
	else
		slash[slash == root] = 0; /* "/vms" -> "/" */
	snprintf(dir, sizeof(dir), "%s%sjobs", root, root[strlen(root) - 1] == '/' ? "" : "/");
	return dir;
}

/* At p, just past "://": the length of a "user:password@" to drop, else 0. */
static size_t jobrec_userinfo_len(const char *p)
{
	size_t auth = strcspn(p, "/?# \t\"'<>"), i, at = 0;

	for (i = 0; i < auth; i++)
		if (p[i] == '@')
			at = i + 1;
	return at;
}

const char *jobrec_clean_text(const char *text, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)(text ? text : "");
	size_t k = 0, n;

	if (!size)
		return buf;
	while (*p && k + 1 < size) {
		if (p[0] == ':' && p[1] == '/' && p[2] == '/' && k + 3 < size) {
			memcpy(buf + k, "://", 3);
			k += 3;
			p += 3;
			p += jobrec_userinfo_len((const char *)p);
			continue;
		}
		n = utf8_printable_len(p);
		if (n && k + n < size) {
			memcpy(buf + k, p, n);
			k += n;
			p += n;
		} else if (!n && *p < 0x80 && k + 4 < size) {
			snprintf(buf + k, size - k, "\\x%02x", *p++);
			k += 4;
		} else if (!n && k + 1 < size) {
			buf[k++] = '?';
			p++;
		} else {
			break;
		}
	}
	buf[k] = 0;
	return buf;
}

static json_t *jobrec_string(const char *s)
{
	char buf[JOBREC_TEXT_MAX];

	if (!s)
		return json_null();
	return json_string(jobrec_clean_text(s, buf, sizeof(buf))) ?: json_string("");
}

static void jobrec_write(struct jobrec *j)
{
	char *text;

	json_object_set_new(j->o, "seconds", json_real(now_seconds() - j->started));
	text = json_dumps(j->o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (text && j->path[0])
		file_write_atomic(j->path, text, strlen(text), 0);
	free(text);
	j->last_write = now_seconds();
	j->dirty = 0;
}

/* The folder's ended jobs beyond the JOBREC_KEEP newest, removed. */
static void jobrec_prune(const char *dir)
{
	json_t *all = jobrec_list(SIZE_MAX), *o;
	size_t i, kept = 0;
	char path[600];

	json_array_foreach(all, i, o) {
		const char *st = json_string_value(json_object_get(o, "state"));
		const char *file = json_string_value(json_object_get(o, "file"));
		if (!file || (st && !strcmp(st, "running")) || kept++ < JOBREC_KEEP)
			continue;
		snprintf(path, sizeof(path), "%s/%s.json", dir, file);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s.lock", dir, file);
		unlink(path);
	}
	json_decref(all);
}

struct jobrec *jobrec_new(const char *op, const char *repo, const char *image,
			  const char *target)
{
	static int made; /* records made by this process (the main thread's) */
	const char *dir = jobrec_dir();
	struct jobrec *j;
	char when[32], host[256] = "";

	if (!(j = calloc(1, sizeof(*j))))
		return NULL;
	pthread_mutex_init(&j->lock, NULL);
	j->lock_fd = -1;
	if (mkdir_p(dir, 0755) == 0) { /* else kept in memory only, for notifications */
		jobrec_prune(dir);
		/* the screens run one job after another in one process: each its file */
		char id[40];
		if (made++)
			snprintf(id, sizeof(id), "%d-%d", (int)getpid(), made);
		else
			snprintf(id, sizeof(id), "%d", (int)getpid());
		snprintf(j->path, sizeof(j->path), "%s/%s-%s.json", dir, op, id);
		snprintf(j->lockpath, sizeof(j->lockpath), "%s/%s-%s.lock", dir, op, id);
		j->lock_fd = open(j->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (j->lock_fd >= 0)
			flock(j->lock_fd, LOCK_EX | LOCK_NB);
	}
	j->started = now_seconds();
	j->next_milestone = 25;
	j->milestone_disk = -1;
	iso8601_now(when, sizeof(when));
	gethostname(host, sizeof(host) - 1);
	j->o = json_object();
	json_object_set_new(j->o, "op", json_string(op));
	json_object_set_new(j->o, "pid", json_integer(getpid()));
	json_object_set_new(j->o, "host", jobrec_string(host));
	json_object_set_new(j->o, "repo", jobrec_string(repo));
	json_object_set_new(j->o, "image", jobrec_string(image));
	json_object_set_new(j->o, "target", jobrec_string(target));
	json_object_set_new(j->o, "state", json_string("running"));
	json_object_set_new(j->o, "phase", json_string(op));
	json_object_set_new(j->o, "disk", json_null());
	json_object_set_new(j->o, "done", json_integer(0));
	json_object_set_new(j->o, "total", json_integer(0));
	json_object_set_new(j->o, "percent", json_integer(0));
	json_object_set_new(j->o, "rate", json_integer(0));
	json_object_set_new(j->o, "eta", json_null());
	json_object_set_new(j->o, "counts", json_object());
	json_object_set_new(j->o, "started", json_string(when));
	json_object_set_new(j->o, "ended", json_null());
	json_object_set_new(j->o, "seconds", json_real(0));
	json_object_set_new(j->o, "error", json_null());
	json_object_set_new(j->o, "messages", json_array());
	jobrec_write(j);
	return j;
}

static void jobrec_message(struct jobrec *j, const char *kind, const char *text)
{
	json_t *m = json_object_get(j->o, "messages");
	char when[32];

	iso8601_now(when, sizeof(when));
	json_array_append_new(m, json_pack("{s:s, s:s, s:o}", "time", when, "kind", kind, "text",
					   jobrec_string(text)));
	while (json_array_size(m) > JOBREC_MESSAGES)
		json_array_remove(m, 0);
	j->dirty = 1;
}

/* A restore's chunk counts so far. An event without them (a raw image, a
 * verify pass after the restore) leaves the last ones standing. */
static void jobrec_chunks(struct jobrec *j, const struct event_chunks *c)
{
	if (!c)
		return;
	json_object_set_new(j->o, "chunks", json_pack("{s:I, s:I, s:I, s:I}",
		"total", (json_int_t)c->total, "fetched", (json_int_t)c->fetched,
		"seeded", (json_int_t)c->seeded, "zero", (json_int_t)c->zero));
}

/* Progress of the job's own work (a restore's verify pass is its phase too). */
static void jobrec_progress(struct jobrec *j, const struct event *e)
{
	int pct = e->total ? (int)(MIN(e->done, e->total) * 100 / e->total) : 0;
	json_t *copy;

	jobrec_chunks(j, e->chunks);
	json_object_set_new(j->o, "phase", jobrec_string(e->op));
	json_object_set_new(j->o, "disk", e->disk >= 0 ? json_integer(e->disk) : json_null());
	json_object_set_new(j->o, "done", json_integer((json_int_t)e->done));
	json_object_set_new(j->o, "total", json_integer((json_int_t)e->total));
	json_object_set_new(j->o, "percent", json_integer(pct));
	json_object_set_new(j->o, "rate", json_integer((json_int_t)e->rate));
	json_object_set_new(j->o, "eta", e->eta >= 0 && e->kind == EVENT_PROGRESS ?
					 json_real(e->eta) : json_null());
	j->dirty = 1;
	if (e->kind == EVENT_FINISHED)
		jobrec_write(j);
	if (!e->total || !e->op || strcmp(e->op, json_string_value(json_object_get(j->o, "op"))))
		return; /* milestones count the job's own bytes, not a verify pass */
	if (e->disk != j->milestone_disk) {
		j->milestone_disk = e->disk;
		j->next_milestone = 25;
	}
	if (pct < j->next_milestone || j->next_milestone > 75)
		return;
	jobrec_write(j);
	for (; j->next_milestone <= 75 && pct >= j->next_milestone; j->next_milestone += 25)
		if (j->milestone && (copy = json_deep_copy(j->o))) {
			j->milestone(j->milestone_ctx, j->next_milestone, copy);
			json_decref(copy);
		}
}

void jobrec_event(struct jobrec *j, const struct event *e)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	switch (e->kind) {
	case EVENT_PROGRESS:
	case EVENT_FINISHED:
		jobrec_progress(j, e);
		break;
	case EVENT_NOTICE: jobrec_message(j, "notice", e->message); break;
	case EVENT_WARNING: jobrec_message(j, "warning", e->message); break;
	case EVENT_STATE:
		if (e->state && !strcmp(e->state, "target") && e->message &&
		    !strncmp(e->message, RESTORE_AUTO_PICKED, strlen(RESTORE_AUTO_PICKED)))
			json_object_set_new(j->o, "target",
					    jobrec_string(e->message + strlen(RESTORE_AUTO_PICKED)));
		else if (e->state)
			json_object_set_new(j->o, "detail", jobrec_string(e->state));
		jobrec_message(j, "state", e->message);
		break;
	case EVENT_DEBUG: break;
	}
	if (j->dirty && now_seconds() - j->last_write >= (e->kind == EVENT_PROGRESS ?
			JOBREC_WRITE_INTERVAL : JOBREC_WRITE_INTERVAL_SAID))
		jobrec_write(j);
	pthread_mutex_unlock(&j->lock);
}

void jobrec_set_count(struct jobrec *j, const char *name, uint64_t v)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	json_object_set_new(json_object_get(j->o, "counts"), name, json_integer((json_int_t)v));
	pthread_mutex_unlock(&j->lock);
}

void jobrec_set_target(struct jobrec *j, const char *target)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	json_object_set_new(j->o, "target", jobrec_string(target));
	pthread_mutex_unlock(&j->lock);
}

void jobrec_finish(struct jobrec *j, int ok, const char *error)
{
	char when[32];

	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	iso8601_now(when, sizeof(when));
	json_object_set_new(j->o, "state", json_string(ok ? "done" : "failed"));
	json_object_set_new(j->o, "ended", json_string(when));
	json_object_set_new(j->o, "eta", json_null());
	if (!ok) {
		json_object_set_new(j->o, "error", jobrec_string(error ? error : "failed"));
		jobrec_message(j, "error", error ? error : "failed");
	}
	jobrec_write(j);
	pthread_mutex_unlock(&j->lock);
}

json_t *jobrec_json(struct jobrec *j)
{
	json_t *c;

	if (!j)
		return NULL;
	pthread_mutex_lock(&j->lock);
	json_object_set_new(j->o, "seconds", json_real(now_seconds() - j->started));
	c = json_deep_copy(j->o);
	pthread_mutex_unlock(&j->lock);
	return c;
}

void jobrec_on_milestone(struct jobrec *j, jobrec_milestone_fn fn, void *ctx)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->milestone = fn;
	j->milestone_ctx = ctx;
	pthread_mutex_unlock(&j->lock);
}

void jobrec_free(struct jobrec *j)
{
	if (!j)
		return;
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	json_decref(j->o);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* 1 when the process of the record at path (JOBS/X.json) still holds X.lock. */
static int jobrec_alive(const char *dir, const char *file)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s.lock", dir, file);
	return lock_file_held(path);
}

static int jobrec_newer(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t tx = json_integer_value(json_object_get(x, "mtime"));
	json_int_t ty = json_integer_value(json_object_get(y, "mtime"));

	return tx < ty ? 1 : tx > ty ? -1 : 0;
}

json_t *jobrec_list(size_t max)
{
	const char *dir = jobrec_dir();
	json_t **v = NULL, *all = json_array(), *o;
	size_t n = 0, i;
	struct dirent *de;
	char path[600], file[256];
	struct stat st;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		const char *state;
		if (de->d_name[0] == '.' || len < 6 || len >= sizeof(file) ||
		    strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !(o = json_load_file(path, 0, NULL)))
			continue;
		if (!json_is_object(o) || json_array_append(all, o) < 0) {
			json_decref(o);
			continue;
		}
		memcpy(file, de->d_name, len - 5);
		file[len - 5] = 0;
		state = json_string_value(json_object_get(o, "state"));
		if (state && !strcmp(state, "running") && !jobrec_alive(dir, file))
			json_object_set_new(o, "state", json_string("ended"));
		json_object_set_new(o, "file", json_string(file));
		json_object_set_new(o, "mtime", json_integer((json_int_t)st.st_mtim.tv_sec * 1000 +
								  st.st_mtim.tv_nsec / 1000000));
		json_decref(o);
	}
	if (d)
		closedir(d);
	n = json_array_size(all);
	if (n && (v = calloc(n, sizeof(*v)))) {
		for (i = 0; i < n; i++)
			v[i] = json_incref(json_array_get(all, i));
		qsort(v, n, sizeof(*v), jobrec_newer);
		json_array_clear(all);
		for (i = 0; i < n; i++) {
			if (i < max)
				json_object_del(v[i], "mtime"), json_array_append(all, v[i]);
			json_decref(v[i]);
		}
		free(v);
	}
	return all;
}
