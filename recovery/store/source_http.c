/* A repository on a web server (http:// and https://), through libcurl.
 * One easy handle per source, run on the process's transfer pool (http_pool.c),
 * so every worker shares kept-alive connections, multiplexed over HTTP/2 when
 * the server offers it. Every failure names the URL and says what to do. */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/err.h"
#include "muletto/core/util.h"
#include "muletto/store/http.h"
#include "muletto/store/listing.h"
#include "muletto/store/source.h"

static int web_open(struct source *s)
{
	return http_conn_init(s->priv, s->u, 1);
}

static void web_close(struct source *s)
{
	http_conn_done(s->priv);
}

/* One request for rel (a folder when it ends in '/'); 400 and up are errors. */
static int web_do(struct source *s, const char *rel, struct http_req *q)
{
	size_t n = strlen(rel);
	_cleanup_free_ char *url = http_join_url(s->u->base, rel, n && rel[n - 1] == '/');

	if (!url)
		return -ENOMEM;
	return http_conn_do(s->priv, url, q);
}

static int web_get(struct source *s, const char *rel, size_t max, void **ret_buf,
		   size_t *ret_len)
{
	return http_source_get(s, web_do, rel, max, ret_buf, ret_len);
}

static int web_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	return http_source_stream(s, web_do, rel, cb, ctx);
}

static int web_size(struct source *s, const char *rel, uint64_t *ret)
{
	return http_source_head(s, web_do, s->priv, rel, ret);
}

static int web_exists(struct source *s, const char *rel)
{
	int r = web_size(s, rel, NULL);

	if (r == -ENOENT) {
		err_clear();
		return 0;
	}
	return r < 0 ? r : 1;
}

/* Folders need their listing page turned on (nginx autoindex, Apache's Indexes). */
static int web_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	_cleanup_free_ char *folder = str_printf("%s/", dir);
	_cleanup_free_ void *page = NULL;
	struct source_names names = { 0 };
	size_t len = 0;
	int r;

	if (!folder)
		return -ENOMEM;
	r = web_get(s, folder, LISTING_MAX, &page, &len);
	if (r == 0)
		r = listing_parse_html(page, len, &names);
	if (r < 0) {
		source_names_clear(&names);
		return r;
	}
	source_names_take(&names, ret_names, ret_n);
	return 0;
}

static const char *const web_schemes[] = { "http", "https", NULL };

SOURCE_BACKEND(web_ops) = {
	.schemes = web_schemes,
	.form = "http(s)://[USER@]HOST[:PORT]/PATH",
	.caps = SOURCE_CAN_LIST,
	.priv_size = sizeof(struct http_conn),
	.open = web_open,
	.list = web_list,
	.get_object = web_get,
	.stream = web_stream,
	.exists = web_exists,
	.size = web_size,
	.close = web_close,
};
