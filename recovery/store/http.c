/* libcurl requests for sources (HTTP(S), S3, SFTP): common settings,
 * authentication, retries, error messages. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
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
#include "muletto/store/listing.h"
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

/* "sha256//BASE64" of the certificate's public key, as CURLOPT_PINNEDPUBLICKEY
 * takes it. */
static void http_cert_pin(const char *pem, char *out, size_t size)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32], b64[64];
	int len = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;

	out[0] = 0;
	if (len > 0 && EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL)) {
		EVP_EncodeBlock(b64, md, sizeof(md));
		snprintf(out, size, "sha256//%s", b64);
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
}

/* Looks at the server's certificate without trusting it (nothing is sent but
 * the TLS handshake) so that the message can say which certificate failed. */
static void http_describe_cert(const char *url, char *out, size_t size)
{
	CURL *p = curl_easy_init();
	struct curl_certinfo *ci = NULL;
	const char *subject = "?", *issuer = "?", *until = "?", *pem = NULL;
	struct curl_slist *l;
	char pin[80] = "";

	out[0] = 0;
	if (!p)
		return;
	curl_easy_setopt(p, CURLOPT_URL, url);
	curl_easy_setopt(p, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(p, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(p, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(p, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(p, CURLOPT_CERTINFO, 1L);
	if (curl_easy_perform(p) == CURLE_OK &&
	    curl_easy_getinfo(p, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0) {
		for (l = ci->certinfo[0]; l; l = l->next) {
			if (!strncmp(l->data, "Subject:", 8))
				subject = l->data + 8;
			else if (!strncmp(l->data, "Issuer:", 7))
				issuer = l->data + 7;
			else if (!strncmp(l->data, "Expire date:", 12))
				until = l->data + 12;
			else if (!strncmp(l->data, "Cert:", 5))
				pem = l->data + 5;
		}
		if (pem)
			http_cert_pin(pem, pin, sizeof(pin));
		snprintf(out, size, "the server's certificate (subject %s, issued by %s, valid "
				    "until %s, key %s)", subject, issuer, until, pin[0] ? pin : "?");
	}
	curl_easy_cleanup(p);
}

static int http_tls_error(const char *url, CURLcode code, const char *why)
{
	char cert[1024];

	http_describe_cert(url, cert, sizeof(cert));
	if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return err_set(-EPROTO, "%s: TLS failed: %s is not the pinned key (MULETTO_PIN or "
					"pin= in muletto.conf): a different server answers; "
					"if the server's key was changed on purpose, pin the new one",
			       url, cert[0] ? cert : "the server's key");
	return err_set(-EPROTO, "%s: TLS failed: %s%s%s; a private certificate authority goes "
				"in MULETTO_CA_BUNDLE=FILE or ca_bundle= in muletto.conf",
		       url, cert[0] ? cert : "", cert[0] ? ": " : "", why);
}

static int http_status_error(const char *url, long status)
{
	if (status == 404 || status == 410)
		return err_set(-ENOENT, "%s: not found (HTTP %ld)", url, status);
	if (status == 401)
		return err_set(-EACCES, "%s: authentication failed (HTTP 401): the user name, "
					"password or token is wrong or missing", url);
	if (status == 403)
		return err_set(-EACCES, "%s: access denied (HTTP 403): this user may not read it; "
					"check the credentials and the server's permissions", url);
	if (status >= 500)
		return err_set(-EIO, "%s: server error (HTTP %ld): the server failed; try again "
				     "or check its logs", url, status);
	return err_set(-EIO, "%s: unexpected answer (HTTP %ld)", url, status);
}

/* What each libcurl failure means for a restore: the code callers see, whether
 * waiting cures it (retried for up to MULETTO_RETRY_SECONDS), and what to say.
 * One table for every libcurl source (web server, S3, SFTP). */
enum http_say { SAY_PLAIN, SAY_DROPPED, SAY_TLS };
#define HTTP_RETRY_SFTP 2 /* retry: for sftp:// only */
static const struct http_fault {
	CURLcode code;
	int err;
	int retry;
	enum http_say say;
	const char *what, *advice; /* "URL: what (libcurl's reason): advice" */
} http_faults[] = {
	/* the object is not there: asking again will not make it appear */
	{ CURLE_REMOTE_FILE_NOT_FOUND, -ENOENT, 0, SAY_PLAIN, "not found", NULL },
	/* a wrong key or password stays wrong */
	{ CURLE_LOGIN_DENIED, -EACCES, 0, SAY_PLAIN, "authentication failed",
	  "the user name, key or password is wrong or missing" },
	{ CURLE_REMOTE_ACCESS_DENIED, -EACCES, 0, SAY_PLAIN, "access denied",
	  "this user may not read it" },
	/* a name the DNS does not know: a typo far more often than an outage */
	{ CURLE_COULDNT_RESOLVE_HOST, -EHOSTUNREACH, 0, SAY_PLAIN, "cannot resolve the host name",
	  "check the name and the DNS server" },
	/* refused or unreachable: the server is restarting or the link is down
	 * (retried only once the server has answered: see http_ever_ok) */
	{ CURLE_COULDNT_CONNECT, -ECONNREFUSED, 1, SAY_PLAIN, "cannot connect",
	  "check the address and that the server is running" },
	/* no progress for too long: a stalled link or server */
	{ CURLE_OPERATION_TIMEDOUT, -ETIMEDOUT, 1, SAY_PLAIN, "timed out", "check the network" },
	/* the connection broke in the middle: resumed where it stopped */
	{ CURLE_PARTIAL_FILE, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_RECV_ERROR, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_SEND_ERROR, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_GOT_NOTHING, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_HTTP2, -EIO, 1, SAY_DROPPED, NULL, NULL },
	{ CURLE_HTTP2_STREAM, -EIO, 1, SAY_DROPPED, NULL, NULL },
	/* SFTP: the SSH session broke (sshd restarting, the link went down) */
	{ CURLE_SSH, -EIO, 1, SAY_PLAIN, "the SSH session failed", NULL },
	/* SFTP: the connection broke while SSH or SFTP was starting (libcurl's
	 * code for it); once the server has answered, that is a restart. Over
	 * HTTP the same code is a local set-up fault: retried for SFTP only. */
	{ CURLE_FAILED_INIT, -EIO, HTTP_RETRY_SFTP, SAY_PLAIN, "the SSH session could not start",
	  NULL },
	/* a certificate does not become trusted by waiting */
	{ CURLE_SSL_CONNECT_ERROR, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_PEER_FAILED_VERIFICATION, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_SSL_CACERT_BADFILE, -EPROTO, 0, SAY_TLS, NULL, NULL },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, -EPROTO, 0, SAY_TLS, NULL, NULL },
};

static const struct http_fault *http_fault_of(CURLcode code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(http_faults); i++)
		if (http_faults[i].code == code)
			return &http_faults[i];
	return NULL;
}

static int http_curl_error(struct http_conn *c, const char *url, CURLcode code,
			   struct http_req *q)
{
	const struct http_fault *f = http_fault_of(code);
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(code);

	if (c->note[0])
		return err_set(code == CURLE_PEER_FAILED_VERIFICATION ? -EPROTO : -EIO, "%s: %s",
			       url, c->note);
	if (!f)
		return err_set(-EIO, "%s: %s", url, why);
	if (f->say == SAY_TLS)
		return http_tls_error(url, code, why);
	if (f->say == SAY_DROPPED) {
		if (q->total)
			return err_set(f->err, "%s: connection dropped after %zu of %llu bytes (%s): "
					       "check the network and the server, then run the same "
					       "command again", url, q->len,
				       (unsigned long long)q->total, why);
		return err_set(f->err, "%s: connection dropped (%s): check the network and the "
				       "server, then run the same command again", url, why);
	}
	return err_set(f->err, "%s: %s (%s)%s%s", url, f->what, why, f->advice ? ": " : "",
		       f->advice ? f->advice : "");
}

/* Faults that a server coming back or a link recovering cures. */
static int http_retriable(const char *url, CURLcode code, long status)
{
	const struct http_fault *f;

	if (code == CURLE_OK || code == CURLE_HTTP_RETURNED_ERROR)
		return status >= 500 || status == 408 || status == 429;
	f = http_fault_of(code);
	if (f && f->retry == HTTP_RETRY_SFTP)
		return !strncasecmp(url, "sftp:", 5);
	return f && f->retry;
}

/* One line now and then while waiting, not one per worker per attempt. */
static void http_note_retry(int budget)
{
	long long now = (long long)now_seconds(), last = atomic_load(&http_last_note);

	if (now - last < 10 || !atomic_compare_exchange_strong(&http_last_note, &last, now))
		return;
	event_notice("%s; retrying for up to %d s", err_msg(), budget);
}

static int http_too_large(const char *url, const struct http_req *q)
{
	return err_set(-EFBIG, "%s: the server sends more than %zu bytes, the most this can be: "
			       "it is broken, or not serving a muletto repository", url, q->max);
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

static int http_stalled(const char *url, const struct http_req *q)
{
	int w = stall_window_seconds();

	return err_set(-ETIMEDOUT, "%s: too slow: %llu bytes in the last %d s, less than %llu "
				   "bytes a second (MULETTO_MIN_RATE over MULETTO_STALL_SECONDS): "
				   "check the network and the server", url,
		       (unsigned long long)q->stall_moved, w,
		       (unsigned long long)min_rate_bytes());
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

int http_source_do(struct source *s, const char *rel, struct http_req *q)
{
	struct http_source *h = s->priv;
	size_t n = strlen(rel);
	_cleanup_free_ char *url = http_join_url(s->u->base, rel, n && rel[n - 1] == '/');

	if (!url)
		return -ENOMEM;
	return http_conn_do(&h->c, url, q);
}

int http_source_get(struct source *s, const char *rel, size_t max, void **ret_buf,
		    size_t *ret_len)
{
	struct http_source *h = s->priv;
	struct http_req q = { .method = HTTP_GET, .max = max };
	int r = h->do_req(s, rel, &q);

	if (r < 0) {
		free(q.buf);
		return r;
	}
	if (!q.buf && !(q.buf = calloc(1, 1)))
		return -ENOMEM;
	*ret_buf = q.buf;
	*ret_len = q.len;
	return 0;
}

int http_source_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	struct http_source *h = s->priv;
	struct http_req q = { .method = HTTP_GET, .cb = cb, .ctx = ctx };

	return h->do_req(s, rel, &q);
}

static int http_source_head(struct source *s, const char *rel, uint64_t *ret_size)
{
	struct http_source *h = s->priv;
	struct http_req q = { .method = HTTP_HEAD };
	curl_off_t len = -1;
	int r = h->do_req(s, rel, &q);

	free(q.buf);
	if (r < 0)
		return r;
	curl_easy_getinfo(h->c.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (ret_size) {
		if (len < 0)
			return err_set(-EIO, "%s/%s: the server does not say how large it is", s->url,
				       rel);
		*ret_size = (uint64_t)len;
	}
	return 0;
}

int http_source_size(struct source *s, const char *rel, uint64_t *ret)
{
	return http_source_head(s, rel, ret);
}

int http_source_exists(struct source *s, const char *rel)
{
	int r = http_source_head(s, rel, NULL);

	if (r == -ENOENT) {
		err_clear();
		return 0;
	}
	return r < 0 ? r : 1;
}

void http_source_close(struct source *s)
{
	struct http_source *h = s->priv;

	http_conn_done(&h->c);
}

int http_source_list(struct source *s, const char *dir,
		     int (*parse)(const char *text, size_t len, struct source_names *out),
		     char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ char *folder = str_printf("%s/", dir);
	_cleanup_free_ void *text = NULL;
	struct source_names names = { 0 };
	size_t len = 0;
	int r;

	if (!folder)
		return -ENOMEM;
	r = http_source_get(s, folder, LISTING_MAX, &text, &len);
	if (r == 0)
		r = parse(text, len, &names);
	if (r < 0) {
		source_names_clear(&names);
		return r;
	}
	source_names_take(&names, ret_names, ret_n);
	return 0;
}
