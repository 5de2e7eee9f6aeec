/* One connection's worth of libcurl for a source (web server, S3, SFTP): an
 * easy handle with the process's common settings (TLS trust and pinning,
 * timeouts, authentication), requests run on the shared transfer pool
 * (http_pool.h), and the network faults a restore must ride out: timeouts,
 * resets and 5xx are retried with backoff, a partial download resumes where it
 * stopped, authentication failures are not retried and say so. Messages name
 * the URL, never a secret. */
#ifndef MULETTO_STORE_HTTP_H
#define MULETTO_STORE_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "muletto/store/source.h"
#include "muletto/store/url.h"

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_PUT };

struct http_conn {
	CURL *curl;
	char note[512];		/* a protocol callback's explanation of a failure
				   (an SSH host key refused), used in the message */
	int pooled;		/* holds a reference on the transfer pool */
	struct curl_slist *headers; /* extra request headers, owned */
	char errbuf[CURL_ERROR_SIZE];
};

struct http_req {
	enum http_method method;
	source_stream_cb cb; /* NULL: collect the body into buf */
	void *ctx;
	struct curl_slist *headers; /* instead of the connection's; NULL: those */
	size_t max;	     /* the most body bytes collected into buf (0: no limit);
				more fails with -EFBIG */
	const void *body;    /* HTTP_PUT */
	size_t body_len;
	/* results */
	char *buf;	     /* malloc'd, NUL-terminated; the caller frees it */
	size_t len;	     /* bytes of the body received (and passed to cb) */
	long status;
	char errbody[1024];  /* the start of an error answer's body (S3 explains there) */
	/* internal */
	size_t cap, skip, sent;
	int cb_err;
	uint64_t from;	 /* the byte this attempt asked to start at */
	uint64_t total;	 /* the object's size as the server says it, 0 when not said */
	uint64_t stall_moved; /* bytes the stalled attempt moved in its window */
};

/* Sets up c for the server of u: its user name ("https://user@host/") with a
 * password, or a bearer token, from cred.h; CA bundle and pinned key. auth = 0
 * leaves authentication to the caller (S3 signs its requests, SFTP has keys).
 * u may be NULL (no server-specific settings). */
int http_conn_init(struct http_conn *c, const struct url *u, int auth);
void http_conn_done(struct http_conn *c);

/* One request with retries; statuses of 400 and up are errors (-ENOENT for 404,
 * -EACCES for 401/403). */
int http_conn_do(struct http_conn *c, const char *url, struct http_req *q);

/* base + "/" + rel with each path segment of rel percent-encoded (and a
 * trailing "/" when dir is set); a new string, NULL when out of memory. */
char *http_join_url(const char *base, const char *rel, int dir);

/* A libcurl source's private state begins with this: its connection, and its
 * way of doing one request for an object path (http_source_do, or S3's, which
 * signs and reads S3's error answers). Then the functions below serve as its
 * source_ops directly. */
typedef int (*http_do_fn)(struct source *s, const char *rel, struct http_req *q);
struct http_source {
	struct http_conn c;
	http_do_fn do_req;
};

/* The URL of rel below the repository (a folder when rel ends in '/'), then
 * http_conn_do. */
int http_source_do(struct source *s, const char *rel, struct http_req *q);
int http_source_get(struct source *s, const char *rel, size_t max, void **ret_buf,
		    size_t *ret_len);
int http_source_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx);
/* HEAD: the size the server announces. */
int http_source_size(struct source *s, const char *rel, uint64_t *ret);
/* HEAD: 1 when the object is there, 0 when the server says it is not. */
int http_source_exists(struct source *s, const char *rel);
void http_source_close(struct source *s);
/* A folder's listing (rel + "/"), as parse reads the server's answer. */
int http_source_list(struct source *s, const char *dir,
		     int (*parse)(const char *text, size_t len, struct source_names *out),
		     char ***ret_names, size_t *ret_n);

#endif
