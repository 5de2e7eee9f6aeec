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
	struct http_source *h = s->priv;

	h->do_req = http_source_do;
	return http_conn_init(&h->c, s->u, 1);
}

/* Folders need their listing page turned on (nginx autoindex, Apache's Indexes). */
static int web_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	return http_source_list(s, dir, listing_parse_html, ret_names, ret_n);
}

static const char *const web_schemes[] = { "http", "https", NULL };

SOURCE_BACKEND(web_ops) = {
	.schemes = web_schemes,
	.form = "http(s)://[USER@]HOST[:PORT]/PATH",
	.caps = SOURCE_CAN_LIST,
	.priv_size = sizeof(struct http_source),
	.open = web_open,
	.list = web_list,
	.get_object = http_source_get,
	.stream = http_source_stream,
	.exists = http_source_exists,
	.size = http_source_size,
	.close = http_source_close,
};
