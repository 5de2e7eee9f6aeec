/* Who else uses a target: loop devices over a file (sysfs, LOOP_GET_STATUS64)
 * and processes with it open (/proc/<pid>/fd, fdinfo). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "muletto/core/util.h"
#include "muletto/disk/busy.h"

static int same_dev(unsigned long long a, dev_t b)
{
	return major(a) == major(b) && minor(a) == minor(b);
}

/* 1 when /sys/block/<name> is a loop device whose backing file is st's. */
static int busy_loop_is(const char *name, const struct stat *st)
{
	struct loop_info64 li;
	struct stat bst;
	char path[PATH_MAX], file[PATH_MAX];
	int fd, r;

	snprintf(path, sizeof(path), "/sys/block/%.200s/loop/backing_file", name);
	if (read_line_file(path, file, sizeof(file)) < 0 || !file[0])
		return 0; /* nothing attached */
	snprintf(path, sizeof(path), "/dev/%.200s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		r = ioctl(fd, LOOP_GET_STATUS64, &li);
		close(fd);
		if (r == 0)
			return li.lo_inode == st->st_ino && same_dev(li.lo_device, st->st_dev);
	}
	/* No device node to ask: the path sysfs gives, as this process sees it. */
	return stat(file, &bst) == 0 && bst.st_dev == st->st_dev && bst.st_ino == st->st_ino;
}

int busy_loops_of(const struct stat *st, int (*fn)(void *ctx, const char *loop), void *ctx)
{
	struct dirent *de;
	DIR *d = opendir("/sys/block");
	int r = 0;

	if (!d)
		return 0;
	while (!r && (de = readdir(d)))
		if (!strncmp(de->d_name, "loop", 4) && busy_loop_is(de->d_name, st))
			r = fn(ctx, de->d_name);
	closedir(d);
	return r;
}

struct busy_name {
	char *out;
	size_t size;
};

static int busy_first_loop(void *ctx, const char *loop)
{
	struct busy_name *n = ctx;

	snprintf(n->out, n->size, "/dev/%s", loop);
	return 1;
}

int busy_loop_backing(const struct stat *st, char *dev, size_t dev_size)
{
	struct busy_name n = { dev, dev_size };

	return busy_loops_of(st, busy_first_loop, &n);
}

/* What a process's fd must be to count: a file (device, inode), or a block
 * device and its partitions (device numbers). */
#define BUSY_DEVS 128
struct busy_match {
	int is_block;
	dev_t dev;
	ino_t ino;
	size_t ndevs;
	dev_t devs[BUSY_DEVS]; /* devs[0]: the disk itself */
	int writers_only;
};

/* The disk and the partitions sysfs lists under it. */
static void busy_add_partitions(struct busy_match *m)
{
	char link[64], dir[PATH_MAX], file[PATH_MAX + 300], v[32];
	unsigned int ma, mi;
	struct dirent *de;
	DIR *d;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(m->devs[0]), minor(m->devs[0]));
	if (!realpath(link, dir) || !(d = opendir(dir)))
		return;
	while ((de = readdir(d)) && m->ndevs < BUSY_DEVS) {
		snprintf(file, sizeof(file), "%s/%.250s/partition", dir, de->d_name);
		if (de->d_name[0] == '.' || access(file, F_OK) < 0)
			continue;
		snprintf(file, sizeof(file), "%s/%.250s/dev", dir, de->d_name);
		if (read_line_file(file, v, sizeof(v)) == 0 && sscanf(v, "%u:%u", &ma, &mi) == 2)
			m->devs[m->ndevs++] = makedev(ma, mi);
	}
	closedir(d);
}

/* Open flags and inode from /proc/<pid>/fdinfo/<fd>; 0 when unreadable. */
static int busy_fdinfo(const char *pid, const char *fd, unsigned long *flags,
		       unsigned long long *ino)
{
	char path[128], line[256];
	int got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%.30s/fdinfo/%.30s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "flags: %lo", flags) == 1)
			got = 1;
		else
			sscanf(line, "ino: %llu", ino);
	}
	fclose(f);
	return got;
}

/* 0: not the target; 1: the target itself; 2: a partition of it. */
static int busy_fd_is(const struct busy_match *m, const char *pid, const char *fd, char *what,
		      size_t what_size)
{
	unsigned long flags = 0;
	unsigned long long ino = 0;
	char path[128];
	struct stat st;
	ssize_t k;
	size_t i;

	snprintf(path, sizeof(path), "/proc/%.30s/fd/%.30s", pid, fd);
	k = readlink(path, what, what_size - 1);
	if (k <= 0 || what[0] != '/')
		return 0; /* pipes, sockets, anonymous inodes */
	what[k] = 0;
	/* Device nodes live in /dev; a stat of anything else could hang on a dead
	 * network file system, so it is done only for a possible match. */
	if (m->is_block && strncmp(what, "/dev/", 5))
		return 0;
	if (!busy_fdinfo(pid, fd, &flags, &ino))
		return 0;
	if (m->writers_only && (flags & O_ACCMODE) == O_RDONLY)
		return 0;
	if (!m->is_block && ino && ino != (unsigned long long)m->ino)
		return 0;
	if (stat(path, &st) < 0)
		return 0;
	if (!m->is_block)
		return !S_ISBLK(st.st_mode) && st.st_dev == m->dev && st.st_ino == m->ino;
	for (i = 0; S_ISBLK(st.st_mode) && i < m->ndevs; i++)
		if (st.st_rdev == m->devs[i])
			return i == 0 ? 1 : 2;
	return 0;
}

static int busy_scan_pid(const struct busy_match *m, const char *pid, struct busy_proc *ret)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int is = 0;

	snprintf(path, sizeof(path), "/proc/%.30s/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!is && (de = readdir(d)))
		if (de->d_name[0] != '.')
			is = busy_fd_is(m, pid, de->d_name, ret->what, sizeof(ret->what));
	closedir(d);
	if (!is)
		return 0;
	ret->pid = (pid_t)strtol(pid, NULL, 10);
	ret->whole = is == 1;
	snprintf(path, sizeof(path), "/proc/%.30s/comm", pid);
	if (read_line_file(path, ret->comm, sizeof(ret->comm)) < 0 || !ret->comm[0])
		str_copy(ret->comm, sizeof(ret->comm), "?");
	return 1;
}

int busy_find_process(const struct stat *st, int writers_only, struct busy_proc *ret)
{
	struct busy_match *m;
	struct busy_proc p;
	struct dirent *de;
	char self[32];
	DIR *d;
	int found = 0;

	m = calloc(1, sizeof(*m));
	if (!m || !(d = opendir("/proc"))) {
		free(m);
		return 0;
	}
	m->is_block = S_ISBLK(st->st_mode);
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->writers_only = writers_only;
	if (m->is_block) {
		m->devs[m->ndevs++] = st->st_rdev;
		busy_add_partitions(m);
	}
	snprintf(self, sizeof(self), "%ld", (long)getpid());
	memset(&p, 0, sizeof(p));
	while (!found && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && strcmp(de->d_name, self))
			found = busy_scan_pid(m, de->d_name, &p);
	closedir(d);
	free(m);
	if (found)
		*ret = p;
	return found;
}
