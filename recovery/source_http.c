/* A repository on a web server (http:// and https://), through libcurl.
 * One easy handle per source, run on the process's transfer pool (http_pool.c),
 * so every worker shares kept-alive connections, multiplexed over HTTP/2 when
 * the server offers it. Every failure names the URL and says what to do. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/err.h"
#include "muletto/http.h"
#include "muletto/source.h"
#include "muletto/util.h"

static int http_open(struct source *s)
{
	int r = http_conn_init(s->priv, s->base, 1);

	return r < 0 ? r : http_source_base(s);
}

static void http_close(struct source *s)
{
	http_conn_done(s->priv);
}

static char *http_url(struct source *s, const char *rel, int dir)
{
	struct http_conn *h = s->priv;

	return http_join_url(h->curl, s->base, rel, dir);
}

/* One request; 400 and up are errors. */
static int http_do(struct source *s, const char *url, int head, struct http_req *q)
{
	q->method = head ? HTTP_HEAD : HTTP_GET;
	return http_conn_do(s->priv, url, q);
}

static int http_get(struct source *s, const char *rel, void **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *url = http_url(s, rel, 0);
	struct http_req q = { 0 };

	if (!url)
		return -ENOMEM;
	return http_req_body(&q, http_do(s, url, 0, &q), ret_buf, ret_len);
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
	struct http_conn *h = s->priv;
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
	.priv_size = sizeof(struct http_conn),
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
	.priv_size = sizeof(struct http_conn),
	.open = http_open,
	.list = http_list,
	.get_object = http_get,
	.stream = http_stream,
	.exists = http_exists,
	.size = http_size,
	.close = http_close,
};
