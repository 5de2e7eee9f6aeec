/* libFuzzer targets for everything muletto reads from a server or a medium:
 * one target per parser, chosen when building (-DFUZZ_TARGET=name):
 *   index     a casync index (.caibx)          manifest  manifest.json
 *   url       a repository URL                 html      a web server's listing page
 *   s3        an S3 ListObjectsV2 page         lines     an SFTP listing
 *   sign      a signature line                 conf      a muletto.conf
 *   nbd       what an NBD client sends: handshake and requests, served by
 *             nbd_serve_fd() on a socketpair from a 16 MiB export in memory
 *   status    a request to the status page (method, path, token)
 * Built without libFuzzer (no -fsanitize=fuzzer), it is a plain program that
 * runs the files named on its command line: the seeds as a smoke test. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "muletto/core/cred.h"
#include "muletto/core/util.h"
#include "muletto/core/err.h"
#include "muletto/format/caibx.h"
#include "muletto/format/manifest.h"
#include "muletto/format/sign.h"
#include "muletto/store/listing.h"
#include "muletto/serve/nbd.h"
#include "muletto/store/url.h"
#include "muletto/ui/status_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The targets are not static: each build uses one of them. */
void fuzz_index(const char *s, size_t n);
void fuzz_manifest(const char *s, size_t n);
void fuzz_url(const char *s, size_t n);
void fuzz_html(const char *s, size_t n);
void fuzz_lines(const char *s, size_t n);
void fuzz_s3(const char *s, size_t n);
void fuzz_sign(const char *s, size_t n);
void fuzz_conf(const char *s, size_t n);
void fuzz_nbd(const char *s, size_t n);
void fuzz_status(const char *s, size_t n);

/* The input as a NUL-terminated string, as every text parser gets it. */
static char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
	}
	return s;
}

void fuzz_index(const char *s, size_t n)
{
	struct caibx *x = NULL;
	void *buf = NULL;
	size_t len = 0;

	if (caibx_parse(s, n, "fuzz.caibx", &x) == 0) {
		if (caibx_serialize(x, &buf, &len) == 0)
			free(buf);
		caibx_free(x);
	}
}

void fuzz_manifest(const char *s, size_t n)
{
	struct manifest *m = NULL;
	char *json = NULL;

	if (manifest_parse(s, n, "fuzz.json", &m) == 0) {
		if (manifest_serialize(m, &json) == 0)
			free(json);
		manifest_free(m);
	}
}

void fuzz_url(const char *s, size_t n)
{
	struct url *u = NULL;
	char *a = NULL, *b = NULL;

	(void)n;
	if (url_parse(s, &u) == 0) {
		free(url_authority(u));
		free(url_host_with_zone(u));
		url_free(u);
	}
	if (url_split(s, &a, &b) == 0) {
		free(a);
		free(b);
	}
}

static void fuzz_names(int (*parse)(const char *, size_t, struct source_names *), const char *s,
		       size_t n)
{
	struct source_names l = { 0 };

	parse(s, n, &l);
	source_names_clear(&l);
}

void fuzz_html(const char *s, size_t n)
{
	fuzz_names(listing_parse_html, s, n);
}

void fuzz_lines(const char *s, size_t n)
{
	fuzz_names(listing_parse_lines, s, n);
}

void fuzz_s3(const char *s, size_t n)
{
	struct source_names l = { 0 };
	char *next = NULL;

	listing_parse_s3(s, n, "repo/images/", &l, &next);
	free(next);
	free(listing_xml_text(s, "Code", NULL));
	source_names_clear(&l);
}

void fuzz_sign(const char *s, size_t n)
{
	struct sign_line sl;

	sign_parse_line(s, n, &sl);
}

void fuzz_conf(const char *s, size_t n)
{
	static const char *const keys[] = { "password", "repo", "aws_secret_access_key", "x" };
	size_t i;
	char *v;

	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (cred_conf_parse(s, n, keys[i], &v) == 0)
			free(v);
}

/* The NBD export of the fuzz target: 16 MiB in memory, whose reads of
 * [4096, 8192) fail as a backend's would. */
#define MEM_SIZE (16u << 20)
static uint8_t *mem;
static pthread_mutex_t mem_lock = PTHREAD_MUTEX_INITIALIZER;

static int mem_read(void *ctx, void *buf, uint32_t len, uint64_t off)
{
	(void)ctx;
	if (off < 8192 && off + len > 4096)
		return err_set(-EIO, "fuzz: a failing read");
	pthread_mutex_lock(&mem_lock);
	memcpy(buf, mem + off, len);
	pthread_mutex_unlock(&mem_lock);
	return 0;
}

static int mem_write(void *ctx, const void *buf, uint32_t len, uint64_t off, int fua)
{
	(void)ctx;
	(void)fua;
	pthread_mutex_lock(&mem_lock);
	memcpy(mem + off, buf, len);
	pthread_mutex_unlock(&mem_lock);
	return 0;
}

static int mem_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static int mem_trim(void *ctx, uint32_t len, uint64_t off)
{
	(void)ctx;
	(void)len;
	(void)off;
	return -EOPNOTSUPP;
}

static int mem_extents(void *ctx, uint64_t off, uint32_t len, nbd_extent_fn add, void *a)
{
	(void)ctx;
	if (off < (1u << 20) && !add(a, (uint32_t)MIN((uint64_t)len, (1u << 20) - off), 0))
		return 0;
	add(a, len, NBD_STATE_HOLE | NBD_STATE_ZERO);
	return 0;
}

struct fuzz_peer {
	int fd;
	const char *s;
	size_t n;
};

/* The client's side: sends the input, then reads replies until the server
 * closes (so that the server never blocks on a full socket). */
static void *fuzz_client_send(void *v)
{
	struct fuzz_peer *p = v;
	size_t done = 0;
	ssize_t k;

	while (done < p->n && (k = send(p->fd, p->s + done, p->n - done, MSG_NOSIGNAL)) > 0)
		done += (size_t)k;
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

static void *fuzz_client_drain(void *v)
{
	struct fuzz_peer *p = v;
	char buf[65536];

	while (recv(p->fd, buf, sizeof(buf), 0) > 0)
		;
	return NULL;
}

void fuzz_nbd(const char *s, size_t n)
{
	struct nbd_export e = { .name = "web01", .size = MEM_SIZE, .read = mem_read,
				.write = mem_write, .flush = mem_flush, .trim = mem_trim,
				.block_status = mem_extents };
	struct fuzz_peer p = { .s = s, .n = n };
	pthread_t tx, rx;
	int sv[2];

	if (!mem && !(mem = calloc(1, MEM_SIZE)))
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	p.fd = sv[0];
	if (pthread_create(&tx, NULL, fuzz_client_send, &p) == 0) {
		if (pthread_create(&rx, NULL, fuzz_client_drain, &p) == 0) {
			nbd_serve_fd(sv[1], &e); /* closes sv[1]: the drain ends */
			pthread_join(rx, NULL);
		} else {
			close(sv[1]);
		}
		pthread_join(tx, NULL);
	} else {
		close(sv[1]);
	}
	close(sv[0]);
}

/* The request as the server holds it (NUL-terminated, a NUL inside it ends
 * it); what the parse gives must fit its buffers and be one of its answers. */
void fuzz_status(const char *s, size_t n)
{
	struct status_req r;
	int e;

	(void)n;
	e = status_req_parse(s, &r);
	if (e != 0 && e != -EBADMSG && e != -EOPNOTSUPP)
		abort();
	if (e == 0 && (!memchr(r.path, 0, sizeof(r.path)) || !memchr(r.token, 0, sizeof(r.token)) ||
		       (r.head != 0 && r.head != 1)))
		abort();
}

#define FUZZ_FN_(name) fuzz_##name
#define FUZZ_FN(name) FUZZ_FN_(name)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_text(data, size);

	if (s)
		FUZZ_FN(FUZZ_TARGET)(s, size);
	free(s);
	return 0;
}

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		void *buf = NULL;
		size_t len = 0;
		if (file_read_all(argv[i], 0, &buf, &len) < 0) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	return 0;
}
#endif
