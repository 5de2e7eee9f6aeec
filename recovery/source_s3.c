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

#include "muletto/cred.h"
#include "muletto/err.h"
#include "muletto/hash.h"
#include "muletto/http.h"
#include "muletto/source.h"
#include "muletto/util.h"

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
	struct http_conn c;
	char *root;   /* URL of the bucket, ending in '/' */
	char *prefix; /* key prefix of the repository, "" or ending in '/' */
	int page;     /* keys per listing request */
};

static char *s3_setting(const struct cred_key *k, const char *dflt)
{
	char *v = NULL;

	if (cred_get(k, &v) == 0)
		return v;
	err_clear();
	return dflt ? strdup(dflt) : NULL;
}

/* root = endpoint + "/bucket/" (path style) or scheme://bucket.host/ (virtual). */
static int s3_root(struct source *s, const char *bucket, const char *region)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *endpoint = s3_setting(&key_endpoint, NULL);
	_cleanup_free_ char *style = s3_setting(&key_style, NULL);
	char aws[256];
	const char *ep, *host;
	int path_style;
	size_t n;

	snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com", region);
	ep = endpoint ? endpoint : aws;
	/* AWS: virtual-hosted; another endpoint (MinIO, a NAS): path style */
	path_style = style ? !strcmp(style, "path") : endpoint != NULL;
	if (style && strcmp(style, "path") && strcmp(style, "virtual"))
		return err_set(-EINVAL, "MULETTO_S3_ADDRESSING=%s: use path or virtual", style);
	if (!(host = strstr(ep, "://")))
		return err_set(-EINVAL, "AWS_ENDPOINT_URL=%s: use http://HOST[:PORT] or "
					"https://HOST[:PORT]", ep);
	host += 3;
	n = strlen(ep);
	while (n > 0 && ep[n - 1] == '/')
		n--;
	if (path_style)
		b->root = str_printf("%.*s/%s/", (int)n, ep, bucket);
	else
		b->root = str_printf("%.*s%s.%.*s/", (int)(host - ep), ep, bucket,
				     (int)(n - (size_t)(host - ep)), host);
	return b->root ? 0 : -ENOMEM;
}

static int s3_sign(struct source *s, const char *region)
{
	struct s3 *b = s->priv;
	char *id = s3_setting(&key_id, NULL), *secret = NULL, *token = NULL, sig[200], *hdr;
	struct curl_slist *l;
	int r = 0;

	if (!id)
		return 0; /* anonymous: a public bucket */
	if (cred_get(&key_secret, &secret) < 0) {
		free(id);
		return err_set(-EACCES, "%s: AWS_ACCESS_KEY_ID is set but not its secret: set "
					"AWS_SECRET_ACCESS_KEY or aws_secret_access_key= in "
					"muletto.conf (chmod 600)", s->url);
	}
	/* the hash of an empty body, for every request without one */
	l = curl_slist_append(b->c.headers, "x-amz-content-sha256: "
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	if (!l) {
		free(id);
		cred_free(secret);
		return -ENOMEM;
	}
	b->c.headers = l;
	snprintf(sig, sizeof(sig), "aws:amz:%s:s3", region);
	curl_easy_setopt(b->c.curl, CURLOPT_AWS_SIGV4, sig);
	curl_easy_setopt(b->c.curl, CURLOPT_USERNAME, id);
	curl_easy_setopt(b->c.curl, CURLOPT_PASSWORD, secret);
	if (cred_get(&key_token, &token) == 0) {
		hdr = str_printf("x-amz-security-token: %s", token);
		l = hdr ? curl_slist_append(b->c.headers, hdr) : NULL;
		if (l)
			b->c.headers = l;
		else
			r = -ENOMEM;
		cred_free(hdr);
	}
	err_clear();
	free(id);
	cred_free(secret);
	cred_free(token);
	return r;
}

static int s3_open(struct source *s)
{
	struct s3 *b = s->priv;
	const char *p = s->base + strlen("s3://"), *slash = strchr(p, '/');
	_cleanup_free_ char *bucket = slash ? strndup(p, (size_t)(slash - p)) : strdup(p);
	_cleanup_free_ char *region = NULL, *page = NULL;
	size_t n;
	int r;

	if (!bucket)
		return -ENOMEM;
	if (!*bucket || strchr(bucket, '@'))
		return err_set(-EINVAL, "%s: use s3://BUCKET/PREFIX (keys go in AWS_ACCESS_KEY_ID "
					"and AWS_SECRET_ACCESS_KEY, not in the URL)", s->url);
	b->prefix = str_printf("%s/", slash ? slash + 1 : "");
	if (!b->prefix)
		return -ENOMEM;
	n = strlen(b->prefix);
	while (n > 0 && b->prefix[n - 1] == '/')
		b->prefix[--n] = 0;
	if (n)
		b->prefix[n++] = '/';
	region = s3_setting(&key_region, NULL);
	if (!region)
		region = s3_setting(&key_region2, "us-east-1");
	page = s3_setting(&key_page, NULL);
	b->page = page ? atoi(page) : S3_PAGE_DEFAULT;
	if (b->page < 1 || b->page > 1000)
		b->page = S3_PAGE_DEFAULT;
	r = http_conn_init(&b->c, NULL, 0);
	if (r == 0)
		r = s3_root(s, bucket, region ? region : "us-east-1");
	if (r == 0)
		r = s3_sign(s, region ? region : "us-east-1");
	return r;
}

static void s3_close(struct source *s)
{
	struct s3 *b = s->priv;

	http_conn_done(&b->c);
	free(b->root);
	free(b->prefix);
}

/* root + prefix + rel, each segment percent-encoded as SigV4 wants it. */
static char *s3_url(struct source *s, const char *rel)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *key = str_printf("%s%s", b->prefix, rel);
	_cleanup_free_ char *root = strndup(b->root, strlen(b->root) - 1);

	return key && root ? http_join_url(b->c.curl, root, key, 0) : NULL;
}

/* The text of the first <tag>...</tag> at or after *pos (XML entities
 * decoded), moving *pos past it; NULL when there is none. */
static char *s3_xml_next(const char *xml, const char *tag, const char **pos)
{
	char open[64], close[64], *out, *o;
	const char *a, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(pos ? *pos : xml, open);
	if (!a)
		return NULL;
	a += strlen(open);
	e = strstr(a, close);
	if (!e || !(out = malloc((size_t)(e - a) + 1)))
		return NULL;
	for (o = out; a < e; a++) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&apos;", '\'' },
		};
		size_t i;
		for (i = 0; i < ARRAY_SIZE(ents); i++)
			if (!strncmp(a, ents[i].ent, strlen(ents[i].ent)))
				break;
		if (i < ARRAY_SIZE(ents)) {
			*o++ = ents[i].c;
			a += strlen(ents[i].ent) - 1;
		} else {
			*o++ = *a;
		}
	}
	*o = 0;
	if (pos)
		*pos = e + strlen(close);
	return out;
}

/* S3 says what went wrong in the body: turn its code into advice. */
static int s3_error(struct source *s, int r, const struct http_req *q, const char *rel)
{
	_cleanup_free_ char *code = s3_xml_next(q->errbody, "Code", NULL);
	_cleanup_free_ char *msg = s3_xml_next(q->errbody, "Message", NULL);
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
	r = http_conn_do(&b->c, url, q);
	return r < 0 ? s3_error(s, r, q, rel) : 0;
}

static int s3_get(struct source *s, const char *rel, void **ret_buf, size_t *ret_len)
{
	struct http_req q = { .method = HTTP_GET };

	return http_req_body(&q, s3_do(s, rel, &q), ret_buf, ret_len);
}

static int s3_stream(struct source *s, const char *rel, source_stream_cb cb, void *ctx)
{
	struct http_req q = { .method = HTTP_GET, .cb = cb, .ctx = ctx };

	return s3_do(s, rel, &q);
}

/* The connection's headers with the payload hash of buf instead of the empty one. */
static int s3_put_headers(struct s3 *b, const void *buf, size_t len, struct curl_slist **ret)
{
	char hex[CHUNK_ID_HEX_SIZE], line[128];
	struct curl_slist *l = NULL, *h, *nl;

	hash_sha256_hex(buf, len, hex);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
	for (h = b->c.headers; h; h = h->next) {
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

/* Adds the last component of a listed key or prefix, once (a server may
 * repeat common prefixes on every page). */
static int s3_add_name(char ***names, size_t *n, const char *full, size_t skip)
{
	size_t len = strlen(full), i;
	char **nn;

	if (len <= skip)
		return 0;
	full += skip;
	len -= skip;
	if (full[len - 1] == '/')
		len--;
	if (!len || memchr(full, '/', len))
		return 0;
	for (i = 0; i < *n; i++)
		if (strlen((*names)[i]) == len && !strncmp((*names)[i], full, len))
			return 0;
	if (!(nn = realloc(*names, (*n + 1) * sizeof(**names))))
		return -ENOMEM;
	*names = nn;
	if (!(nn[*n] = strndup(full, len)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* One page of ListObjectsV2 below prefix; *token in: where to go on (NULL:
 * the start), out: the next page's, or NULL at the end. The query is built in
 * SigV4's canonical order. */
static int s3_list_page(struct source *s, const char *prefix, int max, char **token,
			char ***names, size_t *n)
{
	struct s3 *b = s->priv;
	char *ep = curl_easy_escape(b->c.curl, prefix, 0), *et = NULL, *url = NULL, *key;
	_cleanup_free_ char *truncated = NULL;
	struct http_req q = { .method = HTTP_GET };
	const char *pos;
	int r = -ENOMEM;

	if (*token && !(et = curl_easy_escape(b->c.curl, *token, 0)))
		goto out;
	url = str_printf("%s?%s%s%sdelimiter=%%2F&list-type=2&max-keys=%d&prefix=%s", b->root,
			 et ? "continuation-token=" : "", et ? et : "", et ? "&" : "", max,
			 ep ? ep : "");
	if (!ep || !url)
		goto out;
	r = http_conn_do(&b->c, url, &q);
	if (r < 0) {
		r = s3_error(s, r, &q, prefix + strlen(b->prefix));
		goto out;
	}
	for (pos = q.buf ? q.buf : ""; (key = s3_xml_next(pos, "Key", &pos)); free(key))
		if ((r = s3_add_name(names, n, key, strlen(prefix))) < 0) {
			free(key);
			goto out;
		}
	for (pos = q.buf ? q.buf : ""; (key = s3_xml_next(pos, "Prefix", &pos)); free(key))
		if ((r = s3_add_name(names, n, key, strlen(prefix))) < 0) {
			free(key);
			goto out;
		}
	free(*token);
	truncated = s3_xml_next(q.buf ? q.buf : "", "IsTruncated", NULL);
	*token = truncated && !strcmp(truncated, "true") ?
		 s3_xml_next(q.buf, "NextContinuationToken", NULL) : NULL;
	r = 0;
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
	char **names = NULL, *token = NULL;
	size_t n = 0;
	int r;

	if (!prefix)
		return -ENOMEM;
	do
		r = s3_list_page(s, prefix, b->page, &token, &names, &n);
	while (r == 0 && token);
	free(token);
	if (r == 0 && n == 0)
		r = err_set(-ENOENT, "%s/%s: no such folder", s->url, dir);
	if (r < 0) {
		source_free_names(names, n);
		return r;
	}
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static int s3_head(struct source *s, const char *rel, uint64_t *ret_size)
{
	struct s3 *b = s->priv;
	struct http_req q = { .method = HTTP_HEAD };
	curl_off_t len = -1;
	int r = s3_do(s, rel, &q);

	if (r < 0)
		return r;
	curl_easy_getinfo(b->c.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (ret_size) {
		if (len < 0)
			return err_set(-EIO, "%s/%s: S3 does not say how large it is", s->url, rel);
		*ret_size = (uint64_t)len;
	}
	return 0;
}

/* An object, or a folder: a prefix that some key starts with. */
static int s3_exists(struct source *s, const char *rel)
{
	struct s3 *b = s->priv;
	_cleanup_free_ char *prefix = NULL;
	char **names = NULL, *token = NULL;
	size_t n = 0;
	int r = s3_head(s, rel, NULL);

	if (r != -ENOENT)
		return r < 0 ? r : 1;
	err_clear();
	if (!(prefix = str_printf("%s%s/", b->prefix, rel)))
		return -ENOMEM;
	r = s3_list_page(s, prefix, 1, &token, &names, &n);
	free(token);
	source_free_names(names, n);
	return r < 0 ? r : n > 0;
}

static int s3_size(struct source *s, const char *rel, uint64_t *ret)
{
	return s3_head(s, rel, ret);
}

const struct source_ops source_s3_ops = {
	.scheme = "s3",
	.priv_size = sizeof(struct s3),
	.open = s3_open,
	.list = s3_list,
	.get_object = s3_get,
	.stream = s3_stream,
	.put_object = s3_put,
	.exists = s3_exists,
	.size = s3_size,
	.close = s3_close,
};
