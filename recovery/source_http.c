/* A repository on a web server (http:// and https://), through libcurl.
 * One easy handle per source, reused, so requests share a kept-alive
 * connection. Every failure names the URL and says what to do. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/err.h"
#include "muletto/source.h"
#include "muletto/util.h"

struct http {
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_req {
	source_stream_cb cb; /* NULL: collect into buf */
	void *ctx;
	int cb_err;
	char *buf;
	size_t len, cap;
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static int http_global_ok;

static void http_global_init(void)
{
	http_global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static int http_open(struct source *s)
{
	struct http *h = s->priv;
	size_t n = strlen(s->base);

	pthread_once(&http_once, http_global_init);
	if (!http_global_ok || !(h->curl = curl_easy_init()))
		return err_set(-ENOMEM, "cannot start libcurl");
	while (n > 0 && s->base[n - 1] == '/')
		s->base[--n] = 0;
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "muletto/" MULETTO_VERSION);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	/* Error pages never reach a writer: a 404 body must not land on a disk. */
	curl_easy_setopt(h->curl, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	return 0;
}

static void http_close(struct source *s)
{
	struct http *h = s->priv;

	curl_easy_cleanup(h->curl);
}

/* base + "/" + rel, each path segment of rel percent-encoded. */
static char *http_url(struct source *s, const char *rel, int dir)
{
	struct http *h = s->priv;
	size_t cap = strlen(s->base) + 3 * strlen(rel) + 3, len;
	char *url = malloc(cap);
	const char *p = rel;

	if (!url)
		return NULL;
	len = (size_t)snprintf(url, cap, "%s", s->base);
	while (*p) {
		size_t n = strcspn(p, "/");
		char *seg = curl_easy_escape(h->curl, p, (int)n);
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

static size_t http_write(char *data, size_t size, size_t nmemb, void *v)
{
	struct http_req *q = v;
	size_t n = size * nmemb;

	if (q->cb) {
		q->cb_err = q->cb(q->ctx, data, n);
		return q->cb_err < 0 ? 0 : n;
	}
	if (q->cap - q->len < n + 1) {
		size_t cap = MAX(q->cap * 2, q->len + n + 1);
		char *nb = realloc(q->buf, MAX(cap, (size_t)65536));
		if (!nb) {
			q->cb_err = -ENOMEM;
			return 0;
		}
		q->buf = nb;
		q->cap = MAX(cap, (size_t)65536);
	}
	memcpy(q->buf + q->len, data, n);
	q->len += n;
	q->buf[q->len] = 0;
	return n;
}

static int http_status_error(const char *url, long status)
{
	if (status == 404 || status == 410)
		return err_set(-ENOENT, "%s: not found (HTTP %ld)", url, status);
	if (status == 401 || status == 403)
		return err_set(-EACCES, "%s: access denied (HTTP %ld): check the user name and "
					"password", url, status);
	if (status >= 500)
		return err_set(-EIO, "%s: server error (HTTP %ld): the server failed; try again "
				     "or check its logs", url, status);
	return err_set(-EIO, "%s: unexpected answer (HTTP %ld)", url, status);
}

static int http_curl_error(struct source *s, const char *url, CURLcode c, struct http_req *q)
{
	struct http *h = s->priv;
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(c);
	curl_off_t expect = -1;

	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(-EHOSTUNREACH, "%s: cannot resolve the host name (%s): check the "
					      "name and the DNS server", url, why);
	case CURLE_COULDNT_CONNECT:
		return err_set(-ECONNREFUSED, "%s: cannot connect (%s): check the address and "
					      "that the server is running", url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(-ETIMEDOUT, "%s: timed out (%s): check the network", url, why);
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expect);
		if (expect > 0)
			return err_set(-EIO, "%s: connection dropped after %zu of %lld bytes (%s): "
					     "check the network and the server, then run the same "
					     "command again", url, q->len, (long long)expect, why);
		return err_set(-EIO, "%s: connection dropped (%s): check the network and the "
				     "server, then run the same command again", url, why);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return err_set(-EPROTO, "%s: TLS failed (%s): check the server's certificate", url,
			       why);
	default:
		return err_set(-EIO, "%s: %s", url, why);
	}
}

/* One request (HEAD when head is set); statuses of 400 and up are errors. */
static int http_do(struct source *s, const char *url, int head, struct http_req *q)
{
	struct http *h = s->priv;
	long status = 0;
	CURLcode c;

	h->errbuf[0] = 0;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	if (head)
		curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
	else
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, q);
	c = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (c == CURLE_WRITE_ERROR && q->cb_err < 0)
		return q->cb_err;
	if (c == CURLE_HTTP_RETURNED_ERROR || (c == CURLE_OK && status >= 400))
		return http_status_error(url, status);
	if (c != CURLE_OK)
		return http_curl_error(s, url, c, q);
	return 0;
}

static int http_get(struct source *s, const char *rel, void **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *url = http_url(s, rel, 0);
	struct http_req q = { 0 };
	int r;

	if (!url)
		return -ENOMEM;
	r = http_do(s, url, 0, &q);
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

static int http_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	_cleanup_free_ char *url = http_url(s, rel, 0);
	struct http_req q = { .cb = cb, .ctx = ctx };

	if (!url)
		return -ENOMEM;
	return http_do(s, url, 0, &q);
}

static int http_head(struct source *s, const char *rel, uint64_t *ret_size)
{
	struct http *h = s->priv;
	_cleanup_free_ char *url = http_url(s, rel, 0);
	struct http_req q = { 0 };
	curl_off_t len = -1;
	int r;

	if (!url)
		return -ENOMEM;
	r = http_do(s, url, 1, &q);
	free(q.buf);
	if (r < 0)
		return r;
	curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (ret_size) {
		if (len < 0)
			return err_set(-EIO, "%s: the server does not say how large it is", url);
		*ret_size = (uint64_t)len;
	}
	return 0;
}

static int http_exists(struct source *s, const char *rel)
{
	int r = http_head(s, rel, NULL);

	if (r == -ENOENT) {
		err_clear();
		return 0;
	}
	return r < 0 ? r : 1;
}

static int http_size(struct source *s, const char *rel, uint64_t *ret)
{
	return http_head(s, rel, ret);
}

static int url_decode(const char *in, size_t n, char *out, size_t out_size)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < out_size; i++) {
		unsigned int v;
		if (in[i] == '%' && i + 2 < n && sscanf(in + i + 1, "%2x", &v) == 1) {
			out[k++] = (char)v;
			i += 2;
		} else {
			out[k++] = in[i];
		}
	}
	out[k] = 0;
	return k > 0 && !memchr(out, '/', k) ? 0 : -EINVAL;
}

/* Names from a directory listing page: href="name" or href="name/" that are
 * plain relative names (nginx autoindex, Apache, python's http.server). */
static int http_parse_listing(const char *html, char ***ret_names, size_t *ret_n)
{
	const char *p = html;
	char **names = NULL, name[1024];
	size_t n = 0;

	while ((p = strstr(p, "href=\""))) {
		const char *v = p + 6, *end = strchr(v, '"');
		size_t len;
		char **nn;
		p = v;
		if (!end)
			break;
		len = (size_t)(end - v);
		if (len && v[len - 1] == '/')
			len--;
		if (!len || *v == '?' || *v == '/' || *v == '#' || *v == '.' || memchr(v, ':', len) ||
		    url_decode(v, len, name, sizeof(name)) < 0)
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(name))) {
			source_free_names(nn ? nn : names, n);
			return -ENOMEM;
		}
		names = nn;
		n++;
	}
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static int http_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ char *url = http_url(s, dir, 1);
	struct http_req q = { 0 };
	int r;

	if (!url)
		return -ENOMEM;
	r = http_do(s, url, 0, &q);
	if (r == 0)
		r = http_parse_listing(q.buf ? q.buf : "", ret_names, ret_n);
	free(q.buf);
	return r;
}

const struct source_ops source_http_ops = {
	.scheme = "http",
	.priv_size = sizeof(struct http),
	.open = http_open,
	.list = http_list,
	.get_object = http_get,
	.stream = http_stream,
	.exists = http_exists,
	.size = http_size,
	.close = http_close,
};

const struct source_ops source_https_ops = {
	.scheme = "https",
	.priv_size = sizeof(struct http),
	.open = http_open,
	.list = http_list,
	.get_object = http_get,
	.stream = http_stream,
	.exists = http_exists,
	.size = http_size,
	.close = http_close,
};
