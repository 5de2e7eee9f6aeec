/* What the machine is doing: jobs, VMs, disks, the log, as one JSON object. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "muletto/core/util.h"
#include "muletto/disk/disk.h"
#include "muletto/ui/jobrec.h"
#include "muletto/ui/status.h"
#include "muletto/vm/run.h"

#define STATUS_DISKS_SECONDS 10.0 /* the disks are probed again at most this often */
#define STATUS_LOG_TAIL (64 * 1024)

/* 1 when a muletto run still holds the VM's folder. */
static int status_vm_alive(const char *dir)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/run.lock", dir);
	return lock_file_held(path);
}

int status_vm_running(const char *name)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", run_dir_root(), name);
	return status_vm_alive(dir);
}

json_t *status_vm_load(const char *name)
{
	char dir[512], path[600];
	json_t *o;
	const char *st;

	snprintf(dir, sizeof(dir), "%s/%s", run_dir_root(), name);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	o = json_load_file(path, 0, NULL);
	if (!o)
		return NULL;
	st = json_string_value(json_object_get(o, "state"));
	if (!status_vm_alive(dir) && st && strcmp(st, "stopped") && strcmp(st, "failed"))
		json_object_set_new(o, "state", json_string("ended"));
	return o;
}

json_t *status_vms(void)
{
	json_t *all = json_array(), *o;
	struct dirent *de;
	DIR *d = opendir(run_dir_root());

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && (o = status_vm_load(de->d_name)))
			json_array_append_new(all, o);
	if (d)
		closedir(d);
	return all;
}

static json_t *status_text(const char *s)
{
	char buf[1024];

	return json_string(jobrec_clean_text(s, buf, sizeof(buf))) ?: json_string("");
}

/* Probing disks takes a moment: once every STATUS_DISKS_SECONDS at most.
 * Guarded by status_disks_lock. */
static pthread_mutex_t status_disks_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *status_disks_cache;
static double status_disks_when;

static json_t *status_disks(void)
{
	struct disk_info *d = NULL;
	size_t n = 0, i;
	json_t *arr;

	pthread_mutex_lock(&status_disks_lock);
	if (!status_disks_cache || now_seconds() - status_disks_when > STATUS_DISKS_SECONDS) {
		arr = json_array();
		if (disk_list(NULL, &d, &n) == 0) {
			for (i = 0; i < n; i++)
				json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:I, s:o, s:b, s:b}",
					"name", status_text(d[i].name), "device", status_text(d[i].dev),
					"model", status_text(d[i].model), "serial", status_text(d[i].serial),
					"size", (json_int_t)d[i].size, "bus", status_text(d[i].transport),
					"in_use", d[i].in_use, "boot", d[i].is_boot));
			disk_list_free(d, n);
		}
		json_decref(status_disks_cache);
		status_disks_cache = arr;
		status_disks_when = now_seconds();
	}
	arr = json_deep_copy(status_disks_cache);
	pthread_mutex_unlock(&status_disks_lock);
	return arr ? arr : json_array();
}

/* The log's last lines (MULETTO_LOG, else the boot environment's). */
static json_t *status_log(void)
{
	const char *path = getenv("MULETTO_LOG");
	json_t *arr = json_array();
	char *buf, *p, *nl;
	off_t end;
	ssize_t got;
	size_t nlines = 0;
	int fd;

	if (!path || !*path)
		path = STATUS_LOG_DEFAULT;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return arr;
	end = lseek(fd, 0, SEEK_END);
	buf = malloc(STATUS_LOG_TAIL + 1);
	got = buf && end >= 0 ? pread(fd, buf, STATUS_LOG_TAIL,
				       end > STATUS_LOG_TAIL ? end - STATUS_LOG_TAIL : 0) : -1;
	close(fd);
	if (got <= 0) {
		free(buf);
		return arr;
	}
	buf[got] = 0;
	p = buf;
	if (end > STATUS_LOG_TAIL && (nl = strchr(p, '\n')))
		p = nl + 1; /* a line cut in half is not shown */
	for (; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		json_array_append_new(arr, status_text(p));
		if (++nlines > STATUS_LOG_LINES)
			json_array_remove(arr, 0);
		if (!nl)
			break;
	}
	free(buf);
	return arr;
}

json_t *status_collect(void)
{
	char host[256] = "", when[32];

	gethostname(host, sizeof(host) - 1);
	iso8601_now(when, sizeof(when));
	return json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "host", status_text(host), "time",
			 when, "jobs", jobrec_list(STATUS_JOBS_MAX), "vms", status_vms(), "disks",
			 status_disks(), "log", status_log());
}
