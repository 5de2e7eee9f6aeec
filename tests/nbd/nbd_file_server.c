/* nbd_file_server: serves a file or a block device through nbd_serve(), for
 * the protocol tests (tests/integration/nbd_protocol.sh) to point real NBD
 * clients at. Holes and zeroed ranges of the file are reported through
 * base:allocation (SEEK_DATA/SEEK_HOLE); trim punches holes.
 *
 *   nbd_file_server [OPTIONS] FILE unix:PATH|tcp:ADDR:PORT
 *     --read-only            serve it read-only
 *     --fail-at OFFSET       reads touching [OFFSET, OFFSET + 4096) fail with EIO
 *     --read-delay-ms N      every read waits N ms first (reads in parallel show)
 *     --min-block N, --pref-block N, --max-block N   block sizes (default: the server's)
 *     --name NAME, --description TEXT               the export's name and description
 *     --no-zero, --no-trim, --no-flush, --no-extents  leave that backend function out
 *     --allow-remote         listen on an address that is not loopback
 *     --port-file FILE       write the TCP port there once listening (tcp:ADDR:0)
 *
 * Stops on SIGTERM or SIGINT, printing the most reads that ran at once. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/core/util.h"
#include "muletto/serve/nbd.h"

#define FAIL_LEN 4096

struct file {
	int fd;
	int fail;
	uint64_t fail_at;
	int delay_ms;
	atomic_int reading, most_reading;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int file_read(void *ctx, void *buf, uint32_t len, uint64_t off)
{
	struct file *f = ctx;
	int now = atomic_fetch_add(&f->reading, 1) + 1, most, r;
	size_t got = 0;

	most = atomic_load(&f->most_reading);
	while (now > most && !atomic_compare_exchange_weak(&f->most_reading, &most, now))
		;
	if (f->delay_ms)
		sleep_ms(f->delay_ms);
	if (f->fail && off < f->fail_at + FAIL_LEN && off + len > f->fail_at)
		r = err_set(-EIO, "injected I/O error at offset %llu", (unsigned long long)f->fail_at);
	else
		r = pread_full(f->fd, buf, len, off, &got);
	if (r == 0 && got < len) /* the file shrank under us */
		memset((char *)buf + got, 0, len - got);
	atomic_fetch_sub(&f->reading, 1);
	return r;
}

static int file_write(void *ctx, const void *buf, uint32_t len, uint64_t off, int fua)
{
	struct file *f = ctx;
	int r = pwrite_full(f->fd, buf, len, off);

	if (r == 0 && fua && fdatasync(f->fd) < 0)
		r = -errno;
	return r;
}

static int file_flush(void *ctx)
{
	struct file *f = ctx;

	return fdatasync(f->fd) < 0 ? -errno : 0;
}

static int file_fallocate(struct file *f, int mode, uint32_t len, uint64_t off)
{
	if (fallocate(f->fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
		return -EOPNOTSUPP;
	return err_set(-errno, "fallocate at %llu: %m", (unsigned long long)off);
}

static int file_trim(void *ctx, uint32_t len, uint64_t off)
{
	return file_fallocate(ctx, FALLOC_FL_PUNCH_HOLE, len, off);
}

static int file_zero(void *ctx, uint32_t len, uint64_t off, int may_trim)
{
	return file_fallocate(ctx, may_trim ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE, len, off);
}

/* Holes (read as zeros) and data, as the file system knows them. */
static int file_extents(void *ctx, uint64_t off, uint32_t len, nbd_extent_fn add, void *a)
{
	struct file *f = ctx;
	uint64_t pos = off, end = off + len, next;
	off_t d, h;
	int more = 0;

	while (pos < end && !more) {
		d = lseek(f->fd, (off_t)pos, SEEK_DATA);
		if (d < 0 && errno != ENXIO) { /* no SEEK_DATA here: all data */
			add(a, (uint32_t)(end - pos), 0);
			return 0;
		}
		if (d < 0 || (uint64_t)d > pos) {
			next = d < 0 ? end : MIN((uint64_t)d, end);
			more = add(a, (uint32_t)(next - pos), NBD_STATE_HOLE | NBD_STATE_ZERO);
			pos = next;
			continue;
		}
		h = lseek(f->fd, (off_t)pos, SEEK_HOLE);
		next = h < 0 ? end : MIN((uint64_t)h, end);
		more = add(a, (uint32_t)(next - pos), 0);
		pos = next;
	}
	return 0;
}

static void print_event(const struct event *e, void *ctx)
{
	(void)ctx;
	if (e->message)
		fprintf(stderr, "%s%s%s\n", e->area ? e->area : "", e->area ? ": " : "", e->message);
}

static int open_file(const char *path, int read_only, int *ret_fd, uint64_t *ret_size)
{
	struct stat st;
	uint64_t size;
	int fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "nbd_file_server: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "nbd_file_server: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*ret_fd = fd;
	*ret_size = size;
	return 0;
}

static const struct option long_opts[] = {
	{ "read-only", no_argument, NULL, 'r' },     { "fail-at", required_argument, NULL, 'f' },
	{ "read-delay-ms", required_argument, NULL, 'd' },
	{ "min-block", required_argument, NULL, 'm' }, { "pref-block", required_argument, NULL, 'p' },
	{ "max-block", required_argument, NULL, 'M' }, { "name", required_argument, NULL, 'n' },
	{ "description", required_argument, NULL, 'D' },
	{ "no-zero", no_argument, NULL, 'Z' },	     { "no-trim", no_argument, NULL, 'T' },
	{ "no-flush", no_argument, NULL, 'F' },	     { "no-extents", no_argument, NULL, 'E' },
	{ "allow-remote", no_argument, NULL, 'a' },  { "port-file", required_argument, NULL, 'P' },
	{ 0, 0, 0, 0 }
};

static int u32_arg(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, 0, UINT32_MAX, &v) < 0) {
		fprintf(stderr, "nbd_file_server: '%s' is not a number\n", s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct nbd_export *e, struct file *f,
		      int *allow_remote, const char **port_file)
{
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case 'r': e->read_only = 1; break;
		case 'f': f->fail = 1; bad |= parse_u64(optarg, 0, UINT64_MAX / 2, &f->fail_at); break;
		case 'd': bad |= parse_int(optarg, 0, 60000, &f->delay_ms); break;
		case 'm': bad |= u32_arg(optarg, &e->min_block); break;
		case 'p': bad |= u32_arg(optarg, &e->pref_block); break;
		case 'M': bad |= u32_arg(optarg, &e->max_block); break;
		case 'n': e->name = optarg; break;
		case 'D': e->description = optarg; break;
		case 'Z': e->zero = NULL; break;
		case 'T': e->trim = NULL; break;
		case 'F': e->flush = NULL; break;
		case 'E': e->block_status = NULL; break;
		case 'a': *allow_remote = 1; break;
		case 'P': *port_file = optarg; break;
		default: bad = 1;
		}
	}
	if (bad || argc - optind != 2) {
		fprintf(stderr, "usage: nbd_file_server [OPTIONS] FILE unix:PATH|tcp:ADDR:PORT "
				"(see the source)\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct file f = { .fd = -1 };
	struct nbd_export e = { .ctx = &f, .read = file_read, .write = file_write,
				.flush = file_flush, .trim = file_trim, .zero = file_zero,
				.block_status = file_extents };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *port_file = NULL, *spec;
	int allow_remote = 0, lfd, r;
	FILE *pf;

	event_set_sink(print_event, NULL);
	if (parse_args(argc, argv, &e, &f, &allow_remote, &port_file) < 0)
		return 2;
	spec = argv[optind + 1];
	if (open_file(argv[optind], e.read_only, &f.fd, &e.size) < 0)
		return 1;
	if (e.read_only)
		e.write = NULL;
	r = nbd_listen(spec, allow_remote, &lfd);
	if (r < 0) {
		fprintf(stderr, "nbd_file_server: %s\n", err_msg());
		return 1;
	}
	if (port_file && (pf = fopen(port_file, "w"))) {
		fprintf(pf, "%d\n", nbd_bound_port(lfd));
		fclose(pf);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("serving %s (%llu bytes) on %s\n", argv[optind], (unsigned long long)e.size, spec);
	fflush(stdout);
	r = nbd_serve(lfd, &e, &stop);
	if (r < 0)
		fprintf(stderr, "nbd_file_server: %s\n", err_msg());
	close(lfd);
	if (!strncmp(spec, "unix:", 5))
		unlink(spec + 5);
	close(f.fd);
	printf("stopped; reads in parallel at most: %d\n", atomic_load(&f.most_reading));
	return r < 0 ? 1 : 0;
}
