/* The requests every libcurl source makes the same way (get, stream, size,
 * exists, list), through its own way of doing one request. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/http.h"
#include "muletto/store/listing.h"

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
