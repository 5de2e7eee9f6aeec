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

/* The requests every libcurl source makes the same way, through its own way
 * of doing one request (do_req: builds the URL for rel and calls
 * http_conn_do on the connection c). */
typedef int (*http_do_fn)(struct source *s, const char *rel, struct http_req *q);
int http_source_get(struct source *s, http_do_fn do_req, const char *rel, size_t max,
		    void **ret_buf, size_t *ret_len);
int http_source_stream(struct source *s, http_do_fn do_req, const char *rel,
		       source_stream_cb cb, void *ctx);
/* HEAD: the size the server announces (ret_size may be NULL: only whether
 * the object is there). */
int http_source_head(struct source *s, http_do_fn do_req, struct http_conn *c, const char *rel,
		     uint64_t *ret_size);

#endif
