/* A repository in a local folder (or a mounted share). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

#define FILE_PIECE (4 * 1024 * 1024)

static int file_open(struct source *s)
{
	struct stat st;

	if (stat(s->u->path, &st) < 0)
		return err_set(-errno, "%s: %s: check the path", s->url, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(-ENOTDIR, "%s is a file, not a repository folder: check the path",
			       s->url);
	return 0;
}

/* Object path inside the folder; refuses ".." components. */
static int file_path(struct source *s, const char *rel, char **ret)
{
	const char *p = rel;

	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(-EINVAL, "object path '%s' leaves the repository", rel);
		p += n;
		while (*p == '/')
			p++;
	}
	*ret = path_join(s->u->path, rel);
	return *ret ? 0 : -ENOMEM;
}

static int file_error(struct source *s, const char *rel, int r)
{
	if (r == -ENOENT)
		return err_set(r, "%s/%s: not found", s->url, rel);
	if (r == -EACCES || r == -EPERM)
		return err_set(r, "%s/%s: permission denied: check the share's permissions", s->url,
			       rel);
	return err_set(r, "%s/%s: %s", s->url, rel, strerror(-r));
}

static int file_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ char *path = NULL;
	struct source_names names = { 0 };
	struct dirent *de;
	DIR *d;
	int r = file_path(s, dir, &path);

	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return file_error(s, dir, -errno);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !strstr(de->d_name, ".tmp.") &&
		    (r = source_names_add(&names, de->d_name, strlen(de->d_name), 0)) < 0)
			break;
	closedir(d);
	if (r < 0) {
		source_names_clear(&names);
		return r;
	}
	source_names_take(&names, ret_names, ret_n);
	return 0;
}

static int file_get(struct source *s, const char *rel, size_t max, void **ret_buf,
		    size_t *ret_len)
{
	_cleanup_free_ char *path = NULL;
	int r = file_path(s, rel, &path);

	if (r < 0)
		return r;
	r = file_read_all(path, max, ret_buf, ret_len);
	if (r == -EFBIG)
		return err_set(r, "%s/%s is larger than %zu bytes, the most it can be: it is "
				  "damaged or not what its name says", s->url, rel, max);
	return r < 0 ? file_error(s, rel, r) : 0;
}

static int file_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ void *buf = NULL;
	_cleanup_close_ int fd = -1;
	int r = file_path(s, rel, &path);

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_error(s, rel, -errno);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	buf = malloc(FILE_PIECE);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, FILE_PIECE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return file_error(s, rel, -errno);
		if (n == 0)
			return 0;
		r = cb(ctx, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

static int file_put(struct source *s, const char *rel, const void *buf, size_t len)
{
	_cleanup_free_ char *path = NULL;
	char *slash;
	int r = file_path(s, rel, &path);

	if (r < 0)
		return r;
	r = file_write_atomic(path, buf, len, 0);
	if (r == -ENOENT) {
		slash = strrchr(path, '/');
		*slash = 0;
		r = mkdir_p(path, 0755);
		*slash = '/';
		if (r == 0)
			r = file_write_atomic(path, buf, len, 0);
	}
	if (r == -ENOSPC)
		return err_set(r, "%s is full: no space to store %s; free space or use another "
				  "repository", s->url, rel);
	return r < 0 ? file_error(s, rel, r) : 0;
}

static int file_sync(struct source *s)
{
	_cleanup_close_ int fd = open(s->u->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || syncfs(fd) < 0)
		return err_set(-errno, "%s: cannot flush to stable storage: %s", s->url,
			       strerror(errno));
	return 0;
}

static int file_exists(struct source *s, const char *rel)
{
	_cleanup_free_ char *path = NULL;
	int r = file_path(s, rel, &path);

	if (r < 0)
		return r;
	return access(path, F_OK) == 0;
}

static int file_size(struct source *s, const char *rel, uint64_t *ret)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int r = file_path(s, rel, &path);

	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return file_error(s, rel, -errno);
	if (S_ISDIR(st.st_mode))
		return err_set(-EISDIR, "%s/%s is a folder, not an image file", s->url, rel);
	*ret = (uint64_t)st.st_size;
	return 0;
}

static const char *const file_schemes[] = { "file", NULL };

SOURCE_BACKEND(file_ops) = {
	.schemes = file_schemes,
	.form = "/PATH or file:///PATH",
	.caps = SOURCE_CAN_LIST | SOURCE_CAN_WRITE,
	.open = file_open,
	.list = file_list,
	.get_object = file_get,
	.stream = file_stream,
	.put_object = file_put,
	.sync = file_sync,
	.exists = file_exists,
	.size = file_size,
};
