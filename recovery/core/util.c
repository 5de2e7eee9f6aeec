/* Small helpers: full I/O, atomic files, sizes, time, strings. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"

void freep(void *p)
{
	free(*(void **)p);
}

void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_got)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (ret_got)
		*ret_got = got;
	return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		done += (size_t)n;
	}
	return 0;
}

int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

int fd_read_all(int fd, size_t max, void **ret_buf, size_t *ret_len)
{
	size_t cap = 65536, len = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;
		if (!buf || cap - len < 2) {
			char *nb;
			cap = buf ? cap * 2 : cap;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			int r = -errno;
			if (r == -EINTR)
				continue;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (max && len > max) {
			free(buf);
			return -EFBIG;
		}
	}
	buf[len] = 0;
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int file_read_all(const char *path, size_t max, void **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fd_read_all(fd, max, ret_buf, ret_len);
}

int file_write_atomic(const char *path, const void *buf, size_t len, int durable)
{
	char tmp[4096];
	int fd, r;

	/* Per thread: two workers may store the same chunk at the same time. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)gettid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = write_full(fd, buf, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

void human_size(uint64_t bytes, char *out, size_t out_size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, out_size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, out_size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void *array_append(void **arr, size_t *n, size_t size)
{
	char *a;

	if (*n >= SIZE_MAX / size - 1 || !(a = realloc(*arr, (*n + 1) * size)))
		return NULL;
	*arr = a;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

char *str_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

int retry_budget_seconds(void)
{
	const char *v = getenv("MULETTO_RETRY_SECONDS");
	int n;

	/* an unusable value is refused where settings are read (cli); here the default */
	return v && *v && parse_int(v, 0, RETRY_BUDGET_MAX, &n) == 0 ? n : RETRY_BUDGET_DEFAULT;
}

int stall_window_seconds(void)
{
	const char *v = getenv("MULETTO_STALL_SECONDS");
	int n;

	return v && *v && parse_int(v, 1, STALL_SECONDS_MAX, &n) == 0 ? n : STALL_SECONDS_DEFAULT;
}

uint64_t min_rate_bytes(void)
{
	const char *v = getenv("MULETTO_MIN_RATE");
	uint64_t n;

	return v && *v && parse_u64(v, 0, UINT32_MAX, &n) == 0 ? n : MIN_RATE_DEFAULT;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_int(const char *s, int min, int max, int *ret)
{
	uint64_t v;
	int neg = s && *s == '-';

	if (parse_u64(neg ? s + 1 : s, 0, (uint64_t)INT32_MAX + neg, &v) < 0)
		return -EINVAL;
	if ((neg ? -(int64_t)v : (int64_t)v) < min || (neg ? -(int64_t)v : (int64_t)v) > max)
		return -EINVAL;
	*ret = (int)(neg ? -(int64_t)v : (int64_t)v);
	return 0;
}

void *buf_alloc_aligned(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, BUF_ALIGN, len ? len : 1))
		return NULL;
	return p;
}

void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void iso8601_now(char *out, size_t out_size)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *r;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	r = malloc(la + strlen(b) + 2);
	if (!r)
		return NULL;
	memcpy(r, a, la);
	if (la && a[la - 1] != '/')
		r[la++] = '/';
	strcpy(r + la, b);
	return r;
}

void str_copy(char *out, size_t out_size, const char *s)
{
	size_t n;

	if (!out_size)
		return;
	n = s ? strnlen(s, out_size - 1) : 0;
	if (n)
		memcpy(out, s, n);
	out[n] = 0;
}

int str_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int read_line_file(const char *path, char *out, size_t out_size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(out, (int)out_size, f))
		out[0] = 0;
	fclose(f);
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = 0;
	return 0;
}

int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)n;
}

size_t utf8_printable_len(const unsigned char *p)
{
	size_t n, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return p[0] >= 0x20 && p[0] != 0x7f;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0; /* overlong, surrogate, or a C1 control (U+009B is CSI) */
	return n;
}

int lock_file_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), held;

	if (fd < 0)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0;
	close(fd);
	return held;
}
