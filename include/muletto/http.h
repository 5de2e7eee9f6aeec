/* One connection's worth of libcurl for a source (web server, S3, SFTP): an
 * easy handle with the process's common settings (TLS trust and pinning,
 * timeouts, authentication), requests run on the shared transfer pool
 * (http_pool.h), and the network faults a restore must ride out: timeouts,
 * resets and 5xx are retried with backoff, a partial download resumes where it
 * stopped, authentication failures are not retried and say so. Messages name
 * the URL, never a secret. */
#ifndef MULETTO_HTTP_H
#define MULETTO_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "muletto/source.h"

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
};

/* Sets up c for url's server: user name from url ("https://user@host/"; a
 * password in a URL is refused), its password, or a bearer token, from
 * cred.h; CA bundle and pinned key. auth = 0 leaves authentication to the
 * caller (S3 signs its requests). */
int http_conn_init(struct http_conn *c, const char *url, int auth);
void http_conn_done(struct http_conn *c);

/* One request with retries; statuses of 400 and up are errors (-ENOENT for 404,
 * -EACCES for 401/403). */
int http_conn_do(struct http_conn *c, const char *url, struct http_req *q);

/* base + "/" + rel with each path segment of rel percent-encoded (and a
 * trailing "/" when dir is set); a new string, NULL when out of memory. */
char *http_join_url(CURL *curl, const char *base, const char *rel, int dir);

/* "scheme://user@host:port/path" without the "user@"; a new string. */
char *http_url_without_user(const char *url);

/* Sets s->base to itself without the user name and trailing slashes (the
 * user name went to libcurl). */
int http_source_base(struct source *s);

/* The end of a GET: on success hands the body over (an empty one as ""), on
 * failure frees it; returns r. */
int http_req_body(struct http_req *q, int r, void **ret_buf, size_t *ret_len);

#endif
