/* libcurl requests for sources (HTTP(S), S3, SFTP): common settings,
 * authentication, retries, error messages. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/event.h"
#include "muletto/store/http.h"
#include "muletto/store/http_pool.h"
#include "http_int.h"
#include "muletto/core/util.h"


static const struct cred_key key_password = { "MULETTO_PASSWORD", "password", 1 };
static const struct cred_key key_token = { "MULETTO_TOKEN", "token", 1 };
static const struct cred_key key_ca = { "MULETTO_CA_BUNDLE", "ca_bundle", 0 };
static const struct cred_key key_pin = { "MULETTO_PIN", "pin", 0 };

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_global_ok;
/* Some request of this process has succeeded: the server exists, so a failure
 * from now on is worth waiting out (it is restarting, the link is down). */
static atomic_int http_ever_ok;
static atomic_llong http_last_note;

static void http_global_init(void)
{
	http_global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

char *http_join_url(const char *base, const char *rel, int dir)
{
	size_t cap = strlen(base) + 3 * strlen(rel) + 3, len;
	char *url = malloc(cap);
	const char *p = rel;

	if (!url)
		return NULL;
	len = (size_t)snprintf(url, cap, "%s", base);
	while (*p) {
		size_t n = strcspn(p, "/");
		char *seg = curl_easy_escape(NULL, p, (int)n);
		if (!seg) {
			free(url);
			return NULL;
		}
		if (n)
			len += (size_t)snprintf(url + len, cap - len, "/%s", seg);
		curl_free(seg);
		p += n;
		while (*p == '/')
			p++;
	}
	if (dir)
		snprintf(url + len, cap - len, "/");
	return url;
}

static int http_conn_auth(struct http_conn *c, const struct url *u)
{
	_cleanup_free_ char *where = url_authority(u), *prompt = NULL;
	char *secret = NULL;
	int r;

	if (!where)
		return -ENOMEM;
	if (u->user) {
		if (!(prompt = str_printf("password for %s@%s", u->user, where)))
			return -ENOMEM;
		r = cred_password(&key_password, prompt, &secret);
		if (r == 0) {
			curl_easy_setopt(c->curl, CURLOPT_USERNAME, u->user);
			curl_easy_setopt(c->curl, CURLOPT_PASSWORD, secret);
			curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		}
	} else {
		r = cred_get(&key_token, &secret);
		if (r == -ENOENT)
			return 0;
		if (r == 0) {
			curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, secret);
			curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		}
	}
	cred_free(secret); /* libcurl keeps its own copy */
	return r;
}

static int http_conn_tls(struct http_conn *c)
{
	char *v = NULL;
	int r = cred_get(&key_ca, &v);

	if (r == 0) {
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, v);
		free(v);
	} else if (r != -ENOENT) {
		return r;
	}
	r = cred_get(&key_pin, &v);
	if (r == 0) {
		curl_easy_setopt(c->curl, CURLOPT_PINNEDPUBLICKEY, v);
		free(v);
	} else if (r != -ENOENT) {
		return r;
	}
	return 0;
}

int http_conn_init(struct http_conn *c, const struct url *u, int auth)
{
	int r;

	memset(c, 0, sizeof(*c));
	pthread_once(&http_once, http_global_init);
	if (!http_global_ok || http_pool_ref() < 0)
		return err_set(-ENOMEM, "cannot start libcurl");
	c->pooled = 1;
	if (!(c->curl = curl_easy_init()))
		return err_set(-ENOMEM, "cannot start libcurl");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Over TLS, wait for a connection that can multiplex (HTTP/2) rather than
	 * open another; plain HTTP/1.1 opens connections as workers need them. */
	if (u && !strcmp(u->scheme, "https"))
		curl_easy_setopt(c->curl, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "muletto/" MULETTO_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Credentials never follow a redirect to another host. */
	curl_easy_setopt(c->curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
	r = http_conn_tls(c);
	if (r == 0 && auth && u)
		r = http_conn_auth(c, u);
	return r;
}

void http_conn_done(struct http_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	if (c->pooled)
		http_pool_unref();
	memset(c, 0, sizeof(*c));
}

struct http_xfer {
	struct http_conn *c;
	struct http_req *q;
	uint64_t resume; /* asked the server to start here */
	int first;	 /* no body byte of this attempt seen yet */
	int error_page;	 /* status 400 and up: the body explains, it is not the object */
	/* the stall window: when it began, and the bytes moved by then */
	double win_start;
	uint64_t win_moved;
	int window;	 /* seconds */
	uint64_t min_rate;
};

/* Marks in cb_err of why the writer or the progress callback cut a transfer. */
#define HTTP_CUT_ERROR_PAGE 1 /* enough of an error page: the status says it all */
#define HTTP_CUT_STALLED 2    /* less than the minimum moved in the window */

/* Called by libcurl about once a second, and while waiting: cuts a transfer
 * that moved less than min_rate bytes a second over the last window (a
 * server that trickles or stalls; connecting has its own timeout). */
static int http_progress(void *v, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			 curl_off_t ulnow)
{
	struct http_xfer *x = v;
	uint64_t moved = (uint64_t)dlnow + (uint64_t)ulnow;
	double t = now_seconds();

	(void)dltotal;
	(void)ultotal;
	if (t - x->win_start < x->window)
		return 0;
	if (moved - x->win_moved < x->min_rate * (uint64_t)x->window) {
		x->q->stall_moved = moved - x->win_moved;
		x->q->cb_err = HTTP_CUT_STALLED;
		return 1;
	}
	x->win_start = t;
	x->win_moved = moved;
	return 0;
}

static size_t http_write(char *data, size_t size, size_t nmemb, void *v)
{
	struct http_xfer *x = v;
	struct http_req *q = x->q;
	size_t n = size * nmemb, k;
	long status = 0;

	if (x->first) {
		curl_off_t len = -1;
		x->first = 0;
		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(x->c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		/* a server that ignored the range sends it all again: skip what we have */
		q->skip = x->resume && status == 200 ? (size_t)x->resume : 0;
		q->total = len < 0 ? 0 : (uint64_t)len + (status == 206 ? x->resume : 0);
		x->error_page = status >= 400;
		q->errbody[0] = 0;
	}
	if (x->error_page) { /* never reaches a writer: a 404 page must not land on a disk */
		k = strlen(q->errbody);
		if (k + 1 >= sizeof(q->errbody)) {
			q->cb_err = HTTP_CUT_ERROR_PAGE; /* an endless error page is read no further */
			return 0;
		}
		snprintf(q->errbody + k, sizeof(q->errbody) - k, "%.*s", (int)n, data);
		return n;
	}
	if (q->skip) {
		k = MIN(q->skip, n);
		q->skip -= k;
		data += k;
		if (n == k)
			return n;
		n -= k;
	}
	if (q->cb) {
		q->cb_err = q->cb(q->ctx, data, n);
		if (q->cb_err < 0)
			return 0;
		q->len += n;
		return size * nmemb;
	}
	if (q->max && n > q->max - MIN(q->len, q->max)) {
		q->cb_err = -EFBIG; /* never more than the object can be */
		return 0;
	}
	if (q->cap - q->len < n + 1) {
		size_t cap = MAX(MAX(q->cap * 2, q->len + n + 1), (size_t)65536);
		char *nb = realloc(q->buf, cap);
		if (!nb) {
			q->cb_err = -ENOMEM;
			return 0;
		}
		q->buf = nb;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	q->buf[q->len] = 0;
	return size * nmemb;
}

static size_t http_read(char *data, size_t size, size_t nmemb, void *v)
{
	struct http_req *q = v;
	size_t n = MIN(size * nmemb, q->body_len - q->sent);

	memcpy(data, (const char *)q->body + q->sent, n);
	q->sent += n;
	return n;
}

/* One line now and then while waiting, not one per worker per attempt. */
static void http_note_retry(int budget)
{
	long long now = (long long)now_seconds(), last = atomic_load(&http_last_note);

	if (now - last < 10 || !atomic_compare_exchange_strong(&http_last_note, &last, now))
		return;
	event_notice("%s; retrying for up to %d s", err_msg(), budget);
}

static CURLcode http_attempt(struct http_conn *c, const char *url, struct http_req *q,
			     long *ret_status)
{
	struct http_xfer x = { .c = c, .q = q, .first = 1, .win_start = now_seconds(),
			       .window = stall_window_seconds(), .min_rate = min_rate_bytes() };
	CURLcode code;

	c->errbuf[0] = 0;
	c->note[0] = 0;
	q->errbody[0] = 0;
	q->cb_err = 0;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_FAILONERROR, 0L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, q->headers ? q->headers : c->headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0);
	curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, http_progress);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L); /* no body, no upload, then: */
	if (q->method == HTTP_HEAD) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	} else if (q->method == HTTP_PUT) {
		q->sent = 0;
		curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, http_read);
		curl_easy_setopt(c->curl, CURLOPT_READDATA, q);
		curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body_len);
	} else {
		x.resume = q->len;
		curl_easy_setopt(c->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x.resume);
	}
	q->from = x.resume;
	code = http_pool_perform(c->curl);
	*ret_status = 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, ret_status);
	return code;
}

/* What an attempt that did not succeed means: a negative code with its
 * message, and whether waiting may cure it; 0 when it did succeed. */
static int http_outcome(struct http_conn *c, const char *url, struct http_req *q, CURLcode code,
			long status, int *ret_retry)
{
	*ret_retry = 0;
	if (code == CURLE_ABORTED_BY_CALLBACK && q->cb_err == HTTP_CUT_STALLED) {
		*ret_retry = 1;
		return http_stalled(url, q);
	}
	if (code == CURLE_WRITE_ERROR && q->cb_err == HTTP_CUT_ERROR_PAGE)
		code = CURLE_OK; /* the status is what matters */
	if ((code == CURLE_WRITE_ERROR && q->cb_err == -EFBIG) || code == CURLE_FILESIZE_EXCEEDED)
		return http_too_large(url, q);
	if (code == CURLE_WRITE_ERROR && q->cb_err == -ENOMEM)
		return err_set(-ENOMEM, "%s: out of memory for the answer", url);
	if (code == CURLE_WRITE_ERROR && q->cb_err < 0)
		return q->cb_err; /* the caller's callback said why */
	if (code == CURLE_OK && status < 400)
		return 0;
	*ret_retry = http_retriable(url, code, status);
	if (code == CURLE_OK || code == CURLE_HTTP_RETURNED_ERROR)
		return http_status_error(url, status);
	return http_curl_error(c, url, code, q);
}

int http_conn_do(struct http_conn *c, const char *url, struct http_req *q)
{
	double since = now_seconds(); /* the last time the object was moving well */
	uint64_t moved_since = q->len;
	int budget, delay_ms = RETRY_DELAY_FIRST_MS, r, retry;
	long status;
	CURLcode code;

	for (;;) {
		code = http_attempt(c, url, q, &status);
		q->status = status;
		if (code == CURLE_OK || status > 0 || q->len > 0)
			atomic_store(&http_ever_ok, 1); /* the server is there */
		r = http_outcome(c, url, q, code, status, &retry);
		if (r == 0 || !retry)
			return r;
		/* An attempt that kept up the minimum rate since the last good time
		 * goes on at once from where it stopped (Range): a link that drops
		 * often but moves data is not a failing one. */
		if (q->len - moved_since >=
		    min_rate_bytes() * (uint64_t)MAX(now_seconds() - since, 1.0) && q->len > moved_since) {
			since = now_seconds();
			moved_since = q->len;
			delay_ms = 0;
		}
		budget = atomic_load(&http_ever_ok) ? retry_budget_seconds() : 0;
		if (now_seconds() - since > budget) {
			char msg[ERR_MSG_MAX];
			if (budget <= 0)
				return r;
			snprintf(msg, sizeof(msg), "%s", err_msg());
			return err_set(r, "%s (still failing after %.0f s of retrying)", msg,
				       now_seconds() - since);
		}
		http_note_retry(budget);
		debug_log("net", "%s; retrying in %d ms", err_msg(), delay_ms);
		sleep_ms(delay_ms);
		delay_ms = delay_ms ? MIN(delay_ms * 2, RETRY_DELAY_MAX_MS) : RETRY_DELAY_FIRST_MS;
	}
}
