/* Small helpers used everywhere: files, strings, sizes, time. */
#ifndef MULETTO_UTIL_H
#define MULETTO_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MULETTO_VERSION "0.1.0"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Buffers for direct I/O and for the chunks that go through it: aligned to
 * BUF_ALIGN (free() them); NULL when out of memory. */
#define BUF_ALIGN 4096
void *buf_alloc_aligned(size_t len);

/* Cleanup helpers (systemd style): __attribute__((cleanup(...))). */
void freep(void *p);
void closep(int *fd);
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Full read/write at an offset, retrying short I/O and EINTR. 0 or -errno.
 * pread_full stops early only at end of file; *ret_got says how much came. */
int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *ret_got);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
int write_full(int fd, const void *buf, size_t len);

/* Whole file (or the rest of fd) into a new NUL-terminated buffer; more than
 * max bytes (0: no limit): -EFBIG. */
int file_read_all(const char *path, size_t max, void **ret_buf, size_t *ret_len);
int fd_read_all(int fd, size_t max, void **ret_buf, size_t *ret_len);
/* Writes to "<path>.tmp.<tid>" and renames it over path, so readers see the
 * whole file or none. durable: fsync before the rename (else the caller
 * flushes many files at once, e.g. with syncfs). */
int file_write_atomic(const char *path, const void *buf, size_t len, int durable);
/* mkdir -p. */
int mkdir_p(const char *path, mode_t mode);

/* "1.6 GiB", "512 MiB", "4.0 KiB", "17 B" into out. */
void human_size(uint64_t bytes, char *out, size_t out_size);
/* Monotonic seconds. */
double now_seconds(void);
void sleep_ms(int ms);
/* How long to wait for a server that went away (MULETTO_RETRY_SECONDS, 300),
 * and the backoff between tries: from the first delay, doubling, to the max. */
int retry_budget_seconds(void);
/* A transfer that moves less than MULETTO_MIN_RATE bytes a second (512) over
 * MULETTO_STALL_SECONDS (30) is stalled: it is cut and tried again. */
#define STALL_SECONDS_DEFAULT 30
#define STALL_SECONDS_MAX 3600
#define MIN_RATE_DEFAULT 512
int stall_window_seconds(void);
uint64_t min_rate_bytes(void);
/* Strict number parsing for options and settings: the whole of s is a
 * decimal number from min to max. 0, or -EINVAL (no message). */
int parse_int(const char *s, int min, int max, int *ret);
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
#define RETRY_BUDGET_DEFAULT 300
#define RETRY_BUDGET_MAX (7 * 86400)
#define RETRY_DELAY_FIRST_MS 250
#define RETRY_DELAY_MAX_MS 10000
/* Grows the array *arr of *n elements of size bytes by one, zeroed; returns
 * it (NULL when out of memory, the array unchanged). */
void *array_append(void **arr, size_t *n, size_t size);
/* A new string, as asprintf; NULL when out of memory. */
char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "2026-11-25T02:00:00Z" for now. */
void iso8601_now(char *out, size_t out_size);
/* Joins a and b with one '/', into a new string. */
char *path_join(const char *a, const char *b);
/* Copies at most out_size-1 bytes and terminates; never overflows. */
void str_copy(char *out, size_t out_size, const char *s);
/* 1 if s ends with suffix. */
int str_ends_with(const char *s, const char *suffix);
/* Reads a one-line sysfs-style file into out, trailing whitespace removed. */
int read_line_file(const char *path, char *out, size_t out_size);
/* Number of online CPUs (at least 1). */
int cpu_count(void);
/* The length of the printable UTF-8 sequence at p (NUL-terminated), 0 when it
 * is a control (C0, DEL, C1 such as U+009B CSI), overlong, a surrogate or not
 * UTF-8: what may reach a terminal or a page as it is. */
size_t utf8_printable_len(const unsigned char *p);
/* 1 when another process holds an exclusive flock on the file at path (a
 * running job or VM keeps its lock file so), 0 when nobody does or it is gone. */
int lock_file_held(const char *path);

#endif
