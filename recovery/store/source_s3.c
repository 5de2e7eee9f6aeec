/* A repository in an S3 bucket (s3://bucket/prefix): AWS Signature V4 through
 * libcurl, path-style or virtual-hosted addressing, listings page by page.
 * Settings as the AWS tools take them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION, AWS_ENDPOINT_URL), or the same names in lower
 * case in muletto.conf; without keys the bucket is read anonymously. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muletto/core/cred.h"
#include "muletto/core/err.h"
#include "muletto/core/hash.h"
#include "muletto/store/http.h"
#include "muletto/store/listing.h"
#include "muletto/store/source.h"
#include "muletto/core/util.h"

#define S3_PAGE_DEFAULT 1000

static const struct cred_key key_id = { "AWS_ACCESS_KEY_ID", "aws_access_key_id", 0 };
static const struct cred_key key_secret = { "AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", 1 };
static const struct cred_key key_token = { "AWS_SESSION_TOKEN", "aws_session_token", 1 };
static const struct cred_key key_region = { "AWS_REGION", "aws_region", 0 };
static const struct cred_key key_region2 = { "AWS_DEFAULT_REGION", "aws_default_region", 0 };
static const struct cred_key key_endpoint = { "AWS_ENDPOINT_URL", "aws_endpoint_url", 0 };
static const struct cred_key key_style = { "MULETTO_S3_ADDRESSING", "s3_addressing", 0 };
static const struct cred_key key_page = { "MULETTO_S3_PAGE", "s3_page", 0 };

struct s3 {
	struct http_source h; /* first: the generic requests use it */
	char *root;   /* URL of the bucket, ending in '/' */
	char *prefix; /* key prefix of the repository, "" or ending in '/' */
	int page;     /* keys per listing request */
};

/* The settings of S3 that are not secret, read once; NULL when not set. */
struct s3_settings {
	char *endpoint, *style, *id, *region, *page;
};

static void s3_settings_free(struct s3_settings *v)
{
	free(v->endpoint);
	free(v->style);
	free(v->id);
	free(v->region);
	free(v->page);
}

/* A muletto.conf that cannot be used is an error, with its reason; a setting
 * that is not there is not. */
static int s3_settings_read(struct s3_settings *v)
{
	const struct {
		const struct cred_key *k;
		char **out;
	} t[] = {
		{ &key_endpoint, &v->endpoint }, { &key_style, &v->style }, { &key_id, &v->id },
		{ &key_region, &v->region },	 { &key_page, &v->page },
	};
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		r = cred_get(t[i].k, t[i].out);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == -ENOENT)
			*t[i].out = NULL;
	}
	if (!v->region && (r = cred_get(&key_region2, &v->region)) < 0 && r != -ENOENT)
		return r;
	err_clear();
	if (!v->region && !(v->region = strdup("us-east-1")))
		return -ENOMEM;
	return 0;
}

/* root = endpoint + "/bucket/" (path style) or scheme://bucket.host/ (virtual). */
static int s3_root(struct source *s, const char *bucket, const struct s3_settings *v)
{
	struct s3 *b = s->priv;
	const char *endpoint = v->endpoint, *style = v->style, *region = v->region;
	_cleanup_free_ char *aws = NULL, *auth = NULL;
	struct url *ep = NULL;
	int path_style, r;

	/* AWS: virtual-hosted; another endpoint (MinIO, a NAS): path style */
	path_style = style ? !strcmp(style, "path") : endpoint != NULL;
	if (style && strcmp(style, "path") && strcmp(style, "virtual"))
		return err_set(-EINVAL, "MULETTO_S3_ADDRESSING=%s: use path or virtual", style);
	aws = str_printf("https://s3.%s.amazonaws.com", region);
	if (!aws)
		return -ENOMEM;
	r = url_parse(endpoint ? endpoint : aws, &ep);
	if (r == 0 && (strcmp(ep->scheme, "http") && strcmp(ep->scheme, "https")))
		r = -EINVAL;
	if (r < 0) {
		url_free(ep);
		return r == -ENOMEM ? r : err_set(-EINVAL, "AWS_ENDPOINT_URL=%s: use "
							   "http://HOST[:PORT] or https://HOST[:PORT]",
						  endpoint ? endpoint : aws);
	}
	if (path_style)
		b->root = str_printf("%s/%s/", ep->base, bucket);
	else if ((auth = url_authority(ep)))
		b->root = str_printf("%s://%s.%s%s/", ep->scheme, bucket, auth,
				     strcmp(ep->path, "/") ? ep->path : "");
	url_free(ep);
	return b->root ? 0 : -ENOMEM;
}

static int s3_do(struct source *s, const char *rel, struct http_req *q);

static int s3_sign(struct source *s, const struct s3_settings *v)
{
	struct s3 *b = s->priv;
	char *secret = NULL, *token = NULL, sig[200], *hdr;
	struct curl_slist *l;
	int r = 0;

	if (!v->id)
		return 0; /* anonymous: a public bucket */
	r = cred_get(&key_secret, &secret);
	if (r < 0) {
		if (r != -ENOENT) /* the secret is there, but cannot be used: say why */
			return err_prefix(r, "%s", s->url);
		return err_set(-EACCES, "%s: AWS_ACCESS_KEY_ID is set but not its secret: set "
					"AWS_SECRET_ACCESS_KEY or aws_secret_access_key= in "
					"muletto.conf (chmod 600)", s->url);
	}
	/* the hash of an empty body, for every request without one */
	l = curl_slist_append(b->h.c.headers, "x-amz-content-sha256: "
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	if (!l) {
		cred_free(secret);
		return -ENOMEM;
	}
	b->h.c.headers = l;
	snprintf(sig, sizeof(sig), "aws:amz:%s:s3", v->region);
	curl_easy_setopt(b->h.c.curl, CURLOPT_AWS_SIGV4, sig);
	curl_easy_setopt(b->h.c.curl, CURLOPT_USERNAME, v->id);
	curl_easy_setopt(b->h.c.curl, CURLOPT_PASSWORD, secret);
	cred_free(secret);
	r = cred_get(&key_token, &token);
	if (r < 0 && r != -ENOENT)
		return r;
	r = 0;
	if (token) {
		hdr = str_printf("x-amz-security-token: %s", token);
		l = hdr ? curl_slist_append(b->h.c.headers, hdr) : NULL;
		if (l)
			b->h.c.headers = l;
		else
			r = -ENOMEM;
		cred_free(hdr);
	}
	err_clear();
	cred_free(token);
	return r;
}

static int s3_open(struct source *s)
{
	struct s3 *b = s->priv;
	const struct url *u = s->u;
	struct s3_settings v = { 0 };
	int r;

	if (!u->host || !*u->host || u->user || u->port)
		return err_set(-EINVAL, "%s: use s3://BUCKET/PREFIX (keys go in AWS_ACCESS_KEY_ID "
					"and AWS_SECRET_ACCESS_KEY, not in the URL)", s->url);
	b->prefix = str_printf("%s%s", u->path + 1, strcmp(u->path, "/") ? "/" : "");
	if (!b->prefix)
		return -ENOMEM;
	b->page = S3_PAGE_DEFAULT;
	b->h.do_req = s3_do;
	r = s3_settings_read(&v);
	if (r == 0 && v.page && parse_int(v.page, 1, 1000, &b->page) < 0)
		r = err_set(-EINVAL, "MULETTO_S3_PAGE=%s: use a number from 1 to 1000", v.page);
	if (r == 0)
		r = http_conn_init(&b->h.c, NULL, 0);
	if (r == 0)
		r = s3_root(s, u->host, &v);
	if (r == 0)
		r = s3_sign(s, &v);
	s3_settings_free(&v);
	return r;
}

static void s3_close(struct source *s)
{
	struct s3 *b = s->priv;

	http_conn_done(&b->h.c);
	free(b->root);
	free(b->prefix);
}

/* root + prefix + rel, each segment percent-encoded as SigV4 wants it. */
static char *s3_url(struct source *s, const char *rel)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *key = str_printf("%s%s", b->prefix, rel);
	_cleanup_free_ char *root = strndup(b->root, strlen(b->root) - 1);

	return key && root ? http_join_url(root, key, 0) : NULL;
}

/* S3 says what went wrong in the body: turn its code into advice. */
static int s3_error(struct source *s, int r, const struct http_req *q, const char *rel)
{
	_cleanup_free_ char *code = listing_xml_text(q->errbody, "Code", NULL);
	_cleanup_free_ char *msg = listing_xml_text(q->errbody, "Message", NULL);
	const char *advice = "";

	if (!code)
		return r;
	if (!strcmp(code, "SignatureDoesNotMatch"))
		advice = ": the secret key is wrong; check AWS_SECRET_ACCESS_KEY";
	else if (!strcmp(code, "InvalidAccessKeyId"))
		advice = ": no such access key; check AWS_ACCESS_KEY_ID";
	else if (!strcmp(code, "AccessDenied"))
		advice = ": this key may not read it; check the bucket's policy";
	else if (!strcmp(code, "NoSuchBucket"))
		advice = ": no such bucket; check the name and AWS_ENDPOINT_URL";
	else if (!strcmp(code, "AuthorizationHeaderMalformed") ||
		 !strcmp(code, "PermanentRedirect"))
		advice = ": the bucket is in another region; set AWS_REGION";
	if (r == -ENOENT && !strcmp(code, "NoSuchKey"))
		return err_set(-ENOENT, "%s/%s: not found", s->url, rel);
	return err_set(r == -ENOENT && strcmp(code, "NoSuchKey") ? -EIO : r,
		       "%s/%s: S3 refused the request (HTTP %ld %s: %s)%s", s->url, rel, q->status,
		       code, msg ? msg : "", advice);
}

static int s3_do(struct source *s, const char *rel, struct http_req *q)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *url = s3_url(s, rel);
	int r;

	if (!url)
		return -ENOMEM;
	r = http_conn_do(&b->h.c, url, q);
	return r < 0 ? s3_error(s, r, q, rel) : 0;
}

/* The connection's headers with the payload hash of buf instead of the empty one. */
static int s3_put_headers(struct s3 *b, const void *buf, size_t len, struct curl_slist **ret)
{
	char hex[CHUNK_ID_HEX_SIZE], line[128];
	struct curl_slist *l = NULL, *h, *nl;

	hash_sha256_hex(buf, len, hex);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
	for (h = b->h.c.headers; h; h = h->next) {
		nl = curl_slist_append(l, strncasecmp(h->data, "x-amz-content-sha256:", 21) ?
					      h->data : line);
		if (!nl) {
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		l = nl;
	}
	*ret = l;
	return 0;
}

static int s3_put(struct source *s, const char *rel, const void *buf, size_t len)
{
	struct http_req q = { .method = HTTP_PUT, .body = buf, .body_len = len };
	int r = s3_put_headers(s->priv, buf, len, &q.headers);

	if (r < 0)
		return r;
	r = s3_do(s, rel, &q); /* an S3 object appears whole or not at all */
	curl_slist_free_all(q.headers);
	free(q.buf);
	return r;
}

/* One page of ListObjectsV2 below prefix; *token in: where to go on (NULL:
 * the start), out: the next page's, or NULL at the end. The query is built in
 * SigV4's canonical order. */
static int s3_list_page(struct source *s, const char *prefix, int max, char **token,
			struct source_names *names)
{
	struct s3 *b = s->priv;
	char *ep = curl_easy_escape(NULL, prefix, 0), *et = NULL, *url = NULL;
	struct http_req q = { .method = HTTP_GET };
	int r = -ENOMEM;

	if (*token && !(et = curl_easy_escape(NULL, *token, 0)))
		goto out;
	url = str_printf("%s?%s%s%sdelimiter=%%2F&list-type=2&max-keys=%d&prefix=%s", b->root,
			 et ? "continuation-token=" : "", et ? et : "", et ? "&" : "", max,
			 ep ? ep : "");
	if (!ep || !url)
		goto out;
	r = http_conn_do(&b->h.c, url, &q);
	if (r < 0) {
		r = s3_error(s, r, &q, prefix + strlen(b->prefix));
		goto out;
	}
	free(*token);
	*token = NULL;
	r = listing_parse_s3(q.buf ? q.buf : "", q.len, prefix, names, token);
	if (r < 0)
		err_prefix(r, "%s", url);
out:
	curl_free(ep);
	curl_free(et);
	free(url);
	free(q.buf);
	return r;
}

static int s3_list(struct source *s, const char *dir, char ***ret_names, size_t *ret_n)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *prefix = str_printf("%s%s/", b->prefix, dir);
	struct source_names names = { 0 };
	char *token = NULL;
	int r;

	if (!prefix)
		return -ENOMEM;
	do
		r = s3_list_page(s, prefix, b->page, &token, &names);
	while (r == 0 && token);
	free(token);
	if (r == 0 && names.n == 0)
		r = err_set(-ENOENT, "%s/%s: no such folder", s->url, dir);
	if (r < 0) {
		source_names_clear(&names);
		return r;
	}
	source_names_take(&names, ret_names, ret_n);
	return 0;
}

/* An object, or a folder: a prefix that some key starts with. */
static int s3_exists(struct source *s, const char *rel)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *prefix = NULL;
	struct source_names names = { 0 };
	char *token = NULL;
	int r = http_source_exists(s, rel);

	if (r != 0)
		return r;
	if (!(prefix = str_printf("%s%s/", b->prefix, rel)))
		return -ENOMEM;
	r = s3_list_page(s, prefix, 1, &token, &names);
	free(token);
	if (r == 0)
		r = names.n > 0;
	source_names_clear(&names);
	return r;
}

/* Every put is durable once S3 has answered it. */
static int s3_sync(struct source *s)
{
	(void)s;
	return 0;
}

static const char *const s3_schemes[] = { "s3", NULL };

SOURCE_BACKEND(s3_ops) = {
	.schemes = s3_schemes,
	.form = "s3://BUCKET/PREFIX",
	.caps = SOURCE_CAN_LIST | SOURCE_CAN_WRITE,
	.priv_size = sizeof(struct s3),
	.open = s3_open,
	.list = s3_list,
	.get_object = http_source_get,
	.stream = http_source_stream,
	.put_object = s3_put,
	.sync = s3_sync,
	.exists = s3_exists,
	.size = http_source_size,
	.close = s3_close,
};
